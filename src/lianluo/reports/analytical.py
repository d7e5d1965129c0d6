"""The analytical path: the same report cells as reports/facts.py, computed in DuckDB.

Three stages, all SQL:

1. **Fold** (`FACTS_SQL`, once per export of the log): the contact events (one row each,
   payload fields flattened by `facts.event_fields`; a Parquet file from
   `export_events_parquet`, or rows handed in memory) become one *fact row per contact* in a
   single GROUP BY, exactly as `facts.build_facts` folds them, with the time of the next
   contact on the same need (LEAD, for FCR) and of the customer's previous complaint on the
   category (LAG over the complaints only, for repeat complaints).
2. **Roll-ups** (`AnalyticalStore.build_rollups`, once per export): the `KpiTotals` sums per
   quarter hour of offered time and group key, for every grouping in one GROUPING SETS pass,
   and hourly sums from those. UTC offsets change only at quarter-hour instants, so a
   quarter-hour block lies whole inside one local 15-minute, hour, day, week or month bucket
   of any time zone; hourly blocks serve hour-aligned zones (Asia/Shanghai, New York …).
3. **Report** (`AnalyticalStore.cell_totals`): without filters, a sum over the roll-up rows
   of the range (a few thousand) plus a count of repeat complaints from the complaints table
   (they depend on the report's range: the numpy path looks back a window from `since`);
   with filters, or another FCR window, a scan of the facts (sorted by time: zone maps skip
   what is out of range). `domain.kpi.report_kpis` turns the sums into ratios, as for numpy.

Why this path, by measurement (bench/reports.py: 10,000,000 events = 3.3 million contacts
over 90 days, a 30-day daily report; a 2-CPU machine shared by six people, load average
12 -> 22 during the run, so CPU seconds are quoted beside the wall clock):

| | wall p50 | CPU |
|---|---|---|
| naive GROUP BY over the raw events (pivot per contact on every request) | 26.3 s | 5.2 s |
| fold of the events into contact facts, once per export | 114 s | 28.7 s |
| roll-ups of the facts, once per export | 44 s | 9.4 s |
| daily queue report from the roll-ups, every KPI incl. FCR, repeat complaints | 0.57 s | 0.055 s |
| daily agent report from the roll-ups (3,751 cells) | 2.2 s | 0.22 s |
| daily agent report of one queue (filtered: a scan of the facts) | 2.6 s | 0.33 s |

Before the roll-ups the queue report scanned the facts: 1.74 s wall, 0.35 s CPU at load 9
(and 2.8 s in an earlier run at load 10–13). Wall ≫ CPU is waiting for a CPU, not I/O: the
bench reads the threads' run-queue time from /proc/self/task/*/schedstat and it accounts for
the difference (the whole run: 22 % of one CPU, 14 major page faults, 27,000 involuntary
context switches against 800 voluntary ones). So the fix is less CPU per report, which the
roll-ups give (a 30-day queue report sums ~8,600 hourly rows instead of 1.1 million
contacts).

DuckDB over a Parquet export rather than PostgreSQL roll-up tables: the fold is one columnar
pass that needs no schema, migration or trigger kept in step with the log, the same SQL runs
on an in-memory copy in tests, and it runs beside SQLite as well; PostgreSQL roll-ups were not
measured. The live API (a tenant's days, from the database) stays on the numpy path, which
loads only what the KPIs need around the range and sums all cells in one pass (7 demo days,
by queue: 1.34 s -> 0.47 s CPU); `ReportService.report(..., analytical=True)` runs this SQL on
the same rows, and tests/reports/test_analytical.py checks every path gives the same figures.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from lianluo.domain.kpi import (
    CSAT_EVENT_TYPES,
    CSAT_SATISFIED_MIN,
    KpiParams,
    KpiTotals,
    utc_offsets_s,
)
from lianluo.reports.facts import CellKey, event_fields

EVENT_SCHEMA = pa.schema(
    [
        ("contact_id", pa.string()),
        ("type", pa.string()),
        ("t", pa.float64()),
        ("queue_id", pa.string()),
        ("agent_id", pa.string()),
        ("partner_id", pa.string()),
        ("customer_id", pa.string()),
        ("channel", pa.string()),
        ("need_id", pa.string()),
        ("complaint_category", pa.string()),
        ("over_the_head", pa.bool_()),
        ("talk_s", pa.float64()),
        ("hold_s", pa.float64()),
        ("acw_s", pa.float64()),
        ("transferred", pa.bool_()),
        ("score", pa.float64()),
        ("skill", pa.string()),
        ("region", pa.string()),
    ]
)

FACTS_SQL = """
CREATE OR REPLACE TABLE facts AS
WITH c AS (
    SELECT contact_id,
           arg_min({'t': t, 'queue_id': queue_id, 'partner_id': partner_id,
                    'customer_id': customer_id, 'channel': channel, 'need_id': need_id,
                    'complaint_category': complaint_category,
                    'over_the_head': over_the_head, 'skill': skill, 'region': region}, t)
               FILTER (WHERE type = 'contact.queued') AS s,
           min(t) FILTER (WHERE type = 'contact.answered') AS ans_t,
           arg_min(agent_id, t) FILTER (WHERE type = 'contact.answered') AS ans_agent,
           min(t) FILTER (WHERE type = 'contact.abandoned') AS ab_t,
           bool_or(type = 'contact.transferred'
                   OR (type = 'contact.ended' AND transferred)) AS any_transfer,
           arg_max(talk_s, t) FILTER (WHERE type = 'contact.ended') AS talk_s,
           arg_max(hold_s, t) FILTER (WHERE type = 'contact.ended') AS hold_s,
           arg_max(acw_s, t) FILTER (WHERE type = 'contact.ended') AS acw_s,
           arg_max(score, t) FILTER (WHERE type IN {csat_types} AND score IS NOT NULL) AS score
    FROM events
    GROUP BY contact_id
), r AS (
    SELECT contact_id, s.t AS offered_at, s.queue_id AS queue_id,
           s.partner_id AS partner_id, s.customer_id AS customer_id,
           coalesce(s.channel, 'voice') AS channel, s.need_id AS need_id,
           s.complaint_category AS complaint_category,
           coalesce(s.over_the_head, false) AS over_the_head,
           s.skill AS skill, s.region AS region,
           ans_t IS NOT NULL AND (ab_t IS NULL OR ans_t <= ab_t) AS answered,
           ab_t IS NOT NULL AND (ans_t IS NULL OR ab_t < ans_t) AS abandoned,
           ans_t, ans_agent, ab_t, any_transfer, talk_s, hold_s, acw_s, score
    FROM c WHERE s IS NOT NULL
), complaint AS (
    SELECT contact_id, lag(offered_at) OVER (
        PARTITION BY customer_id, complaint_category ORDER BY offered_at, contact_id)
        AS previous_complaint_at
    FROM r WHERE complaint_category IS NOT NULL AND customer_id IS NOT NULL
)
SELECT contact_id, offered_at, queue_id, partner_id, customer_id, channel, need_id,
       complaint_category, over_the_head, skill, region,
       CASE WHEN answered THEN greatest(ans_t, offered_at) END AS answered_at,
       CASE WHEN answered THEN ans_agent END AS agent_id,
       CASE WHEN abandoned THEN greatest(ab_t, offered_at) END AS abandoned_at,
       coalesce(talk_s, 0.0) AS talk_s, coalesce(hold_s, 0.0) AS hold_s,
       coalesce(acw_s, 0.0) AS acw_s,
       coalesce(answered AND any_transfer, false) AS transferred,
       score,
       -- the next contact on the same need (FCR) and the previous complaint of the customer
       -- on the category (repeat complaints), in (offered_at, contact_id) order as in numpy
       CASE WHEN need_id IS NOT NULL THEN lead(offered_at) OVER (
           PARTITION BY need_id ORDER BY offered_at, contact_id) END AS next_same_need_at,
       complaint.previous_complaint_at
