"""Helpers shared by the admin API tests (tenants, users, queues, agents, tenancy matrix)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianluo.models import Event, Skill, User
from tests.factories import World, make_user

BAD_TOKEN = {"Authorization": "Bearer not-a-real-token"}


def assert_error(response: Any, status: int, *fragments: str) -> dict[str, Any]:
    """The response is the app's error body with this status, and its message says each
    fragment (case-insensitively)."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    for fragment in fragments:
        assert fragment.lower() in error["message"].lower(), (fragment, error["message"])
    return error


def assert_unauthenticated(client: Any, method: str, url: str, **kwargs: Any) -> None:
    """No token and a forged token both answer 401 with a Bearer challenge."""
    for headers in ({}, BAD_TOKEN):
        response = client.request(method, url, headers=headers, **kwargs)
        assert_error(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"


def make_superuser(session: Session, world: World) -> User:
    user = make_user(session, world.a.tenant, "platform-root", ["admin"], is_superuser=True)
    session.commit()
    return user


def make_skill(session: Session, world_tenant: Any, name: str) -> Skill:
    skill = Skill(tenant_id=world_tenant.tenant.id, name=name)
    session.add(skill)
    session.commit()
    world_tenant.skills[name] = skill
    return skill


def events_of(session: Session, tenant_id: str, type_: str) -> list[Event]:
    session.expire_all()
    return list(
        session.execute(
            select(Event)
            .where(Event.tenant_id == tenant_id, Event.type == type_)
            .order_by(Event.id)
        ).scalars()
    )


def field_names(error: dict[str, Any]) -> set[str]:
    return {d.get("field", "") for d in error["details"]}
