"""A hand-made day of contacts with known KPIs, written straight into the event log."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import insert
from sqlalchemy.orm import Session

from lianluo.models import Agent, Event, Tenant

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 11, 10, tzinfo=SHANGHAI)  # day D, local midnight


def local(hour: int, minute: int = 0, second: int = 0, days: int = 0) -> datetime:
    return DAY + timedelta(days=days, hours=hour, minutes=minute, seconds=second)


@dataclass
class Log:
    session: Session
    tenant_id: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, kind: str, at: datetime, contact_id: str | None = None, **kw: Any) -> None:
        payload = kw.pop("payload", {})
        self.rows.append(
            {
                "tenant_id": self.tenant_id,
                "type": kind,
                "occurred_at": at.astimezone(UTC),
                "contact_id": contact_id,
                "queue_id": kw.pop("queue_id", None),
                "agent_id": kw.pop("agent_id", None),
                "partner_id": kw.pop("partner_id", None),
                "customer_id": kw.pop("customer_id", None),
                "payload": payload,
            }
        )

    def contact(
        self,
        cid: str,
        queue: Any,
        at: datetime,
        *,
        channel: str = "voice",
        customer_id: str | None = None,
        need: str | None = None,
        answer_after_s: float | None = None,
        abandon_after_s: float | None = None,
        agent_id: str | None = None,
        talk_s: float = 0.0,
        hold_s: float = 0.0,
        acw_s: float = 0.0,
        transferred: bool = False,
        score: int | None = None,
        complaint: str | None = None,
        over_the_head: bool = False,
        skills: dict[str, int] | None = None,
        region: str | None = None,
        rated_by: str = "contact.surveyed",
    ) -> None:
        refs = {"queue_id": queue.id, "partner_id": queue.partner_id, "customer_id": customer_id}
        queued: dict[str, Any] = {"channel": channel, "conversation_id": need or f"n-{cid}"}
        if skills:
            queued["required_skills"] = skills
        if region:
            queued["region"] = region
        if complaint:
            queued["complaint_category"] = complaint
            queued["over_the_head"] = over_the_head
        self.add("contact.queued", at, cid, payload=queued, **refs)
        if abandon_after_s is not None:
            end = at + timedelta(seconds=abandon_after_s)
            self.add("contact.abandoned", end, cid, payload={"wait_s": abandon_after_s}, **refs)
            return
        if answer_after_s is None:
            return
        answered = at + timedelta(seconds=answer_after_s)
        self.add("contact.offered", answered - timedelta(seconds=1), cid, agent_id=agent_id, **refs)
        self.add("contact.answered", answered, cid, agent_id=agent_id, **refs)
        if transferred:
            self.add("contact.transferred", answered + timedelta(seconds=talk_s / 2), cid, **refs)
        end = answered + timedelta(seconds=talk_s + hold_s + acw_s)
        self.add(
            "contact.ended",
            end,
            cid,
            agent_id=agent_id,
            payload={
                "talk_s": talk_s,
                "hold_s": hold_s,
                "acw_s": acw_s,
                "transferred": transferred,
            },
            **refs,
        )
        if score is not None:
            self.add(rated_by, end + timedelta(minutes=2), cid, payload={"score": score})

    def state(self, agent: Any, at: datetime, to: str) -> None:
        self.add(
            "agent.state_changed",
            at,
            agent_id=agent.id,
            partner_id=agent.partner_id,
            payload={"from": "", "to": to, "reason": ""},
        )

    def flush(self) -> None:
        self.session.execute(insert(Event), self.rows)
        self.rows = []
        self.session.commit()


@pytest.fixture
def day(session: Session, world: Any) -> Any:
    """Tenant A of the world (Asia/Shanghai) with the contacts of day D described in
    tests/reports/test_reports_api.py; returns the world."""
    a = world.a
    session.get(Tenant, a.tenant.id).timezone = "Asia/Shanghai"
    log = Log(session, a.tenant.id)
    q1, qp = a.queues["general"], a.queues["p"]
    general, agent_p = a.agents["general"], a.agents["p"]
    x = a.customers["general"].id
    session.get(Agent, general.id).team = "一组"
    session.get(Agent, agent_p.id).team = "外包组"
    log.contact("c1", q1, local(9), customer_id=x, need="n1", answer_after_s=10,
                agent_id=general.id, talk_s=240, hold_s=30, acw_s=30, score=5,
                skills={"billing": 3}, region="广东")  # fmt: skip
    log.contact("c2", q1, local(9, 5), abandon_after_s=3)
    log.contact("c3", q1, local(9, 10), customer_id=x, abandon_after_s=60, complaint="billing",
                skills={"billing": 2, "complaints": 5})  # fmt: skip
    log.contact("c4", q1, local(9, 20), channel="chat", customer_id=x, need="n1",
                answer_after_s=30, agent_id=general.id, talk_s=100, acw_s=20, transferred=True,
                score=2, complaint="billing", over_the_head=True, skills={"billing": 3},
                region="广东", rated_by="chat.rated")  # fmt: skip
    log.contact("c5", q1, local(23, 58), answer_after_s=20, agent_id=general.id, talk_s=600,
                region="北京")  # fmt: skip
    log.contact("c6", qp, local(10), channel="chat", answer_after_s=5, agent_id=agent_p.id,
                talk_s=60, skills={"english": 5}, region="上海")  # fmt: skip
    log.contact("c7", q1, local(8, days=1), answer_after_s=5, agent_id=general.id, talk_s=50)
    # 23:30 UTC on day D is 07:30 on D+1 in Shanghai
    log.contact("c8", q1, datetime(2026, 11, 10, 23, 30, tzinfo=UTC), answer_after_s=5,
                agent_id=general.id, talk_s=50)  # fmt: skip
    # another tenant's contact at the same time: never counted
    log_b = Log(session, world.b.tenant.id)
    log_b.contact("b1", world.b.queues["general"], local(9), answer_after_s=1, talk_s=10)
    log_b.flush()
    log.state(general, local(8), "available")
    log.state(general, local(12), "offline")
    log.state(general, local(23), "available")
    log.state(general, local(1, days=1), "offline")
    log.flush()
    return world


class Inbox:
    """What a real SMTP server on loopback (aiosmtpd) received."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
