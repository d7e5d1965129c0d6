"""Chat use cases: the widget's session, messages stored before they are acknowledged (with a
per-conversation sequence for replay, and client ids against duplicates), queue position and
wait, callback, leave-a-message, rating; the agent side's view of its chats.

Routed work (the chat's contact) goes through the live router like every contact; messages
do not (they change no routing state) and are committed on their own, then announced on the
event bus (`chat.*` frames, not written to the event log: one row per message is the message).
"""

from __future__ import annotations

import contextlib
import logging
import math
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from lianluo.auth.principal import CUSTOMER_READERS, FLOOR_READERS, Principal
from lianluo.channels.chat.repository import chat_repository as repo
from lianluo.channels.chat.repository import token_hash
from lianluo.channels.chat.schemas import (
    CannedReplyIn,
    ChatMessageOut,
    ChatSessionIn,
    ChatSessionOut,
    DeskChatOut,
    DeskSetupOut,
    NamedRef,
    QueueInfo,
)
from lianluo.customers.normalize import normalize_identity, search_text_for
from lianluo.db.base import new_id, utcnow
from lianluo.domain import chat as domain
from lianluo.domain import routing as rt
from lianluo.errors import AppError, Conflict, Forbidden, NotFound, Unprocessable
from lianluo.events.service import event_service
from lianluo.models import CannedReply, ChatSession, Contact, Conversation, Customer, Identity, Role
from lianluo.models import Message as MessageRow
from lianluo.routing.errors import engine_errors
from lianluo.routing.repository import TIER_OF_VALUE, to_datetime
from lianluo.runtime.router import RoutingRuntime, RoutingTxn

log = logging.getLogger(__name__)
SUPERVISORS = frozenset({Role.supervisor, Role.admin, Role.partner_admin})
CANNED_EDITORS = frozenset({Role.supervisor, Role.admin})
DEFAULT_DISPOSITIONS = ["resolved", "follow_up", "escalated", "no_answer_needed", "complaint"]
DEFAULT_BREAK_REASONS = ["rest", "lunch", "training", "meeting", "coaching"]
WAITING = ("queued", "offered")


@dataclass(frozen=True)
class ChatRef:
    """What a connection remembers of its chat (plain values; rows stay in their session)."""

    id: str
    tenant_id: str
    conversation_id: str
    customer_id: str
    queue_id: str


@dataclass(frozen=True)
class NewMessage:
    """A message a socket received, for the message writer. `agent_id`: an agent's message
    (the agent must be connected to the chat's contact when it is stored)."""

    chat: ChatRef
    sender_kind: str
    sender_id: str | None
    client_msg_id: str
    body: str
    agent_id: str | None = None


class NotStored(AppError):
    """The message's transaction failed: nothing was stored or acknowledged; resend it."""

    status_code = 503
    code = "not_stored"


# what storing one message gives: (its frame, False when the client id was stored already),
# or why it was refused
Stored: TypeAlias = tuple[dict[str, Any], bool]
StoreOutcome: TypeAlias = Stored | AppError


def ref_of(chat: ChatSession) -> ChatRef:
    return ChatRef(chat.id, chat.tenant_id, chat.conversation_id, chat.customer_id, chat.queue_id)


def message_frame(row: Any) -> dict[str, Any]:
    """A stored message as a frame (`row`: the ORM row, or a Core row of its columns)."""
    return {
        "type": "message",
        "conversation_id": row.conversation_id,
        "seq": row.seq,
        "id": row.id,
        "client_msg_id": row.client_msg_id,
        "sender": row.sender_kind,
        "body": row.body,
        "at": row.created_at.isoformat(),
    }


def chat_state(chat: ChatSession, contact: Contact | None) -> str:
    """One word for the widget: waiting, connected, ended, callback, left_message, closed."""
    if chat.status == "ended":
        return "ended"
    if contact is None:
        return chat.status if chat.status in ("left_message", "closed") else "closed"
    if contact.state in WAITING:
        return "waiting"
    if contact.state == "connected":
        return "connected"
    if contact.state == "callback_scheduled" or (contact.callback and contact.state == "queued"):
        return "callback"
    return "ended"  # wrap_up, ended, abandoned


_SQLITE_WRITES = threading.Lock()


