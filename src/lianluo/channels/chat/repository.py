"""Every query of the chat channel. Widget queries are scoped by the session's own tenant;
agent queries by the principal's tenant (and partner, through the queues it serves)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from lianluo.auth.principal import Principal
from lianluo.models import (
    Agent,
    CannedReply,
    ChatSession,
    Contact,
    Conversation,
    Customer,
    Identity,
    Message,
    Queue,
    Tenant,
    User,
)

DEFAULT_AHT_S = 180.0
AHT_SAMPLE = 50


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def chat_scope(principal: Principal) -> ColumnElement[bool]:
    condition = ChatSession.tenant_id == principal.tenant_id
    if principal.partner_id is not None:
        condition = condition & ChatSession.queue_id.in_(
            select(Queue.id).where(Queue.partner_id == principal.partner_id)
        )
    return condition


class ChatRepository:
    # ---- the widget --------------------------------------------------------------------------

    def tenant_by_slug(self, session: Session, slug: str) -> Tenant | None:
        return session.execute(
            select(Tenant).where(Tenant.slug == slug, Tenant.is_active.is_(True))
        ).scalar_one_or_none()

    def queue(self, session: Session, tenant_id: str, queue_id: str) -> Queue | None:
        return session.execute(
            select(Queue).where(Queue.id == queue_id, Queue.tenant_id == tenant_id)
        ).scalar_one_or_none()

    def by_token(self, session: Session, token: str) -> ChatSession | None:
        return session.execute(
            select(ChatSession).where(ChatSession.token_hash == token_hash(token))
        ).scalar_one_or_none()

    def chat(self, session: Session, chat_id: str) -> ChatSession:
        return session.execute(select(ChatSession).where(ChatSession.id == chat_id)).scalar_one()

    def identity(self, session: Session, tenant_id: str, kind: str, value: str) -> Identity | None:
        return session.execute(
            select(Identity).where(
                Identity.tenant_id == tenant_id, Identity.kind == kind, Identity.value == value
            )
        ).scalar_one_or_none()

    def customer(self, session: Session, tenant_id: str, customer_id: str) -> Customer | None:
        return session.execute(
            select(Customer).where(Customer.id == customer_id, Customer.tenant_id == tenant_id)
        ).scalar_one_or_none()

    def contact(self, session: Session, tenant_id: str, contact_id: str | None) -> Contact | None:
        if contact_id is None:
            return None
        return session.execute(
            select(Contact).where(Contact.id == contact_id, Contact.tenant_id == tenant_id)
        ).scalar_one_or_none()

    def next_seq(self, session: Session, chat_id: str) -> tuple[int, str | None, str]:
        """Take the conversation's next message number (with the chat's contact and status);
        the row stays locked until commit, so numbers are given and committed in order."""
        row = session.execute(
            update(ChatSession)
            .where(ChatSession.id == chat_id)
            .values(last_seq=ChatSession.last_seq + 1)
            .returning(ChatSession.last_seq, ChatSession.contact_id, ChatSession.status)
        ).one()
        return int(row[0]), row[1], str(row[2])

    # ---- messages in batches (the message writer) -------------------------------------------

    def lock_chats(
        self, session: Session, chat_ids: Iterable[str]
    ) -> dict[str, tuple[int, str | None, str, str | None]]:
        """chat id -> (last_seq, contact_id, status, the agent connected to the contact now or
        None), the chats' rows locked until commit (in id order, so two writers never wait on
        each other crosswise). Core, not ORM: the writer runs this for every batch."""
        chats, contacts = ChatSession.__table__, Contact.__table__
        rows = session.connection().execute(
            select(
                chats.c.id,
                chats.c.last_seq,
                chats.c.contact_id,
                chats.c.status,
                contacts.c.agent_id,
                contacts.c.state,
            )
            .select_from(chats.outerjoin(contacts, contacts.c.id == chats.c.contact_id))
            .where(chats.c.id.in_(sorted(set(chat_ids))))
            .order_by(chats.c.id)
            .with_for_update(of=chats)
        )
        return {
            r[0]: (int(r[1]), r[2], str(r[3]), r[4] if r[5] == "connected" else None) for r in rows
        }

    def messages_by_client_ids(
        self, session: Session, keys: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], Any]:
        """(conversation id, client id) -> the message stored with it (a row with the
        message's columns), for those stored."""
        wanted = set(keys)
        if not wanted:
            return {}
        table = Message.__table__
        rows = session.connection().execute(
            select(table).where(
                table.c.conversation_id.in_(sorted({c for c, _ in wanted})),
                table.c.client_msg_id.in_(sorted({m for _, m in wanted})),
            )
        )
        found = {}
        for row in rows:
            key = (row.conversation_id, row.client_msg_id or "")
            if key in wanted:
                found[key] = row
        return found

    def insert_messages(self, session: Session, rows: list[dict[str, Any]]) -> None:
        """One executemany of plain rows (no ORM objects: the writer's batches are large)."""
        session.connection().execute(insert(Message.__table__), rows)

    def set_last_seqs(self, session: Session, last_seqs: dict[str, int]) -> None:
        table = ChatSession.__table__
        session.connection().execute(
            update(table)
            .where(table.c.id == bindparam("chat_id"))
            .values(last_seq=bindparam("new_last_seq")),
            [{"chat_id": k, "new_last_seq": v} for k, v in last_seqs.items()],
        )

    def set_status(self, session: Session, chat_id: str, status: str) -> None:
        session.execute(update(ChatSession).where(ChatSession.id == chat_id).values(status=status))

    def is_connected_agent(self, session: Session, chat_id: str, agent_id: str) -> bool:
        return (
            session.execute(
                select(func.count())
                .select_from(ChatSession)
                .join(Contact, Contact.id == ChatSession.contact_id)
                .where(
                    ChatSession.id == chat_id,
                    Contact.agent_id == agent_id,
                    Contact.state == "connected",
                )
            ).scalar_one()
            > 0
        )

    def message_by_client_id(
        self, session: Session, conversation_id: str, client_msg_id: str
    ) -> Message | None:
        return session.execute(
            select(Message).where(
                Message.conversation_id == conversation_id,
                Message.client_msg_id == client_msg_id,
            )
        ).scalar_one_or_none()

    def messages_after(
        self, session: Session, conversation_id: str, after_seq: int, limit: int
    ) -> Sequence[Message]:
        return (
            session.execute(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.seq > after_seq)
                .order_by(Message.seq)
                .limit(limit)
            )
            .scalars()
            .all()
        )

    def count_after(self, session: Session, conversation_id: str, after_seq: int) -> int:
        return session.execute(
            select(func.count()).where(
                Message.conversation_id == conversation_id, Message.seq > after_seq
            )
        ).scalar_one()

    def position(self, session: Session, contact: Contact) -> int:
        """1 + the contacts queued ahead in the same queue (FIFO by the start of the wait)."""
        mine = contact.waiting_since_s or 0.0
        ahead = session.execute(
            select(func.count()).where(
                Contact.tenant_id == contact.tenant_id,
                Contact.queue_id == contact.queue_id,
                Contact.state.in_(("queued", "offered")),
                Contact.id != contact.id,
                (Contact.waiting_since_s < mine)
                | ((Contact.waiting_since_s == mine) & (Contact.id < contact.id)),
            )
        ).scalar_one()
        return int(ahead) + 1

    def chat_aht_s(self, session: Session, tenant_id: str, queue_id: str) -> float:
        """Mean handle time (answer to end, wrap-up included) of the queue's last chats."""
        rows = session.execute(
            select(Contact.answered_at, Contact.ended_at)
            .where(
                Contact.tenant_id == tenant_id,
                Contact.queue_id == queue_id,
                Contact.channel == "chat",
                Contact.state == "ended",
                Contact.answered_at.is_not(None),
            )
            .order_by(Contact.ended_at.desc())
            .limit(AHT_SAMPLE)
        ).all()
        spans = [(e - a).total_seconds() for a, e in rows if a is not None and e is not None]
        spans = [s for s in spans if s > 0]
        return sum(spans) / len(spans) if spans else DEFAULT_AHT_S

    def chat_slots(self, session: Session, tenant_id: str, queue: Queue) -> tuple[int, int]:
        """(agents logged in serving the queue, their chat slots in total)."""
        rows = session.execute(
            select(Agent.capacity).where(
                Agent.tenant_id == tenant_id,
                Agent.state != "offline",
                (Agent.partner_id == queue.partner_id)
                if queue.partner_id is not None
                else Agent.partner_id.is_(None),
            )
        ).scalars()
        agents = slots = 0
        for capacity in rows:
            chats = int((capacity or {}).get("chat", 0) or 0)
            if chats > 0:
                agents += 1
                slots += chats
        return agents, slots

    # ---- the desk ----------------------------------------------------------------------------

    def agent_of(self, session: Session, principal: Principal) -> Agent | None:
        return session.execute(
            select(Agent).where(
                Agent.user_id == principal.user_id, Agent.tenant_id == principal.tenant_id
            )
        ).scalar_one_or_none()

    def desk_rows(self, session: Session, principal: Principal, agent_id: str) -> Sequence:
        return session.execute(
            select(Contact, ChatSession, Customer.name, Customer.value_tier)
            .join(ChatSession, ChatSession.contact_id == Contact.id)
            .join(Customer, Customer.id == Contact.customer_id)
            .where(
                Contact.tenant_id == principal.tenant_id,
                Contact.agent_id == agent_id,
                Contact.state.in_(("offered", "connected", "wrap_up")),
            )
            .order_by(Contact.offered_s, Contact.id)
        ).all()

    def chat_of_conversation(
        self, session: Session, principal: Principal, conversation_id: str
    ) -> ChatSession | None:
        return session.execute(
            select(ChatSession).where(
                ChatSession.conversation_id == conversation_id, chat_scope(principal)
            )
        ).scalar_one_or_none()

    def conversation(
        self, session: Session, principal: Principal, conversation_id: str
    ) -> Conversation | None:
        condition = (Conversation.id == conversation_id) & (
            Conversation.tenant_id == principal.tenant_id
        )
        if principal.partner_id is not None:
            served = select(Contact.conversation_id).where(
                Contact.queue_id.in_(
                    select(Queue.id).where(Queue.partner_id == principal.partner_id)
                )
            )
            condition = condition & Conversation.id.in_(served)
        return session.execute(select(Conversation).where(condition)).scalar_one_or_none()

    def handles_conversation(self, session: Session, agent_id: str, conversation_id: str) -> bool:
        return (
            session.execute(
                select(func.count()).where(
                    Contact.conversation_id == conversation_id,
                    Contact.agent_id == agent_id,
                    Contact.state.in_(("offered", "connected", "wrap_up")),
                )
            ).scalar_one()
            > 0
        )

    def page_messages(
        self, session: Session, conversation_id: str, after_seq: int, offset: int, limit: int
    ) -> tuple[Sequence[Message], int]:
        where = [Message.conversation_id == conversation_id]
        if after_seq:
            where.append(Message.seq > after_seq)
        total = session.execute(select(func.count()).where(*where)).scalar_one()
        rows = (
            session.execute(
                select(Message)
                .where(*where)
                .order_by(Message.seq, Message.created_at, Message.id)
                .offset(offset)
                .limit(limit)
            )
            .scalars()
            .all()
        )
        return rows, total

    def queues(self, session: Session, principal: Principal) -> Sequence[Queue]:
        condition = (Queue.tenant_id == principal.tenant_id) & Queue.is_active.is_(True)
        if principal.partner_id is not None:
            condition = condition & (Queue.partner_id == principal.partner_id)
        return session.execute(select(Queue).where(condition).order_by(Queue.name)).scalars().all()

    def agents(self, session: Session, principal: Principal, limit: int = 200) -> Sequence:
        condition = Agent.tenant_id == principal.tenant_id
        if principal.partner_id is not None:
            condition = condition & (Agent.partner_id == principal.partner_id)
        return session.execute(
            select(Agent.id, User.display_name, Agent.state)
            .join(User, User.id == Agent.user_id)
            .where(condition)
            .order_by(User.display_name)
            .limit(limit)
        ).all()

    def tenant_settings(self, session: Session, tenant_id: str) -> dict:
        return session.execute(select(Tenant.settings).where(Tenant.id == tenant_id)).scalar_one()

    def tenant_timezone(self, session: Session, tenant_id: str) -> str:
        return session.execute(select(Tenant.timezone).where(Tenant.id == tenant_id)).scalar_one()

    # ---- canned replies ----------------------------------------------------------------------

    def canned(
        self, session: Session, tenant_id: str, offset: int, limit: int
    ) -> tuple[Sequence[CannedReply], int]:
        total = session.execute(
            select(func.count()).where(CannedReply.tenant_id == tenant_id)
        ).scalar_one()
        rows = (
            session.execute(
                select(CannedReply)
                .where(CannedReply.tenant_id == tenant_id)
                .order_by(CannedReply.title, CannedReply.id)
                .offset(offset)
                .limit(limit)
            )
            .scalars()
            .all()
        )
        return rows, total


chat_repository = ChatRepository()
