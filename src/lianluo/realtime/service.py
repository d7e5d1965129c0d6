"""The wallboard's live boards, one per tenant: built from the database, kept from events.

`RealtimeService` subscribes to the app's event bus. Each event (published after its commit)
is folded into the tenant's board at once and listeners (the /ws/wall sockets) are told. A
board is rebuilt from the database (reconcile) when it is first needed, when a queue or an
agent was edited, and every `reconcile_s`, which also brings in what other server processes
committed (the in-process bus does not carry their events).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from lianluo.auth.principal import EVENT_READERS, Principal
from lianluo.realtime.board import CHART_HOURS, TenantBoard
from lianluo.realtime.repository import realtime_repository

log = logging.getLogger(__name__)

MAX_INBOX = 100_000  # events waiting for a reader before the boards are rebuilt instead
SHARE_S = 1.0  # a snapshot of an unchanged board is reused this long
WALL_READERS = EVENT_READERS  # supervisor, qa, wfm, admin, partner_admin
Listener = Callable[[str], None]


def day_start(now: float, tz: str) -> float:
    """Local midnight (in the tenant's zone) of the day holding `now`, as epoch seconds."""
    local = datetime.fromtimestamp(now, ZoneInfo(tz))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


class RealtimeService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Callable[[], float] = time.time,
        reconcile_s: float = 30.0,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.reconcile_s = reconcile_s
        self._boards: dict[str, TenantBoard] = {}
        self._replay: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()  # boards, replay lists, snapshot cache
        self._listeners_lock = threading.Lock()
        self._listeners: list[Listener] = []
        # Events wait here until a reader folds them in: the publishing thread (a request
        # finishing its commit) never waits for a snapshot being computed.
        self._inbox: deque[dict[str, Any]] = deque()
        self._versions: dict[str, int] = {}
        self._cache: dict[tuple[str, str | None], tuple[int, float, dict[str, Any]]] = {}

    # ---- events in, changes out --------------------------------------------------------------

    def on_event(self, event: dict[str, Any]) -> None:
        """EventBus subscriber."""
        tenant_id = str(event.get("tenant_id", ""))
        if str(event.get("type", "")).startswith("audit."):
            return
        # nobody watches this tenant's wall yet: its first reader loads the board from the DB
        if tenant_id in self._boards or tenant_id in self._replay:
            if len(self._inbox) >= MAX_INBOX:  # nobody has read for ages: rebuild instead
                with self._lock:
                    self._inbox.clear()
                    for board in self._boards.values():
                        board.stale = True
            self._inbox.append(event)
        self._notify(tenant_id)

    def _drain(self) -> None:
        """Fold the waiting events into their boards (call with self._lock held)."""
        while self._inbox:
            event = self._inbox.popleft()
            tenant_id = str(event.get("tenant_id", ""))
            board = self._boards.get(tenant_id)
            if board is not None and board.apply(event):
                self._versions[tenant_id] = self._versions.get(tenant_id, 0) + 1
            if tenant_id in self._replay:
                self._replay[tenant_id].append(event)

    def listen(self, listener: Listener) -> Callable[[], None]:
        with self._listeners_lock:
            self._listeners.append(listener)

        def stop() -> None:
            with self._listeners_lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return stop

    def _notify(self, tenant_id: str) -> None:
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(tenant_id)
            except Exception:  # a closed socket must not stop the others
                log.exception("wallboard listener failed")

    # ---- boards -----------------------------------------------------------------------------

    def reconcile(self, tenant_id: str) -> TenantBoard:
        """Rebuild the tenant's board from the database; events that arrive meanwhile are
        replayed on the new board, so none is lost between the read and the swap."""
        now = self.clock()
        with self._lock:
            self._drain()
            self._replay[tenant_id] = []
        try:
            with self.sessions() as session:
                tz = realtime_repository.tenant_timezone(session, tenant_id)
                start = min(day_start(now, tz), now - CHART_HOURS * 3600.0)
                board = realtime_repository.load(session, tenant_id, start, now)
        except BaseException:
            with self._lock:
                self._replay.pop(tenant_id, None)
            raise
        with self._lock:
            self._drain()
            for event in self._replay.pop(tenant_id, []):
                board.apply(event)
            board.stale = False
            self._boards[tenant_id] = board
            self._versions[tenant_id] = self._versions.get(tenant_id, 0) + 1
        return board

    def _fresh_board(self, tenant_id: str) -> TenantBoard:
        with self._lock:
            self._drain()
            board = self._boards.get(tenant_id)
        if board is None or board.stale or self.clock() - board.built_at > self.reconcile_s:
            board = self.reconcile(tenant_id)
        return board

    def snapshot(self, principal: Principal) -> dict[str, Any]:
        """The wallboard's figures for the caller (a partner user sees only its queues)."""
        principal.require(WALL_READERS, "reading the wallboard")
        board = self._fresh_board(principal.tenant_id)
        now = self.clock()
        start = day_start(now, board.tz)
        key = (principal.tenant_id, principal.partner_id)
        with self._lock:
            self._drain()
            version = self._versions.get(principal.tenant_id, 0)
            cached = self._cache.get(key)
            # sockets woken by the same event share one computation
            if cached is not None and cached[0] == version and 0 <= now - cached[1] < SHARE_S:
                return cached[2]
            board.prune(min(start, now - CHART_HOURS * 3600.0))
            snapshot = board.snapshot(now, start, principal.partner_id)
            self._cache[key] = (version, now, snapshot)
            return snapshot


def realtime_of(ctx: Any) -> RealtimeService:
    """The app's realtime service (created on first use, subscribed to its event bus). It
    reads the routing clock, so tests that move `ctx.extras["router_clock"]` move it too."""
    service = ctx.extras.get("realtime")
    if service is None:
        with _create_guard:
            service = ctx.extras.get("realtime")
            if service is None:
                clock = ctx.extras.get("router_clock", time.time)
                service = RealtimeService(
                    ctx.sessions, clock, ctx.extras.get("realtime_reconcile_s", 30.0)
                )
                ctx.bus.subscribe(service.on_event)
                ctx.extras["realtime"] = service
    return service


_create_guard = threading.Lock()
