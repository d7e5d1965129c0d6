"""A chat floor on its own database (sockets run in the app's threads, so the tests cannot
use the suite's one-connection rollback fixture): a tenant, a chat queue, agents, tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from lianluo.auth.tokens import TokenCodec
from lianluo.models import Agent, Queue, Tenant, User
from tests.factories import password_hash


@dataclass
class Floor:
    slug: str
    tenant_id: str
    queue_id: str
    other_queue_id: str
    users: dict[str, str] = field(default_factory=dict)  # name -> user id
    usernames: dict[str, str] = field(default_factory=dict)
    agents: dict[str, str] = field(default_factory=dict)  # name -> agent id
    tokens: TokenCodec | None = None

    def headers(self, name: str) -> dict[str, str]:
        assert self.tokens is not None
        token = self.tokens.encode(self.tokens.issue(self.users[name], 0))
        return {"Authorization": f"Bearer {token}"}

    def token(self, name: str) -> str:
        assert self.tokens is not None
        return self.tokens.encode(self.tokens.issue(self.users[name], 0))


def make_floor(
    ctx: Any,
    tokens: TokenCodec,
    business_hours: dict[str, Any] | None = None,
    prefix: str = "chat",
) -> Floor:
    with ctx.sessions() as session:
        return _make_floor(session, tokens, business_hours, prefix)


def _make_floor(
    session: Session, tokens: TokenCodec, business_hours: dict[str, Any] | None, prefix: str
) -> Floor:
    slug = f"{prefix}-{uuid.uuid4().hex[:8]}"
    tenant = Tenant(slug=slug, name=f"Chat {slug}", timezone="Asia/Shanghai")
    session.add(tenant)
    session.flush()
    queue = Queue(
        tenant_id=tenant.id,
        name="在线客服",
        channels=["chat", "voice"],
        business_hours=business_hours or {},
        offer_timeout_s=30,
    )
    other = Queue(tenant_id=tenant.id, name="账单组", channels=["chat", "voice"])
    session.add_all([queue, other])
    session.flush()
    floor = Floor(slug, tenant.id, queue.id, other.id, tokens=tokens)
    for name, roles, display in (
        ("alice", ["agent"], "李娜 Alice"),
        ("bob", ["agent"], "王强 Bob"),
        ("sup", ["supervisor"], "主管"),
    ):
        user = User(
            tenant_id=tenant.id,
            username=f"{slug}-{name}",
            display_name=display,
            password_hash=password_hash(),
            roles=roles,
        )
        session.add(user)
        session.flush()
        floor.users[name] = user.id
        floor.usernames[name] = user.username
        if "agent" in roles:
            agent = Agent(tenant_id=tenant.id, user_id=user.id, capacity={"chat": 2, "voice": 1})
            session.add(agent)
            session.flush()
            floor.agents[name] = agent.id
    session.commit()
    return floor


def until(ws: Any, kind: str, limit: int = 50, **match: Any) -> dict[str, Any]:
    """Read frames until one of `kind` (matching `match`) arrives; fail after `limit`."""
    seen = []
    for _ in range(limit):
        frame = ws.receive_json()
        if frame.get("type") == kind and all(frame.get(k) == v for k, v in match.items()):
            return frame
        seen.append(frame.get("type"))
    raise AssertionError(f"no {kind} frame {match} among {seen}")


def start_chat(client: Any, floor: Floor, **extra: Any) -> dict[str, Any]:
    body = {
        "tenant": floor.slug,
        "queue_id": floor.queue_id,
        "name": "张三",
        "phone": "13800138000",
        **extra,
    }
    r = client.post("/api/v1/chat/sessions", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def set_state(client: Any, floor: Floor, name: str, state: str, reason: str | None = None) -> Any:
    body: dict[str, Any] = {"state": state}
    if reason:
        body["reason"] = reason
    r = client.post("/api/v1/routing/me/state", json=body, headers=floor.headers(name))
    assert r.status_code == 200, r.text
    return r.json()
