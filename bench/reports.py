"""Reports over 10,000,000 events: the analytical path against a naive GROUP BY.

Generates a synthetic event log (numpy -> Arrow -> Parquet, no ORM) of 90 days: ~3.3 million
contacts on 12 queues (3 of a partner), 120 agents, 3 channels; 80 % answered (queued,
answered, ended and a survey for 30 %), 20 % abandoned; repeats on a need for FCR. Then, in one
run on the same file:

- naive: one SQL statement over the raw events (pivot per contact, then GROUP BY day and
  queue) in DuckDB, as a report written straight against the log would be;
- roll-up: `AnalyticalStore.from_parquet` folds the events into contact facts once (what an
  export of the log pays, not each report);
- fast: `AnalyticalStore.cell_totals` for the daily queue report (90 days x 12 queues) and for
  the daily agent report (90 x 120), every KPI of domain/kpi including FCR and repeat
  complaints, then `report_kpis` per cell.

Each report runs --repeat times; the p50 is printed. The last line is `report_10m: X s`, the
p50 of the daily queue report on the fast path. `--quick` uses ~100,000 events.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from lianluo.domain.kpi import KpiParams, report_kpis  # noqa: E402
from lianluo.reports.analytical import AnalyticalStore  # noqa: E402

DAY_S = 86_400.0
START_S = 1_767_225_600.0  # 2026-01-01T00:00:00Z
TZ = "Asia/Shanghai"

NAIVE_SQL = """
WITH per_contact AS (
    SELECT contact_id,
           min(t) FILTER (WHERE type = 'contact.queued') AS queued_t,
           any_value(queue_id) FILTER (WHERE type = 'contact.queued') AS queue_id,
           min(t) FILTER (WHERE type = 'contact.answered') AS answered_t,
           min(t) FILTER (WHERE type = 'contact.abandoned') AS abandoned_t,
           max(talk_s + hold_s + acw_s) FILTER (WHERE type = 'contact.ended') AS handle_s
    FROM read_parquet('{path}')
    GROUP BY contact_id
)
SELECT floor((queued_t + 28800) / 86400) AS day, queue_id,
       count(*) AS offered,
       count(answered_t) AS answered,
       count(abandoned_t) AS abandoned,
       count(*) FILTER (WHERE answered_t - queued_t <= 20) AS answered_within_sl,
       count(*) FILTER (WHERE abandoned_t - queued_t < 5) AS short_abandoned,
       avg(answered_t - queued_t) AS asa_s,
       avg(handle_s) FILTER (WHERE answered_t IS NOT NULL) AS aht_s
