"""Random sequences of API operations against the live service: no contact is lost or
duplicated, no agent holds more than its capacity, no contact has two open legs."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from lianluo.models import Contact, Leg
from lianluo.runtime.router import runtime_of
from tests.routing.helpers import enqueue, give_billing, install_clock, set_state

OPS = st.lists(
    st.sampled_from(
        ["enqueue", "available", "break", "accept", "reject", "complete", "abandon", "tick"]
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(ops=OPS)
def test_random_operations_keep_invariants(
    ops: list[str], client: Any, world: Any, app_context: Any, session: Any
) -> None:
    # one clock and one runtime across the examples: rows of earlier examples stay in the
    # test's transaction, and the engine's clock never goes back
    clock = app_context.extras.get("router_clock") or install_clock(app_context)
    if not getattr(world, "_billing", False):
        give_billing(app_context.sessions(), world)
        world._billing = True
    h = world.headers(world.a.users["agent"])
    tenant = world.a.tenant.id
    before = set(session.execute(select(Contact.id)).scalars())
    created: list[str] = []
    for op in ops:
        clock.advance(7)
        offers = client.get("/api/v1/routing/me/offers", headers=h).json()
        # an offer past its deadline is gone once the engine looks (accepting it is a 409)
        offered = [
            o["contact_id"]
            for o in offers
            if o["state"] == "offered" and (o["expires_s"] is None or o["expires_s"] > clock.now)
        ]
        connected = [o["contact_id"] for o in offers if o["state"] == "connected"]
        if op == "enqueue":
            r = enqueue(client, world)
            assert r.status_code == 201, r.text
            created.append(r.json()["id"])
        elif op == "available":
            assert set_state(client, world, "available").status_code == 200
        elif op == "break":
            assert set_state(client, world, "break", "rest").status_code == 200
        elif op == "accept" and offered:
            assert (
                client.post(f"/api/v1/contacts/{offered[0]}/accept", headers=h).status_code == 200
            )
        elif op == "reject" and offered:
            assert (
                client.post(f"/api/v1/contacts/{offered[0]}/reject", headers=h).status_code == 200
            )
        elif op == "complete" and connected:
            r = client.post(
                f"/api/v1/contacts/{connected[0]}/complete", json={"disposition": "ok"}, headers=h
            )
            assert r.status_code == 200, r.text
        elif op == "abandon" and created:
            client.post(f"/api/v1/contacts/{created[0]}/abandon", headers=h)
        elif op == "tick":
            runtime_of(app_context).tick(tenant)
    session.expire_all()
    rows = [c for c in session.execute(select(Contact)).scalars() if c.id not in before]
    assert sorted(c.id for c in rows) == sorted(created)
    held = Counter(c.agent_id for c in rows if c.state in ("offered", "connected"))
    assert all(n <= 1 for n in held.values())  # the agent's voice capacity is 1
    open_legs = Counter(
        leg.contact_id
        for leg in session.execute(select(Leg).where(Leg.ended_at.is_(None))).scalars()
    )
    assert all(n <= 1 for n in open_legs.values())
    assert all(c.state != "offered" or open_legs[c.id] == 1 for c in rows)
