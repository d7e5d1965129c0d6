from __future__ import annotations

from sqlalchemy import JSON, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdType, TimestampMixin


class KbSynonyms(TimestampMixin, Base):
    """A tenant's own synonym groups for knowledge-base search (its products, plans and the
    words its customers use), searched beside the built-in groups. One row per tenant."""

    __tablename__ = "kb_synonyms"

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"), primary_key=True)
    groups: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    updated_by: Mapped[str | None] = mapped_column(IdType, ForeignKey("users.id"))