FROM per_contact
WHERE queued_t >= {since} AND queued_t < {until}
GROUP BY ALL
"""


def _strings(prefix: str, n: int) -> pa.Array:
    return pa.array([f"{prefix}{i}" for i in range(n)], pa.string())


def generate(n_events: int, seed: int = 8) -> pa.Table:
    """A synthetic contact-event log of about `n_events` rows, in the analytical schema."""
    rng = np.random.default_rng(seed)
    per_contact = 1 + 0.8 * (2 + 0.3) + 0.2  # queued + answered/ended/survey or abandoned
    n = int(n_events / per_contact)
    days = 90
    t = START_S + np.sort(rng.uniform(0, days * DAY_S, n))
    queue = rng.integers(0, 12, n)
    channel = rng.choice(3, n, p=[0.6, 0.3, 0.1])
    customer = rng.integers(0, n // 3 + 1, n)
    # a need repeats within a week for ~15 % of contacts (FCR)
    need = np.where(rng.random(n) < 0.15, customer, n + np.arange(n))
    answered = rng.random(n) < 0.8
    wait = rng.exponential(25.0, n)
    agent = rng.integers(0, 120, n)
    talk = rng.lognormal(np.log(240), 0.5, n)
    hold = np.where(rng.random(n) < 0.3, rng.lognormal(np.log(40), 0.6, n), 0.0)
    acw = rng.lognormal(np.log(30), 0.4, n)
    surveyed = answered & (rng.random(n) < 0.3)
    score = rng.integers(1, 6, n).astype(np.float64)
    complaint = rng.random(n) < 0.05

    ids = pa.array(np.arange(n)).cast(pa.string())
    queues = _strings("q", 12)
    agents = _strings("a", 120)
    channels = pa.array(["voice", "chat", "email"])

    def dict_col(
        indices: np.ndarray, dictionary: pa.Array, mask: np.ndarray | None = None
    ) -> pa.Array:
        arr = pa.DictionaryArray.from_arrays(
            pa.array(indices.astype(np.int32), mask=None if mask is None else ~mask), dictionary
        )
        return arr

    def part(rows: np.ndarray, kind: str, at: np.ndarray, **cols: pa.Array) -> pa.Table:
        m = len(rows)
        nulls = pa.nulls(m, pa.string())
        base = {
            "contact_id": ids.take(pa.array(rows)),
            "type": pa.DictionaryArray.from_arrays(
                pa.array(np.zeros(m, np.int32)), pa.array([kind])
            ),
            "t": pa.array(at),
            "queue_id": dict_col(queue[rows], queues),
            "agent_id": nulls,
            "partner_id": dict_col(np.zeros(m), pa.array(["p1"]), queue[rows] >= 9),
            "customer_id": pa.array(customer[rows]).cast(pa.string()),
            "channel": nulls,
            "need_id": nulls,
            "complaint_category": nulls,
            "over_the_head": pa.nulls(m, pa.bool_()),
            "talk_s": pa.nulls(m, pa.float64()),
            "hold_s": pa.nulls(m, pa.float64()),
            "acw_s": pa.nulls(m, pa.float64()),
            "transferred": pa.nulls(m, pa.bool_()),
            "score": pa.nulls(m, pa.float64()),
        }
        base.update(cols)
        table = pa.table(base)
        return table.cast(
            pa.schema(
                [
                    (f.name, pa.dictionary(pa.int32(), pa.string()))
                    if pa.types.is_string(f.type) and f.name not in ("contact_id", "customer_id")
                    else f
                    for f in table.schema
                ]
            )
        )

    everyone = np.arange(n)
    ans = everyone[answered]
    ab = everyone[~answered]
    sv = everyone[surveyed]
    handled_end = t[ans] + wait[ans] + talk[ans] + hold[ans] + acw[ans]
    parts = [
        part(
            everyone,
            "contact.queued",
            t,
            channel=dict_col(channel, channels),
            need_id=pa.array(need).cast(pa.string()),
            complaint_category=dict_col(np.zeros(n), pa.array(["billing"]), complaint),
            over_the_head=pa.array(complaint & (rng.random(n) < 0.2)),
        ),
        part(ans, "contact.answered", t[ans] + wait[ans], agent_id=dict_col(agent[ans], agents)),
        part(ab, "contact.abandoned", t[ab] + wait[ab]),
        part(
            ans,
            "contact.ended",
            handled_end,
            agent_id=dict_col(agent[ans], agents),
            talk_s=pa.array(talk[ans]),
            hold_s=pa.array(hold[ans]),
            acw_s=pa.array(acw[ans]),
            transferred=pa.array(rng.random(len(ans)) < 0.05),
        ),
        part(sv, "contact.surveyed", t[sv] + wait[sv] + 900.0, score=pa.array(score[sv])),
    ]
    return pa.concat_tables(parts)


CPU_TIMES: dict[int, float] = {}


def p50(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median wall time of `fn` over `repeat` runs (and its median process CPU time, kept
    in CPU_TIMES under the id of the result: on a shared, loaded machine the CPU seconds say
    what the work costs when the wall clock mostly measures waiting for a core)."""
    times, cpu = [], []
    result: object = None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    CPU_TIMES[id(result)] = statistics.median(cpu)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="~100,000 events (CI)")
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads")
    args = parser.parse_args()
    n_events = 100_000 if args.quick else args.events

    started = time.perf_counter()
    table = generate(n_events)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.parquet"
        pq.write_table(table, path, row_group_size=1_000_000)
        print(f"events: {table.num_rows:,} ({path.stat().st_size / 1e6:.0f} MB Parquet), "
              f"generated in {time.perf_counter() - started:.1f} s")  # fmt: skip
        del table
        since = START_S + 30 * DAY_S  # report the middle 30 days; FCR and complaints look around
        until = START_S + 60 * DAY_S
        params = KpiParams()

        naive_con = duckdb.connect()
        if args.threads:
            naive_con.execute(f"SET threads = {args.threads}").fetchall()
        naive_sql = NAIVE_SQL.format(path=path, since=since, until=until)
        naive_s, naive_rows = p50(lambda: naive_con.execute(naive_sql).fetchall(), args.repeat)

        roll_start = time.perf_counter()
        store = AnalyticalStore.from_parquet(path, threads=args.threads)
        rollup_s = time.perf_counter() - roll_start

        def daily(group_by: str) -> dict:
            cells = store.cell_totals(since, until, "day", group_by, TZ, params)
            return {key: report_kpis(t) for key, t in cells.items()}

        queue_s, queue_cells = p50(lambda: daily("queue"), args.repeat)
        agent_s, agent_cells = p50(lambda: daily("agent"), args.repeat)

        naive_offered = sum(r[2] for r in naive_rows)  # type: ignore[union-attr]
        fast_offered = sum(k.offered for k in queue_cells.values())  # type: ignore[union-attr]
        print(f"contacts rolled up: {store.contacts():,}; in the 30-day report: {fast_offered:,} "
              f"(naive GROUP BY counts {naive_offered:,})")  # fmt: skip
        n_naive, n_queue, n_agent = (len(x) for x in (naive_rows, queue_cells, agent_cells))  # type: ignore[arg-type]
        cpu = {name: CPU_TIMES[id(r)] for name, r in
               (("naive", naive_rows), ("queue", queue_cells), ("agent", agent_cells))}  # fmt: skip
        print(f"naive GROUP BY over raw events, daily queue report (p50): {naive_s:.3f} s "
              f"({n_naive:,} cells, counts/SL/ASA/AHT only; CPU {cpu['naive']:.3f} s)")  # fmt: skip
        print(f"roll-up events -> contact facts (once per export): {rollup_s:.3f} s")
        print(f"fast daily queue report, all KPIs (p50): {queue_s:.3f} s ({n_queue:,} cells; "
              f"CPU {cpu['queue']:.3f} s)")  # fmt: skip
        print(f"fast daily agent report, all KPIs (p50): {agent_s:.3f} s ({n_agent:,} cells; "
              f"CPU {cpu['agent']:.3f} s)")  # fmt: skip
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        print(f"speed-up over naive (queue report): {naive_s / queue_s:.1f}x")
    # one name for the figure; with --quick it is measured on ~100k events (a smoke run)
    print(f"report_10m: {queue_s:.3f} s")


if __name__ == "__main__":
    main()
