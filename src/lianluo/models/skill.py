from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdMixin, IdType, TimestampMixin


class Skill(IdMixin, TimestampMixin, Base):
    """A skill group (座席技能分组): billing, broadband, english, vip_care …"""

    __tablename__ = "skills"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
