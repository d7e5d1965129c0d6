"""Queue status, agent states, state changes with reason codes and supervisor-forced states."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from lianluo.models import Event
from tests.routing.helpers import enqueue, give_billing, install_clock, set_state

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def clock(app_context: Any) -> Any:
    return install_clock(app_context)


def _queue(client: Any, world: Any, user: Any, queue_id: str) -> Any:
    return client.get(f"/api/v1/routing/queues/{queue_id}", headers=world.headers(user))


class TestQueueStatus:
    def test_counts_waiting_and_longest_wait(self, client: Any, world: Any, clock: Any) -> None:
        supervisor = world.a.users["supervisor"]
        queue_id = world.a.queues["general"].id
        assert enqueue(client, world).status_code == 201
        clock.advance(30)
        assert enqueue(client, world).status_code == 201
        clock.advance(12)
        status = _queue(client, world, supervisor, queue_id)
        assert status.status_code == 200, status.text
        body = status.json()
        assert body["waiting"] == 2
        assert body["longest_wait_s"] == pytest.approx(42)
        assert body["sl_target_s"] == 20
        assert body["agents_available"] == 0

    def test_offer_moves_a_contact_out_of_waiting(self, client: Any, world: Any) -> None:
        give_billing(client.app.state.ctx.sessions(), world)
        assert set_state(client, world, "available").status_code == 200
        enqueue(client, world)
        enqueue(client, world)
        body = _queue(client, world, world.a.users["supervisor"], world.a.queues["general"].id)
        assert (body.json()["waiting"], body.json()["offered"]) == (1, 1)

    def test_other_tenants_queue_is_404(self, client: Any, world: Any) -> None:
        r = _queue(client, world, world.a.users["supervisor"], world.b.queues["general"].id)
        assert r.status_code == 404

    def test_partner_lists_only_its_queues(self, client: Any, world: Any) -> None:
        r = client.get("/api/v1/routing/queues", headers=world.headers(world.a.users["p_admin"]))
        assert r.status_code == 200
        assert {q["queue_id"] for q in r.json()} == {world.a.queues["p"].id}

    def test_unauthenticated(self, client: Any) -> None:
        assert client.get("/api/v1/routing/queues").status_code == 401


class TestAgentStates:
    def test_break_needs_a_reason_code(self, client: Any, world: Any) -> None:
        assert set_state(client, world, "break").status_code == 422
        ok = set_state(client, world, "break", reason="lunch")
        assert ok.status_code == 200, ok.text
        assert (ok.json()["state"], ok.json()["reason"]) == ("break", "lunch")

    def test_unknown_state_is_422(self, client: Any, world: Any) -> None:
        assert set_state(client, world, "sleeping").status_code == 422

    def test_state_change_is_logged(self, client: Any, world: Any, session: Any) -> None:
        set_state(client, world, "available")
        set_state(client, world, "break", reason="training")
        rows = (
            session.execute(
                select(Event.payload)
                .where(
                    Event.type == "agent.state_changed",
                    Event.agent_id == world.a.agents["general"].id,
                )
                .order_by(Event.id)
            )
            .scalars()
            .all()
        )
        assert [(p["to"], p.get("reason") or None) for p in rows][-2:] == [
            ("available", None),
            ("break", "training"),
        ]

    def test_supervisor_forces_a_state_and_is_recorded(
        self, client: Any, world: Any, session: Any
    ) -> None:
        agent_id = world.a.agents["general"].id
        supervisor = world.a.users["supervisor"]
        set_state(client, world, "available")
        forced = client.post(
            f"/api/v1/routing/agents/{agent_id}/state",
            json={"state": "offline"},
            headers=world.headers(supervisor),
        )
        assert forced.status_code == 200, forced.text
        assert forced.json()["state"] == "offline"
        me = client.get("/api/v1/routing/me", headers=world.headers(world.a.users["agent"]))
        assert me.json()["state"] == "offline"
        last = session.execute(
            select(Event.payload)
            .where(Event.type == "agent.state_changed", Event.agent_id == agent_id)
            .order_by(Event.id.desc())
            .limit(1)
        ).scalar_one()
        assert last.get("forced_by") == supervisor.id

    def test_agent_cannot_force_another_agent(self, client: Any, world: Any) -> None:
        r = client.post(
            f"/api/v1/routing/agents/{world.a.agents['p'].id}/state",
            json={"state": "offline"},
            headers=world.headers(world.a.users["agent"]),
        )
        assert r.status_code == 403

    def test_supervisor_cannot_force_other_tenants_agent(self, client: Any, world: Any) -> None:
        r = client.post(
            f"/api/v1/routing/agents/{world.b.agents['general'].id}/state",
            json={"state": "offline"},
            headers=world.headers(world.a.users["supervisor"]),
        )
        assert r.status_code == 404

    def test_partner_admin_sees_only_its_agents(self, client: Any, world: Any) -> None:
        r = client.get("/api/v1/routing/agents", headers=world.headers(world.a.users["p_admin"]))
        assert r.status_code == 200
        assert {a["agent_id"] for a in r.json()} == {world.a.agents["p"].id}

    def test_user_without_agent_profile_gets_404_on_me(self, client: Any, world: Any) -> None:
        r = client.get("/api/v1/routing/me", headers=world.headers(world.a.users["wfm"]))
        assert r.status_code == 404
