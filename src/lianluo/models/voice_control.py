from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdMixin, IdType, TimestampMixin


class VoiceControl(IdMixin, TimestampMixin, Base):
    """What the agent's desk asks of a connected call's media: hold, or a consultation call
    to another agent. The voice worker that carries the call reconciles its SIP legs to this
    row (woken by the row's events, or by its safety poll), so a desk in any process and a
    worker in another agree through the database. One row per voice contact, made on first use.
    """

    __tablename__ = "voice_controls"

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"), index=True)
    contact_id: Mapped[str] = mapped_column(IdType, ForeignKey("contacts.id"), unique=True)
    hold: Mapped[bool] = mapped_column(default=False)
    held_since: Mapped[datetime | None]
    consult_agent_id: Mapped[str | None] = mapped_column(IdType, ForeignKey("agents.id"))
