"""The real-time KPI stream: figures kept from events equal the figures rebuilt from the
database and the hand-computed answers, after a scripted day driven through the API."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from lianluo.realtime.service import realtime_of
from tests.routing.helpers import enqueue, give_billing, install_clock, set_state


@pytest.fixture
def clock(app_context: Any) -> Any:
    app_context.extras["realtime_reconcile_s"] = 1e9  # only events move the board in these tests
    return install_clock(app_context)


def _post(client: Any, world: Any, path: str, user: str = "agent", **body: Any) -> Any:
    r = client.post(path, json=body, headers=world.headers(world.a.users[user]))
    assert r.status_code < 300, r.text
    return r.json()


def _wall(client: Any, world: Any, user: str = "supervisor") -> Any:
    return client.get("/api/v1/realtime/wall", headers=world.headers(world.a.users[user]))


def _general(snapshot: dict[str, Any], world: Any) -> dict[str, Any]:
    (row,) = [q for q in snapshot["queues"] if q["queue_id"] == world.a.queues["general"].id]
    return row


def _script(client: Any, world: Any, clock: Any) -> None:
    """Five contacts in the general queue, one agent."""
    give_billing(client.app.state.ctx.sessions(), world)
    assert set_state(client, world, "available").status_code == 200
    # c1: answered after 8 s, 60 s of talk, closed at once
    c1 = enqueue(client, world).json()
    assert c1["state"] == "offered"
    clock.advance(8)
    _post(client, world, f"/api/v1/contacts/{c1['id']}/accept")
    clock.advance(60)
    _post(client, world, f"/api/v1/contacts/{c1['id']}/complete", disposition="resolved")
    # c2: answered after 30 s (outside the 20 s target), 100 s of talk, 20 s of wrap-up
    assert set_state(client, world, "busy").status_code == 200
    c2 = enqueue(client, world).json()
    clock.advance(25)
    assert set_state(client, world, "available").status_code == 200
    clock.advance(5)
    _post(client, world, f"/api/v1/contacts/{c2['id']}/accept")
    clock.advance(100)
    _post(client, world, f"/api/v1/contacts/{c2['id']}/complete")
    clock.advance(20)
    _post(client, world, f"/api/v1/contacts/{c2['id']}/wrap-up", disposition="resolved")
    # c3: offered, rejected (the agent goes on break), abandoned after 3 s (a short abandon)
    c3 = enqueue(client, world).json()
    _post(client, world, f"/api/v1/contacts/{c3['id']}/reject")
    clock.advance(3)
    _post(client, world, f"/api/v1/contacts/{c3['id']}/abandon", user="supervisor")
    # c4, c5: waiting, nobody available
    enqueue(client, world)
    clock.advance(12)
    enqueue(client, world)
    clock.advance(5)


def _comparable(value: Any) -> Any:
    """The snapshot without its clock reading, floats rounded to the millisecond (events carry
    rounded handle times)."""
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items() if k != "now"}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    if isinstance(value, float):
        return round(value, 3)
    return value


class TestFigures:
    def test_events_and_database_agree_with_known_answers(
        self, client: Any, world: Any, clock: Any
    ) -> None:
        before = _wall(client, world)  # the board exists before the day starts: events feed it
        assert before.status_code == 200, before.text
        assert _general(before.json(), world)["offered"] == 0

        _script(client, world, clock)
        live = _wall(client, world).json()
        q = _general(live, world)
        assert (q["offered"], q["answered"], q["abandoned"], q["handled"]) == (5, 2, 1, 2)
        assert q["waiting"] == 2
        assert q["longest_wait_s"] == pytest.approx(17)
        # SL: answered within 20 s (c1) / (offered - short abandons (c3)) = 1 / 4
        assert q["service_level"] == pytest.approx(0.25)
        assert q["sl_status"] == "bad"
        assert q["asa_s"] == pytest.approx((8 + 30) / 2)
        assert q["aht_s"] == pytest.approx((60 + 100 + 20) / 2)
        assert q["abandonment_rate"] == pytest.approx(1 / 5)
        assert sum(i["offered"] for i in q["intervals"]) == 5
        assert live["totals"]["offered"] == sum(r["offered"] for r in live["queues"])

        agent = world.a.agents["general"].id
        (row,) = [a for a in live["agents"] if a["agent_id"] == agent]
        assert (row["state"], row["reason"], row["work"]) == ("break", "rejected", [])
        assert row["time_in_state_s"] == pytest.approx(20)
        assert live["agents_by_state"]["break"] == 1

        # the same figures, rebuilt from the database
        service = realtime_of(client.app.state.ctx)
        service.reconcile(world.a.tenant.id)
        rebuilt = _wall(client, world).json()
        assert _comparable(rebuilt) == _comparable(live)

    def test_agent_work_and_ringing(self, client: Any, world: Any, clock: Any) -> None:
        _wall(client, world)
        give_billing(client.app.state.ctx.sessions(), world)
        set_state(client, world, "available")
        c1 = enqueue(client, world, channel="chat").json()
        clock.advance(4)
        q = _general(_wall(client, world).json(), world)
        assert (q["waiting"], q["ringing"]) == (0, 1)
        _post(client, world, f"/api/v1/contacts/{c1['id']}/accept")
        live = _wall(client, world).json()
        (row,) = [a for a in live["agents"] if a["agent_id"] == world.a.agents["general"].id]
        assert row["work"] == [
            {
                "contact_id": c1["id"],
                "queue_id": world.a.queues["general"].id,
                "channel": "chat",
                "state": "connected",
            }
        ]
        assert _general(live, world)["connected"] == 1
        realtime_of(client.app.state.ctx).reconcile(world.a.tenant.id)
        assert _comparable(_wall(client, world).json()) == _comparable(live)


class TestScope:
    def test_partner_admin_sees_only_its_queue_and_agents(
        self, client: Any, world: Any, clock: Any
    ) -> None:
        r = _wall(client, world, "p_admin")
        assert r.status_code == 200, r.text
        body = r.json()
        assert [q["queue_id"] for q in body["queues"]] == [world.a.queues["p"].id]
        assert {a["agent_id"] for a in body["agents"]} == {world.a.agents["p"].id}
        for hidden in (
            world.a.queues["general"].id,
            world.a.queues["q"].id,
            world.a.agents["q"].id,
        ):
            assert hidden not in r.text

    def test_other_tenant_is_invisible(self, client: Any, world: Any, clock: Any) -> None:
        body = _wall(client, world).text
        assert world.b.queues["general"].id not in body
        assert world.b.agents["general"].id not in body

    def test_agents_may_not_read_the_wall(self, client: Any, world: Any, clock: Any) -> None:
        r = _wall(client, world, "agent")
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "forbidden"

    def test_unauthenticated(self, client: Any) -> None:
        assert client.get("/api/v1/realtime/wall").status_code == 401


class TestSocket:
    @pytest.mark.timeout(60)
    def test_push_arrives_when_a_contact_is_enqueued(
        self, client: Any, world: Any, clock: Any
    ) -> None:
        headers = world.headers(world.a.users["supervisor"])
        with client.websocket_connect("/ws/wall", headers=headers) as ws:
            first = ws.receive_json()
            assert first["type"] == "snapshot"
            assert _general(first["data"], world)["waiting"] == 0
            assert enqueue(client, world).status_code == 201
            pushed = ws.receive_json()
            assert _general(pushed["data"], world)["waiting"] == 1
            assert _general(pushed["data"], world)["offered"] == 1

    @pytest.mark.timeout(60)
    def test_partner_socket_is_scoped(self, client: Any, world: Any, clock: Any) -> None:
        headers = world.headers(world.a.users["p_admin"])
        with client.websocket_connect("/ws/wall", headers=headers) as ws:
            data = ws.receive_json()["data"]
        assert [q["queue_id"] for q in data["queues"]] == [world.a.queues["p"].id]

    @pytest.mark.parametrize("user", [None, "agent"])
    def test_refused_without_a_wall_reader(self, client: Any, world: Any, user: Any) -> None:
        headers = world.headers(world.a.users[user]) if user else {}
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            client.websocket_connect("/ws/wall", headers=headers) as ws,
        ):
            ws.receive_json()
        assert refused.value.code == 1008


class TestPage:
    def test_supervisor_gets_the_page(self, client: Any, world: Any) -> None:
        r = client.get("/wall?lang=en", headers=world.headers(world.a.users["supervisor"]))
        assert r.status_code == 200
        assert "Supervisor wallboard" in r.text
        assert "/static/vendor/plotly.min.js" in r.text

    def test_agent_is_refused_and_anonymous_sent_to_login(self, client: Any, world: Any) -> None:
        r = client.get("/wall", headers=world.headers(world.a.users["agent"]))
        assert r.status_code == 403
        assert "实时大屏" in r.text
        r = client.get("/wall", follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, "/login?next=/wall")
