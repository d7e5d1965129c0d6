from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdMixin, IdType, TimestampMixin


class KbContributor(IdMixin, TimestampMixin, Base):
    """A customer an admin made a super user (超级用户): they may submit community articles
    with a personal key. Only the key's SHA-256 is stored; revoking clears it."""

    __tablename__ = "kb_contributors"
    __table_args__ = (UniqueConstraint("tenant_id", "customer_id"),)

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"))
    customer_id: Mapped[str] = mapped_column(IdType, ForeignKey("customers.id"))
    key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(16), default="")  # shown to admins
    issued_by: Mapped[str | None] = mapped_column(IdType, ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None]
