from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lianluo.db.base import Base, IdMixin, IdType, utcnow


class ScheduleActivity(IdMixin, Base):
    """One published activity of an agent's schedule (排班): work, break, lunch, meeting,
    training or off, from start to end. Adherence compares these with the agent's states."""

    __tablename__ = "schedule_activities"
    __table_args__ = (Index("ix_schedule_activities_agent", "tenant_id", "agent_id", "start_at"),)

    tenant_id: Mapped[str] = mapped_column(IdType, ForeignKey("tenants.id"))
    agent_id: Mapped[str] = mapped_column(IdType, ForeignKey("agents.id", ondelete="CASCADE"))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    activity: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
