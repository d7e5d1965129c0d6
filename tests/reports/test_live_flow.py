"""Reports read what the live server writes: contacts driven through the real contact API and
router (a clock the test moves), then the report and the scorecard of that day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.routing.helpers import enqueue, give_billing, install_clock, set_state


@pytest.fixture
def clock(app_context: Any) -> Any:
    return install_clock(app_context)


def test_report_of_contacts_handled_through_the_api(client: Any, world: Any, clock: Any) -> None:
    agent = world.headers(world.a.users["agent"])
    give_billing(client.app.state.ctx.sessions(), world)
    t0 = clock()
    assert set_state(client, world, "available").status_code == 200
    answered = enqueue(client, world).json()["id"]
    clock.advance(8)
    assert client.post(f"/api/v1/contacts/{answered}/accept", headers=agent).status_code == 200
    clock.advance(120)
    r = client.post(f"/api/v1/contacts/{answered}/complete", json={}, headers=agent)
    assert r.status_code == 200, r.text
    clock.advance(30)
    r = client.post(
        f"/api/v1/contacts/{answered}/wrap-up", json={"disposition": "resolved"}, headers=agent
    )
    assert r.status_code == 200, r.text
    clock.advance(60)
    abandoned = enqueue(client, world).json()["id"]
    clock.advance(3)  # inside the short-abandon threshold
    assert client.post(f"/api/v1/contacts/{abandoned}/abandon", headers=agent).status_code == 200

    zone = ZoneInfo("Asia/Shanghai")
    day = datetime.fromtimestamp(t0, UTC).astimezone(zone).date()
    supervisor = world.headers(world.a.users["supervisor"])
    params = {"date_from": day.isoformat(), "date_to": day.isoformat(), "group_by": "agent"}
    r = client.get("/api/v1/reports/historical", params=params, headers=supervisor)
    assert r.status_code == 200, r.text
    total = r.json()["total"]
    assert (total["offered"], total["answered"], total["abandoned"]) == (2, 1, 1)
    assert total["short_abandoned"] == 1
    assert total["service_level"] == pytest.approx(1.0)  # 8 s; the 3 s abandon is left out
    assert total["asa_s"] == pytest.approx(8.0)
    assert total["avg_talk_s"] == pytest.approx(120.0)
    assert total["avg_acw_s"] == pytest.approx(30.0)
    assert total["aht_s"] == pytest.approx(150.0)

    agent_id = world.a.agents["general"].id
    r = client.get(
        f"/api/v1/reports/agents/{agent_id}/scorecard",
        params={"date_from": day.isoformat(), "date_to": day.isoformat()},
        headers=supervisor,
    )
    card = r.json()
    assert card["handled"] == 1
    # staffed from the state change at t0 to the end of the local day (never logged off)
    day_end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    assert card["staffed_s"] == pytest.approx(day_end.timestamp() - t0, abs=1e-3)
    assert card["occupancy"] == pytest.approx(150.0 / (day_end.timestamp() - t0))
