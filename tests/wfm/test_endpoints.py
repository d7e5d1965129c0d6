"""The WFM API: staffing, forecast from the event log, schedule, adherence; roles and tenancy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert
from sqlalchemy.orm import Session

from lianluo.domain.wfm import staffing
from lianluo.models import Event
from tests.factories import make_user

TZ = ZoneInfo("Asia/Shanghai")  # the Tenant model's default time zone
OPEN_HOURS = range(9, 17)


def _local_midnight(days_back: int) -> datetime:
    today = datetime.now(TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days_back)


def _contacts_in(day: datetime, hour: int) -> int:
    # A daily shape plus a weekly one, so the models have something to learn.
    return 2 + (hour % 4) + (2 if day.weekday() < 5 else 0)


def seed_history(
    session: Session, tenant_id: str, queue_id: str, days: int, hours: range, partner_id: Any = None
) -> list[datetime]:
    """contact.queued (and contact.ended with handle times) on whole past days; returns arrivals."""
    rows, arrivals = [], []
    for back in range(days, 0, -1):
        day = _local_midnight(back)
        for hour in hours:
            n = _contacts_in(day, hour)
            for k in range(n):
                at = (day + timedelta(hours=hour, minutes=60 * k / n)).astimezone(UTC)
                contact_id = f"c-{tenant_id[:8]}-{back}-{hour}-{k}"
                arrivals.append(at)
                common = {
                    "tenant_id": tenant_id,
                    "queue_id": queue_id,
                    "contact_id": contact_id,
                    "partner_id": partner_id,
                }
                rows.append(
                    common | {"type": "contact.queued", "occurred_at": at, "payload": {}},
                )
                rows.append(
                    common
                    | {
                        "type": "contact.ended",
                        "occurred_at": at + timedelta(minutes=5),
                        "payload": {"wait_s": 5.0, "talk_s": 200.0, "hold_s": 10.0, "acw_s": 30},
                    }
                )
    session.execute(insert(Event), rows)
    session.commit()
    return arrivals


@pytest.fixture
def history(session: Session, world: Any) -> dict[str, list[datetime]]:
    """Three weeks of day-time traffic in tenant a; tenant b busy at night on its own queue."""
    a, b = world.a, world.b
    return {
        "a": seed_history(session, a.tenant.id, a.queues["general"].id, 21, OPEN_HOURS),
        "b": seed_history(session, b.tenant.id, b.queues["general"].id, 21, range(0, 6)),
    }


def _staff(client: Any, headers: dict[str, str], **body: Any) -> Any:
    return client.post("/api/v1/wfm/staff", json=body, headers=headers)


class TestStaff:
    def test_one_interval_matches_the_domain(self, client: Any, world: Any) -> None:
        response = _staff(
            client, world.headers(world.a.users["wfm"]), contacts=120, aht_s=240, interval_s=1800
        )
        assert response.status_code == 200, response.text
        row = response.json()
        expected = staffing.required_agents_for_contacts(
            np.array([120.0]), 240.0, 1800.0, target_sl=0.8, target_time_s=20.0
        )
        assert row["agents"] == int(expected.agents[0])
        assert row["service_level"] >= 0.8
        assert "abandonment" not in row or row["abandonment"] is None

    def test_many_intervals_and_erlang_a(self, client: Any, world: Any) -> None:
        body = {"contacts": [40, 120, 300], "aht_s": 300, "patience_s": 120}
        response = _staff(client, world.headers(world.a.users["supervisor"]), **body)
        assert response.status_code == 200, response.text
        rows = response.json()["intervals"]
        assert [r["contacts"] for r in rows] == [40, 120, 300]
        agents = [r["agents"] for r in rows]
        assert agents == sorted(agents)
        assert agents[0] < agents[-1]
        assert all(0 <= r["abandonment"] <= 1 for r in rows)

    def test_needs_a_login(self, client: Any) -> None:
        assert _staff(client, {}, contacts=10, aht_s=100).status_code == 401

    @pytest.mark.parametrize("role", ["agent", "qa"])
    def test_other_roles_are_forbidden(self, client: Any, world: Any, role: str) -> None:
        response = _staff(client, world.headers(world.a.users[role]), contacts=10, aht_s=100)
        assert response.status_code == 403
        assert "wfm" in response.json()["error"]["message"]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"contacts": 10, "aht_s": 0}, "aht_s"),
            ({"contacts": -1, "aht_s": 100}, "contacts"),
            ({"contacts": [], "aht_s": 100}, "contacts"),
            ({"contacts": 10, "aht_s": 100, "target_sl": 1.5}, "target_sl"),
            ({"contacts": 10, "aht_s": 100, "max_abandonment": 0.1}, "patience_s"),
        ],
    )
    def test_invalid_input_is_422_naming_the_field(
        self, client: Any, world: Any, body: dict[str, Any], field: str
    ) -> None:
        response = _staff(client, world.headers(world.a.users["wfm"]), **body)
        assert response.status_code == 422
        assert field in response.json()["error"]["message"]

    @settings(
        max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(contacts=st.floats(0, 2000), aht_s=st.floats(30, 900), sl=st.floats(0.5, 0.95))
    def test_staffing_meets_the_target(
        self, client: Any, world: Any, contacts: float, aht_s: float, sl: float
    ) -> None:
        body = {"contacts": contacts, "aht_s": aht_s, "target_sl": sl}
        row = _staff(client, world.headers(world.a.users["wfm"]), **body).json()
        assert row["service_level"] >= sl - 1e-9
        assert row["agents"] >= row["load_erlangs"]


def _forecast(client: Any, headers: dict[str, str], **params: Any) -> Any:
    return client.get("/api/v1/wfm/forecast", params=params, headers=headers)


class TestForecast:
    def test_forecasts_from_the_tenants_events_only(
        self, client: Any, world: Any, history: dict[str, list[datetime]]
    ) -> None:
        response = _forecast(
            client, world.headers(world.a.users["wfm"]), horizon_days=7, interval_min=60
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["history_contacts"] == len(history["a"])
        assert body["tz"] == "Asia/Shanghai"
        assert body["model"] in {r["model"] for r in body["backtest"]}
        assert 0 <= body["backtest_wape"] < 1
        # Only tenant a's open hours: tenant b's night traffic never shows up.
        for point in body["forecast"] + body["actual"]:
            hour = datetime.fromisoformat(point["start"]).astimezone(TZ).hour
            assert hour in OPEN_HOURS
        last_week = [t for t in history["a"] if t >= _local_midnight(7)]
        assert sum(p["contacts"] for p in body["actual"]) == pytest.approx(len(last_week))
        starts = [datetime.fromisoformat(p["start"]) for p in body["forecast"]]
        assert starts[0] >= _local_midnight(0)
        assert {s.astimezone(TZ).date() for s in starts} == {
            _local_midnight(-d).date() for d in range(7)
        }
        assert all(p["aht_s"] == pytest.approx(240.0) for p in body["forecast"])

    def test_queue_of_another_tenant_is_not_found(
        self, client: Any, world: Any, history: dict[str, list[datetime]]
    ) -> None:
        response = _forecast(
            client, world.headers(world.a.users["wfm"]), queue_id=world.b.queues["general"].id
        )
        assert response.status_code == 404

    def test_partner_supervisor_sees_only_its_queues(
        self, client: Any, session: Session, world: Any, history: dict[str, list[datetime]]
    ) -> None:
        a = world.a
        partner = a.partners["p"]
        ours = seed_history(
            session, a.tenant.id, a.queues["p"].id, 14, range(10, 12), partner_id=partner.id
        )
        supervisor = make_user(session, a.tenant, "ta-p-supervisor", ["supervisor"], partner)
        session.commit()
        headers = world.headers(supervisor)
        response = _forecast(client, headers, horizon_days=1)
        assert response.status_code == 200, response.text
        assert response.json()["history_contacts"] == len(ours)
        other = _forecast(client, headers, queue_id=a.queues["general"].id)
        assert other.status_code == 404

    def test_no_history_is_422_that_says_so(self, client: Any, world: Any) -> None:
        response = _forecast(client, world.headers(world.a.users["wfm"]))
        assert response.status_code == 422
        assert "contact.queued" in response.json()["error"]["message"]

    def test_bad_interval_is_422(self, client: Any, world: Any) -> None:
        response = _forecast(client, world.headers(world.a.users["wfm"]), interval_min=45)
        assert response.status_code == 422
        assert "interval_min" in response.json()["error"]["message"]

    def test_agent_is_forbidden(self, client: Any, world: Any) -> None:
        assert _forecast(client, world.headers(world.a.users["agent"])).status_code == 403


def _schedule(client: Any, headers: dict[str, str], **body: Any) -> Any:
    return client.post("/api/v1/wfm/schedule", json=body, headers=headers)


class TestSchedule:
    def test_covers_a_given_requirement(self, client: Any, world: Any) -> None:
        daily = [0.0] * 16 + [3.0] * 20 + [0.0] * 12  # 08:00–18:00 in 30-minute intervals
        body = {"interval_min": 30, "required_agents": daily * 7, "time_limit_s": 10}
        response = _schedule(client, world.headers(world.a.users["wfm"]), **body)
        assert response.status_code == 200, response.text
        out = response.json()
        assert len(out["coverage"]) == len(out["interval_starts"]) == 336
        assert out["understaffed_agent_hours"] == pytest.approx(
            sum(max(r - c, 0) for r, c in zip(out["required"], out["coverage"], strict=True))
        )
        assert out["understaffed_agent_hours"] == 0
        assert out["agents"] == sum(t["count"] for t in out["tours"]) > 0
        assert out["activities"] == []
        first = datetime.fromisoformat(out["interval_starts"][0])
        assert first.weekday() == 0
        assert (first.hour, first.minute) == (0, 0)

    def test_from_forecast_assigned_to_own_agents(
        self, client: Any, world: Any, history: dict[str, list[datetime]]
    ) -> None:
        body = {
            "interval_min": 30,
            "from_forecast": {"target_sl": 0.8, "target_time_s": 20},
            "assign": True,
            "time_limit_s": 10,
        }
        response = _schedule(client, world.headers(world.a.users["admin"]), **body)
        assert response.status_code == 200, response.text
        out = response.json()
        hours = [datetime.fromisoformat(s).hour for s in out["interval_starts"]]
        assert all(
            r == 0 for r, h in zip(out["required"], hours, strict=True) if h not in OPEN_HOURS
        )
        assert max(out["required"]) > 0
        own = {agent.id for agent in world.a.agents.values()}
        assigned = {a["agent_id"] for a in out["activities"]}
        assert assigned
        assert assigned <= own
        assert len(assigned) + out["unassigned_tours"] == out["agents"]

    @pytest.mark.parametrize(
        ("body", "words"),
        [
            ({"interval_min": 30, "required_agents": [1.0] * 10}, "336"),
            ({"interval_min": 30}, "exactly one"),
            (
                {"interval_min": 30, "required_agents": [1.0] * 336, "week_start": "2024-05-07"},
                "Monday",
            ),
            (
                {"interval_min": 30, "required_agents": [1.0] * 336, "time_limit_s": 600},
                "time_limit",
            ),
        ],
    )
    def test_bad_requests_are_422(
        self, client: Any, world: Any, body: dict[str, Any], words: str
    ) -> None:
        response = _schedule(client, world.headers(world.a.users["wfm"]), **body)
        assert response.status_code == 422
        assert words in response.json()["error"]["message"]

    def test_agent_is_forbidden(self, client: Any, world: Any) -> None:
        body = {"interval_min": 30, "required_agents": [0.0] * 336}
        assert _schedule(client, world.headers(world.a.users["agent"]), **body).status_code == 403


def _log_states(
    session: Session, tenant_id: str, agent_id: str, changes: list[tuple[datetime, str, str]]
) -> None:
    session.execute(
        insert(Event),
        [
            {
                "tenant_id": tenant_id,
                "type": "agent.state_changed",
                "occurred_at": at,
                "agent_id": agent_id,
                "payload": {"from": "", "to": state, "reason": reason},
            }
            for at, state, reason in changes
        ],
    )
    session.commit()


class TestAdherence:
    def test_states_from_the_event_log_against_the_schedule(
        self, client: Any, session: Session, world: Any
    ) -> None:
        a = world.a
        agent = a.agents["general"]
        agent.team = "blue"
        day = _local_midnight(1)
        at = lambda h: day + timedelta(hours=h)  # noqa: E731
        # Logged in 30 minutes late, lunch as planned, left an hour early.
        _log_states(
            session,
            a.tenant.id,
            agent.id,
            [
                (at(9.5), "available", "login"),
                (at(12), "break", "lunch"),
                (at(13), "available", ""),
                (at(17), "offline", "logout"),
            ],
        )
        # The same agent id in tenant b's log must not count (it cannot, but the query says so).
        _log_states(session, world.b.tenant.id, agent.id, [(at(9), "available", "")])
        plan = [
            {
                "agent_id": agent.id,
                "start": at(9).isoformat(),
                "end": at(12).isoformat(),
                "activity": "work",
            },
            {
                "agent_id": agent.id,
                "start": at(12).isoformat(),
                "end": at(13).isoformat(),
                "activity": "lunch",
            },
            {
                "agent_id": agent.id,
                "start": at(13).isoformat(),
                "end": at(18).isoformat(),
                "activity": "work",
            },
        ]
        params = {"since": at(0).isoformat(), "until": at(24).isoformat()}
        response = client.post(
            "/api/v1/wfm/adherence",
            params=params,
            json={"activities": plan},
            headers=world.headers(a.users["supervisor"]),
        )
        assert response.status_code == 200, response.text
        out = response.json()
        [row] = out["agents"]
        scheduled_h, missed_h, work_h = 9.0, 0.5 + 1.0, 8.0
        assert row["name"] == agent.id
        assert row["team"] == "blue"
        assert row["scheduled_s"] == pytest.approx(scheduled_h * 3600)
        assert row["adherence"] == pytest.approx((scheduled_h - missed_h) / scheduled_h)
        assert row["conformance"] == pytest.approx((work_h - missed_h) / work_h)
        assert [(d["scheduled"], d["actual"]) for d in row["deviations"]] == [
            ("work", "offline"),
            ("work", "offline"),
        ]
        [team] = out["teams"]
        assert team["name"] == "blue"
        assert team["adherence"] == pytest.approx(row["adherence"])
        # The team filter leaves other teams out.
        other = client.post(
            "/api/v1/wfm/adherence",
            params=params | {"team": "red"},
            json={"activities": plan},
            headers=world.headers(a.users["supervisor"]),
        )
        assert other.status_code == 200
        assert other.json()["agents"] == []

    def test_agents_of_another_tenant_are_422(self, client: Any, world: Any) -> None:
        start = datetime.now(UTC) - timedelta(hours=3)
        plan = [
            {
                "agent_id": world.b.agents["general"].id,
                "start": start.isoformat(),
                "end": (start + timedelta(hours=1)).isoformat(),
                "activity": "work",
            }
        ]
        response = client.post(
            "/api/v1/wfm/adherence",
            json={"activities": plan},
            headers=world.headers(world.a.users["wfm"]),
        )
        assert response.status_code == 422
        assert "unknown agent" in response.json()["error"]["message"]

    @pytest.mark.parametrize(
        ("activity", "words"),
        [
            ({"activity": "nap"}, "unknown scheduled activity"),
            ({"start": "2024-05-06T10:00:00"}, "time zone"),
        ],
    )
    def test_bad_activities_are_422(
        self, client: Any, world: Any, activity: dict[str, Any], words: str
    ) -> None:
        item = {
            "agent_id": world.a.agents["general"].id,
            "start": "2024-05-06T09:00:00+08:00",
            "end": "2024-05-06T12:00:00+08:00",
            "activity": "work",
        } | activity
        response = client.post(
            "/api/v1/wfm/adherence",
            params={"since": "2024-05-06T00:00:00+08:00", "until": "2024-05-07T00:00:00+08:00"},
            json={"activities": [item]},
            headers=world.headers(world.a.users["wfm"]),
        )
        assert response.status_code == 422
        assert words in response.json()["error"]["message"]

    def test_agent_is_forbidden(self, client: Any, world: Any) -> None:
        response = client.post(
            "/api/v1/wfm/adherence",
            json={"activities": []},
            headers=world.headers(world.a.users["agent"]),
        )
        assert response.status_code == 403


class TestPage:
    def test_redirects_to_login_without_a_session(self, client: Any) -> None:
        response = client.get("/wfm", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")

    def test_agents_get_403(self, client: Any, world: Any) -> None:
        response = client.get("/wfm?lang=en", headers=world.headers(world.a.users["agent"]))
        assert response.status_code == 403
        assert "WFM page" in response.text

    @pytest.mark.parametrize(
        ("lang", "title"), [("zh", "排班管理"), ("en", "Workforce management")]
    )
    def test_renders_in_both_languages(
        self, client: Any, world: Any, lang: str, title: str
    ) -> None:
        response = client.get(f"/wfm?lang={lang}", headers=world.headers(world.a.users["wfm"]))
        assert response.status_code == 200
        assert title in response.text
        assert world.a.queues["general"].name in response.text
        assert world.b.queues["general"].name not in response.text
        assert "/static/vendor/plotly.min.js" in response.text

    def test_plotly_is_served_from_the_package(self, client: Any) -> None:
        from lianluo.wfm.pages import plotly_js_path

        response = client.get("/static/vendor/plotly.min.js")
        assert response.status_code == 200
        assert "javascript" in response.headers["content-type"]
        assert len(response.content) == plotly_js_path().stat().st_size
        assert client.get("/static/wfm.js").status_code == 200

    def test_api_is_in_the_openapi_document(self, client: Any) -> None:
        paths = client.get("/openapi.json").json()["paths"]
        for path in ("staff", "forecast", "schedule", "adherence"):
            assert f"/api/v1/wfm/{path}" in paths
        assert "/wfm" not in paths
