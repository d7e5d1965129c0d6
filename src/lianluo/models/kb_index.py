from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdType


class KbDocument(Base):
    """An article as the search index knows it: its published version, weighted length
    (BM25 |D|) and language. One row per published article."""

    __tablename__ = "kb_documents"
    __table_args__ = (Index("ix_kb_documents_tenant_language", "tenant_id", "language"),)

    article_id: Mapped[str] = mapped_column(IdType, ForeignKey("kb_articles.id"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"))
    language: Mapped[str] = mapped_column(String(8))
    title_length: Mapped[int] = mapped_column(Integer)
    body_length: Mapped[int] = mapped_column(Integer)


class KbPosting(Base):
    """Inverted index: a term of a published article, with its frequency in the title field
    and in the body."""

    __tablename__ = "kb_postings"
    __table_args__ = (Index("ix_kb_postings_tenant_term", "tenant_id", "term", "article_id"),)

    article_id: Mapped[str] = mapped_column(IdType, ForeignKey("kb_articles.id"), primary_key=True)
    term: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"))
    body_tf: Mapped[int] = mapped_column(Integer)
    title_tf: Mapped[int] = mapped_column(Integer)


class KbIndexStats(Base):
    """Corpus statistics BM25 needs on every query (N and the sum of weighted lengths, for
    avgdl), per tenant and language, kept up to date as articles enter and leave the index."""

    __tablename__ = "kb_index_stats"

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    documents: Mapped[int] = mapped_column(Integer, default=0)
    total_length: Mapped[float] = mapped_column(Float, default=0.0)
