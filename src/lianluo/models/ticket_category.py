from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdMixin, IdType, TimestampMixin


class TicketCategory(IdMixin, TimestampMixin, Base):
    """What a ticket is about, and how it is owned: first_contact (首问负责) or tiered
    (首问 → 升级 → 支撑, with `tiers` beyond the first contact, each its own queue and skills)."""

    __tablename__ = "ticket_categories"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    ownership_model: Mapped[str] = mapped_column(String(16), default="first_contact")
    is_complaint: Mapped[bool] = mapped_column(default=False)
    # [{"name": "升级", "queue_id": "...", "required_skills": {"billing": 5}}, ...]
    tiers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(default=True)
