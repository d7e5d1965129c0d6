"""The contact lifecycle through the API: queued, offered, accepted or rejected, completed,
wrapped up, abandoned, transferred, called back; permissions and tenancy."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from lianluo.models import Event, Leg
from tests.routing.helpers import enqueue, give_billing, install_clock, set_state

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def clock(app_context: Any) -> Any:
    return install_clock(app_context)


def _offers(client: Any, world: Any, user: str = "agent") -> list[dict[str, Any]]:
    r = client.get("/api/v1/routing/me/offers", headers=world.headers(world.a.users[user]))
    assert r.status_code == 200, r.text
    return r.json()


class TestCreate:
    def test_queued_when_no_agent(self, client: Any, world: Any, session: Any) -> None:
        r = enqueue(client, world)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["state"] == "queued"
        assert body["agent_id"] is None
        kinds = (
            session.execute(select(Event.type).where(Event.contact_id == body["id"]))
            .scalars()
            .all()
        )
        assert "contact.queued" in kinds

    def test_offered_when_agent_available(self, client: Any, world: Any) -> None:
        give_billing(client.app.state.ctx.sessions(), world)
        assert set_state(client, world, "available").status_code == 200
        body = enqueue(client, world).json()
        assert body["state"] == "offered"
        assert body["agent_id"] == world.a.agents["general"].id
        assert [o["contact_id"] for o in _offers(client, world)] == [body["id"]]

    def test_unauthenticated(self, client: Any, world: Any) -> None:
        assert client.post("/api/v1/contacts", json={}).status_code == 401

    def test_qa_cannot_create(self, client: Any, world: Any) -> None:
        assert enqueue(client, world, user="qa").status_code == 403

    def test_other_tenants_queue_is_422(self, client: Any, world: Any) -> None:
        r = enqueue(client, world, queue_id=world.b.queues["general"].id)
        assert r.status_code == 422
        assert "queue_id" in r.text

    def test_channel_the_queue_does_not_take(self, client: Any, world: Any) -> None:
        assert enqueue(client, world, channel="email").status_code == 422

    def test_partner_user_cannot_use_tenant_queue(self, client: Any, world: Any) -> None:
        assert enqueue(client, world, user="p_admin").status_code == 422

    def test_other_tenant_cannot_read(self, client: Any, world: Any) -> None:
        cid = enqueue(client, world).json()["id"]
        r = client.get(f"/api/v1/contacts/{cid}", headers=world.headers(world.b.users["agent"]))
        assert r.status_code == 404


class TestOfferAnswers:
    @pytest.fixture
    def offered(self, client: Any, world: Any) -> str:
        give_billing(client.app.state.ctx.sessions(), world)
        set_state(client, world, "available")
        return enqueue(client, world).json()["id"]

    def test_accept_connects(self, client: Any, world: Any, offered: str) -> None:
        h = world.headers(world.a.users["agent"])
        r = client.post(f"/api/v1/contacts/{offered}/accept", headers=h)
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "connected"
        assert r.json()["answered_at"] is not None

    def test_only_the_offered_agent_accepts(self, client: Any, world: Any, offered: str) -> None:
        h = world.headers(world.a.users["supervisor"])
        assert client.post(f"/api/v1/contacts/{offered}/accept", headers=h).status_code == 403

    def test_reject_returns_contact_and_breaks_agent(
        self, client: Any, world: Any, offered: str, session: Any
    ) -> None:
        h = world.headers(world.a.users["agent"])
        r = client.post(f"/api/v1/contacts/{offered}/reject", headers=h)
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "queued"
        me = client.get("/api/v1/routing/me", headers=h).json()
        assert (me["state"], me["reason"]) == ("break", "rejected")
        legs = session.execute(select(Leg.end_reason).where(Leg.contact_id == offered)).scalars()
        assert list(legs) == ["rejected"]

    def test_offer_timeout_returns_contact(
        self, client: Any, world: Any, offered: str, clock: Any
    ) -> None:
        clock.advance(21)  # the queue's offer_timeout_s is 20
        from lianluo.runtime.router import runtime_of

        runtime_of(client.app.state.ctx).tick(world.a.tenant.id)
        h = world.headers(world.a.users["agent"])
        r = client.get(f"/api/v1/contacts/{offered}", headers=h)
        assert r.json()["state"] == "queued"
        me = client.get("/api/v1/routing/me", headers=h).json()
        assert (me["state"], me["reason"]) == ("break", "missed")
        r = client.post(f"/api/v1/contacts/{offered}/accept", headers=h)
        assert r.status_code == 409

    def test_complete_then_wrap_up(self, client: Any, world: Any, offered: str) -> None:
        h = world.headers(world.a.users["agent"])
        client.post(f"/api/v1/contacts/{offered}/accept", headers=h)
        r = client.post(f"/api/v1/contacts/{offered}/complete", json={}, headers=h)
        assert r.json()["state"] == "wrap_up"
        assert client.get("/api/v1/routing/me", headers=h).json()["state"] == "wrap_up"
        r = client.post(
            f"/api/v1/contacts/{offered}/wrap-up",
            json={"disposition": "resolved", "notes": "账单已解释"},
            headers=h,
        )
        assert r.status_code == 200, r.text
        assert (r.json()["state"], r.json()["disposition"]) == ("ended", "resolved")
        assert client.get("/api/v1/routing/me", headers=h).json()["state"] == "available"

    def test_wrap_up_needs_disposition(self, client: Any, world: Any, offered: str) -> None:
        h = world.headers(world.a.users["agent"])
        r = client.post(f"/api/v1/contacts/{offered}/wrap-up", json={}, headers=h)
        assert r.status_code == 422

    def test_abandon_rescinds_offer(self, client: Any, world: Any, offered: str) -> None:
        h = world.headers(world.a.users["agent"])
        r = client.post(f"/api/v1/contacts/{offered}/abandon", headers=h)
        assert r.json()["state"] == "abandoned"
        assert _offers(client, world) == []
        assert client.post(f"/api/v1/contacts/{offered}/abandon", headers=h).status_code == 409

    def test_transfer_to_queue_with_note(self, client: Any, world: Any, offered: str) -> None:
        h = world.headers(world.a.users["agent"])
        client.post(f"/api/v1/contacts/{offered}/accept", headers=h)
        r = client.post(
            f"/api/v1/contacts/{offered}/transfer",
            json={"to_queue_id": world.a.queues["general"].id, "note": "需要升级"},
            headers=h,
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["context"]["transfer_note"] == "需要升级"
        # the agent is free again, so the transferred contact can come back to them
        assert body["state"] in ("queued", "offered")

    def test_transfer_needs_target(self, client: Any, world: Any, offered: str) -> None:
        h = world.headers(world.a.users["agent"])
        assert (
            client.post(f"/api/v1/contacts/{offered}/transfer", json={}, headers=h).status_code
            == 422
        )


class TestCallback:
    def test_virtual_hold_keeps_place(self, client: Any, world: Any) -> None:
        h = world.headers(world.a.users["agent"])
        first = enqueue(client, world).json()["id"]
        r = client.post(f"/api/v1/contacts/{first}/callback", json={}, headers=h)
        assert r.status_code == 200, r.text
        assert (r.json()["state"], r.json()["callback"]) == ("queued", True)

    def test_callback_at_time_leaves_line(self, client: Any, world: Any, clock: Any) -> None:
        from datetime import UTC, datetime

        h = world.headers(world.a.users["agent"])
        cid = enqueue(client, world).json()["id"]
        at = datetime.fromtimestamp(clock.now + 600, UTC).isoformat()
        r = client.post(f"/api/v1/contacts/{cid}/callback", json={"at": at}, headers=h)
        assert r.json()["state"] == "callback_scheduled"
        clock.advance(601)
        from lianluo.runtime.router import runtime_of

        runtime_of(client.app.state.ctx).tick(world.a.tenant.id)
        assert client.get(f"/api/v1/contacts/{cid}", headers=h).json()["state"] == "queued"

    def test_callback_in_the_past_is_422(self, client: Any, world: Any) -> None:
        h = world.headers(world.a.users["agent"])
        cid = enqueue(client, world).json()["id"]
        r = client.post(
            f"/api/v1/contacts/{cid}/callback", json={"at": "2001-01-01T00:00:00+00:00"}, headers=h
        )
        assert r.status_code == 422
