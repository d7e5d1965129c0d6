"""The message writer (channels/chat/writer.py) on SQLite and PostgreSQL: batches stored in one
transaction and answered only after the commit, a failed batch answering nothing but
`not_stored`, answers in submission order, client ids deduplicated within and across batches,
and the same over the customer's WebSocket."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from lianluo.channels.chat.service import (
    ChatRef,
    NewMessage,
    NotStored,
    StoreOutcome,
    chat_service,
    ref_of,
)
from lianluo.channels.chat.writer import MessageWriter
from lianluo.errors import AppError, Forbidden, Unprocessable
from lianluo.models import ChatSession, Message
from tests.channels.chat.helpers import start_chat, until

pytestmark = pytest.mark.timeout(120)


def _chat(ctx: Any, client: Any, floor: Any, phone: str = "13800138000") -> ChatRef:
    token = start_chat(client, floor, phone=phone)["token"]
    with ctx.sessions() as session:
        row = chat_service.resume(session, token)
        assert row is not None
        return ref_of(row)


def _customer(chat: ChatRef, client_msg_id: str, body: str = "你好") -> NewMessage:
    return NewMessage(chat, "customer", chat.customer_id, client_msg_id, body)


def _stored(ctx: Any, chat: ChatRef) -> list[tuple[int, str]]:
    with ctx.sessions() as session:
        rows = session.execute(
            select(Message.seq, Message.client_msg_id)
            .where(Message.conversation_id == chat.conversation_id)
            .order_by(Message.seq)
        ).all()
        return [(int(s), str(c)) for s, c in rows]


def _last_seq(ctx: Any, chat: ChatRef) -> int:
    with ctx.sessions() as session:
        return int(
            session.execute(
                select(ChatSession.last_seq).where(ChatSession.id == chat.id)
            ).scalar_one()
        )


class _Recorder:
    """The store function the writer calls: the real one, with the batches it was given."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.batches: list[list[str]] = []

    def __call__(self, messages: Sequence[NewMessage]) -> list[StoreOutcome]:
        self.batches.append([m.client_msg_id for m in messages])
        return chat_service.store_messages(self.sessions, messages)


def _write(store: Any, messages: list[NewMessage], on_answer: Any = None) -> list[StoreOutcome]:
    """Submit every message to a new writer at once (one batch), wait for the answers."""
    return asyncio.run(_submit_all(store, messages, on_answer))


async def _submit_all(
    store: Any, messages: list[NewMessage], on_answer: Any = None
) -> list[StoreOutcome]:
    writer = MessageWriter(store)
    futures = []
    for message in messages:
        future = writer.submit(message)
        if on_answer is not None:
            future.add_done_callback(lambda f, m=message: on_answer(m, f.result()))
        futures.append(future)
    try:
        return list(await asyncio.gather(*futures))
    finally:
        await writer.close()


class TestBatches:
    def test_one_transaction_per_batch_answered_after_the_commit(
        self, chat_ctx: Any, client: Any, floor: Any
    ) -> None:
        a = _chat(chat_ctx, client, floor)
        b = _chat(chat_ctx, client, floor, phone="13900139000")
        messages = [_customer(chat, f"{chat.id[:6]}-{k}") for k in range(5) for chat in (a, b)]
        store = _Recorder(chat_ctx.sessions)
        seen_in_db: dict[str, bool] = {}

        def on_answer(message: NewMessage, outcome: StoreOutcome) -> None:
            # another connection sees the row when the sender is answered: it is committed
            seen_in_db[message.client_msg_id] = any(
                c == message.client_msg_id for _, c in _stored(chat_ctx, message.chat)
            )

        outcomes = _write(store, messages, on_answer)
        # everything was queued before the writer ran: one batch, one transaction
        assert store.batches == [[m.client_msg_id for m in messages]]
        assert seen_in_db == {m.client_msg_id: True for m in messages}
        for chat in (a, b):
            mine = [
                o for m, o in zip(messages, outcomes, strict=True) if m.chat == chat
            ]  # in submission order
            assert [(o[0]["seq"], o[1]) for o in mine] == [(k, True) for k in range(1, 6)]  # type: ignore[index]
            assert _stored(chat_ctx, chat) == [(o[0]["seq"], o[0]["client_msg_id"]) for o in mine]  # type: ignore[index]
            assert _last_seq(chat_ctx, chat) == 5

    def test_a_failed_batch_answers_not_stored_and_stores_nothing(
        self, chat_ctx: Any, client: Any, floor: Any
    ) -> None:
        chat = _chat(chat_ctx, client, floor)

        class FailingCommit(Session):
            def commit(self) -> None:
                raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

        failing = sessionmaker(bind=chat_ctx.engine, class_=FailingCommit)

        def store(messages: Sequence[NewMessage]) -> list[StoreOutcome]:
            return chat_service.store_messages(failing, messages)

        messages = [_customer(chat, f"f{k}") for k in range(3)]

        outcomes = _write(store, messages)
        assert all(isinstance(o, NotStored) for o in outcomes), outcomes
        assert _stored(chat_ctx, chat) == []
        assert _last_seq(chat_ctx, chat) == 0
        # the same messages sent again (the client resends) are stored once, numbered from 1
        retry = _write(_Recorder(chat_ctx.sessions), messages)
        assert [o[0]["seq"] for o in retry] == [1, 2, 3]  # type: ignore[index]

    def test_a_refused_message_refuses_only_itself(
        self, chat_ctx: Any, client: Any, floor: Any
    ) -> None:
        chat = _chat(chat_ctx, client, floor)
        messages = [
            _customer(chat, "ok1"),
            _customer(chat, "nul", "a\x00b"),
            # an agent that is not connected to this chat
            NewMessage(chat, "agent", floor.agents["bob"], "bob1", "hi", floor.agents["bob"]),
            _customer(chat, "ok2"),
        ]
        outcomes = _write(_Recorder(chat_ctx.sessions), messages)
        assert isinstance(outcomes[1], Unprocessable)
        assert isinstance(outcomes[2], Forbidden)
        assert [o[0]["seq"] for o in (outcomes[0], outcomes[3])] == [1, 2]  # type: ignore[index]
        assert _stored(chat_ctx, chat) == [(1, "ok1"), (2, "ok2")]  # no gap for the refused

    def test_answers_come_in_submission_order(self, chat_ctx: Any, client: Any, floor: Any) -> None:
        chats = [_chat(chat_ctx, client, floor, phone=f"1380013800{k}") for k in range(3)]
        store = _Recorder(chat_ctx.sessions)
        answered: list[str] = []

        async def main() -> None:
            writer = MessageWriter(store, max_batch=7)  # several batches
            futures = []
            for k in range(40):
                chat = chats[k % 3]
                future = writer.submit(_customer(chat, f"o{k}"))
                future.add_done_callback(lambda f, k=k: answered.append(f"o{k}"))
                futures.append(future)
                if k % 9 == 0:
                    await asyncio.sleep(0)  # let a batch start while more arrive
            await asyncio.gather(*futures)
            await writer.close()

        asyncio.run(main())
        assert len(store.batches) > 1
        assert answered == [f"o{k}" for k in range(40)]
        for j, chat in enumerate(chats):
            mine = [f"o{k}" for k in range(40) if k % 3 == j]
            assert _stored(chat_ctx, chat) == [(n + 1, c) for n, c in enumerate(mine)]


