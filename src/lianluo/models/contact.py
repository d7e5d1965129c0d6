from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Double, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdMixin, IdType, JSONType, utcnow


class ContactState(StrEnum):
    queued = "queued"
    offered = "offered"
    connected = "connected"
    wrap_up = "wrap_up"
    callback_scheduled = "callback_scheduled"
    ended = "ended"
    abandoned = "abandoned"


class Contact(IdMixin, Base):
    """One routed piece of work: a call, a chat, an e-mail …"""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_customer", "tenant_id", "customer_id", "queued_at"),
        Index("ix_contacts_queue_state", "tenant_id", "queue_id", "state"),
        Index("ix_contacts_conversation", "conversation_id"),
    )

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"))
    conversation_id: Mapped[str] = mapped_column(IdType, ForeignKey("conversations.id"))
    customer_id: Mapped[str] = mapped_column(IdType, ForeignKey("customers.id"))
    queue_id: Mapped[str | None] = mapped_column(IdType, ForeignKey("queues.id"))
    agent_id: Mapped[str | None] = mapped_column(IdType, ForeignKey("agents.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(16), default="inbound")
    state: Mapped[str] = mapped_column(String(24), default=ContactState.queued)
    priority: Mapped[int] = mapped_column(default=0)
    required_skills: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    disposition: Mapped[str] = mapped_column(String(64), default="")
    notes: Mapped[str] = mapped_column(Text, default="")

    # ---- routing state: enough to rebuild the engine after a crash (runtime/router.py) ----
    # Engine times are epoch seconds as floats, stored exactly (the datetimes above are for
    # people and reports); `routing_seq` is the engine's FIFO sequence number.
    tier: Mapped[int] = mapped_column(default=0)
    routing_seq: Mapped[int | None]
    arrived_s: Mapped[float | None] = mapped_column(Double)
    waiting_since_s: Mapped[float | None] = mapped_column(Double)
    relax_stage: Mapped[int] = mapped_column(default=0)
    offered_s: Mapped[float | None] = mapped_column(Double)
    offer_expires_s: Mapped[float | None] = mapped_column(Double)
    via_queue_id: Mapped[str | None] = mapped_column(IdType)
    excluded_agents: Mapped[list[str]] = mapped_column(JSON, default=list)
    target_agent_id: Mapped[str | None] = mapped_column(IdType)
    callback: Mapped[bool] = mapped_column(default=False)
    callback_due_s: Mapped[float | None] = mapped_column(Double)
    context: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
