"""The chat channel's HTTP and WebSocket endpoints: /api/v1/chat/…, /ws/chat, /ws/desk.

Database work of a socket runs in worker threads (the sessions are synchronous); every frame
a client sends is answered on the same socket, an error frame for anything malformed, and
the socket stays open.

Messages go to the process's message writer (writer.py) and the socket reads on without
waiting for their commit; each is acknowledged once stored, in the order the socket sent
them. Any other frame but a ping or typing waits until this socket's earlier messages are
answered (an `end` or `read` follows what was sent before it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from types import SimpleNamespace
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Query, WebSocket, WebSocketDisconnect, status
from pydantic import ValidationError

from lianluo.auth.principal import Principal
from lianluo.channels.chat.hub import Connection, hub_of
from lianluo.channels.chat.schemas import (
    MAX_FRAME_BYTES,
    CallbackFrame,
    CallFrame,
    CannedReplyIn,
    CannedReplyOut,
    ChatMessageOut,
    ChatSessionIn,
    ChatSessionOut,
    DeskChatOut,
    DeskSetupOut,
    EndFrame,
    JoinFrame,
    MessageFrame,
    PingFrame,
    RateFrame,
    ReadFrame,
    TypingFrame,
    WidgetConfigOut,
    client_frame,
)
from lianluo.channels.chat.service import (
    ChatRef,
    NewMessage,
    NotStored,
    StoreOutcome,
    chat_service,
    ref_of,
)
from lianluo.channels.chat.writer import writer_of
from lianluo.contacts.schemas import CompleteIn
from lianluo.contacts.service import contact_service
from lianluo.deps import AppContext, Context, CurrentPrincipal, DbSession, get_principal
from lianluo.errors import AppError, Unauthorized
from lianluo.events.service import event_service
from lianluo.models import ChatSession
from lianluo.paging import Page, PageParams, page_params
from lianluo.runtime.router import runtime_of
from lianluo.web.i18n import STRINGS

log = logging.getLogger(__name__)
router = APIRouter(tags=["chat"])

# how often a waiting customer's place in line and wait are recomputed and pushed
QUEUE_UPDATE_S = 5.0
# a socket's messages awaiting their commit before it reads the next frame
MAX_IN_FLIGHT = 64
# frames handled without waiting for the socket's earlier messages
UNORDERED = (MessageFrame, PingFrame, TypingFrame)


# ---- REST ------------------------------------------------------------------------------------


@router.get("/api/v1/chat/widget-config", response_model=WidgetConfigOut)
def widget_config(
    session: DbSession,
    ctx: Context,
    tenant: str = Query(min_length=1, max_length=64),
    queue_id: str = Query(min_length=1, max_length=32),
    lang: str = Query("zh", pattern="^(zh|en)$"),
) -> WidgetConfigOut:
    """Public: the widget's texts and whether the queue is open with agents logged in."""
    queue, info = chat_service.widget_config(session, tenant, queue_id, runtime_of(ctx).clock())
    strings = {k: v[lang] for k, v in STRINGS.items() if k.startswith("chat_")}
    return WidgetConfigOut(
        tenant=tenant,
        queue_id=queue.id,
        queue_name=queue.name,
        language=lang,
        strings=strings,
        availability=info,
    )


@router.post(
    "/api/v1/chat/sessions", response_model=ChatSessionOut, status_code=status.HTTP_201_CREATED
)
def start_chat(body: ChatSessionIn, session: DbSession, ctx: Context) -> ChatSessionOut:
    """Public: the pre-chat form. Identifies the customer by phone or e-mail (or creates one),
    opens the conversation and puts it in line when the queue is open and staffed. The token
    opens /ws/chat; keep it to come back after a reload."""
    session.commit()  # SQLite: release the write lock the router's transaction needs
    return chat_service.start(runtime_of(ctx), body)


@router.get("/api/v1/chat/desk", response_model=Page[DeskChatOut])
def desk_chats(principal: CurrentPrincipal, session: DbSession) -> Page[DeskChatOut]:
    """The caller's chats: offered (with the deadline), connected, in wrap-up. Bounded by the
    agent's capacity, so one page holds them all."""
    items = chat_service.desk_chats(session, principal)
    return Page(items=items, total=len(items), page=1, page_size=max(1, len(items)))


