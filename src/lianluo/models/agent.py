from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Double, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lianluo.db.base import Base, IdMixin, IdType, JSONType, TimestampMixin, utcnow


class AgentStateName(StrEnum):
    offline = "offline"
    available = "available"
    busy = "busy"
    wrap_up = "wrap_up"
    break_ = "break"


class Agent(IdMixin, TimestampMixin, Base):
    """A user who takes contacts: skills with levels, attributes, capacity per channel, state."""

    __tablename__ = "agents"

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"), index=True)
    user_id: Mapped[str] = mapped_column(IdType, ForeignKey("users.id"), unique=True)
    partner_id: Mapped[str | None] = mapped_column(IdType, ForeignKey("partners.id"), index=True)
    team: Mapped[str] = mapped_column(String(100), default="")
    career_level: Mapped[str] = mapped_column(String(32), default="qualified")
    # languages, age_band, region … matched by queue attribute expressions
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # channel -> how many at once, e.g. {"voice": 1, "chat": 3, "email": 5}
    capacity: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    state: Mapped[str] = mapped_column(String(16), default=AgentStateName.offline)
    state_reason: Mapped[str] = mapped_column(String(64), default="")
    state_since: Mapped[datetime] = mapped_column(default=utcnow)
    # the routing engine's idle clock (epoch seconds): longest-idle selection orders by it
    ready_since_s: Mapped[float | None] = mapped_column(Double)

    skills: Mapped[list[AgentSkill]] = relationship(
        back_populates="agent", lazy="raise", cascade="all, delete-orphan"
    )


class AgentSkill(Base):
    __tablename__ = "agent_skills"
    __table_args__ = (UniqueConstraint("agent_id", "skill_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"), index=True)
    agent_id: Mapped[str] = mapped_column(IdType, ForeignKey("agents.id", ondelete="CASCADE"))
    skill_id: Mapped[str] = mapped_column(IdType, ForeignKey("skills.id"), index=True)
    level: Mapped[int]

    agent: Mapped[Agent] = relationship(back_populates="skills", lazy="raise")
