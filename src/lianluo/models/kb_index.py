from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdType


class KbDocument(Base):
    """An article as the search index knows it: its published version's number in the index
    (`doc_no`, never reused for other text), lengths, language and the terms it was indexed
    under (so taking it out touches exactly those posting lists). One row per published
    article."""

    __tablename__ = "kb_documents"
    __table_args__ = (
        Index("ix_kb_documents_tenant_language", "tenant_id", "language"),
        UniqueConstraint("tenant_id", "doc_no"),
    )

    article_id: Mapped[str] = mapped_column(IdType, ForeignKey("kb_articles.id"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"))
    language: Mapped[str] = mapped_column(String(8))
    doc_no: Mapped[int] = mapped_column(Integer)
    title_length: Mapped[int] = mapped_column(Integer)
    body_length: Mapped[int] = mapped_column(Integer)
    terms: Mapped[str] = mapped_column(Text, default="")  # one per line
    # the sentence embedding of the published version (domain/kb/vectors.py: float16 bytes);
    # null for articles indexed before embeddings, which lexical search alone finds
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)


class KbTermPostings(Base):
    """Inverted index, one row per term and language part of a tenant's index: the posting
    list of the term as packed records (domain/kb/postings.py), and its length (df)."""

    __tablename__ = "kb_term_postings"

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"), primary_key=True)
    term: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    documents: Mapped[int] = mapped_column(Integer)
    # random on every write: a process may keep the decoded list while the revision holds
    revision: Mapped[int] = mapped_column(BigInteger)
    postings: Mapped[bytes] = mapped_column(LargeBinary)


class KbIndexHead(Base):
    """Per tenant: the next document number. Writers of the index lock this row first, so
    one tenant's index changes one publish at a time (no lost update of a posting list, no
    deadlock between two publishes that share terms)."""

    __tablename__ = "kb_index_heads"

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"), primary_key=True)
    next_doc_no: Mapped[int] = mapped_column(Integer, default=1)


class KbIndexStats(Base):
    """Corpus statistics BM25 needs on every query (N and the sum of weighted lengths, for
    avgdl), per tenant and language, kept up to date as articles enter and leave the index."""

    __tablename__ = "kb_index_stats"

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    documents: Mapped[int] = mapped_column(Integer, default=0)
    total_length: Mapped[float] = mapped_column(Float, default=0.0)
