"""Required agents per interval: exact, vectorised searches over Erlang C and Erlang A.

Each measure used as a target is monotone in the number of agents (service level and the answered
share rise, ASA, abandonment and occupancy fall), so the smallest feasible number of agents is
found for all intervals at once by doubling a bracket and bisecting it: no candidate below the
answer is skipped (tests compare with a linear scan). Erlang A searches from zero agents, so a
queue whose abandonment lets fewer agents than the load meet the target is staffed below the load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lianluo.domain.wfm import erlang
from lianluo.domain.wfm.erlang import FloatArray

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

# A search that needs more agents than this has an unreachable target (e.g. SL 0.999999999).
_MAX_AGENTS = 10**9
# Relative slack when turning a real bound (A / max occupancy, n / (1 − shrinkage)) into an
# integer, so that 20 / 0.8 = 25.000000000000004 gives 25 and not 26.
_ROUNDING_SLACK = 1e-12


@dataclass(frozen=True)
class StaffingResult:
    """Required agents per interval and the measures they achieve (arrays, one per interval).

    `agents` are the productive agents the queue needs; `scheduled_agents` add shrinkage.
    `abandonment` and `mean_wait_s` are None when no patience was given (Erlang C).
    """

    load_erlangs: FloatArray
    agents: IntArray
    scheduled_agents: IntArray
    service_level: FloatArray
    asa_s: FloatArray
    probability_wait: FloatArray
    occupancy: FloatArray
    abandonment: FloatArray | None
    mean_wait_s: FloatArray | None


def _ceil_with_slack(value: FloatArray) -> IntArray:
    return np.ceil(value * (1.0 - _ROUNDING_SLACK) - _ROUNDING_SLACK).astype(np.int64)


def smallest_feasible_agents(
    meets: Callable[[IntArray], BoolArray], infeasible: ArrayLike, guess: ArrayLike
) -> IntArray:
    """Smallest n > `infeasible` with meets(n) true, for a predicate monotone in n (elementwise).

    Galloping (exponential) search followed by bisection (Bentley & Yao 1976, *An almost
    optimal algorithm for unbounded searching*). `infeasible` must be a value where the
    predicate is false (−1 when nothing is known); `guess` is a first upper candidate.
    """
    lo = np.asarray(infeasible, dtype=np.int64)
    hi = np.maximum(np.asarray(guess, dtype=np.int64), lo + 1)
    lo, hi = np.broadcast_arrays(lo, hi)
    lo, hi = lo.copy(), hi.copy()
    ok = meets(hi)
    while not ok.all():
        short = ~ok
        step = hi - lo
        lo = np.where(short, hi, lo)
        hi = np.where(short, hi + 2 * step, hi)
        if (hi > _MAX_AGENTS).any():
            raise ValueError(f"target not reachable with up to {_MAX_AGENTS} agents")
        ok = meets(hi)
    while True:
        open_ = hi - lo > 1
        if not open_.any():
            return hi
        mid = np.where(open_, (lo + hi) // 2, hi)
        ok = meets(mid)
        hi = np.where(open_ & ok, mid, hi)
        lo = np.where(open_ & ~ok, mid, lo)


def apply_shrinkage(agents: ArrayLike, shrinkage: float) -> IntArray:
    """Agents to schedule so that `agents` remain after shrinkage s: ⌈n / (1 − s)⌉.

    Koole, *Call Center Optimization* (2013), §9.1 (shrinkage as the unproductive share of
    paid time).
    """
    if not 0.0 <= shrinkage < 1.0:
        raise ValueError(f"shrinkage must be in [0, 1), got {shrinkage}")
    n = np.asarray(agents, dtype=np.float64)
    if (n < 0).any():
        raise ValueError("agents must be >= 0")
    return np.asarray(_ceil_with_slack(n / (1.0 - shrinkage)), dtype=np.int64)


# Far above any real queue (10086 runs tens of thousands of agents in all), and as far as the
# math is verified; beyond it Erlang A's series took seconds per request (found by fuzzing).
MAX_LOAD_ERLANGS = 100_000.0


def _check_fraction(name: str, value: float, *, low_open: bool, high_open: bool) -> None:
    low_ok = value > 0.0 if low_open else value >= 0.0
    high_ok = value < 1.0 if high_open else value <= 1.0
    if not (low_ok and high_ok) or np.isnan(value):
        low = "(0" if low_open else "[0"
        high = "1)" if high_open else "1]"
        raise ValueError(f"{name} must be in {low}, {high}, got {value}")


def required_agents(
    load_erlangs: ArrayLike,
    aht_s: ArrayLike,
    *,
    target_sl: float | None = None,
    target_time_s: float = 20.0,
    target_asa_s: float | None = None,
    max_abandonment: float | None = None,
    patience_s: float | None = None,
    max_occupancy: float = 1.0,
    shrinkage: float = 0.0,
    concurrency: int = 1,
) -> StaffingResult:
    """Fewest agents per interval meeting every given target (SL, ASA, abandonment, occupancy).

    Without `patience_s` the queue is Erlang C (M/M/n, Gans, Koole & Mandelbaum 2003, §4.1) and
    needs n > A; with it, Erlang A (M/M/n+M, Garnett, Mandelbaum & Reiman 2002) and any n ≥ 0 is
    tried. Chat: an agent with `concurrency` c serves c contacts at once and is modelled as c
    servers, `aht_s` being the handle time of one chat at that concurrency (the M/M/cN
    approximation; Tezcan & Zhang 2014, *Routing and staffing in customer service chat systems
    with impatient customers*, Operations Research 62(4), §2). Service level counts contacts
    answered within `target_time_s` among all offered; ASA is the mean wait of answered contacts.
    """
    load = erlang._check_nonnegative("load_erlangs", load_erlangs)
    aht = erlang._check_positive("aht_s", aht_s)
    load, aht = np.broadcast_arrays(load, aht)
    if np.any(load > MAX_LOAD_ERLANGS):
        raise ValueError(
            f"a load of {float(np.max(load)):.3g} Erlangs is beyond what staffing answers "
            f"(at most {MAX_LOAD_ERLANGS:,.0f} Erlangs per queue and interval)"
        )
    if target_sl is None and target_asa_s is None and max_abandonment is None:
        raise ValueError("give at least one of target_sl, target_asa_s, max_abandonment")
    if target_sl is not None:
        _check_fraction("target_sl", target_sl, low_open=False, high_open=True)
    if target_time_s < 0 or np.isnan(target_time_s):
        raise ValueError(f"target_time_s must be >= 0, got {target_time_s}")
    if target_asa_s is not None and not target_asa_s > 0:
        raise ValueError(f"target_asa_s must be > 0, got {target_asa_s}")
    if max_abandonment is not None:
        _check_fraction("max_abandonment", max_abandonment, low_open=True, high_open=False)
        if patience_s is None:
            raise ValueError("max_abandonment needs patience_s (Erlang A)")
    if patience_s is not None and not (patience_s > 0 and np.isfinite(patience_s)):
        raise ValueError(f"patience_s must be a positive finite number, got {patience_s}")
    _check_fraction("max_occupancy", max_occupancy, low_open=True, high_open=False)
    if not 0.0 <= shrinkage < 1.0:
        raise ValueError(f"shrinkage must be in [0, 1), got {shrinkage}")
    if int(concurrency) != concurrency or concurrency < 1:
        raise ValueError(f"concurrency must be a whole number >= 1, got {concurrency}")
    c = int(concurrency)

    if patience_s is None:
        agents, wait = _erlang_c_scan(
            load, aht, c, target_sl, target_time_s, target_asa_s, max_occupancy
        )
        return _measures(agents, load, aht, c, target_time_s, None, shrinkage, wait)
    patience = float(patience_s)

    def meets(n: IntArray) -> BoolArray:
        servers = (n * c).astype(np.float64)
        m = erlang.ErlangAMeasures(servers, load, aht, patience)
        ok = np.ones(load.shape, dtype=np.bool_)
        if target_sl is not None:
            ok &= m.service_level(target_time_s) >= target_sl
        if max_abandonment is not None:
            ok &= m.abandonment <= max_abandonment
        if target_asa_s is not None:
            ok &= m.asa_s <= target_asa_s
        if max_occupancy < 1.0:
            ok &= load * (1.0 - m.abandonment) <= max_occupancy * servers
        return np.asarray(ok, dtype=np.bool_)

    # Served contacts cannot exceed n·c per unit of handle time: P(answered) ≤ n·c / A.
    needed_share = max(target_sl or 0.0, 1.0 - (max_abandonment or 1.0))
    infeasible = np.maximum(np.ceil(load * needed_share / c) - 2, -1)

    guess = np.ceil((load + 2.5 * np.sqrt(load) + 1.0) / c)
    agents = smallest_feasible_agents(meets, infeasible, guess)
    return _measures(agents, load, aht, c, target_time_s, patience_s, shrinkage)


def _erlang_c_scan(
    load: FloatArray,
    aht: FloatArray,
    concurrency: int,
    target_sl: float | None,
    target_time_s: float,
    target_asa_s: float | None,
    max_occupancy: float,
) -> tuple[IntArray, FloatArray]:
    """Linear scan upward from the least stable staffing, all intervals at once.

    Erlang B is evaluated once (log space) at n₀ = ⌊A/c⌋ + 1 agents and then stepped with the
    stable recursion B(s+1) = A·B(s) / (s + 1 + A·B(s)) (Cooper 1981, eq. 3.4.7); every n from
    n₀ up is tried, so the minimum cannot be skipped. Steps ≈ β√A (square-root staffing).
    """
    shape = load.shape
    load, aht = load.reshape(-1), aht.reshape(-1)
    start = np.floor(load / concurrency) + 1
    if max_occupancy < 1.0:
        # the occupancy cap alone needs n·c >= A / max occupancy: start there (from below,
        # so the scan still finds the minimum) instead of stepping up to it one by one
        with np.errstate(over="ignore"):
            floor_occupancy = load / (max_occupancy * concurrency)
        if np.any(floor_occupancy > _MAX_AGENTS):
            raise ValueError(
                f"target not reachable with up to {_MAX_AGENTS} agents "
                f"(max_occupancy {max_occupancy} needs load / max_occupancy agents)"
            )
        start = np.maximum(start, _ceil_with_slack(floor_occupancy))
    agents = np.where(load > 0, start, 0).astype(np.int64)
    wait = np.zeros(load.shape)
    active = np.flatnonzero(load > 0)
    a, h = load[active], aht[active]
    servers = agents[active].astype(np.float64) * concurrency
    b = np.exp(erlang._log_erlang_b(servers, a))
    n = agents[active]
    while active.size:
        c_wait = np.minimum(servers * b / (servers - a * (1.0 - b)), 1.0)
        ok = np.ones(active.size, dtype=np.bool_)
        if target_sl is not None:
            ok &= 1.0 - c_wait * np.exp(-(servers - a) * target_time_s / h) >= target_sl
        if target_asa_s is not None:
            ok &= c_wait * h / (servers - a) <= target_asa_s
        if max_occupancy < 1.0:
            ok &= a <= max_occupancy * servers
        agents[active[ok]] = n[ok]
        wait[active[ok]] = c_wait[ok]
        keep = ~ok
        active, n = active[keep], n[keep]
        a, h, servers, b = a[keep], h[keep], servers[keep], b[keep]
        for _ in range(concurrency):
            b = a * b / (servers + 1.0 + a * b)
            servers = servers + 1.0
        n = n + 1
        if active.size and int(n.max()) > _MAX_AGENTS:
            raise ValueError(f"target not reachable with up to {_MAX_AGENTS} agents")
    return agents.reshape(shape), wait.reshape(shape)


def _measures(
    agents: IntArray,
    load: FloatArray,
    aht: FloatArray,
    concurrency: int,
    target_time_s: float,
    patience_s: float | None,
    shrinkage: float,
    erlang_c_wait: FloatArray | None = None,
) -> StaffingResult:
    """Measures at the chosen staffing; Erlang C reuses P(wait) from the scan when given."""
    servers = (agents * concurrency).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if patience_s is None:
            p_wait = erlang._erlang_c(servers, load) if erlang_c_wait is None else erlang_c_wait
            busy = load > 0
            spare = np.where(busy, servers - load, 1.0)
            sl = np.where(busy, 1.0 - p_wait * np.exp(-spare * target_time_s / aht), 1.0)
            asa = np.where(busy, p_wait * aht / spare, 0.0)
            carried = load
            abandonment = mean_wait = None
        else:
            m = erlang.ErlangAMeasures(servers, load, aht, patience_s)
            sl = m.service_level(target_time_s)
            asa = m.asa_s
            p_wait = m.probability_wait
            abandonment, mean_wait = m.abandonment, m.mean_wait_s
            carried = load * (1.0 - m.abandonment)
        occ = np.where(servers > 0, carried / np.where(servers > 0, servers, 1.0), 0.0)
    return StaffingResult(
        load_erlangs=load,
        agents=agents,
        scheduled_agents=apply_shrinkage(agents, shrinkage),
        service_level=sl,
        asa_s=asa,
        probability_wait=p_wait,
        occupancy=np.asarray(np.minimum(occ, 1.0), dtype=np.float64),
        abandonment=abandonment,
        mean_wait_s=mean_wait,
    )


def required_agents_for_contacts(
    contacts_per_interval: ArrayLike, aht_s: ArrayLike, interval_s: float, **targets: object
) -> StaffingResult:
    """`required_agents` from contacts per interval: A = contacts × h / interval length."""
    load = erlang.offered_load_erlangs(contacts_per_interval, aht_s, interval_s)
    return required_agents(load, aht_s, **targets)  # type: ignore[arg-type]
