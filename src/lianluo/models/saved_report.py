from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdMixin, IdType, JSONType, utcnow


class SavedReport(IdMixin, Base):
    """A report definition e-mailed on a schedule (`lianluo reports send-due`)."""

    __tablename__ = "saved_reports"
    __table_args__ = (Index("ix_saved_reports_due", "next_run_at"),)

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"), index=True)
    # No foreign keys on these two: deleting a user or a partner must not fail on the reports
    # they own; an owner who is gone has no rights, and the report is no longer sent.
    partner_id: Mapped[str | None] = mapped_column(IdType)
    owner_id: Mapped[str | None] = mapped_column(IdType)
    name: Mapped[str] = mapped_column(String(120))
    # grain, group_by, days, queue_id, channel: the ReportQuery less its dates
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    format: Mapped[str] = mapped_column(String(8), default="xlsx")
    every: Mapped[str] = mapped_column(String(16), default="daily")
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    next_run_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