class TestDuplicates:
    def test_client_ids_are_deduplicated_within_and_across_batches(
        self, chat_ctx: Any, client: Any, floor: Any
    ) -> None:
        chat = _chat(chat_ctx, client, floor)
        store = _Recorder(chat_ctx.sessions)
        first = _write(store, [_customer(chat, "d1")])
        again = [_customer(chat, "d1"), _customer(chat, "d2"), _customer(chat, "d2")]
        second = _write(store, again)
        assert len(store.batches) == 2
        d1, d1_again = first[0], second[0]
        assert not isinstance(d1, AppError)
        assert not isinstance(d1_again, AppError)
        assert (d1_again[0]["id"], d1_again[0]["seq"], d1_again[1]) == (d1[0]["id"], 1, False)
        d2, d2_again = second[1], second[2]
        assert not isinstance(d2, AppError)
        assert not isinstance(d2_again, AppError)
        assert (d2[0]["seq"], d2[1]) == (2, True)
        assert (d2_again[0]["id"], d2_again[1]) == (d2[0]["id"], False)
        assert _stored(chat_ctx, chat) == [(1, "d1"), (2, "d2")]
        assert _last_seq(chat_ctx, chat) == 2


class TestOverTheSocket:
    def test_acks_keep_the_order_a_socket_sent(self, client: Any, floor: Any) -> None:
        chat = start_chat(client, floor)
        with client.websocket_connect(f"/ws/chat?token={chat['token']}") as ws:
            until(ws, "status")
            for k in range(30):  # no waiting between them: several are in flight at once
                ws.send_json({"type": "message", "client_msg_id": f"s{k}", "body": f"{k}"})
            acks = [until(ws, "ack") for _ in range(30)]
        assert [(a["client_msg_id"], a["seq"]) for a in acks] == [
            (f"s{k}", k + 1) for k in range(30)
        ]

    def test_a_failed_batch_tells_the_sender_and_acks_nothing(
        self, chat_ctx: Any, client: Any, floor: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def failing(sessions: Any, messages: Sequence[NewMessage]) -> list[StoreOutcome]:
            raise OperationalError("COMMIT", {}, Exception("database is gone"))

        chat = start_chat(client, floor)
        monkeypatch.setattr(chat_service, "store_messages", failing)
        with client.websocket_connect(f"/ws/chat?token={chat['token']}") as ws:
            until(ws, "status")
            ws.send_json({"type": "message", "client_msg_id": "lost", "body": "x"})
            frames = [ws.receive_json()]
            while frames[-1]["type"] != "error":
                frames.append(ws.receive_json())
            assert (frames[-1]["code"], frames[-1]["client_msg_id"]) == ("not_stored", "lost")
            assert [f for f in frames if f["type"] in ("ack", "message")] == []
            ws.send_json({"type": "ping"})
            until(ws, "pong")  # the socket lives
        monkeypatch.undo()
        with chat_ctx.sessions() as session:
            rows = session.execute(
                select(Message.id).where(Message.conversation_id == chat["conversation_id"])
            ).all()
        assert rows == []
