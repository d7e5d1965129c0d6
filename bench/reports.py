"""Reports over 10,000,000 events: the analytical path against a naive GROUP BY.

Generates a synthetic event log (numpy -> Arrow -> Parquet, no ORM) of 90 days: ~3.3 million
contacts on 12 queues (3 of a partner), 120 agents, 3 channels; 80 % answered (queued,
answered, ended and a survey for 30 %), 20 % abandoned; repeats on a need for FCR. Then, in one
run on the same file:

- naive: one SQL statement over the raw events (pivot per contact, then GROUP BY day and
  queue) in DuckDB, as a report written straight against the log would be;
- export: `AnalyticalStore.from_parquet` folds the events into contact facts, then
  `build_rollups` sums them per quarter hour and hour for every grouping (what an export of
  the log pays, not each report);
- fast: `AnalyticalStore.cell_totals` for the daily queue report (30 days x 12 queues) and for
  the daily agent report (30 x 120) from the roll-ups, and an agent report of one queue (a
  filter: a scan of the facts), every KPI of domain/kpi including FCR and repeat complaints,
  then `report_kpis` per cell.

Every step prints its wall clock, its CPU time and the time its threads spent waiting for a
CPU (run queue, from /proc): on a loaded machine the last explains the gap between the first
two. Each report runs --repeat times, the naive query --naive-repeat times; p50s are
printed. The last line is `report_10m: X s`, the p50 of the daily queue report on the fast
path. `--quick` uses ~100,000 events.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
SKILLS = ["billing", "broadband", "mobile", "vip_care", "english"]
REGIONS = ["北京", "上海", "广东", "浙江", "江苏", "四川", "湖北", "山东", "河南", "福建"]

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

    labels = pa.dictionary(pa.int32(), pa.string())

    def part(rows: np.ndarray, kind: str, at: np.ndarray, **cols: pa.Array) -> pa.Table:
        # label columns are dictionary-encoded from the start: no cast of 10 million strings
        m = len(rows)
        nulls = pa.nulls(m, labels)
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
            "need_id": pa.nulls(m, pa.string()),
            "complaint_category": nulls,
            "over_the_head": pa.nulls(m, pa.bool_()),
            "talk_s": pa.nulls(m, pa.float64()),
            "hold_s": pa.nulls(m, pa.float64()),
            "acw_s": pa.nulls(m, pa.float64()),
            "transferred": pa.nulls(m, pa.bool_()),
            "score": pa.nulls(m, pa.float64()),
            "skill": nulls,
            "region": nulls,
        }
        base.update(cols)
        return pa.table(base)

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
            skill=dict_col(queue % len(SKILLS), pa.array(SKILLS)),
            region=dict_col(rng.integers(0, len(REGIONS), n), pa.array(REGIONS)),
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


def _run_queue_wait_s() -> float:
    """Seconds the threads of this process have spent runnable but waiting for a CPU
    (/proc/<pid>/task/*/schedstat, second field; Linux only, else 0): the part of the wall
    clock that is neither our CPU time nor I/O."""
    total = 0
    for stat in Path("/proc/self/task").glob("*/schedstat"):
        try:
            total += int(stat.read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


@dataclass
class Timing:
    """Medians over the runs of one measured step: wall clock, process CPU, run-queue wait."""

    wall_s: float
    cpu_s: float
    wait_s: float
    result: Any = None

    def __str__(self) -> str:
        return (
            f"{self.wall_s:.3f} s (CPU {self.cpu_s:.3f} s; threads waiting for a CPU "
            f"{self.wait_s:.3f} s)"
        )


def measure(fn: Callable[[], object], repeat: int = 1) -> Timing:
    walls, cpus, waits = [], [], []
    result: object = None
    for _ in range(repeat):
        wait, cpu, start = _run_queue_wait_s(), time.process_time(), time.perf_counter()
        result = fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
        waits.append(_run_queue_wait_s() - wait)
    return Timing(
        statistics.median(walls), statistics.median(cpus), statistics.median(waits), result
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="~100,000 events (CI)")
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each report (p50)")
    parser.add_argument(
        "--naive-repeat", type=int, default=3, help="runs of the naive GROUP BY (p50)"
    )
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads")
    args = parser.parse_args()
    n_events = 100_000 if args.quick else args.events

    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.parquet"

        def write() -> int:
            table = generate(n_events)
            pq.write_table(table, path, row_group_size=1_000_000)
            return int(table.num_rows)

        made = measure(write)
        print(f"events: {made.result:,} ({path.stat().st_size / 1e6:.0f} MB Parquet), "
              f"generated in {made}")  # fmt: skip
        since = START_S + 30 * DAY_S  # report the middle 30 days; FCR and complaints look around
        until = START_S + 60 * DAY_S
        params = KpiParams()

        naive_con = duckdb.connect()
        if args.threads:
            naive_con.execute(f"SET threads = {args.threads}").fetchall()
        naive_sql = NAIVE_SQL.format(path=path, since=since, until=until)
        naive = measure(lambda: naive_con.execute(naive_sql).fetchall(), args.naive_repeat)
        naive_con.close()

        facts = measure(lambda: AnalyticalStore.from_parquet(path, args.threads, rollups=False))
        store: AnalyticalStore = facts.result
        rollups = measure(store.build_rollups)

        def daily(group_by: str, **filters: str) -> dict:
            cells = store.cell_totals(since, until, "day", group_by, TZ, params, filters)
            return {key: report_kpis(t) for key, t in cells.items()}

        queue = measure(lambda: daily("queue"), args.repeat)
        agent = measure(lambda: daily("agent"), args.repeat)
        one_queue = measure(lambda: daily("agent", queue="q3"), args.repeat)

        naive_offered = sum(r[2] for r in naive.result)
        fast_offered = sum(k.offered for k in queue.result.values())
        print(f"contacts rolled up: {store.contacts():,}; in the 30-day report: {fast_offered:,} "
              f"(naive GROUP BY counts {naive_offered:,})")  # fmt: skip
        print(f"naive GROUP BY over raw events, daily queue report (p50 of {args.naive_repeat}): "
              f"{naive} ({len(naive.result):,} cells, counts/SL/ASA/AHT only)")  # fmt: skip
        print(f"export: events -> contact facts (once per export): {facts}")
        print(f"export: facts -> quarter-hour and hourly roll-ups per grouping: {rollups}")
        print(f"daily queue report from the roll-ups, all KPIs (p50 of {args.repeat}): {queue} "
              f"({len(queue.result):,} cells)")  # fmt: skip
        print(f"daily agent report from the roll-ups, all KPIs (p50): {agent} "
              f"({len(agent.result):,} cells)")  # fmt: skip
        print(f"daily agent report of one queue, a scan of the facts (p50): {one_queue} "
              f"({len(one_queue.result):,} cells)")  # fmt: skip
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end")
        print(f"speed-up over naive (queue report, p50 wall): {naive.wall_s / queue.wall_s:.1f}x; "
              f"CPU: {naive.cpu_s / max(queue.cpu_s, 1e-9):.1f}x")  # fmt: skip
    # one name for the figure; with --quick it is measured on ~100k events (a smoke run)
    print(f"report_10m: {queue.wall_s:.3f} s")


if __name__ == "__main__":
    main()
