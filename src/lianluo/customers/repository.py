"""Every query about customers, scoped by tenant and, for partner users, by partner."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session

from lianluo.auth.principal import Principal
from lianluo.customers.normalize import escape_like
from lianluo.models import Contact, Conversation, Customer, Identity, Message, Queue


def partner_queue_ids(partner_id: str) -> Select[tuple[str]]:
    return select(Queue.id).where(Queue.partner_id == partner_id)


def customer_scope(principal: Principal) -> ColumnElement[bool]:
    condition = Customer.tenant_id == principal.tenant_id
    if principal.partner_id is not None:
        served = exists().where(
            Contact.customer_id == Customer.id,
            Contact.queue_id.in_(partner_queue_ids(principal.partner_id)),
        )
        condition = and_(condition, or_(Customer.partner_id == principal.partner_id, served))
    return condition


class CustomerRepository:
    def get(self, session: Session, principal: Principal, customer_id: str) -> Customer | None:
        return session.execute(
            select(Customer).where(Customer.id == customer_id, customer_scope(principal))
        ).scalar_one_or_none()

    def search(
        self, session: Session, principal: Principal, query: str | None, offset: int, limit: int
    ) -> tuple[Sequence[Customer], int]:
        conditions = [customer_scope(principal), Customer.merged_into_id.is_(None)]
        if query:
            term = query.strip().lower()
            if term.startswith("+"):
                term = term[1:]
            if term.replace(" ", "").replace("-", "").isdigit():
                term = term.replace(" ", "").replace("-", "")
            conditions.append(Customer.search_text.like(f"%{escape_like(term)}%", escape="\\"))
        total = session.execute(select(func.count()).select_from(Customer).where(*conditions))
        rows = session.execute(
            select(Customer)
            .where(*conditions)
            .order_by(Customer.name, Customer.id)
            .offset(offset)
            .limit(limit)
        )
        return rows.scalars().all(), total.scalar_one()

    def identities(self, session: Session, customer_ids: Sequence[str]) -> Sequence[Identity]:
        if not customer_ids:
            return []
        return (
            session.execute(
                select(Identity)
                .where(Identity.customer_id.in_(customer_ids))
                .order_by(Identity.kind, Identity.value)
            )
            .scalars()
            .all()
        )

    def find_identity(
        self, session: Session, tenant_id: str, kind: str, value: str
    ) -> Identity | None:
        return session.execute(
            select(Identity).where(
                Identity.tenant_id == tenant_id, Identity.kind == kind, Identity.value == value
            )
        ).scalar_one_or_none()

    def contact_stats(
        self, session: Session, principal: Principal, customer_id: str
    ) -> tuple[int, datetime | None]:
        query = select(func.count(), func.max(Contact.queued_at)).where(
            Contact.tenant_id == principal.tenant_id, Contact.customer_id == customer_id
        )
        if principal.partner_id is not None:
            query = query.where(Contact.queue_id.in_(partner_queue_ids(principal.partner_id)))
        count, last = session.execute(query).one()
        return count, last

    def open_conversations(self, session: Session, principal: Principal, customer_id: str) -> int:
        return session.execute(
            select(func.count()).where(
                Conversation.tenant_id == principal.tenant_id,
                Conversation.customer_id == customer_id,
                Conversation.status == "open",
            )
        ).scalar_one()

    def timeline(
        self,
        session: Session,
        principal: Principal,
        customer_id: str,
        conversations_limit: int,
        messages_per_conversation: int,
    ) -> tuple[Sequence, Sequence, Sequence]:
        """Newest conversations with their contacts and their latest messages (Core rows)."""
        conv_query = select(
            Conversation.id,
            Conversation.subject,
            Conversation.status,
            Conversation.started_at,
            Conversation.ended_at,
        ).where(
            Conversation.tenant_id == principal.tenant_id, Conversation.customer_id == customer_id
        )
        if principal.partner_id is not None:
            conv_query = conv_query.where(
                exists().where(
                    Contact.conversation_id == Conversation.id,
                    Contact.queue_id.in_(partner_queue_ids(principal.partner_id)),
                )
            )
        conversations = session.execute(
            conv_query.order_by(Conversation.started_at.desc(), Conversation.id.desc()).limit(
                conversations_limit
            )
        ).all()
        conv_ids = [row.id for row in conversations]
        if not conv_ids:
            return conversations, [], []
        contact_query = select(
            Contact.id,
            Contact.conversation_id,
            Contact.channel,
            Contact.direction,
            Contact.state,
            Contact.queue_id,
            Contact.agent_id,
            Contact.queued_at,
            Contact.answered_at,
            Contact.ended_at,
            Contact.disposition,
        ).where(Contact.conversation_id.in_(conv_ids))
        if principal.partner_id is not None:
            contact_query = contact_query.where(
                Contact.queue_id.in_(partner_queue_ids(principal.partner_id))
            )
        contacts = session.execute(contact_query.order_by(Contact.queued_at)).all()
        ranked = select(
            Message.id,
            Message.conversation_id,
            Message.contact_id,
            Message.sender_kind,
            Message.body,
            Message.created_at,
            func.row_number()
            .over(
                partition_by=Message.conversation_id,
                order_by=(Message.created_at.desc(), Message.id.desc()),
            )
            .label("rank"),
        ).where(Message.conversation_id.in_(conv_ids))
        if principal.partner_id is not None:
            ranked = ranked.where(Message.contact_id.in_([row.id for row in contacts]))
        ranked_sub = ranked.subquery()
        messages = session.execute(
            select(ranked_sub)
            .where(ranked_sub.c.rank <= messages_per_conversation)
            .order_by(ranked_sub.c.created_at, ranked_sub.c.id)
        ).all()
        return conversations, contacts, messages

    def reassign_customer(self, session: Session, tenant_id: str, source: str, target: str) -> dict:
        """Move everything of `source` onto `target`; returns how many rows of each moved."""
        moved = {}
        for model in (Identity, Conversation, Contact):
            result = session.execute(
                update(model)
                .where(model.tenant_id == tenant_id, model.customer_id == source)
                .values(customer_id=target)
                .execution_options(synchronize_session=False)
            )
            moved[model.__tablename__] = result.rowcount
        return moved


customer_repository = CustomerRepository()
