from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdType, JSONType, TimestampMixin


class TicketSettings(TimestampMixin, Base):
    """A tenant's ticket rules: business calendar, SLA per priority, repeat-complaint window.
    A tenant without a row works with the defaults of tickets/schemas.py."""

    __tablename__ = "ticket_settings"

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"), primary_key=True)
    # {"mon": [["09:00", "12:00"], ["13:00", "18:00"]], ...}
    business_hours: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    holidays: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISO dates
    makeup_days: Mapped[list[str]] = mapped_column(JSON, default=list)  # 调休 working days
    # {"urgent": {"target_s": 14400, "warn_before_s": 3600}, ...}
    sla: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    repeat_window_days: Mapped[int] = mapped_column(default=30)
