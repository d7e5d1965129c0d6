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
    session.commit()
    return world
