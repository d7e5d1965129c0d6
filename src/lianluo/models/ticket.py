from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Double, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdMixin, IdType, TimestampMixin


class Ticket(IdMixin, TimestampMixin, Base):
    """A work order (工单): a customer need carried past the first contact to its resolution."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_tenant_status", "tenant_id", "status", "sla_due_at"),
        Index("ix_tickets_sla_warn", "status", "sla_warn_at"),
        Index("ix_tickets_sla_due", "status", "sla_due_at"),
        Index("ix_tickets_customer", "tenant_id", "customer_id", "category_id", "created_at"),
        Index("ix_tickets_owner", "tenant_id", "owner_id", "status"),
    )

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"))
    # The outsourcing partner whose queue took the need (or whose user filed it), if any.
    partner_id: Mapped[str | None] = mapped_column(IdType, ForeignKey("partners.id"), index=True)
    customer_id: Mapped[str] = mapped_column(IdType, ForeignKey("customers.id"))
    contact_id: Mapped[str | None] = mapped_column(IdType, ForeignKey("contacts.id"), index=True)
    category_id: Mapped[str] = mapped_column(IdType, ForeignKey("ticket_categories.id"))
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(24), default="new")
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    source: Mapped[str] = mapped_column(String(32), default="manual")  # contact, manual, regulator…
    # copied from the category when filed: changing a category never rewrites running tickets
    ownership_model: Mapped[str] = mapped_column(String(16))
    tier: Mapped[int] = mapped_column(default=0)
    tier_changes: Mapped[int] = mapped_column(default=0)
    queue_id: Mapped[str | None] = mapped_column(IdType, ForeignKey("queues.id"))
    owner_id: Mapped[str | None] = mapped_column(IdType, ForeignKey("users.id"))
    first_owner_id: Mapped[str | None] = mapped_column(IdType, ForeignKey("users.id"))
    owners: Mapped[list[str]] = mapped_column(JSON, default=list)  # everyone who owned it
    created_by: Mapped[str | None] = mapped_column(IdType, ForeignKey("users.id"))
    over_the_head: Mapped[bool] = mapped_column(default=False)
    repeat_complaint: Mapped[bool] = mapped_column(default=False)
    repeat_of_id: Mapped[str | None] = mapped_column(IdType)
    # SLA clock (domain/tickets/sla.py): business seconds against the priority's target
    sla_target_s: Mapped[int] = mapped_column(default=0)
    sla_warn_before_s: Mapped[int] = mapped_column(default=0)
    sla_started_at: Mapped[datetime]
    sla_paused_since: Mapped[datetime | None]
    sla_paused_s: Mapped[float] = mapped_column(Double, default=0.0)
    # when the running clock turns amber and red: what the sweep's query selects on
    sla_warn_at: Mapped[datetime | None]
    sla_due_at: Mapped[datetime | None]
    sla_warned_at: Mapped[datetime | None]
    sla_breached_at: Mapped[datetime | None]
    breaches: Mapped[int] = mapped_column(default=0)
    escalations: Mapped[int] = mapped_column(default=0)
    reopens: Mapped[int] = mapped_column(default=0)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(IdType)
    closed_at: Mapped[datetime | None]
    merged_into_id: Mapped[str | None] = mapped_column(IdType)
    csat_score: Mapped[int | None]
    csat_comment: Mapped[str] = mapped_column(String(1000), default="")
    rated_at: Mapped[datetime | None]
