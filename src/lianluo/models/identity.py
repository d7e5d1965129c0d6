from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdMixin, IdType, TimestampMixin


class IdentityKind(StrEnum):
    phone = "phone"
    email = "email"
    wechat_openid = "wechat_openid"
    visitor_id = "visitor_id"


class Identity(IdMixin, TimestampMixin, Base):
    """A way to reach or recognise a customer; a second channel finds the same person."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("tenant_id", "kind", "value"),)

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"))
    customer_id: Mapped[str] = mapped_column(IdType, ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(320))
    verified: Mapped[bool] = mapped_column(default=False)