def _write_gate(sessions: sessionmaker[Session]) -> Any:
    """SQLite has one writer: threads queueing on this lock wait their turn in order, instead
    of in SQLite's busy handler, whose growing sleeps made the slowest messages wait seconds.
    PostgreSQL needs no gate (the chat's row lock orders a conversation's messages)."""
    bind = sessions.kw.get("bind")
    if bind is not None and bind.dialect.name == "sqlite":
        return _SQLITE_WRITES
    return contextlib.nullcontext()


def _mark_message_left(session: Session, chat: ChatRef) -> None:
    """A customer wrote into a chat that had closed with no contact: it becomes a left
    message (the one path and the batch writer both call this)."""
    repo.set_status(session, chat.id, "left_message")
    event_service.append(
        session,
        chat.tenant_id,
        "chat.message_left",
        customer_id=chat.customer_id,
        queue_id=chat.queue_id,
        payload={"conversation_id": chat.conversation_id},
    )


class ChatService:
    # ---- the widget --------------------------------------------------------------------------

    def availability(self, session: Session, tenant_id: str, queue: Any, now: float) -> QueueInfo:
        tz = ZoneInfo(repo.tenant_timezone(session, tenant_id))
        local = datetime.fromtimestamp(now, tz)
        agents, _slots = repo.chat_slots(session, tenant_id, queue)
        return QueueInfo(open=domain.is_open(queue.business_hours, local), agents_online=agents)

    def _widget_queue(self, session: Session, slug: str, queue_id: str) -> tuple[str, Any]:
        tenant = repo.tenant_by_slug(session, slug)
        queue = repo.queue(session, tenant.id, queue_id) if tenant else None
        if tenant is None or queue is None or not queue.is_active or "chat" not in queue.channels:
            raise NotFound("no chat queue with this tenant and id")
        return tenant.id, queue

    def widget_config(
        self, session: Session, slug: str, queue_id: str, now: float
    ) -> tuple[Any, QueueInfo]:
        tenant_id, queue = self._widget_queue(session, slug, queue_id)
        return queue, self.availability(session, tenant_id, queue, now)

    def start(self, router: RoutingRuntime, data: ChatSessionIn) -> ChatSessionOut:
        """Identify or create the customer, open the conversation and, when the queue is open
        and someone is logged in, put the chat in line; all in one transaction."""
        token = secrets.token_urlsafe(32)
        with router.sessions() as session:
            tenant_id, queue = self._widget_queue(session, data.tenant, data.queue_id)
        identities = self._identities(data.phone, data.email)

        def op(txn: RoutingTxn) -> tuple[str, str, QueueInfo]:
            session = txn.session
            queue = repo.queue(session, tenant_id, data.queue_id)
            assert queue is not None
            customer = self._identify(session, tenant_id, data.name, data.language, identities)
            conversation = Conversation(
                tenant_id=tenant_id,
                customer_id=customer.id,
                subject=data.subject or "web chat",
                started_at=to_datetime(txn.now),
            )
            session.add(conversation)
            session.flush()
            chat = ChatSession(
                tenant_id=tenant_id,
                conversation_id=conversation.id,
                customer_id=customer.id,
                queue_id=queue.id,
                token_hash=token_hash(token),
                language=data.language,
                status="closed",
                created_at=to_datetime(txn.now),
            )
            session.add(chat)
            session.flush()
            info = self.availability(session, tenant_id, queue, txn.now)
            if info.open and info.agents_online:
                contact = self._enqueue(txn, chat, customer, queue, "chat")
                chat.status = "waiting"
                info.position = repo.position(session, contact)
            return conversation.id, chat.status, info

        conversation_id, status, info = router.execute(tenant_id, op)
        if info.position is not None:
            with router.sessions() as session:
                queue = repo.queue(session, tenant_id, data.queue_id)
                info.ewt_s = self._ewt(session, tenant_id, queue, info.position)
        return ChatSessionOut(
            token=token, conversation_id=conversation_id, status=status, queue=info
        )

    @staticmethod
    def _identities(phone: str | None, email: str | None) -> list[tuple[str, str]]:
        found = []
        try:
            if phone:
                found.append(("phone", normalize_identity("phone", phone)))
            if email:
                found.append(("email", normalize_identity("email", str(email))))
        except ValueError as exc:
            raise Unprocessable(str(exc)) from None
        return found

    def _identify(
        self,
        session: Session,
        tenant_id: str,
        name: str,
        language: str,
        identities: list[tuple[str, str]],
    ) -> Customer:
        """The customer who owns one of these identities, or a new one with them. The widget is
        never told which (a stranger learns nothing by typing someone's number)."""
        for kind, value in identities:
            known = repo.identity(session, tenant_id, kind, value)
            if known is not None:
                customer = repo.customer(session, tenant_id, known.customer_id)
                if customer is not None:
                    while customer.merged_into_id:
                        merged = repo.customer(session, tenant_id, customer.merged_into_id)
                        if merged is None:
                            break
                        customer = merged
                    event_service.append(
                        session,
                        tenant_id,
                        "chat.customer_identified",
                        customer_id=customer.id,
                        payload={"by": kind, "created": False},
                    )
                    return customer
        customer = Customer(
            tenant_id=tenant_id,
            name=name.strip(),
            language=language,
            search_text=search_text_for(name.strip(), [v for _, v in identities]),
        )
        session.add(customer)
        session.flush()
        for kind, value in identities:
            session.add(
                Identity(tenant_id=tenant_id, customer_id=customer.id, kind=kind, value=value)
            )
        session.flush()
        event_service.append(
            session,
            tenant_id,
            "chat.customer_identified",
            customer_id=customer.id,
            payload={"by": identities[0][0] if identities else "", "created": True},
        )
        return customer

    def _enqueue(
        self,
        txn: RoutingTxn,
        chat: ChatSession,
        customer: Customer,
        queue: Any,
        channel: str,
        context: dict[str, Any] | None = None,
    ) -> Contact:
        session = txn.session
        at = to_datetime(txn.now)
        attributes = {"language": customer.language, "region": customer.region}
        context = {"chat_conversation_id": chat.conversation_id, **(context or {})}
        contact = Contact(
            tenant_id=chat.tenant_id,
            conversation_id=chat.conversation_id,
            customer_id=customer.id,
            queue_id=queue.id,
            channel=channel,
            direction="inbound",
            state="queued",
            tier=TIER_OF_VALUE.get(customer.value_tier, 0),
            attributes=attributes,
            context=context,
            queued_at=at,
            arrived_s=txn.now,
            waiting_since_s=txn.now,
        )
        session.add(contact)
        session.flush()
        chat.contact_id = contact.id
        event_service.append(
            session,
            chat.tenant_id,
            "contact.queued",
            occurred_at=at,
            customer_id=customer.id,
            contact_id=contact.id,
            queue_id=queue.id,
            partner_id=queue.partner_id,
            payload={
                "channel": channel,
                "direction": "inbound",
                "priority": 0,
                "conversation_id": chat.conversation_id,
                "region": customer.region,
            },
        )
        request = rt.ContactRequest(
            contact_id=contact.id,
            queue_id=queue.id,
            arrived_at=txn.now,
            channel=channel,
            attributes=attributes,
            tier=contact.tier,
            context=context,
        )
        with engine_errors():
            txn.run(txn.engine.enqueue(request, txn.now))
        txn.touch(contact.id)
        return contact

    def resume(self, session: Session, token: str) -> ChatSession | None:
        if not token or len(token) > 200:
            return None
        return repo.by_token(session, token)

    def status(self, session: Session, chat_id: str, now: float) -> dict[str, Any]:
        """The widget's status frame: state, and place in line with the wait while waiting."""
        chat = repo.chat(session, chat_id)
        contact = repo.contact(session, chat.tenant_id, chat.contact_id)
        state = chat_state(chat, contact)
        frame: dict[str, Any] = {"type": "status", "state": state, "rating": chat.rating}
        if state == "waiting" and contact is not None:
            queue = repo.queue(session, chat.tenant_id, chat.queue_id)
            position = repo.position(session, contact)
            frame["position"] = position
            ewt = self._ewt(session, chat.tenant_id, queue, position)
            frame["ewt_s"] = None if ewt is None else round(ewt)
        if state in ("closed", "left_message"):
            queue = repo.queue(session, chat.tenant_id, chat.queue_id)
            info = self.availability(session, chat.tenant_id, queue, now)
            frame["open"] = info.open
            frame["agents_online"] = info.agents_online
        return frame

    def _ewt(self, session: Session, tenant_id: str, queue: Any, position: int) -> float | None:
        _agents, slots = repo.chat_slots(session, tenant_id, queue)
        ewt = domain.estimated_wait_s(
            position, repo.chat_aht_s(session, tenant_id, queue.id), slots
        )
        return None if math.isinf(ewt) else ewt

    # ---- messages (both sides) ---------------------------------------------------------------

    def store_message(
        self,
        sessions: sessionmaker[Session],
        chat: ChatRef,
        sender_kind: str,
        sender_id: str | None,
        client_msg_id: str,
        body: str,
        agent_id: str | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Store the message (committed) and return its frame; a client id already stored
        returns the stored message and False. The caller acknowledges only after this. With
        `agent_id`, the agent must be connected to the chat's contact (checked in the same
        transaction)."""
        if "\x00" in body:
            raise Unprocessable("body: NUL characters are not allowed")
        with _write_gate(sessions), sessions() as session:
            if agent_id is not None and not repo.is_connected_agent(session, chat.id, agent_id):
                raise Forbidden("only the agent connected to this chat writes to it")
            # numbers the message and locks the chat's row until commit
            seq, contact_id, status = repo.next_seq(session, chat.id)
            row = {
                "id": new_id(),
                "tenant_id": chat.tenant_id,
                "conversation_id": chat.conversation_id,
                "contact_id": contact_id,
                "sender_kind": sender_kind,
                "sender_id": sender_id,
                "body": body,
                "content_type": "text/plain",
                "client_msg_id": client_msg_id,
                "seq": seq,
                "created_at": utcnow(),
            }
            try:
                with session.begin_nested():
                    session.execute(insert(MessageRow).values(**row))
            except IntegrityError:  # this client id is stored already: answer with that one
                session.rollback()
                known = repo.message_by_client_id(session, chat.conversation_id, client_msg_id)
                if known is None:
                    raise
                return message_frame(known), False
            if contact_id is None and sender_kind == "customer" and status == "closed":
                _mark_message_left(session, chat)
            session.commit()
        return {
            "type": "message",
            "conversation_id": chat.conversation_id,
            "seq": seq,
            "id": row["id"],
            "client_msg_id": client_msg_id,
            "sender": sender_kind,
            "body": body,
            "at": row["created_at"].isoformat(),
        }, True

    def store_messages(
        self, sessions: sessionmaker[Session], messages: Sequence[NewMessage]
    ) -> list[StoreOutcome]:
        """Store a batch in one transaction, each message as `store_message` would, in the
        order given (a conversation's numbers follow it); one outcome per message, in order.
        A refused message (NUL in the body, an agent no longer connected) refuses only
        itself. Raises when the transaction fails: nothing of the batch is stored then."""
        outcomes: list[StoreOutcome | None] = [None] * len(messages)
        todo = []
        for k, message in enumerate(messages):
            if "\x00" in message.body:
                outcomes[k] = Unprocessable("body: NUL characters are not allowed")
            else:
                todo.append(k)
        if todo:
            try:
                with _write_gate(sessions), sessions() as session:
                    self._store_batch(session, messages, todo, outcomes)
                    session.commit()
            except IntegrityError:
                # another process stored one of these client ids meanwhile: one at a time
                for k in todo:
                    m = messages[k]
                    try:
                        outcomes[k] = self.store_message(
                            sessions, m.chat, m.sender_kind, m.sender_id, m.client_msg_id,
                            m.body, m.agent_id,
                        )  # fmt: skip
                    except AppError as exc:
                        outcomes[k] = exc
                    except Exception:
                        log.exception("chat: message %s was not stored", m.client_msg_id)
                        outcomes[k] = NotStored("the message was not stored; send it again")
        assert all(o is not None for o in outcomes)
        return outcomes  # type: ignore[return-value]

    def _store_batch(
        self,
        session: Session,
        messages: Sequence[NewMessage],
        todo: list[int],
        outcomes: list[StoreOutcome | None],
    ) -> None:
        chats = repo.lock_chats(session, (messages[k].chat.id for k in todo))
        known = repo.messages_by_client_ids(
            session, ((messages[k].chat.conversation_id, messages[k].client_msg_id) for k in todo)
        )
        now = utcnow()
        rows: list[dict[str, Any]] = []
        frames: dict[tuple[str, str], dict[str, Any]] = {}  # stored by this batch
        last_seqs: dict[str, int] = {}
        left_message: dict[str, ChatRef] = {}
        for k in todo:
            m = messages[k]
            chat = m.chat
            if chat.id not in chats:
                outcomes[k] = NotFound.of("chat", chat.id)
                continue
            before, contact_id, status, connected_agent = chats[chat.id]
            if m.agent_id is not None and connected_agent != m.agent_id:
                outcomes[k] = Forbidden("only the agent connected to this chat writes to it")
                continue
            key = (chat.conversation_id, m.client_msg_id)
            if key in known:
                outcomes[k] = (message_frame(known[key]), False)
                continue
            if key in frames:  # sent twice within the batch (a resend after a reconnect)
                outcomes[k] = (frames[key], False)
                continue
            seq = last_seqs.get(chat.id, before) + 1
            last_seqs[chat.id] = seq
            row = {
                "id": new_id(),
                "tenant_id": chat.tenant_id,
                "conversation_id": chat.conversation_id,
                "contact_id": contact_id,
                "sender_kind": m.sender_kind,
                "sender_id": m.sender_id,
                "body": m.body,
                "content_type": "text/plain",
                "client_msg_id": m.client_msg_id,
                "seq": seq,
                "created_at": now,
            }
            rows.append(row)
            frames[key] = {
                "type": "message",
                "conversation_id": chat.conversation_id,
                "seq": seq,
                "id": row["id"],
                "client_msg_id": m.client_msg_id,
                "sender": m.sender_kind,
                "body": m.body,
                "at": now.isoformat(),
            }
            outcomes[k] = (frames[key], True)
            if contact_id is None and m.sender_kind == "customer" and status == "closed":
                left_message[chat.id] = chat
        if not rows:
            return
        repo.insert_messages(session, rows)
        repo.set_last_seqs(session, last_seqs)
        for chat in left_message.values():
            _mark_message_left(session, chat)

    def replay(
        self, session: Session, conversation_id: str, after_seq: int, limit: int = 500
    ) -> list[dict[str, Any]]:
        return [
            message_frame(m)
            for m in repo.messages_after(session, conversation_id, after_seq, limit)
        ]

    def mark_read(self, sessions: sessionmaker[Session], chat: ChatRef, side: str, seq: int) -> int:
        with sessions() as session:
            row = repo.chat(session, chat.id)
            seq = min(seq, row.last_seq)
            if side == "customer":
                row.customer_read_seq = max(row.customer_read_seq, seq)
                seq = row.customer_read_seq
            else:
                row.agent_read_seq = max(row.agent_read_seq, seq)
                seq = row.agent_read_seq
            session.commit()
            return seq

    # ---- the widget's other actions ----------------------------------------------------------

    def request_callback(
        self, router: RoutingRuntime, chat: ChatRef, phone: str, at: datetime | None
    ) -> dict[str, Any]:
        """'Call me back': the number joins the customer's identities (when nobody else owns
        it) and the chat's contact becomes a callback (at=None: keeps its place); with no
        contact in line (closed, nobody logged in) a voice contact is queued as a callback."""
        try:
            number = normalize_identity("phone", phone)
        except ValueError as exc:
            raise Unprocessable(str(exc)) from None
        if at is not None and at.tzinfo is None:
            raise Unprocessable("at: give a time zone (e.g. 2026-12-01T10:00:00+08:00)")
        at_s = at.timestamp() if at is not None else None

        def op(txn: RoutingTxn) -> dict[str, Any]:
            session = txn.session
            row = repo.chat(session, chat.id)
            if at_s is not None and at_s < txn.now:
                raise Unprocessable("at: the callback time has passed")
            if repo.identity(session, chat.tenant_id, "phone", number) is None:
                session.add(
                    Identity(
                        tenant_id=chat.tenant_id,
                        customer_id=chat.customer_id,
                        kind="phone",
                        value=number,
                    )
                )
            contact = repo.contact(session, chat.tenant_id, row.contact_id)
            if contact is None or contact.state not in ("queued",):
                if contact is not None and contact.state not in ("ended", "abandoned"):
                    raise Conflict(f"the chat is {contact.state}; a callback needs it waiting")
                queue = repo.queue(session, chat.tenant_id, chat.queue_id)
                customer = repo.customer(session, chat.tenant_id, chat.customer_id)
                assert queue is not None
                assert customer is not None
                channel = "voice" if "voice" in queue.channels else "chat"
                contact = self._enqueue(
                    txn, row, customer, queue, channel, {"callback_from": "chat"}
                )
            with engine_errors():
                txn.run(txn.engine.request_callback(contact.id, txn.now, at_s))
            txn.touch(contact.id)
            row.status = "callback"
            event_service.append(
                session,
                chat.tenant_id,
                "contact.callback_requested",
                occurred_at=to_datetime(txn.now),
                customer_id=chat.customer_id,
                contact_id=contact.id,
                queue_id=contact.queue_id,
                payload={"channel": contact.channel, "at": at_s, "from": "chat"},
            )
            return {"type": "callback_ok", "at": at_s, "contact_id": contact.id}

        return router.execute(chat.tenant_id, op)

    def rate(
        self,
        sessions: sessionmaker[Session],
        chat: ChatRef,
        score: int,
        comment: str,
        now_s: float | None = None,
    ) -> None:
        """CSAT at the end: on the chat session, and a chat.rated event for reports (at the
        router's clock `now_s`, like the chat's other events, so it follows them in the log)."""
        if "\x00" in comment:
            raise Unprocessable("comment: NUL characters are not allowed")
        with sessions() as session:
            row = repo.chat(session, chat.id)
            contact = repo.contact(session, chat.tenant_id, row.contact_id)
            if chat_state(row, contact) != "ended":
                raise Conflict("rate the chat when it has ended")
            if row.rating is not None:
                raise Conflict("this chat is rated already")
            row.rating = score
            row.rating_comment = comment
            event_service.append(
                session,
                chat.tenant_id,
                "chat.rated",
                occurred_at=None if now_s is None else to_datetime(now_s),
                customer_id=chat.customer_id,
                contact_id=row.contact_id,
                queue_id=chat.queue_id,
                agent_id=contact.agent_id if contact else None,
                payload={"score": score, "conversation_id": chat.conversation_id},
            )
            session.commit()

    def end_by_customer(self, router: RoutingRuntime, chat: ChatRef) -> None:
        """The customer closes the chat: still in line, it is abandoned; with an agent, the
        agent is told and completes it (wrap-up stays the agent's)."""

        def op(txn: RoutingTxn) -> None:
            session = txn.session
            row = repo.chat(session, chat.id)
            if row.status == "ended":
                return
            row.status = "ended"
            row.ended_at = to_datetime(txn.now)
            contact = repo.contact(session, chat.tenant_id, row.contact_id)
            if contact is not None and contact.state in ("queued", "offered", "callback_scheduled"):
                txn.rescind_reason = "abandoned"
                txn.touch(contact.id, contact.agent_id)
                with engine_errors():
                    txn.run(txn.engine.cancel(contact.id, txn.now))
                contact.state = "abandoned"
                contact.ended_at = row.ended_at
                contact.disposition = "abandoned"
                wait_s = txn.now - (contact.arrived_s or contact.queued_at.timestamp())
                event_service.append(
                    session,
                    chat.tenant_id,
                    "contact.abandoned",
                    occurred_at=row.ended_at,
                    customer_id=chat.customer_id,
                    contact_id=contact.id,
                    queue_id=contact.queue_id,
                    payload={"channel": contact.channel, "wait_s": round(wait_s, 3)},
                )
            event_service.append(
                session,
                chat.tenant_id,
                "chat.ended",
                customer_id=chat.customer_id,
                contact_id=contact.id if contact else None,
                queue_id=chat.queue_id,
                agent_id=contact.agent_id if contact else None,
                payload={"conversation_id": chat.conversation_id, "by": "customer"},
            )

        router.execute(chat.tenant_id, op)

    # ---- the desk ----------------------------------------------------------------------------

    def my_agent_id(self, session: Session, principal: Principal) -> str | None:
        agent = repo.agent_of(session, principal)
        return agent.id if agent else None

    def desk_chats(self, session: Session, principal: Principal) -> list[DeskChatOut]:
        principal.require(FLOOR_READERS, "reading the desk")
        agent = repo.agent_of(session, principal)
        if agent is None:
            raise NotFound("your user has no agent profile")
        result = []
        for contact, chat, name, tier in repo.desk_rows(session, principal, agent.id):
            transfers = list(contact.context.get("transfers", []))
            result.append(
                DeskChatOut(
                    contact_id=contact.id,
                    conversation_id=contact.conversation_id,
                    customer_id=contact.customer_id,
                    customer_name=name,
                    value_tier=tier,
                    queue_id=contact.queue_id,
                    state=contact.state,
                    offered_s=contact.offered_s,
                    expires_s=contact.offer_expires_s if contact.state == "offered" else None,
                    chat_status=chat.status,
                    last_seq=chat.last_seq,
                    agent_read_seq=chat.agent_read_seq,
                    transfer_note=str(contact.context.get("transfer_note", "")),
                    transfers=transfers,
                )
            )
        return result

    def chat_for_agent(
        self, session: Session, principal: Principal, conversation_id: str, write: bool
    ) -> ChatSession:
        """The chat of a conversation the caller may read (its agent now, or a supervisor of
        its tenant or partner) or write to (its connected agent only)."""
        principal.require(FLOOR_READERS, "chatting")
        chat = repo.chat_of_conversation(session, principal, conversation_id)
        if chat is None:
            raise NotFound.of("conversation", conversation_id)
        agent_id = self.my_agent_id(session, principal)
        contact = repo.contact(session, chat.tenant_id, chat.contact_id)
        mine = contact is not None and agent_id is not None and contact.agent_id == agent_id
        if write:
            if not mine or contact is None or contact.state != "connected":
                raise Forbidden("only the agent connected to this chat writes to it")
        elif not mine and not principal.has_any(SUPERVISORS):
            if agent_id is None or not repo.handles_conversation(
                session, agent_id, conversation_id
            ):
                raise Forbidden("this chat is handled by another agent")
        return chat

    def messages(
        self,
        session: Session,
        principal: Principal,
        conversation_id: str,
        after_seq: int,
        offset: int,
        limit: int,
    ) -> tuple[list[ChatMessageOut], int]:
        """A conversation's messages for the desk (its agent, or supervisors); audited."""
        principal.require(CUSTOMER_READERS, "reading conversations")
        conversation = repo.conversation(session, principal, conversation_id)
        if conversation is None:
            raise NotFound.of("conversation", conversation_id)
        if not principal.has_any(SUPERVISORS | {Role.qa}):
            agent_id = self.my_agent_id(session, principal)
            if agent_id is None or not repo.handles_conversation(
                session, agent_id, conversation_id
            ):
                raise Forbidden("this conversation is handled by another agent")
        rows, total = repo.page_messages(session, conversation_id, after_seq, offset, limit)
        event_service.audit(
            session,
            principal,
            "conversation.read",
            customer_id=conversation.customer_id,
            payload={"conversation_id": conversation_id},
            read_only=True,
        )
        return [
            ChatMessageOut(
                id=m.id,
                seq=m.seq,
                client_msg_id=m.client_msg_id,
                sender=m.sender_kind,
                body=m.body,
                at=m.created_at,
            )
            for m in rows
        ], total

    def setup(self, session: Session, principal: Principal) -> DeskSetupOut:
        principal.require(FLOOR_READERS, "reading the desk")
        agent = repo.agent_of(session, principal)
        settings = repo.tenant_settings(session, principal.tenant_id) or {}
        dispositions = settings.get("dispositions") or DEFAULT_DISPOSITIONS
        reasons = settings.get("break_reasons") or DEFAULT_BREAK_REASONS
        return DeskSetupOut(
            agent_id=agent.id if agent else None,
            capacity={str(k): int(v) for k, v in (agent.capacity if agent else {}).items()},
            dispositions=[str(d) for d in dispositions],
            break_reasons=[str(r) for r in reasons],
            queues=[NamedRef(id=q.id, name=q.name) for q in repo.queues(session, principal)],
            agents=[
                NamedRef(id=a.id, name=a.display_name, state=a.state)
                for a in repo.agents(session, principal)
                if agent is None or a.id != agent.id
            ],
        )

    # ---- canned replies ----------------------------------------------------------------------

    def canned_replies(
        self, session: Session, principal: Principal, offset: int, limit: int
    ) -> tuple[list[CannedReply], int]:
        principal.require(FLOOR_READERS, "reading canned replies")
        rows, total = repo.canned(session, principal.tenant_id, offset, limit)
        return list(rows), total

    def add_canned_reply(
        self, session: Session, principal: Principal, data: CannedReplyIn
    ) -> CannedReply:
        principal.require(CANNED_EDITORS, "adding canned replies")
        if "\x00" in data.title + data.body:
            raise Unprocessable("NUL characters are not allowed")
        row = CannedReply(
            tenant_id=principal.tenant_id, title=data.title, body=data.body, language=data.language
        )
        session.add(row)
        session.flush()
        return row


chat_service = ChatService()
