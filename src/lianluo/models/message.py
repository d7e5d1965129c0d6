from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdMixin, IdType, utcnow


class Message(IdMixin, Base):
    """Chat, e-mail or SMS text within a conversation."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation", "conversation_id", "created_at"),
        # A client retrying a send after a reconnect must not create a second copy.
        UniqueConstraint("conversation_id", "client_msg_id"),
        UniqueConstraint("conversation_id", "seq"),
    )

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"))
    conversation_id: Mapped[str] = mapped_column(IdType, ForeignKey("conversations.id"))
    contact_id: Mapped[str | None] = mapped_column(IdType, ForeignKey("contacts.id"))
    sender_kind: Mapped[str] = mapped_column(String(16))  # customer, agent, system, bot
    sender_id: Mapped[str | None] = mapped_column(IdType)
    body: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(64), default="text/plain")
    client_msg_id: Mapped[str | None] = mapped_column(String(64))
    # chat: 1, 2, 3 … per conversation, so a reconnecting client asks for what it missed
    seq: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
