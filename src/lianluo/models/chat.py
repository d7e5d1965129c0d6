from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdMixin, IdType, TimestampMixin, utcnow


class ChatSession(IdMixin, Base):
    """A web-chat conversation as the widget knows it: the customer's token (stored hashed),
    the message sequence counter, read pointers and the rating at the end."""

    __tablename__ = "chat_sessions"
    __table_args__ = (Index("ix_chat_sessions_tenant_created", "tenant_id", "created_at"),)

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"))
    conversation_id: Mapped[str] = mapped_column(
        IdType, ForeignKey("conversations.id"), unique=True
    )
    customer_id: Mapped[str] = mapped_column(IdType, ForeignKey("customers.id"), index=True)
    queue_id: Mapped[str] = mapped_column(IdType, ForeignKey("queues.id"))
    # the routed contact of the chat now (a callback or a new chat adds another)
    contact_id: Mapped[str | None] = mapped_column(IdType, ForeignKey("contacts.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # waiting, connected, ended, left_message, callback
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    last_seq: Mapped[int] = mapped_column(default=0)
    customer_read_seq: Mapped[int] = mapped_column(default=0)
    agent_read_seq: Mapped[int] = mapped_column(default=0)
    rating: Mapped[int | None]
    rating_comment: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="zh")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]


class CannedReply(IdMixin, TimestampMixin, Base):
    """A prepared answer an agent inserts with one key (常用语), per tenant."""

    __tablename__ = "canned_replies"
    __table_args__ = (Index("ix_canned_replies_tenant_title", "tenant_id", "title"),)

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"))
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="zh")
