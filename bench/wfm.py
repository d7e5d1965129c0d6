"""WFM benchmark: staffing against pyworkforce, forecast WAPE against MSTL, a one-week schedule.

    python bench/wfm.py           full run (a few minutes)
    python bench/wfm.py --quick   seconds; only checks that every part still works

All baselines run in the same process on the same grid; speeds are ratios of medians.
Last line: `wfm_staffing_speedup: Nx`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

from lianluo.domain.wfm import erlang, staffing
from lianluo.wfm import schedule

TARGET_SL, TARGET_TIME_S, INTERVAL_S = 0.8, 20.0, 1800.0


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def staffing_grid(intervals: int, queues: int, seed: int = 2026) -> tuple[np.ndarray, np.ndarray]:
    """Contacts per half hour 5–2,000 (log-uniform) and handle times 120–600 s per queue."""
    rng = np.random.default_rng(seed)
    contacts = np.exp(rng.uniform(np.log(5), np.log(2000), (queues, intervals))).round()
    aht = np.repeat(rng.uniform(120, 600, (queues, 1)).round(), intervals, axis=1)
    return contacts.reshape(-1), aht.reshape(-1)


def bench_erlang_c(quick: bool) -> float:
    from pyworkforce.queuing import ErlangC

    contacts, aht = staffing_grid(96, 50)
    print(f"Erlang C staffing, {contacts.size} intervals (96 x 50 queues), 80/20:")

    def ours() -> np.ndarray:
        return staffing.required_agents_for_contacts(
            contacts, aht, INTERVAL_S, target_sl=TARGET_SL, target_time_s=TARGET_TIME_S
        ).agents

    # pyworkforce works in minutes; same traffic, same target.
    subset = slice(None, None, 24) if quick else slice(None)

    def theirs() -> np.ndarray:
        return np.array(
            [
                ErlangC(
                    transactions=c, aht=h / 60, asa=TARGET_TIME_S / 60, interval=30
                ).required_positions(TARGET_SL)["raw_positions"]
                for c, h in zip(contacts[subset], aht[subset], strict=True)
            ]
        )

    mine = ours()
    pw = theirs()
    t_ours = median_seconds(ours, 3 if quick else 9)
    t_pw_part = median_seconds(theirs, 1 if quick else 3)
    t_pw = t_pw_part * contacts.size / pw.size
    load = erlang.offered_load_erlangs(contacts, aht, INTERVAL_S)
    differ = np.flatnonzero(mine[subset] != pw)
    print(f"  identical answers: {pw.size - differ.size}/{pw.size}")
    for i in differ[:10]:
        n_ours, n_pw = int(mine[i]), int(pw[i])
        sl = erlang.erlang_c_service_level([n_ours - 1, n_ours, n_pw], load[i], aht[i], 20.0)
        print(
            f"  differs at {i}: load {load[i]:.3f} E; ours {n_ours} (SL {sl[1]:.4f}, "
            f"n-1 gives {sl[0]:.4f}), pyworkforce {n_pw} (SL {sl[2]:.4f})"
        )
    if quick:
        print(f"  pyworkforce timed on {pw.size} intervals, scaled to {contacts.size}")
    print(f"  lianluo     {t_ours * 1e3:9.2f} ms (median)")
    print(f"  pyworkforce {t_pw * 1e3:9.2f} ms (median)")
    speedup = t_pw / t_ours
    show_skipped_minimum(ErlangC)
    print(f"  speedup {speedup:.0f}x")
    return speedup


def show_skipped_minimum(erlang_c_class: type) -> None:
    """pyworkforce starts its search at round(A + 1) agents and can step over the answer."""
    loads, aht_s, target, t = np.arange(0.5, 40.0, 0.1), 180.0, 0.3, 10.0
    ours = staffing.required_agents(loads, aht_s, target_sl=target, target_time_s=t).agents
    theirs = np.array(
        [
            erlang_c_class(
                transactions=a * 30 / 3, aht=3, asa=t / 60, interval=30
            ).required_positions(target)["raw_positions"]
            for a in loads
        ]
    )
    differ = np.flatnonzero(ours != theirs)
    print(f"  target 30 % in 10 s, loads 0.5–40 E: pyworkforce differs on {differ.size} loads")
    for i in differ[:3]:
        sl = erlang.erlang_c_service_level([ours[i], theirs[i]], loads[i], aht_s, t)
        print(
            f"    load {loads[i]:.1f} E: ours {ours[i]} agents (SL {sl[0]:.3f} >= {target}),"
            f" pyworkforce {theirs[i]} (SL {sl[1]:.3f}): its search began above the minimum"
        )


def bench_erlang_a(quick: bool) -> None:
    contacts, aht = staffing_grid(96, 50)
    patience_s = 120.0
    print(f"Erlang A staffing (patience {patience_s:.0f} s), same grid, 80/20 answered:")
    try:
        from pyworkforce.queuing import ErlangA  # type: ignore[attr-defined]
    except ImportError:
        ErlangA = None  # noqa: N806
    if ErlangA is None:
        print(f"  pyworkforce Erlang A: skipped (not in pyworkforce on Python {sys.version[:4]})")

    def ours() -> staffing.StaffingResult:
        return staffing.required_agents_for_contacts(
            contacts,
            aht,
            INTERVAL_S,
            target_sl=TARGET_SL,
            target_time_s=TARGET_TIME_S,
            patience_s=patience_s,
        )

    result = ours()
    seconds = median_seconds(ours, 1 if quick else 5)
    load = result.load_erlangs
    erlang_c = staffing.required_agents(load, aht, target_sl=TARGET_SL).agents
    print(f"  lianluo     {seconds * 1e3:9.2f} ms (median)")
    print(f"  intervals staffed at or below the load: {(result.agents <= load).sum()}")
    print(f"  agents saved against Erlang C: {int((erlang_c - result.agents).sum())}")


def bench_forecast(quick: bool) -> None:
    print("Forecast WAPE on bank_calls:")
    try:
        from lianluo.wfm.forecast import bank_calls_benchmark
    except ImportError as exc:
        print(f"  skipped: forecast not available ({exc})")
        return
    figures = bank_calls_benchmark(quick=quick)
    mstl, ours = figures["wape_mstl"], figures["wape_lianluo"]
    print(f"  seasonal naive {figures['wape_seasonal_naive']:.4f}")
    print(f"  MSTL           {mstl:.4f}")
    print(f"  lianluo        {ours:.4f} ({figures['model']}, {figures['seconds']:.1f} s)")
    print(f"  WAPE lower than MSTL by {1 - ours / mstl:.1%}")


def weekly_requirement(peak_contacts: float) -> np.ndarray:
    """Agents per half hour over a week: two daytime peaks, an evening shoulder, quiet weekend."""
    hours = np.arange(48) / 2
    daily = (
        np.exp(-(((hours - 10.5) / 2.5) ** 2))
        + 0.85 * np.exp(-(((hours - 15.5) / 3.0) ** 2))
        + 0.25 * np.exp(-(((hours - 20.5) / 2.0) ** 2))
        + 0.03
    )
    week = np.concatenate([daily * f for f in (1.0, 0.95, 0.92, 0.93, 0.97, 0.6, 0.5)])
    contacts = week / week.max() * peak_contacts
    return staffing.required_agents_for_contacts(
        contacts, 300.0, INTERVAL_S, target_sl=TARGET_SL, target_time_s=TARGET_TIME_S
    ).agents


def bench_schedule(quick: bool) -> None:
    required = weekly_requirement(120.0 if quick else 850.0)
    rules = schedule.TourRules(start_step_min=60 if quick else 30)
    print(
        f"Weekly tours (5 on / 2 consecutive off, 8h30 with a 30-min lunch in a 2-h window, or 6h),"
        f" peak {int(required.max())} agents, {len(schedule.build_tours(30, rules=rules))} tours:"
    )
    result = schedule.schedule_week(required, 30, rules=rules, time_limit_s=10 if quick else 60)
    print(f"  solved in {result.seconds:.1f} s ({result.solver_status}), {result.agents} agents")
    print(f"  paid hours {result.paid_hours:.1f}, LP bound {result.lp_bound_hours:.1f}")
    print(f"  gap to LP bound {result.objective_gap:.2%}")
    print(
        f"  agent-hours required {required.sum() / 2:.1f}, under {result.under.sum() / 2:.1f}, "
        f"over {result.over.sum() / 2:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="seconds-long smoke run")
    quick = parser.parse_args().quick
    speedup = bench_erlang_c(quick)
    bench_erlang_a(quick)
    bench_forecast(quick)
    bench_schedule(quick)
    print(f"wfm_staffing_speedup: {speedup:.0f}x")


if __name__ == "__main__":
    main()
