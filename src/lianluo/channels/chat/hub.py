"""Who is connected where, and the event-bus subscriber that pushes to them.

Each WebSocket is a `Connection` with an asyncio queue drained by one writer task. The bus
calls `ChatHub.on_event` in whatever thread committed; the hub hands each frame to the
connection's loop with `call_soon_threadsafe` (or straight to the queue when that thread is
the loop's own), so nothing here blocks a transaction.

- `chat.*` frames (message, typing, read, status) go to the conversation's connections;
- routing events (`contact.*`, `agent.state_changed`) go to the agent's desk connections as
  a `desk` frame (the desk refetches its chats), and to the customer of that contact as a
  `refresh` (the widget connection recomputes its status frame).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

_ids = itertools.count(1)


@dataclass(eq=False)
class Connection:
    kind: str  # customer or agent
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    id: int = field(default_factory=lambda: next(_ids))
    agent_id: str | None = None
    state: str = ""  # the customer's chat state, as last sent
    conversations: set[str] = field(default_factory=set)
    sent_seqs: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    # this socket's messages handed to the message writer and not answered yet, oldest first
    in_flight: deque[asyncio.Future[Any]] = field(default_factory=deque)
    # the loop's thread (connections are made on their loop)
    thread_id: int = field(default_factory=threading.get_ident)

    def push(self, frame: dict[str, Any]) -> None:
        """Thread-safe: queue a frame for this connection's writer."""
        if threading.get_ident() == self.thread_id:
            # on the loop already: call_soon_threadsafe would also wake the loop through
            # its self-pipe, a system call per frame
            self.queue.put_nowait(frame)
            return
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, frame)
        except RuntimeError:  # the loop is closed: the socket is gone
            pass


class ChatHub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_conversation: dict[str, set[Connection]] = defaultdict(set)
        self._by_agent: dict[str, set[Connection]] = defaultdict(set)
        self._by_contact: dict[str, set[Connection]] = defaultdict(set)

    # ---- membership --------------------------------------------------------------------------

    def join(self, conn: Connection, conversation_id: str) -> None:
        with self._lock:
            conn.conversations.add(conversation_id)
            self._by_conversation[conversation_id].add(conn)

    def leave_conversation(self, conn: Connection, conversation_id: str) -> None:
        with self._lock:
            conn.conversations.discard(conversation_id)
            members = self._by_conversation.get(conversation_id)
            if members is not None:
                members.discard(conn)
                if not members:
                    del self._by_conversation[conversation_id]

    def watch_contact(self, conn: Connection, contact_id: str | None) -> None:
        if contact_id is None:
            return
        with self._lock:
            self._by_contact[contact_id].add(conn)

    def watch_agent(self, conn: Connection, agent_id: str) -> None:
        with self._lock:
            conn.agent_id = agent_id
            self._by_agent[agent_id].add(conn)

    def drop(self, conn: Connection) -> None:
        with self._lock:
            for index in (self._by_conversation, self._by_agent, self._by_contact):
                for key in [k for k, members in index.items() if conn in members]:
                    index[key].discard(conn)
                    if not index[key]:
                        del index[key]

    def connections(self) -> int:
        with self._lock:
            members = set().union(*self._by_conversation.values(), *self._by_agent.values())
            return len(members)

    # ---- the bus subscriber ------------------------------------------------------------------

    def on_event(self, event: dict[str, Any]) -> None:
        kind = str(event.get("type", ""))
        if kind.startswith("chat.") and "conversation_id" in event:
            frame = dict(event)
            frame["type"] = kind.removeprefix("chat.")
            frame.pop("tenant_id", None)
            origin = frame.pop("origin", None)
            with self._lock:
                targets = list(self._by_conversation.get(event["conversation_id"], ()))
            for conn in targets:
                if conn.id != origin:
                    conn.push(frame)
            return
        if not kind.startswith(("contact.", "agent.", "chat.")):
            return
        contact_id = event.get("contact_id")
        agent_id = event.get("agent_id")
        with self._lock:
            agents = list(self._by_agent.get(agent_id, ())) if agent_id else []
            customers = list(self._by_contact.get(contact_id, ())) if contact_id else []
        desk = {"type": "desk", "event": kind, "contact_id": contact_id}
        for conn in agents:
            conn.push(desk)
        for conn in customers:
            conn.push({"type": "refresh", "event": kind})


def hub_of(ctx: Any) -> ChatHub:
    """The app's hub, created on first use and subscribed to its event bus."""
    hub = ctx.extras.get("chat_hub")
    if hub is None:
        with _create_guard:
            hub = ctx.extras.get("chat_hub")
            if hub is None:
                hub = ChatHub()
                ctx.bus.subscribe(hub.on_event)
                ctx.extras["chat_hub"] = hub
    return hub


_create_guard = threading.Lock()