FROM r LEFT JOIN complaint USING (contact_id)
ORDER BY offered_at, contact_id
""".replace("{csat_types}", "(" + ", ".join(f"'{t}'" for t in CSAT_EVENT_TYPES) + ")")

_KEYS = {
    "none": "NULL::VARCHAR",
    "queue": "queue_id",
    "skill": "skill",
    "agent": "agent_id",
    "partner": "partner_id",
    "channel": "channel",
    "region": "region",
}
_FILTERS = {name: column for name, column in _KEYS.items() if name != "none"}
_SUB_DAY = {"15min": 900.0, "30min": 1800.0, "60min": 3600.0, "day": 86_400.0}


def _bucket_sql(grain: str) -> str:
    if grain in _SUB_DAY:
        g = _SUB_DAY[grain]
        return f"floor(local_s / {g}) * {g}"
    if grain == "week":
        return "floor((local_s - 345600.0) / 604800.0) * 604800.0 + 345600.0"
    if grain == "month":
        return (
            "CAST(epoch(date_trunc('month', make_timestamp("
            "CAST(floor(local_s) AS BIGINT) * 1000000))) AS DOUBLE)"
        )
    raise ValueError(f"unknown grain {grain!r}")


@functools.lru_cache(maxsize=256)
def _offset_sql(since_s: float, until_s: float, tz: str, column: str = "offered_at") -> str:
    """The UTC offset of `tz` at `column` as a SQL expression over [since_s, until_s): a
    constant, or a CASE over the few DST changes inside the range (no join per row). Offsets
    change only at quarter-hour instants, so a roll-up's block start `b` gives its block's."""
    blocks = np.arange(np.floor(since_s / 900.0), np.ceil(until_s / 900.0) + 1) * 900.0
    offsets = utc_offsets_s(blocks, tz)
    changes = np.flatnonzero(np.diff(offsets)) + 1
    if len(changes) == 0:
        return repr(float(offsets[0]))
    arms = " ".join(
        f"WHEN {column} < {float(blocks[i])!r} THEN {float(offsets[i - 1])!r}" for i in changes
    )
    return f"(CASE {arms} ELSE {float(offsets[-1])!r} END)"


@functools.lru_cache(maxsize=256)
def _offsets_are_whole_hours(since_s: float, until_s: float, tz: str) -> bool:
    blocks = np.arange(np.floor(since_s / 900.0), np.ceil(until_s / 900.0) + 1) * 900.0
    return bool(np.all(np.mod(utc_offsets_s(blocks, tz), 3600.0) == 0.0))


# The additive sums of `KpiTotals`, in its field order, over rows of `counted` (below).
_SUMS = """
    count(*) AS offered,
    count(answered_at) AS answered,
    count(abandoned_at) AS abandoned,
    count(*) FILTER (WHERE abandoned_at IS NOT NULL AND wait_s < ?) AS short_abandoned,
    count(*) FILTER (WHERE answered_at IS NOT NULL AND wait_s <= ?) AS answered_within_sl,
    coalesce(sum(wait_s) FILTER (WHERE answered_at IS NOT NULL), 0.0) AS wait_answered_s,
    coalesce(sum(talk_s) FILTER (WHERE answered_at IS NOT NULL), 0.0) AS talk_s,
    coalesce(sum(hold_s) FILTER (WHERE answered_at IS NOT NULL), 0.0) AS hold_s,
    coalesce(sum(acw_s) FILTER (WHERE answered_at IS NOT NULL), 0.0) AS acw_s,
    count(*) FILTER (WHERE answered_at IS NOT NULL AND transferred) AS transferred,
    count(*) FILTER (WHERE answered_at IS NOT NULL AND NOT transferred) AS end_to_end,
    count(*) FILTER (WHERE answered_at IS NOT NULL AND NOT repeat_contact)
        AS resolved_first_contact,
    count(complaint_category) AS complaints,
    {repeat_complaints} AS repeat_complaints,
    count(*) FILTER (WHERE complaint_category IS NOT NULL AND over_the_head) AS over_the_head,
    count(score) AS surveys,
    count(*) FILTER (WHERE score >= ?) AS satisfied
