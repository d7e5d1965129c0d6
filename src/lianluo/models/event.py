from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, BigIntPK, IdType, JSONType, utcnow


class Event(Base):
    """The append-only log of everything that happened; KPIs, reports and audit read it."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_tenant_time", "tenant_id", "occurred_at"),
        Index("ix_events_tenant_type_time", "tenant_id", "type", "occurred_at"),
        Index("ix_events_customer", "tenant_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"))
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[str | None] = mapped_column(IdType)
    customer_id: Mapped[str | None] = mapped_column(IdType)
    contact_id: Mapped[str | None] = mapped_column(IdType, index=True)
    queue_id: Mapped[str | None] = mapped_column(IdType)
    agent_id: Mapped[str | None] = mapped_column(IdType)
    partner_id: Mapped[str | None] = mapped_column(IdType)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
