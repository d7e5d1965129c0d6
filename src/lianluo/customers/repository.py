"""Every query about customers, scoped by tenant and, for partner users, by partner."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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

    def get_with_stats(self, session: Session, principal: Principal, customer_id: str) -> Any:
        """The customer's columns with its contacts in total, the last contact's time and its
        open conversations, in one query (a Core row), or None when not visible."""
        mine = and_(Contact.tenant_id == principal.tenant_id, Contact.customer_id == Customer.id)
        if principal.partner_id is not None:
            mine = and_(mine, Contact.queue_id.in_(partner_queue_ids(principal.partner_id)))
        contacts_total = select(func.count()).where(mine).scalar_subquery()
        last_contact_at = select(func.max(Contact.queued_at)).where(mine).scalar_subquery()
        open_conversations = (
            select(func.count())
            .where(
                Conversation.tenant_id == principal.tenant_id,
                Conversation.customer_id == Customer.id,
                Conversation.status == "open",
            )
            .scalar_subquery()
        )
        return session.execute(
            select(
                *Customer.__table__.columns,
                contacts_total.label("contacts_total"),
                last_contact_at.label("last_contact_at"),
                open_conversations.label("open_conversations"),
            ).where(Customer.id == customer_id, customer_scope(principal))
        ).one_or_none()

    def timeline(
        self,
        session: Session,
        principal: Principal,
        customer_id: str,
        conversations_limit: int,
        messages_per_conversation: int,
    ) -> tuple[list, list, Sequence]:
        """Newest conversations with their contacts and their latest messages (Core rows), in
        two round trips: conversations joined to their contacts, then the messages."""
        newest = select(
            Conversation.id,
            Conversation.subject,
            Conversation.status,
            Conversation.started_at,
            Conversation.ended_at,
        ).where(
            Conversation.tenant_id == principal.tenant_id, Conversation.customer_id == customer_id
        )
        contact_on = Contact.conversation_id == Conversation.id
        if principal.partner_id is not None:
            served = Contact.queue_id.in_(partner_queue_ids(principal.partner_id))
            newest = newest.where(exists().where(contact_on, served))
        conv = (
            newest.order_by(Conversation.started_at.desc(), Conversation.id.desc())
            .limit(conversations_limit)
            .subquery()
        )
        join_on = Contact.conversation_id == conv.c.id
        if principal.partner_id is not None:
            join_on = and_(join_on, Contact.queue_id.in_(partner_queue_ids(principal.partner_id)))
        rows = session.execute(
            select(
                conv,
                Contact.id.label("contact_id"),
                Contact.channel,
                Contact.direction,
                Contact.state,
                Contact.queue_id,
                Contact.agent_id,
                Contact.queued_at,
                Contact.answered_at,
                Contact.ended_at.label("contact_ended_at"),
                Contact.disposition,
            )
            .select_from(conv)
            .outerjoin(Contact, join_on)
            .order_by(conv.c.started_at.desc(), conv.c.id.desc(), Contact.queued_at, Contact.id)
        ).all()
        conversations: list = []
        contacts: list = []
        for row in rows:
            if not conversations or conversations[-1].id != row.id:
                conversations.append(row)
            if row.contact_id is not None:
                contacts.append(row)
        if not conversations:
            return conversations, contacts, []
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
        ).where(Message.conversation_id.in_([row.id for row in conversations]))
        if principal.partner_id is not None:
            ranked = ranked.where(Message.contact_id.in_([row.contact_id for row in contacts]))
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
        from lianluo.models import Ticket  # tickets follow their customer

        for model in (Identity, Conversation, Contact, Ticket):
            result = session.execute(
                update(model)
                .where(model.tenant_id == tenant_id, model.customer_id == source)
                .values(customer_id=target)
                .execution_options(synchronize_session=False)
            )
            moved[model.__tablename__] = result.rowcount
        return moved


customer_repository = CustomerRepository()
