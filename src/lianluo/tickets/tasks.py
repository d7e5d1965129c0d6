"""The SLA sweep as a background thread of a served process (and its one-shot form)."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from lianluo.tickets.schemas import SweepOut
from lianluo.tickets.service import ticket_service

log = logging.getLogger(__name__)
SWEEP_INTERVAL_S = 60.0


def sweep_once(
    sessions: sessionmaker[Session], now: datetime | None = None, tenant_id: str | None = None
) -> SweepOut:
    """One sweep in its own transaction, committed at the end (the events publish then)."""
    with sessions() as session:
        result = ticket_service.sweep(session, now=now, tenant_id=tenant_id)
        session.commit()
        return result


class TicketSweeper:
    def __init__(self, sessions: sessionmaker[Session], interval_s: float = SWEEP_INTERVAL_S):
        self._sessions = sessions
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ticket-sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                result = sweep_once(self._sessions)
                if result.warned or result.breached:
                    log.info("ticket sweep: %s", result.model_dump())
            except Exception:  # keep sweeping; the next minute may succeed
                log.exception("ticket sweep failed")
