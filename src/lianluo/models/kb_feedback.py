from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdMixin, IdType, utcnow


class KbFeedback(IdMixin, Base):
    """Was this article helpful? One vote per user and article; voting again changes it."""

    __tablename__ = "kb_feedback"
    __table_args__ = (UniqueConstraint("article_id", "user_id"),)

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"))
    article_id: Mapped[str] = mapped_column(IdType, ForeignKey("kb_articles.id"), index=True)
    user_id: Mapped[str] = mapped_column(IdType, ForeignKey("users.id"))
    helpful: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
