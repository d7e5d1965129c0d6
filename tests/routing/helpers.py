"""Shared set-up of the routing API tests: a clock the test moves, agents with skills."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lianluo.models import AgentSkill
from tests.factories import World


class Clock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def install_clock(app_context: Any) -> Clock:
    clock = Clock()
    app_context.extras["router_clock"] = clock
    return clock


def give_billing(session: Session, world: World) -> None:
    """The tenant agents of both tenants hold the skill their general queue needs."""
    for tw in (world.a, world.b):
        session.add(
            AgentSkill(
                tenant_id=tw.tenant.id,
                agent_id=tw.agents["general"].id,
                skill_id=tw.skills["billing"].id,
                level=5,
            )
        )
    session.commit()


def enqueue(client: Any, world: World, user: str = "agent", tenant: str = "a", **extra: Any) -> Any:
    tw = getattr(world, tenant)
    body = {
        "customer_id": tw.customers["general"].id,
        "queue_id": tw.queues["general"].id,
        "channel": "voice",
        **extra,
    }
    return client.post("/api/v1/contacts", json=body, headers=world.headers(tw.users[user]))


def set_state(
    client: Any, world: World, state: str, reason: str | None = None, user: str = "agent"
) -> Any:
    body: dict[str, Any] = {"state": state}
    if reason:
        body["reason"] = reason
    return client.post(
        "/api/v1/routing/me/state", json=body, headers=world.headers(world.a.users[user])
    )
