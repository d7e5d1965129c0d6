"""Property: whatever the order of sends, resends, dropped connections and reconnects, every
message the customer sent is stored exactly once, numbered 1..n without gaps, and a client
that reconnects with its last seen number ends up with each message exactly once."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from lianluo.models import Message
from tests.channels.chat.helpers import start_chat

pytestmark = pytest.mark.timeout(300)

STEPS = st.lists(
    st.sampled_from(["send", "send", "send_and_drop", "resend", "reconnect"]),
    min_size=1,
    max_size=12,
)


class Client:
    """What the widget does: remember what it has (by seq) and what is unacknowledged."""

    def __init__(self, client: Any, token: str) -> None:
        self.client = client
        self.token = token
        self.received: dict[int, str] = {}  # seq -> client id
        self.pending: dict[str, str] = {}  # client id -> body
        self.sent_ids: list[str] = []
        self.ws: Any = None
        self._ctx: Any = None

    def last_seq(self) -> int:
        seq = 0
        while seq + 1 in self.received:
            seq += 1
        return seq

    def connect(self) -> None:
        self._ctx = self.client.websocket_connect(
            f"/ws/chat?token={self.token}&last_seq={self.last_seq()}"
        )
        self.ws = self._ctx.__enter__()
        self.on_this_socket: list[int] = []
        hello = self.ws.receive_json()
        assert hello["type"] == "hello"
        self.pump_until(lambda f: f["type"] == "status")
        for client_msg_id, body in list(self.pending.items()):
            self.send(client_msg_id, body)

    def drop(self) -> None:
        if self._ctx is not None:
            self._ctx.__exit__(None, None, None)
        self._ctx = self.ws = None

    def pump_until(self, done: Any) -> None:
        for _ in range(200):
            frame = self.ws.receive_json()
            if frame["type"] == "message":
                assert frame["seq"] not in self.on_this_socket, "a message came twice"
                self.on_this_socket.append(frame["seq"])
                self.received.setdefault(frame["seq"], frame["client_msg_id"])
                assert self.received[frame["seq"]] == frame["client_msg_id"]
            if frame["type"] == "ack":
                self.pending.pop(frame["client_msg_id"], None)
            if done(frame):
                return
        raise AssertionError("the server stopped answering")

    def send(self, client_msg_id: str, body: str, wait: bool = True) -> None:
        self.pending[client_msg_id] = body
        self.ws.send_json({"type": "message", "client_msg_id": client_msg_id, "body": body})
        if wait:
            self.pump_until(lambda f: f["type"] == "ack" and f["client_msg_id"] == client_msg_id)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_no_loss_no_duplicates(client: Any, floor: Any, db: Any, steps: list[str]) -> None:
    chat = start_chat(client, floor)
    me = Client(client, chat["token"])
    me.connect()
    n = 0
    try:
        for step in steps:
            if me.ws is None:
                me.connect()
            if step in ("send", "send_and_drop"):
                n += 1
                me.sent_ids.append(f"m{n}")
                me.send(f"m{n}", f"message {n}", wait=step == "send")
                if step == "send_and_drop":
                    me.drop()  # gone before the ack: the widget will resend
            elif step == "resend" and me.sent_ids:
                me.send(me.sent_ids[len(me.sent_ids) // 2], "again")
            elif step == "reconnect":
                me.drop()
                me.connect()
        me.drop()
        me.connect()  # a final reload: resends what is pending, replays what was missed
        assert not me.pending
    finally:
        me.drop()
    stored = db.execute(
        select(Message.seq, Message.client_msg_id).where(
            Message.conversation_id == chat["conversation_id"]
        )
    ).rows
    assert sorted(s for s, _ in stored) == list(range(1, len(me.sent_ids) + 1))
    assert sorted(c for _, c in stored) == sorted(me.sent_ids)
    assert me.received == dict(stored)
