from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdMixin, IdType, JSONType, TimestampMixin


class Customer(IdMixin, TimestampMixin, Base):
    """A person or company the center serves (客户档案)."""

    __tablename__ = "customers"
    __table_args__ = (Index("ix_customers_tenant_name", "tenant_id", "name"),)

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # lower-cased name plus the identities' values: what name/phone/e-mail search looks through
    search_text: Mapped[str] = mapped_column(String(1000), default="")
    language: Mapped[str] = mapped_column(String(16), default="zh")
    region: Mapped[str] = mapped_column(String(100), default="")
    value_tier: Mapped[str] = mapped_column(String(16), default="standard")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    consents: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    churn_risk: Mapped[float | None]
    merged_into_id: Mapped[str | None] = mapped_column(IdType, ForeignKey("customers.id"))
    # The partner whose user created the customer; partner users see these and the customers
    # of contacts in the queues they serve.
    partner_id: Mapped[str | None] = mapped_column(IdType, ForeignKey("partners.id"), index=True)