"""
_TOTAL_NAMES = tuple(KpiTotals.__dataclass_fields__)


def _counted_sql(where: str, local: str) -> str:
    return f"""
    SELECT facts.*, {local} AS local_s,
           coalesce(answered_at, abandoned_at) - offered_at AS wait_s,
           coalesce(next_same_need_at - offered_at <= ?, false) AS repeat_contact,
           coalesce(previous_complaint_at >= ?, false) AS repeat_complaint
    FROM facts
    WHERE {where}"""


def _filter_sql(filters: dict[str, Any]) -> tuple[str, list[Any]]:
    """` AND column = ?` per filter; a list value (the agents of a team) is an IN list."""
    where, args = "", []
    for name, value in filters.items():
        if isinstance(value, list):
            marks = ", ".join("?" for _ in value) or "NULL"
            where += f" AND {_FILTERS[name]} IN ({marks})"
            args += value
        else:
            where += f" AND {_FILTERS[name]} = ?"
            args.append(value)
    return where, args


def events_table(rows: Iterable[Sequence[Any]]) -> pa.Table:
    """Contact events as the repository returns them (contact_id, type, occurred_at,
    queue_id, agent_id, partner_id, customer_id, payload) -> a flat Arrow table."""
    columns: dict[str, list[Any]] = {name: [] for name in EVENT_SCHEMA.names}
    for contact_id, kind, occurred_at, queue_id, agent_id, partner_id, customer_id, payload in rows:
        fields = event_fields(kind, payload)
        values = {
            "contact_id": contact_id,
            "type": kind,
            "t": occurred_at.timestamp(),
            "queue_id": queue_id,
            "agent_id": agent_id,
            "partner_id": partner_id,
            "customer_id": customer_id,
            **fields,
        }
        for name, column in columns.items():
            column.append(values.get(name))
    return pa.table(columns, schema=EVENT_SCHEMA)


def export_events_parquet(rows: Iterable[Sequence[Any]], path: str | Path) -> int:
    """Write contact events (repository rows) to a Parquet file; returns the row count."""
    table = events_table(rows)
    pq.write_table(table, str(path))
    return table.num_rows


class AnalyticalStore:
    """A DuckDB connection holding the `facts` table of one export of the log, and its
    roll-ups: the `KpiTotals` sums per quarter hour (and per hour) of offered time and group
    key, for each grouping. A report without filters sums a few thousand roll-up rows instead
    of scanning a million contacts; a filtered report scans the facts (zone maps on
    offered_at skip what is out of range)."""

    ROLLUP_GROUPS = ("none", "queue", "skill", "agent", "partner", "channel", "region")
    ROLLUP_LEVELS_S = (3600.0, 900.0)

    def __init__(self, con: duckdb.DuckDBPyConnection, params: KpiParams | None = None) -> None:
        self.con = con
        self.con.execute("SET TimeZone = 'UTC'").fetchall()
        # FCR in the roll-ups is counted with this window; other windows scan the facts
        self.rollup_params = params or KpiParams()
        self.rolled_up = False

    @classmethod
    def from_parquet(
        cls, path: str | Path, threads: int | None = None, *, rollups: bool = True
    ) -> AnalyticalStore:
        """Roll the events of a Parquet export up into contact facts (stage 1)."""
        con = duckdb.connect()
        if threads:
            con.execute(f"SET threads = {int(threads)}").fetchall()
        quoted = str(path).replace("'", "''")
        con.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet('{quoted}')").fetchall()
        store = cls(con)
        store.con.execute(FACTS_SQL).fetchall()
        if rollups:
            store.build_rollups()
        return store

    @classmethod
    def from_events(cls, table: pa.Table, *, rollups: bool = True) -> AnalyticalStore:
        con = duckdb.connect()
        con.register("events_arrow", table)
        con.execute("CREATE TABLE events AS SELECT * FROM events_arrow").fetchall()
        store = cls(con)
        store.con.execute(FACTS_SQL).fetchall()
        if rollups:
            store.build_rollups()
        return store

    def build_rollups(self) -> None:
        """The roll-up tables (stage 1b): quarter-hour sums per group key of every grouping in
        one pass (GROUPING SETS), hourly sums from those, and the complaints alone (repeat
        complaints depend on the report's range)."""
        p = self.rollup_params
        fine, coarse = self.ROLLUP_LEVELS_S[1], self.ROLLUP_LEVELS_S[0]
        keyed = [g for g in self.ROLLUP_GROUPS if g != "none"]
        columns = [_KEYS[g] for g in keyed]
        sets = ", ".join(["(b)", *(f"(b, {c})" for c in columns)])
        counted = _counted_sql("true", "offered_at")
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE rollup_sets AS
            WITH counted AS ({counted}),
            blocks AS (SELECT *, floor(offered_at / {fine}) * {fine} AS b FROM counted)
            SELECT b, GROUPING({", ".join(columns)}) AS grouping_id, {", ".join(columns)},
            {_SUMS.format(repeat_complaints="0")}
            FROM blocks GROUP BY GROUPING SETS ({sets})""",
            [p.fcr_window_s, -math.inf, p.short_abandon_s, p.service_level_threshold_s]
            + [CSAT_SATISFIED_MIN],
        ).fetchall()
        # GROUPING() has a bit per column, the first one highest, set where it is rolled up
        every = (1 << len(columns)) - 1
        plain = ", ".join(f"sum({name}) AS {name}" for name in _TOTAL_NAMES)
        for group_by in self.ROLLUP_GROUPS:
            if group_by == "none":
                grouping_id = every
            else:
                grouping_id = every ^ (1 << (len(columns) - 1 - keyed.index(group_by)))
            self.con.execute(
                f"""CREATE OR REPLACE TABLE rollup_{int(fine)}_{group_by} AS
                SELECT b, {_KEYS[group_by]} AS key, {", ".join(_TOTAL_NAMES)}
                FROM rollup_sets WHERE grouping_id = {grouping_id} ORDER BY b"""
            ).fetchall()
            self.con.execute(
                f"""CREATE OR REPLACE TABLE rollup_{int(coarse)}_{group_by} AS
                SELECT floor(b / {coarse}) * {coarse} AS b, key, {plain}
                FROM rollup_{int(fine)}_{group_by} GROUP BY ALL ORDER BY b"""
            ).fetchall()
        self.con.execute("DROP TABLE rollup_sets").fetchall()
        self.con.execute(
            """CREATE OR REPLACE TABLE complaints AS
            SELECT offered_at, previous_complaint_at, queue_id, skill, agent_id, partner_id,
                   channel, region
            FROM facts WHERE complaint_category IS NOT NULL ORDER BY offered_at"""
        ).fetchall()
        self.rolled_up = True

    def contacts(self) -> int:
        ((count,),) = self.con.execute("SELECT count(*) FROM facts").fetchall()
        return int(count)

    def cell_totals(
        self,
        since_s: float,
        until_s: float,
        grain: str,
        group_by: str,
        tz: str,
        params: KpiParams,
        filters: dict[str, str | None] | None = None,
        *,
        team_of: dict[str, str] | None = None,
    ) -> dict[CellKey, KpiTotals]:
        """`facts.cell_totals` in SQL: contacts offered in [since_s, until_s) and matching
        `filters` ({"queue": id, "agent": id, "team": name ...}) are counted; later ones up to
        the FCR window serve as repeat contacts, earlier ones up to the repeat-complaint window
        as earlier complaints. `team_of` (agent id -> team) serves grouping and filtering by
        team: a team's cells are the sums of its agents' cells."""
        active: dict[str, Any] = {k: v for k, v in (filters or {}).items() if v is not None}
        if "team" in active:
            team = active.pop("team")
            active["agent"] = sorted(a for a, t in (team_of or {}).items() if t == team)
        if group_by == "team":
            by_agent = self.cell_totals(
                since_s, until_s, grain, "agent", tz, params, active, team_of=team_of
            )
            teams: dict[CellKey, KpiTotals] = {}
            for (bucket, agent_id), totals in by_agent.items():
                team_name = (team_of or {}).get(agent_id) if agent_id is not None else None
                cell = (bucket, team_name or None)
                teams[cell] = teams.get(cell, KpiTotals()) + totals
            return teams
        level = self._rollup_level(since_s, until_s, grain, tz, params, active)
        if level is not None:
            return self._rollup_totals(level, since_s, until_s, grain, group_by, tz, params)
        # the numpy path sees complaints back to since − window (service._facts): the same here
        lookback = since_s - params.repeat_complaint_window_s
        where, filter_args = _filter_sql(active)
        counted = _counted_sql(
            f"offered_at >= ? AND offered_at < ?{where}",
            "offered_at + " + _offset_sql(since_s, until_s, tz),
        )
        sums = _SUMS.format(
            repeat_complaints="count(*) FILTER (WHERE complaint_category IS NOT NULL "
            "AND repeat_complaint)"
        )
        sql = f"""WITH counted AS ({counted})
            SELECT {_bucket_sql(grain)} AS bucket, {_KEYS[group_by]} AS key, {sums}
            FROM counted GROUP BY ALL"""
        args: list[Any] = [params.fcr_window_s, lookback, since_s, until_s, *filter_args]
        args += [params.short_abandon_s, params.service_level_threshold_s, CSAT_SATISFIED_MIN]
        return self._cells(self.con.execute(sql, args).fetchall())

    def _rollup_level(
        self,
        since_s: float,
        until_s: float,
        grain: str,
        tz: str,
        params: KpiParams,
        filters: dict[str, Any],
    ) -> float | None:
        """The coarsest roll-up whose blocks fall whole into the report's buckets, or None
        when the report needs the facts (filters, another FCR window, odd bounds)."""
        if not self.rolled_up or filters or params != self.rollup_params:
            return None
        for level in self.ROLLUP_LEVELS_S:
            if since_s % level or until_s % level:
                continue
            if level > 900.0 and (
                grain in ("15min", "30min") or not _offsets_are_whole_hours(since_s, until_s, tz)
            ):
                continue
            return level
        return None

    def _rollup_totals(
        self,
        level: float,
        since_s: float,
        until_s: float,
        grain: str,
        group_by: str,
        tz: str,
        params: KpiParams,
    ) -> dict[CellKey, KpiTotals]:
        local = "b + " + _offset_sql(since_s, until_s, tz, column="b")
        plain = ", ".join(f"sum({name})" for name in _TOTAL_NAMES)
        rows = self.con.execute(
            f"""SELECT {_bucket_sql(grain)} AS bucket, key, {plain}
            FROM (SELECT *, {local} AS local_s FROM rollup_{int(level)}_{group_by}
                  WHERE b >= ? AND b < ?)
            GROUP BY ALL""",
            [since_s, until_s],
        ).fetchall()
        cells = self._cells(rows)
        repeats = self.con.execute(
            f"""SELECT {_bucket_sql(grain)} AS bucket, {_KEYS[group_by]} AS key, count(*)
            FROM (SELECT *, offered_at + {_offset_sql(since_s, until_s, tz)} AS local_s
                  FROM complaints
                  WHERE offered_at >= ? AND offered_at < ? AND previous_complaint_at >= ?)
            GROUP BY ALL""",
            [since_s, until_s, since_s - params.repeat_complaint_window_s],
        ).fetchall()
        for bucket, key, count in repeats:
            cell = (float(bucket), None if key is None else str(key))
            cells[cell] = replace(cells[cell], repeat_complaints=int(count))
        return cells

    @staticmethod
    def _cells(rows: Iterable[Sequence[Any]]) -> dict[CellKey, KpiTotals]:
        # counts come back as Python ints, sums of seconds as floats: KpiTotals as they are
        return {
            (float(bucket), None if key is None else str(key)): KpiTotals(*sums)
            for bucket, key, *sums in rows
        }
