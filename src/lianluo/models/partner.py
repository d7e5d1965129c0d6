from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdMixin, IdType, TimestampMixin


class Partner(IdMixin, TimestampMixin, Base):
    """An outsourcing organisation inside a tenant; it serves some of the tenant's queues."""

    __tablename__ = "partners"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)
