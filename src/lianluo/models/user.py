from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdMixin, IdType, TimestampMixin


class Role(StrEnum):
    agent = "agent"
    supervisor = "supervisor"
    qa = "qa"
    wfm = "wfm"
    admin = "admin"
    partner_admin = "partner_admin"


class User(IdMixin, TimestampMixin, Base):
    """A person who logs in. Partner users (partner_id set) see only what their partner serves."""

    __tablename__ = "users"

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"), index=True)
    partner_id: Mapped[str | None] = mapped_column(IdType, ForeignKey("partners.id"), index=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    locale: Mapped[str] = mapped_column(String(16), default="zh-CN")
    is_active: Mapped[bool] = mapped_column(default=True)
    # Platform operator: may administer tenants. Not a tenant role.
    is_superuser: Mapped[bool] = mapped_column(default=False)
    # Raised on password change or forced logout: every token issued before is void.
    token_version: Mapped[int] = mapped_column(default=0)
    last_login_at: Mapped[datetime | None]
