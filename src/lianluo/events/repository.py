from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from lianluo.auth.principal import Principal
from lianluo.customers.repository import partner_queue_ids
from lianluo.models import Event


@dataclass(frozen=True, slots=True)
class EventFilter:
    type: str | None = None
    type_prefix: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    customer_id: str | None = None
    contact_id: str | None = None
    queue_id: str | None = None
    agent_id: str | None = None
    actor_id: str | None = None


class EventRepository:
    def list(
        self, session: Session, principal: Principal, flt: EventFilter, offset: int, limit: int
    ) -> tuple[Sequence[Event], int]:
        conditions = [Event.tenant_id == principal.tenant_id]
        if principal.partner_id is not None:
            conditions.append(
                or_(
                    Event.partner_id == principal.partner_id,
                    Event.queue_id.in_(partner_queue_ids(principal.partner_id)),
                )
            )
        if flt.type:
            conditions.append(Event.type == flt.type)
        if flt.type_prefix:
            conditions.append(Event.type.startswith(flt.type_prefix, autoescape=True))
        if flt.since:
            conditions.append(Event.occurred_at >= flt.since)
        if flt.until:
            conditions.append(Event.occurred_at < flt.until)
        for column, value in (
            (Event.customer_id, flt.customer_id),
            (Event.contact_id, flt.contact_id),
            (Event.queue_id, flt.queue_id),
            (Event.agent_id, flt.agent_id),
            (Event.actor_id, flt.actor_id),
        ):
            if value:
                conditions.append(column == value)
        total = session.execute(select(func.count()).select_from(Event).where(*conditions))
        rows = session.execute(
            select(Event)
            .where(*conditions)
            .order_by(Event.occurred_at.desc(), Event.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return rows.scalars().all(), total.scalar_one()


event_repository = EventRepository()
