from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdMixin, IdType, JSONType, TimestampMixin


class Queue(IdMixin, TimestampMixin, Base):
    """Where contacts wait; its skills, priority, service-level target and relaxation steps."""

    __tablename__ = "queues"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"), index=True)
    # The outsourcing partner that works this queue, if any.
    partner_id: Mapped[str | None] = mapped_column(IdType, ForeignKey("partners.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority: Mapped[int] = mapped_column(default=0)
    # skill name -> minimum level (1-10)
    required_skills: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    attribute_expr: Mapped[str] = mapped_column(Text, default="")
    selection_policy: Mapped[str] = mapped_column(String(32), default="longest_idle")
    ageing_per_min: Mapped[float] = mapped_column(default=1.0)
    sl_target_s: Mapped[int] = mapped_column(default=20)
    sl_target_ratio: Mapped[float] = mapped_column(default=0.8)
    short_abandon_s: Mapped[int] = mapped_column(default=5)
    offer_timeout_s: Mapped[int] = mapped_column(default=20)
    wrap_up_s: Mapped[int] = mapped_column(default=30)
    relaxation: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    business_hours: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    callback_enabled: Mapped[bool] = mapped_column(default=True)
    is_active: Mapped[bool] = mapped_column(default=True)
