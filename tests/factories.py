"""Builders of test data: real rows through the ORM, tokens from the app's own codec."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from lianluo.auth.passwords import hash_password
from lianluo.auth.tokens import TokenCodec
from lianluo.customers.normalize import search_text_for
from lianluo.db.base import utcnow
from lianluo.models import (
    Agent,
    Contact,
    Conversation,
    Customer,
    Identity,
    Message,
    Partner,
    Queue,
    SavedReport,
    Skill,
    Tenant,
    User,
)

PASSWORD = "correct horse battery"


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)


@dataclass
class TenantWorld:
    tenant: Tenant
    partners: dict[str, Partner] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    queues: dict[str, Queue] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    agents: dict[str, Agent] = field(default_factory=dict)
    skills: dict[str, Skill] = field(default_factory=dict)
    contacts: dict[str, Contact] = field(default_factory=dict)
    saved_reports: dict[str, SavedReport] = field(default_factory=dict)
    tickets: dict[str, Any] = field(default_factory=dict)  # tickets: also categories, files
    articles: dict[str, Any] = field(default_factory=dict)  # kb


@dataclass
class World:
    a: TenantWorld
    b: TenantWorld
    tokens: TokenCodec

    def headers(self, user: User) -> dict[str, str]:
        claims = self.tokens.issue(user.id, user.token_version)
        return {"Authorization": f"Bearer {self.tokens.encode(claims)}"}


def make_user(
    session: Session,
    tenant: Tenant,
    username: str,
    roles: list[str],
    partner: Partner | None = None,
    **extra: Any,
) -> User:
    user = User(
        tenant_id=tenant.id,
        partner_id=partner.id if partner else None,
        username=username,
        display_name=username,
        password_hash=password_hash(),
        roles=roles,
        **extra,
    )
    session.add(user)
    session.flush()
    return user


def make_customer(
    session: Session,
    tenant: Tenant,
    name: str,
    phone: str | None = None,
    email: str | None = None,
    **extra: Any,
) -> Customer:
    values = [v for v in (phone, email) if v]
    customer = Customer(
        tenant_id=tenant.id, name=name, search_text=search_text_for(name, values), **extra
    )
    session.add(customer)
    session.flush()
    if phone:
        session.add(
            Identity(tenant_id=tenant.id, customer_id=customer.id, kind="phone", value=phone)
        )
    if email:
        session.add(
            Identity(tenant_id=tenant.id, customer_id=customer.id, kind="email", value=email)
        )
    session.flush()
    return customer


def make_contact(
    session: Session, tenant: Tenant, customer: Customer, queue: Queue, text_body: str = "你好"
) -> Contact:
    started = utcnow() - timedelta(hours=2)
    conversation = Conversation(
        tenant_id=tenant.id, customer_id=customer.id, subject="账单问题", started_at=started
    )
    session.add(conversation)
    session.flush()
    contact = Contact(
        tenant_id=tenant.id,
        conversation_id=conversation.id,
        customer_id=customer.id,
        queue_id=queue.id,
        channel="chat",
        state="ended",
        queued_at=started,
        answered_at=started + timedelta(seconds=15),
        ended_at=started + timedelta(minutes=5),
    )
    session.add(contact)
    session.flush()
    session.add_all(
        [
            Message(
                tenant_id=tenant.id,
                conversation_id=conversation.id,
                contact_id=contact.id,
                sender_kind="customer",
                body=text_body,
                created_at=started + timedelta(seconds=1),
            ),
            Message(
                tenant_id=tenant.id,
                conversation_id=conversation.id,
                contact_id=contact.id,
                sender_kind="agent",
                body="您好，请问有什么可以帮您？",
                created_at=started + timedelta(seconds=20),
            ),
        ]
    )
    session.flush()
    return contact


def _tenant_world(session: Session, slug: str, with_partners: bool) -> TenantWorld:
    tenant = Tenant(slug=slug, name=f"Tenant {slug}")
    session.add(tenant)
    session.flush()
    w = TenantWorld(tenant)
    for role in ("admin", "supervisor", "agent", "qa", "wfm"):
        w.users[role] = make_user(session, tenant, f"{slug}-{role}", [role])
    w.skills["billing"] = Skill(tenant_id=tenant.id, name="billing")
    session.add(w.skills["billing"])
    w.queues["general"] = Queue(
        tenant_id=tenant.id,
        name=f"{slug} general",
        channels=["chat", "voice"],
        required_skills={"billing": 1},
    )
    session.add(w.queues["general"])
    session.flush()
    w.customers["general"] = make_customer(
        session,
        tenant,
        "王小明",
        phone=f"+86138{abs(hash(slug)) % 10**8:08d}",
        email=f"wang@{slug}.example.com",
    )
    w.contacts["general"] = make_contact(
        session, tenant, w.customers["general"], w.queues["general"]
    )
    agent_user = w.users["agent"]
    w.agents["general"] = Agent(
        tenant_id=tenant.id, user_id=agent_user.id, capacity={"voice": 1, "chat": 3}
    )
    session.add(w.agents["general"])
    if with_partners:
        for code in ("p", "q"):
            partner = Partner(tenant_id=tenant.id, code=code, name=f"Partner {code.upper()}")
            session.add(partner)
            session.flush()
            w.partners[code] = partner
            w.users[f"{code}_admin"] = make_user(
                session, tenant, f"{slug}-{code}-admin", ["partner_admin"], partner
            )
            w.users[f"{code}_agent"] = make_user(
                session, tenant, f"{slug}-{code}-agent", ["agent"], partner
            )
            queue = Queue(
                tenant_id=tenant.id,
                partner_id=partner.id,
                name=f"{slug} {code} queue",
                channels=["chat"],
            )
            session.add(queue)
            session.flush()
            w.queues[code] = queue
            w.customers[code] = make_customer(
                session, tenant, f"Customer {code.upper()} Li", email=f"{code}@{slug}.example.com"
            )
            w.contacts[code] = make_contact(session, tenant, w.customers[code], queue)
            w.agents[code] = Agent(
                tenant_id=tenant.id,
                user_id=w.users[f"{code}_agent"].id,
                partner_id=partner.id,
                capacity={"chat": 3},
            )
            session.add(w.agents[code])
    session.flush()
    # reports: a saved report of the tenant and one of each partner
    for code, partner in [("general", None), *w.partners.items()]:
        owner = w.users["admin" if partner is None else f"{code}_admin"]
        w.saved_reports[code] = SavedReport(
            tenant_id=tenant.id,
            partner_id=partner.id if partner else None,
            owner_id=owner.id,
            name=f"{slug} {code} daily",
            params={"grain": "day", "group_by": "queue", "days": 1},
            recipients=[f"boss@{slug}.example.com"],
        )
        session.add(w.saved_reports[code])
    session.flush()
    w.articles["published"] = make_article(session, tenant, w.users["agent"])  # kb
    return w


def make_article(session: Session, tenant: Tenant, author: User) -> Any:
    """A published knowledge-base article (not indexed: search tests publish through the API)."""
    from lianluo.models import KbArticle, KbArticleVersion

    fields = {"language": "zh", "title": "话费查询", "body": "发送短信查询话费。", "tags": []}
    article = KbArticle(
        tenant_id=tenant.id,
        author_user_id=author.id,
        status="published",
        version=1,
        published_version=1,
        published_at=utcnow(),
        **fields,
    )
    session.add(article)
    session.flush()
    session.add(
        KbArticleVersion(
            tenant_id=tenant.id,
            article_id=article.id,
            version=1,
            author_user_id=author.id,
            **fields,
        )
    )
    session.flush()
    return article


def build_world(session: Session, tokens: TokenCodec) -> World:
    world = World(
        a=_tenant_world(session, "ta", with_partners=True),
        b=_tenant_world(session, "tb", with_partners=True),
        tokens=tokens,
    )
    for w in (world.a, world.b):  # tickets
        add_tickets(session, w)
    session.commit()
    return world


def add_tickets(session: Session, w: TenantWorld) -> None:
    """Two categories (首问负责, tiered), and per customer of the world two tickets with an
    attachment and a call-back: tickets["general"], ["general2"], ["p"], ["p2"] …"""
    from lianluo.models import Ticket, TicketAttachment, TicketCategory, TicketFollowUp

    tenant = w.tenant
    first = TicketCategory(
        tenant_id=tenant.id, name="账单投诉", ownership_model="first_contact", is_complaint=True
    )
    tiered = TicketCategory(
        tenant_id=tenant.id,
        name="网络故障",
        ownership_model="tiered",
        tiers=[{"name": "升级", "queue_id": w.queues["general"].id, "required_skills": {}}],
    )
    session.add_all([first, tiered])
    session.flush()
    w.tickets["category:first"] = first
    w.tickets["category:tiered"] = tiered
    now = utcnow()
    for key, customer in list(w.customers.items()):
        partner = w.partners.get(key)
        owner = w.users[f"{key}_agent"] if partner else w.users["agent"]
        for suffix in ("", "2"):
            ticket = Ticket(
                tenant_id=tenant.id,
                partner_id=partner.id if partner else None,
                customer_id=customer.id,
                contact_id=w.contacts[key].id,
                category_id=first.id,
                subject=f"发票开错了 {key}{suffix}",
                status="in_progress",
                priority="normal",
                ownership_model="first_contact",
                queue_id=w.queues[key].id,
                owner_id=owner.id,
                first_owner_id=owner.id,
                owners=[owner.id],
                created_by=owner.id,
                sla_target_s=24 * 3600,
                sla_warn_before_s=4 * 3600,
                sla_started_at=now,
                sla_warn_at=now + timedelta(hours=20),
                sla_due_at=now + timedelta(hours=24),
            )
            session.add(ticket)
            session.flush()
            w.tickets[key + suffix] = ticket
        attachment = TicketAttachment(
            tenant_id=tenant.id,
            ticket_id=w.tickets[key].id,
            filename="invoice.txt",
            content_type="text/plain",
            size_bytes=5,
            sha256="0" * 64,
            data=b"hello",
        )
        followup = TicketFollowUp(
            tenant_id=tenant.id,
            ticket_id=w.tickets[key].id,
            owner_id=owner.id,
            due_at=now + timedelta(hours=2),
        )
        session.add_all([attachment, followup])
        session.flush()
        w.tickets[f"attachment:{key}"] = attachment
        w.tickets[f"followup:{key}"] = followup
