from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdMixin, IdType, utcnow


class Conversation(IdMixin, Base):
    """One customer need, which may continue across channels (chat → phone → e-mail)."""

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_customer", "tenant_id", "customer_id", "started_at"),)

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"))
    customer_id: Mapped[str] = mapped_column(IdType, ForeignKey("customers.id"))
    subject: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