@router.get("/api/v1/chat/desk/setup", response_model=DeskSetupOut)
def desk_setup(principal: CurrentPrincipal, session: DbSession) -> DeskSetupOut:
    """Dispositions and break reasons (tenant settings, or defaults) and transfer targets."""
    return chat_service.setup(session, principal)


@router.get(
    "/api/v1/chat/conversations/{conversation_id}/messages",
    response_model=Page[ChatMessageOut],
)
def conversation_messages(
    conversation_id: str,
    principal: CurrentPrincipal,
    session: DbSession,
    paging: Annotated[PageParams, Depends(page_params)],
    after_seq: int = Query(0, ge=0, le=2**31),
) -> Page[ChatMessageOut]:
    """The conversation's messages in order (for its agent or a supervisor); audited."""
    items, total = chat_service.messages(
        session, principal, conversation_id, after_seq, paging.offset, paging.page_size
    )
    return Page(items=items, total=total, page=paging.page, page_size=paging.page_size)


@router.get("/api/v1/chat/canned-replies", response_model=Page[CannedReplyOut])
def canned_replies(
    principal: CurrentPrincipal,
    session: DbSession,
    paging: Annotated[PageParams, Depends(page_params)],
) -> Page[CannedReplyOut]:
    rows, total = chat_service.canned_replies(session, principal, paging.offset, paging.page_size)
    return Page(
        items=[CannedReplyOut.model_validate(r) for r in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/api/v1/chat/canned-replies",
    response_model=CannedReplyOut,
    status_code=status.HTTP_201_CREATED,
)
def add_canned_reply(
    body: CannedReplyIn, principal: CurrentPrincipal, session: DbSession
) -> CannedReplyOut:
    """Supervisors and admins add the tenant's canned replies."""
    return CannedReplyOut.model_validate(chat_service.add_canned_reply(session, principal, body))


# ---- sockets: shared machinery ---------------------------------------------------------------


def _error(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message}


def _app_error(exc: AppError) -> dict[str, Any]:
    return _error(exc.code, exc.message)


async def _run(fn: Callable[..., Any], *args: Any) -> Any:
    return await to_thread.run_sync(fn, *args)


def _parse(raw: str) -> Any:
    """A client frame, or an error frame saying what is wrong with it."""
    if len(raw.encode()) > MAX_FRAME_BYTES:
        return _error("frame_too_large", f"frames are at most {MAX_FRAME_BYTES} bytes")
    try:
        data = json.loads(raw)
    except ValueError:
        return _error("bad_frame", "a frame is one JSON object")
    if not isinstance(data, dict):
        return _error("bad_frame", "a frame is one JSON object")
    try:
        return client_frame.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error("validation_error", f"{where}: {first.get('msg', 'invalid')}")


async def _writer(ws: WebSocket, conn: Connection, refresh: Callable[[], Awaitable[None]]) -> None:
    while True:
        frame = await conn.queue.get()
        if frame.get("type") == "refresh":
            await refresh()
            continue
        if frame.get("type") == "message" and frame.get("seq") is not None:
            seen = conn.sent_seqs[frame["conversation_id"]]
            if frame["seq"] in seen:
                continue  # replayed already, or pushed twice
            seen.add(frame["seq"])
        await ws.send_json(frame)


async def _pump(
    ws: WebSocket,
    conn: Connection,
    handle: Callable[[Any], Awaitable[None]],
    refresh: Callable[[], Awaitable[None]],
    every_s: float | None = None,
) -> None:
    writer = asyncio.create_task(_writer(ws, conn, refresh))
    ticker = asyncio.create_task(_tick(conn, every_s)) if every_s else None
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text")
            if raw is None:
                raw_bytes = message.get("bytes") or b""
                try:
                    raw = raw_bytes.decode()
                except UnicodeDecodeError:
                    conn.push(_error("bad_frame", "frames are UTF-8 JSON text"))
                    continue
            frame = _parse(raw)
            if isinstance(frame, dict):
                conn.push(frame)
                continue
            if conn.in_flight and not isinstance(frame, UNORDERED):
                await asyncio.wait(list(conn.in_flight))
            try:
                await handle(frame)
            except AppError as exc:
                conn.push(_app_error(exc))
            except Exception:
                log.exception("chat frame %s failed", type(frame).__name__)
                conn.push(_error("internal_error", "the frame could not be handled; retry"))
            if len(conn.in_flight) >= MAX_IN_FLIGHT:
                await asyncio.wait([conn.in_flight[0]])
    finally:
        writer.cancel()
        if ticker is not None:
            ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer


async def _tick(conn: Connection, every_s: float) -> None:
    """While the customer waits, its place in line and wait are recomputed every `every_s`."""
    while True:
        await asyncio.sleep(every_s)
        if conn.state == "waiting":
            conn.queue.put_nowait({"type": "refresh"})


def _ack(client_msg_id: str, stored: dict[str, Any], created: bool) -> dict[str, Any]:
    return {
        "type": "ack",
        "client_msg_id": client_msg_id,
        "seq": stored["seq"],
        "id": stored["id"],
        "duplicate": not created,
    }


def _send_message(ctx: AppContext, conn: Connection, message: NewMessage) -> None:
    """Hand a message to the writer; once its batch has committed, acknowledge it and echo it
    on this socket and tell the conversation's other connections, or tell this socket why it
    was not stored. Futures are answered in submission order, and their callbacks run in that
    order, so this socket's acknowledgements keep the order of its messages."""
    writer = writer_of(ctx, partial(chat_service.store_messages, ctx.sessions))
    future = writer.submit(message)
    conn.in_flight.append(future)
    future.add_done_callback(partial(_answer_message, ctx, conn, message))


def _answer_message(
    ctx: AppContext, conn: Connection, message: NewMessage, future: asyncio.Future[StoreOutcome]
) -> None:
    while conn.in_flight and conn.in_flight[0].done():
        conn.in_flight.popleft()
    outcome = future.result() if not future.cancelled() else NotStored("send it again")
    if isinstance(outcome, AppError):
        conn.push({**_app_error(outcome), "client_msg_id": message.client_msg_id})
        return
    stored, created = outcome
    conn.push(_ack(message.client_msg_id, stored, created))
    conn.push(stored)
    if created:
        _publish(ctx, message.chat.tenant_id, stored, conn.id)


def _publish(ctx: AppContext, tenant_id: str, frame: dict[str, Any], origin: int) -> None:
    """Tell the conversation's other connections (through the bus, so other processes may)."""
    ctx.bus.publish(
        {**frame, "type": f"chat.{frame['type']}", "tenant_id": tenant_id, "origin": origin}
    )


# ---- /ws/chat: the customer ------------------------------------------------------------------


@router.websocket("/ws/chat")
async def customer_socket(
    ws: WebSocket, token: str = Query("", max_length=200), last_seq: int = 0
) -> None:
    """The widget's socket. Query: token (from POST /api/v1/chat/sessions), last_seq (the
    highest message number the widget has; everything after it is replayed)."""
    ctx: AppContext = ws.app.state.ctx
    await ws.accept()

    def resume() -> tuple[ChatRef | None, str | None]:
        with ctx.sessions() as session:
            row = chat_service.resume(session, token)
            return (ref_of(row), row.contact_id) if row is not None else (None, None)

    chat, contact_id = await _run(resume)
    if chat is None:
        await ws.send_json(_error("unauthorized", "unknown chat token; start a new chat"))
        await ws.close(code=4401)
        return
    hub = hub_of(ctx)
    conn = Connection("customer", asyncio.get_running_loop())
    hub.join(conn, chat.conversation_id)
    hub.watch_contact(conn, contact_id)
    router_ = runtime_of(ctx)
    watched = {contact_id}

    async def refresh() -> None:
        def work() -> tuple[dict[str, Any], str | None]:
            with ctx.sessions() as session:
                frame = chat_service.status(session, chat.id, router_.clock())
                current = session.get(ChatSession, chat.id)
                return frame, current.contact_id if current else None

        frame, current_contact = await _run(work)
        conn.state = frame["state"]
        if current_contact not in watched:
            watched.add(current_contact)
            hub.watch_contact(conn, current_contact)
        await ws.send_json(frame)

    async def handle(frame: Any) -> None:
        await _customer_frame(ctx, conn, chat, frame)

    try:
        await _hello(ws, ctx, conn, chat, last_seq, "customer")
        await refresh()
        await _pump(
            ws, conn, handle, refresh, ctx.extras.get("chat_queue_update_s", QUEUE_UPDATE_S)
        )
    except WebSocketDisconnect:
        pass
    finally:
        hub.drop(conn)


async def _hello(
    ws: WebSocket, ctx: AppContext, conn: Connection, chat: ChatRef, last_seq: int, side: str
) -> None:
    def work() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        with ctx.sessions() as session:
            row = session.get(ChatSession, chat.id)
            hello = {
                "type": "hello",
                "conversation_id": chat.conversation_id,
                "last_seq": row.last_seq if row else 0,
                "customer_read_seq": row.customer_read_seq if row else 0,
                "agent_read_seq": row.agent_read_seq if row else 0,
            }
            return hello, chat_service.replay(session, chat.conversation_id, last_seq, 100_000)

    hello, missed = await _run(work)
    hello["side"] = side
    await ws.send_json(hello)
    seen = conn.sent_seqs[chat.conversation_id]
    for frame in missed:
        seen.add(frame["seq"])
        await ws.send_json(frame)


async def _customer_frame(ctx: AppContext, conn: Connection, chat: ChatRef, frame: Any) -> None:
    router_ = runtime_of(ctx)
    if isinstance(frame, MessageFrame):
        message = NewMessage(chat, "customer", chat.customer_id, frame.client_msg_id, frame.body)
        _send_message(ctx, conn, message)
    elif isinstance(frame, TypingFrame):
        _publish(
            ctx,
            chat.tenant_id,
            {
                "type": "typing",
                "conversation_id": chat.conversation_id,
                "sender": "customer",
                "on": frame.on,
            },
            conn.id,
        )
    elif isinstance(frame, ReadFrame):
        seq = await _run(chat_service.mark_read, ctx.sessions, chat, "customer", frame.seq)
        _publish(
            ctx,
            chat.tenant_id,
            {
                "type": "read",
                "conversation_id": chat.conversation_id,
                "sender": "customer",
                "seq": seq,
            },
            conn.id,
        )
    elif isinstance(frame, CallbackFrame):
        result = await _run(chat_service.request_callback, router_, chat, frame.phone, frame.at)
        conn.push(result)
        conn.push({"type": "refresh"})
    elif isinstance(frame, RateFrame):
        await _run(
            chat_service.rate, ctx.sessions, chat, frame.score, frame.comment, router_.clock()
        )
        conn.push({"type": "rated", "score": frame.score})
    elif isinstance(frame, EndFrame):
        await _run(chat_service.end_by_customer, router_, chat)
        _publish(
            ctx,
            chat.tenant_id,
            {
                "type": "status",
                "conversation_id": chat.conversation_id,
                "state": "ended",
                "by": "customer",
            },
            conn.id,
        )
        conn.push({"type": "refresh"})
    elif isinstance(frame, PingFrame):
        conn.push({"type": "pong"})
    else:
        conn.push(_error("bad_frame", f"{frame.type} is not a customer frame"))


# ---- /ws/desk: the agent ---------------------------------------------------------------------


def _socket_principal(ctx: AppContext, ws: WebSocket, token: str) -> Principal | None:
    """The session cookie of the desk page, or ?token= (a bearer token) for other clients."""
    source: Any = ws
    if token:
        source = SimpleNamespace(headers={"authorization": f"Bearer {token}"}, cookies={})
    with ctx.sessions() as session:
        try:
            return get_principal(source, session, ctx)
        except (Unauthorized, AppError):
            return None


@router.websocket("/ws/desk")
async def desk_socket(ws: WebSocket, token: str = Query("", max_length=4000)) -> None:
    """The agent desk's socket: offers and changes of its work are pushed (`desk` frames; the
    desk refetches GET /api/v1/chat/desk), and the chats it joins stream their messages."""
    ctx: AppContext = ws.app.state.ctx
    await ws.accept()
    principal = await _run(_socket_principal, ctx, ws, token)
    if principal is None:
        await ws.send_json(_error("unauthorized", "log in first (session cookie or ?token=)"))
        await ws.close(code=4401)
        return

    def my_agent() -> str | None:
        with ctx.sessions() as session:
            return chat_service.my_agent_id(session, principal)

    agent_id = await _run(my_agent)
    hub = hub_of(ctx)
    conn = Connection("agent", asyncio.get_running_loop())
    if agent_id is not None:
        hub.watch_agent(conn, agent_id)
    chats: dict[str, ChatRef] = {}

    async def refresh() -> None:
        """The agent's work changed: leave the chats it no longer handles, tell the page."""

        def still_mine() -> set[str]:
            keep = set()
            with ctx.sessions() as session:
                for conversation_id in list(conn.conversations):
                    try:
                        chat_service.chat_for_agent(session, principal, conversation_id, False)
                        keep.add(conversation_id)
                    except AppError:
                        pass
            return keep

        keep = await _run(still_mine)
        for conversation_id in list(conn.conversations):
            if conversation_id not in keep:
                hub.leave_conversation(conn, conversation_id)
                chats.pop(conversation_id, None)
                await ws.send_json({"type": "left", "conversation_id": conversation_id})
        await ws.send_json({"type": "desk", "event": "refresh"})

    async def handle(frame: Any) -> None:
        await _agent_frame(ctx, ws, conn, principal, agent_id, chats, frame)

    try:
        await ws.send_json(
            {"type": "hello", "side": "agent", "agent_id": agent_id, "user": principal.username}
        )
        await _pump(ws, conn, handle, refresh)
    except WebSocketDisconnect:
        pass
    finally:
        hub.drop(conn)


async def _agent_frame(
    ctx: AppContext,
    ws: WebSocket,
    conn: Connection,
    principal: Principal,
    agent_id: str | None,
    chats: dict[str, ChatRef],
    frame: Any,
) -> None:
    hub = hub_of(ctx)
    if isinstance(frame, PingFrame):
        conn.push({"type": "pong"})
        return
    if isinstance(frame, CallFrame):
        from lianluo.voice.service import voice_desk_service  # the voice channel's desk side

        await _run(
            voice_desk_service.control, ctx.sessions, runtime_of(ctx), principal,
            frame.contact_id, frame.action, frame.to_agent_id, frame.to_queue_id, frame.note,
        )  # fmt: skip
        conn.push({"type": "call_ok", "contact_id": frame.contact_id, "action": frame.action})
        return
    if isinstance(frame, JoinFrame):

        def join() -> tuple[ChatRef, dict[str, Any], list[dict[str, Any]]]:
            with ctx.sessions() as session:
                row = chat_service.chat_for_agent(session, principal, frame.conversation_id, False)
                chat = ref_of(row)
                event_service.audit(
                    session,
                    principal,
                    "conversation.read",
                    customer_id=chat.customer_id,
                    payload={"conversation_id": chat.conversation_id, "via": "desk"},
                )
                session.commit()
                info = {
                    "type": "joined",
                    "conversation_id": chat.conversation_id,
                    "last_seq": row.last_seq,
                    "customer_read_seq": row.customer_read_seq,
                    "agent_read_seq": row.agent_read_seq,
                    "status": row.status,
                }
                return (
                    chat,
                    info,
                    chat_service.replay(session, chat.conversation_id, frame.last_seq, 100_000),
                )

        chat, info, missed = await _run(join)
        chats[chat.conversation_id] = chat
        hub.join(conn, chat.conversation_id)
        conn.push(info)
        for message in missed:
            conn.push(message)
        return
    conversation_id = getattr(frame, "conversation_id", None)
    if not conversation_id:
        conn.push(_error("bad_frame", "name the conversation_id (join it first)"))
        return
    chat = chats.get(conversation_id)
    if chat is None:
        conn.push(_error("not_joined", f"join conversation {conversation_id} first"))
        return
    if isinstance(frame, MessageFrame):
        if agent_id is None:
            conn.push(_error("forbidden", "your user has no agent profile"))
            return
        message = NewMessage(chat, "agent", agent_id, frame.client_msg_id, frame.body, agent_id)
        _send_message(ctx, conn, message)
    elif isinstance(frame, TypingFrame):
        _publish(
            ctx,
            chat.tenant_id,
            {
                "type": "typing",
                "conversation_id": conversation_id,
                "sender": "agent",
                "on": frame.on,
            },
            conn.id,
        )
    elif isinstance(frame, ReadFrame):
        seq = await _run(chat_service.mark_read, ctx.sessions, chat, "agent", frame.seq)
        _publish(
            ctx,
            chat.tenant_id,
            {"type": "read", "conversation_id": conversation_id, "sender": "agent", "seq": seq},
            conn.id,
        )
    elif isinstance(frame, EndFrame):

        def end() -> None:
            with ctx.sessions() as session:
                chat_service.chat_for_agent(session, principal, conversation_id, True)
                row = session.get(ChatSession, chat.id)
                contact_id = row.contact_id if row else None
            if contact_id is None:
                return
            contact_service.complete(runtime_of(ctx), principal, contact_id, CompleteIn())

        await _run(end)
        _publish(ctx, chat.tenant_id, {"type": "refresh", "conversation_id": conversation_id}, -1)
    else:
        conn.push(_error("bad_frame", f"{frame.type} is not an agent frame"))
