from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdType


class RoutingState(Base):
    """One row per tenant: every routing transaction locks it and bumps `version`, so routing
    changes of a tenant are serialised across processes and a cached engine knows whether the
    database moved on without it (runtime/router.py)."""

    __tablename__ = "routing_states"

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    next_seq: Mapped[int] = mapped_column(BigInteger, default=0)
