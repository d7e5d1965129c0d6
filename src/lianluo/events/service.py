"""Append to the event log in the caller's transaction; publish once it commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import insert, text
from sqlalchemy.orm import Session, sessionmaker

from lianluo.auth.principal import Principal
from lianluo.db.base import utcnow
from lianluo.models.event import Event

_PENDING = "lianluo.pending_events"
BUS_KEY = "lianluo.bus"


class EventService:
    def append(
        self,
        session: Session,
        tenant_id: str,
        type: str,
        *,
        actor: Principal | None = None,
        occurred_at: datetime | None = None,
        customer_id: str | None = None,
        contact_id: str | None = None,
        queue_id: str | None = None,
        agent_id: str | None = None,
        partner_id: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> Event:
        row = Event(
            tenant_id=tenant_id,
            type=type,
            occurred_at=occurred_at or utcnow(),
            actor_id=actor.user_id if actor else None,
            customer_id=customer_id,
            contact_id=contact_id,
            queue_id=queue_id,
            agent_id=agent_id,
            partner_id=partner_id,
            payload=payload or {},
        )
        session.add(row)
        session.info.setdefault(_PENDING, []).append(row)
        return row

    def audit(
        self,
        session: Session,
        actor: Principal,
        action: str,
        *,
        customer_id: str | None = None,
        payload: dict[str, Any] | None = None,
        read_only: bool = False,
    ) -> None:
        """Who saw or changed customer data, and when: `audit.customer.read` and the like.

        Audit rows go straight to the table (a Core insert, no ORM flush) and are not broadcast
        on the bus. For a transaction that only *read* customer data (`read_only`), PostgreSQL
        may acknowledge the commit before the WAL reaches the disk (synchronous_commit off for this
        transaction only): a crash in the next fraction of a second could lose the record that
        someone looked, never a change anybody made.
        """
        if read_only and session.get_bind().dialect.name == "postgresql":
            session.execute(_ASYNC_COMMIT)
        session.execute(
            insert(Event).values(
                tenant_id=actor.tenant_id,
                type=f"audit.{action}",
                occurred_at=utcnow(),
                actor_id=actor.user_id,
                customer_id=customer_id,
                partner_id=actor.partner_id,
                payload=payload or {},
            )
        )


_ASYNC_COMMIT = text("SET LOCAL synchronous_commit TO OFF")

event_service = EventService()


def event_as_dict(row: Event) -> dict[str, Any]:
    return {
        "id": row.id,
        "tenant_id": row.tenant_id,
        "type": row.type,
        "occurred_at": row.occurred_at.isoformat(),
        "actor_id": row.actor_id,
        "customer_id": row.customer_id,
        "contact_id": row.contact_id,
        "queue_id": row.queue_id,
        "agent_id": row.agent_id,
        "partner_id": row.partner_id,
        "payload": row.payload,
    }


def install_publisher(factory: sessionmaker[Session]) -> None:
    """Publish each session's appended events to its bus after commit; drop them on rollback."""

    @sa_event.listens_for(factory, "after_commit")
    def _after_commit(session: Session) -> None:
        pending = session.info.pop(_PENDING, None)
        bus = session.info.get(BUS_KEY)
        if pending and bus is not None:
            for row in pending:
                bus.publish(event_as_dict(row))

    @sa_event.listens_for(factory, "after_soft_rollback")
    def _after_rollback(session: Session, _previous: Any) -> None:
        session.info.pop(_PENDING, None)
