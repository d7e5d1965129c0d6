"""The one-statement PostgreSQL 360 view says exactly what the portable path says."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from lianluo.auth.principal import Principal
from lianluo.customers import view360_pg
from lianluo.customers.service import customer_service
from lianluo.models import Contact, Conversation, Message, Ticket, TicketCategory, User
from tests.factories import make_customer


def principal_of(user: User) -> Principal:
    return Principal(
        user_id=user.id,
        tenant_id=user.tenant_id,
        partner_id=user.partner_id,
        roles=frozenset(user.roles),
        is_superuser=user.is_superuser,
        username=user.username,
    )


@pytest.fixture
def pg_only(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the single-statement 360 view is PostgreSQL's")


def busy_customer(session: Session, world: Any) -> str:
    """A customer with history in the tenant's own queue and in partner p's, with edge cases:
    microseconds and whole seconds, open conversations, a message with no contact, more
    messages than the limit, equal timestamps, JSON attributes and a churn risk."""
    a = world.a
    customer = make_customer(
        session,
        a.tenant,
        "欧阳 Mixed 客户",
        phone="+8613800001111",
        email="mixed@example.cn",
        attributes={"plan": "5G 畅享", "nested": {"b": 1, "a": [1, 2]}},
        tags=["vip", "宽带"],
        consents={"sms": True},
        churn_risk=0.35,
        value_tier="gold",
    )
    base = datetime(2026, 3, 1, 23, 59, 58, tzinfo=UTC)
    for n in range(5):
        started = base + timedelta(days=n, microseconds=0 if n % 2 else 123456)
        conversation = Conversation(
            tenant_id=a.tenant.id,
            customer_id=customer.id,
            subject=f"问题 {n}",
            status="open" if n == 4 else "closed",
            started_at=started,
            ended_at=None if n == 4 else started + timedelta(minutes=7),
        )
        session.add(conversation)
        session.flush()
        contacts = []
        for k, queue in enumerate((a.queues["general"], a.queues["p"])):
            if n == 3 and k == 1:
                continue  # conversation 3 never reached the partner
            contact = Contact(
                tenant_id=a.tenant.id,
                conversation_id=conversation.id,
                customer_id=customer.id,
                queue_id=queue.id,
                channel="chat" if k == 0 else "voice",
                state="ended",
                queued_at=started,  # both contacts queued at the same instant
                answered_at=None if k else started + timedelta(seconds=3, microseconds=5),
                ended_at=started + timedelta(minutes=5),
                disposition="resolved" if k == 0 else "",
            )
            session.add(contact)
            session.flush()
            contacts.append(contact)
        for m in range(7):
            session.add(
                Message(
                    tenant_id=a.tenant.id,
                    conversation_id=conversation.id,
                    contact_id=None if m == 6 else contacts[m % len(contacts)].id,
                    sender_kind="customer" if m % 2 else "agent",
                    body=f'消息 {m} "quoted" \\ back\nline',
                    created_at=started + timedelta(seconds=m // 2, microseconds=m * 10),
                )
            )
    category = TicketCategory(tenant_id=a.tenant.id, name="360 测试类别", ownership_model="tiered")
    session.add(category)
    session.flush()
    for n, (partner, status) in enumerate(
        [(None, "new"), (a.partners["p"].id, "resolved"), (a.partners["q"].id, "closed")]
    ):
        created = base + timedelta(days=n, microseconds=n * 7)
        session.add(
            Ticket(
                tenant_id=a.tenant.id,
                partner_id=partner,
                customer_id=customer.id,
                category_id=category.id,
                subject=f"工单 {n}",
                status=status,
                priority="high" if n else "normal",
                ownership_model="tiered",
                over_the_head=n == 2,
                repeat_complaint=n == 1,
                sla_started_at=created,
                created_at=created,
                resolved_at=None if status == "new" else created + timedelta(hours=3),
            )
        )
    session.flush()
    return customer.id


def both(
    session: Session, principal: Principal, customer_id: str, conversations: int, messages: int
) -> tuple[Any, Any]:
    fast = view360_pg.view_360_json(session, principal, customer_id, conversations, messages)
    portable = customer_service.view_360(session, principal, customer_id, conversations, messages)
    return (None if fast is None else json.loads(fast)), json.loads(portable.model_dump_json())


@pytest.mark.usefixtures("pg_only")
class TestSameDocument:
    @pytest.mark.parametrize("role", ["admin", "agent", "p_admin"])
    @pytest.mark.parametrize("limits", [(20, 50), (3, 4), (1, 0)])
    def test_equal_to_portable_path(
        self, session: Session, world: Any, role: str, limits: tuple[int, int]
    ) -> None:
        customer_id = busy_customer(session, world)
        fast, portable = both(session, principal_of(world.a.users[role]), customer_id, *limits)
        assert fast == portable
        assert len(fast["timeline"]) == min(limits[0], 4 if role == "p_admin" else 5)
        assert len(fast["tickets"]) == (1 if role == "p_admin" else 3)

    def test_partner_sees_only_its_contacts_and_messages(
        self, session: Session, world: Any
    ) -> None:
        customer_id = busy_customer(session, world)
        fast, _ = both(session, principal_of(world.a.users["p_admin"]), customer_id, 20, 50)
        partner_queue = world.a.queues["p"].id
        contacts = [k for conv in fast["timeline"] for k in conv["contacts"]]
        assert contacts
        assert all(k["queue_id"] == partner_queue for k in contacts)
        allowed = {k["id"] for k in contacts}
        messages = [m for conv in fast["timeline"] for m in conv["messages"]]
        assert messages
        assert all(m["contact_id"] in allowed for m in messages)
        assert fast["contacts_total"] == 4

    def test_datetimes_are_written_as_pydantic_writes_them(
        self, session: Session, world: Any
    ) -> None:
        customer_id = busy_customer(session, world)
        fast, _ = both(session, principal_of(world.a.users["admin"]), customer_id, 20, 50)
        started = [conv["started_at"] for conv in fast["timeline"]]
        assert "2026-03-05T23:59:58.123456Z" in started
        assert "2026-03-04T23:59:58Z" in started
        assert fast["timeline"][0]["ended_at"] is None

    def test_invisible_customers_give_nothing(self, session: Session, world: Any) -> None:
        customer_id = busy_customer(session, world)
        other_tenant = principal_of(world.b.users["admin"])
        assert view360_pg.view_360_json(session, other_tenant, customer_id, 20, 50) is None
        partner_q = principal_of(world.a.users["q_admin"])
        assert view360_pg.view_360_json(session, partner_q, customer_id, 20, 50) is None
        assert view360_pg.view_360_json(session, other_tenant, "no-such-id", 20, 50) is None

    def test_customer_without_history(self, session: Session, world: Any) -> None:
        lone = make_customer(session, world.a.tenant, "Lone Customer")
        fast, portable = both(session, principal_of(world.a.users["admin"]), lone.id, 20, 50)
        assert fast == portable
        assert fast["timeline"] == []
        assert fast["identities"] == []
