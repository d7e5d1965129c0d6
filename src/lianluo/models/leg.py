from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdMixin, IdType, utcnow


class Leg(IdMixin, Base):
    """An agent's part of a contact; transfers and escalations add legs."""

    __tablename__ = "legs"

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"))
    contact_id: Mapped[str] = mapped_column(IdType, ForeignKey("contacts.id"), index=True)
    agent_id: Mapped[str] = mapped_column(IdType, ForeignKey("agents.id"), index=True)
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # completed, transferred, rejected, offer_timeout, abandoned
    end_reason: Mapped[str] = mapped_column(String(32), default="")
    talk_s: Mapped[float] = mapped_column(default=0.0)
    hold_s: Mapped[float] = mapped_column(default=0.0)
    acw_s: Mapped[float] = mapped_column(default=0.0)
