from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdMixin, IdType, TimestampMixin, utcnow


class KbArticle(IdMixin, TimestampMixin, Base):
    """A knowledge-base article (知识库文章). The row holds the working copy (the latest
    version); `published_version` is the version readers and search see, which stays live
    while a newer draft is in review."""

    __tablename__ = "kb_articles"
    __table_args__ = (Index("ix_kb_articles_tenant_status", "tenant_id", "status"),)

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"), index=True)
    language: Mapped[str] = mapped_column(String(8))  # zh, en
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # markdown
    category: Mapped[str] = mapped_column(String(100), default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(
        String(16), default="draft"
    )  # draft review published archived
    origin: Mapped[str] = mapped_column(String(16), default="staff")  # staff, community
    author_user_id: Mapped[str | None] = mapped_column(IdType, ForeignKey("users.id"))
    author_customer_id: Mapped[str | None] = mapped_column(IdType, ForeignKey("customers.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    published_version: Mapped[int | None] = mapped_column(Integer)
    published_at: Mapped[datetime | None]
    helpful_count: Mapped[int] = mapped_column(Integer, default=0)
    not_helpful_count: Mapped[int] = mapped_column(Integer, default=0)


class KbArticleVersion(IdMixin, Base):
    """Every edit of an article, kept: the history can be read and any version restored."""

    __tablename__ = "kb_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "version"),)

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"))
    article_id: Mapped[str] = mapped_column(IdType, ForeignKey("kb_articles.id"))
    version: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(100), default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    author_user_id: Mapped[str | None] = mapped_column(IdType, ForeignKey("users.id"))
    author_customer_id: Mapped[str | None] = mapped_column(IdType, ForeignKey("customers.id"))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
