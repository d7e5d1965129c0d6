"""The analytical path (DuckDB) gives the figures of the numpy path, on the hand-made day and
on a random month of contacts, for every grain and grouping."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from lianluo.auth.principal import Principal
from lianluo.domain.kpi import KpiParams
from lianluo.models import Role
from lianluo.reports.analytical import AnalyticalStore, events_table, export_events_parquet
from lianluo.reports.facts import build_facts, cell_totals
from lianluo.reports.schemas import ReportQuery
from lianluo.reports.service import report_service


def assert_same(a: Any, b: Any) -> None:
    assert a.keys() == b.keys()
    for key in a:
        for name, value in a[key].as_dict().items():
            assert getattr(b[key], name) == pytest.approx(value, rel=1e-9, abs=1e-6), (key, name)


def supervisor(world: Any, user: str = "supervisor") -> Principal:
    u = world.a.users[user]
    return Principal(u.id, u.tenant_id, u.partner_id, frozenset(u.roles))


@pytest.mark.parametrize("grain", ["15min", "60min", "day", "week", "month"])
@pytest.mark.parametrize(
    "group_by", ["none", "queue", "skill", "agent", "team", "partner", "channel", "region"]
)
def test_same_report_through_both_paths(
    session: Session, day: Any, grain: str, group_by: str
) -> None:
    query = ReportQuery(
        date_from=date(2026, 11, 10), date_to=date(2026, 11, 11), grain=grain, group_by=group_by
    )
    principal = supervisor(day)
    numpy_path = report_service.report(session, principal, query)
    duckdb_path = report_service.report(session, principal, query, analytical=True)
    assert _rows(numpy_path) == _rows(duckdb_path)
    assert numpy_path.total == duckdb_path.total


def _rows(report: Any) -> list[tuple[Any, ...]]:
    return [(r.start, r.key, r.kpis) for r in report.rows]


def test_filters_and_partner_scope_through_both_paths(session: Session, day: Any) -> None:
    for user, filters in [
        ("supervisor", {"queue_id": day.a.queues["general"].id}),
        ("supervisor", {"channel": "chat"}),
        ("supervisor", {"agent_id": day.a.agents["general"].id}),
        ("supervisor", {"team": "一组"}),
        ("supervisor", {"skill": "billing"}),
        ("supervisor", {"region": "广东"}),
        ("p_admin", {}),
    ]:
        query = ReportQuery(
            date_from=date(2026, 11, 10), date_to=date(2026, 11, 10), group_by="agent", **filters
        )
        principal = supervisor(day, user)
        a = report_service.report(session, principal, query)
        b = report_service.report(session, principal, query, analytical=True)
        assert _rows(a) == _rows(b), (user, filters)


def random_events(n_contacts: int, seed: int) -> list[tuple[Any, ...]]:
    """A month of random contacts in the repository's row shape, with repeats, complaints,
    transfers, surveys, and answers and abandonments in every order."""
    rng = random.Random(seed)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    rows: list[tuple[Any, ...]] = []
    for i in range(n_contacts):
        cid = f"c{i:05d}"
        t = start + timedelta(seconds=rng.uniform(0, 40 * 86_400))
        queue = rng.choice(["q1", "q2", "q3"])
        partner = "p1" if queue == "q3" else None
        customer = f"u{rng.randrange(40)}"
        payload: dict[str, Any] = {
            "channel": rng.choice(["voice", "chat", "email"]),
            "conversation_id": f"n{rng.randrange(150)}",
            "required_skills": rng.choice([{}, {"billing": 3}, {"billing": 2, "vip": 6}]),
            "region": rng.choice(["广东", "北京", ""]),
        }
        if rng.random() < 0.2:
            payload["complaint_category"] = rng.choice(["billing", "network"])
            payload["over_the_head"] = rng.random() < 0.3
        rows.append((cid, "contact.queued", t, queue, None, partner, customer, payload))
        wait = timedelta(seconds=rng.choice([0, 3, 4.999, 5, 20, 20.001, rng.uniform(0, 120)]))
        outcome = rng.random()
        agent = f"a{rng.randrange(8)}"
        if outcome < 0.2:
            rows.append((cid, "contact.abandoned", t + wait, queue, None, partner, customer, {}))
        elif outcome < 0.9:
            at = t + wait
            rows.append((cid, "contact.answered", at, queue, agent, partner, customer, {}))
            if rng.random() < 0.1:
                rows.append((cid, "contact.transferred", at, queue, agent, partner, customer, {}))
            ended = {
                "talk_s": rng.uniform(10, 900),
                "hold_s": rng.choice([0.0, rng.uniform(0, 60)]),
                "acw_s": rng.uniform(0, 60),
            }
            end = at + timedelta(seconds=1000)
            rows.append((cid, "contact.ended", end, queue, agent, partner, customer, ended))
            if rng.random() < 0.3:
                score = {"score": rng.choice([1, 2, 3, 4, 5, 7])}
                kind = rng.choice(["contact.surveyed", "chat.rated", "ticket.rated"])
                rows.append((cid, kind, end, None, None, None, customer, score))
            if rng.random() < 0.05:  # a late abandonment after the answer: still answered
                rows.append((cid, "contact.abandoned", end, queue, None, partner, customer, {}))
    rows.sort(key=lambda r: r[2])
    return rows


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "America/New_York"])
@pytest.mark.parametrize("grain", ["30min", "day", "week", "month"])
def test_random_month_same_cells(grain: str, tz: str, tmp_path: Path) -> None:
    rows = random_events(1500, seed=hash((grain, tz)) % 1000)
    params = KpiParams()
    since = datetime(2026, 3, 3, tzinfo=UTC).timestamp()
    until = datetime(2026, 3, 31, tzinfo=UTC).timestamp()
    facts = build_facts(rows)
    path = tmp_path / "events.parquet"
    assert export_events_parquet(rows, path) == len(rows)
    store = AnalyticalStore.from_parquet(path)
    assert store.contacts() == len(facts)
    assert store._rollup_level(since, until, grain, tz, params, {}) is not None
    team_of = {f"a{i}": "一组" if i < 5 else "二组" for i in range(8)}
    facts = facts.with_teams(team_of)
    for group_by in ("none", "queue", "skill", "agent", "team", "channel", "region"):
        expected = cell_totals(facts, since, until, grain, group_by, tz, params)
        got = store.cell_totals(since, until, grain, group_by, tz, params, team_of=team_of)
        assert_same(expected, got)
    for column, value in (("queue", "q2"), ("team", "二组"), ("skill", "billing")):
        mask = facts.labels(column) == value
        expected = cell_totals(facts, since, until, grain, "agent", tz, params, mask)
        got = store.cell_totals(
            since, until, grain, "agent", tz, params, {column: value}, team_of=team_of
        )
        assert_same(expected, got)
    # another FCR window than the roll-ups': the facts are scanned, the figures agree
    other = KpiParams(fcr_window_s=86_400.0)
    expected = cell_totals(facts, since, until, grain, "queue", tz, other)
    assert_same(expected, store.cell_totals(since, until, grain, "queue", tz, other))


def test_in_memory_events_equal_parquet(tmp_path: Path) -> None:
    rows = random_events(300, seed=7)
    path = tmp_path / "e.parquet"
    export_events_parquet(rows, path)
    a = AnalyticalStore.from_parquet(path)
    b = AnalyticalStore.from_events(events_table(rows))
    args = (0.0, 2e9, "day", "queue", "UTC", KpiParams())
    assert_same(a.cell_totals(*args), b.cell_totals(*args))


def test_roles_for_reports_exclude_plain_agents() -> None:
    from lianluo.reports.service import REPORT_READERS

    assert Role.agent not in REPORT_READERS
