from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdMixin, IdType, TimestampMixin


class VoicePhone(IdMixin, TimestampMixin, Base):
    """An agent's SIP phone: the user it registers as and the digest secret.

    Only HA1 = MD5(user:realm:password) is stored (RFC 2617 3.2.2.2), which is what digest
    verification needs; the password itself is never kept.
    """

    __tablename__ = "voice_phones"
    __table_args__ = (UniqueConstraint("tenant_id", "sip_user"),)

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"), index=True)
    agent_id: Mapped[str] = mapped_column(IdType, ForeignKey("agents.id"), unique=True)
    sip_user: Mapped[str] = mapped_column(String(64))
    realm: Mapped[str] = mapped_column(String(100))
    ha1: Mapped[str] = mapped_column(String(32))
