from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdMixin, IdType, utcnow


class TicketEntry(IdMixin, Base):
    """A line in a ticket's conversation: an internal `note` (staff only) or a `reply` to the
    customer."""

    __tablename__ = "ticket_entries"
    __table_args__ = (Index("ix_ticket_entries_ticket", "ticket_id", "created_at"),)

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"))
    ticket_id: Mapped[str] = mapped_column(IdType, ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[str | None] = mapped_column(IdType, ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketAttachment(IdMixin, Base):
    """A file on a ticket, kept in the database: see tickets/service.py for why."""

    __tablename__ = "ticket_attachments"
    __table_args__ = (Index("ix_ticket_attachments_ticket", "ticket_id"),)

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"))
    ticket_id: Mapped[str] = mapped_column(IdType, ForeignKey("tickets.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[str | None] = mapped_column(IdType, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketFollowUp(IdMixin, Base):
    """ "We will find out and call you back": a call-back the owner promised, due at a time."""

    __tablename__ = "ticket_followups"
    __table_args__ = (Index("ix_ticket_followups_owner", "tenant_id", "owner_id", "due_at"),)

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"))
    ticket_id: Mapped[str] = mapped_column(IdType, ForeignKey("tickets.id"), index=True)
    owner_id: Mapped[str | None] = mapped_column(IdType, ForeignKey("users.id"))
    due_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(String(500), default="")
    done_at: Mapped[datetime | None]
    notified_at: Mapped[datetime | None]  # when the sweep told the owner it was due
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
