"""Every query of the WFM module, scoped by tenant and, for partner users, by partner."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.orm import Session

from lianluo.auth.principal import Principal
from lianluo.customers.repository import partner_queue_ids
from lianluo.models import Agent, Event, Queue, ScheduleActivity, Tenant, User


def event_scope(principal: Principal) -> ColumnElement[bool]:
    condition = Event.tenant_id == principal.tenant_id
    if principal.partner_id is not None:
        condition = and_(
            condition,
            or_(
                Event.partner_id == principal.partner_id,
                Event.queue_id.in_(partner_queue_ids(principal.partner_id)),
            ),
        )
    return condition


@dataclass(frozen=True, slots=True)
class AgentRow:
    id: str
    label: str
    team: str


@dataclass(frozen=True, slots=True)
class StateChange:
    agent_id: str
    at: datetime
    payload: dict[str, Any]


class WfmRepository:
    def tenant_timezone(self, session: Session, tenant_id: str) -> str:
        tz = session.execute(select(Tenant.timezone).where(Tenant.id == tenant_id)).scalar()
        return tz or "UTC"

    def queue_in_scope(self, session: Session, principal: Principal, queue_id: str) -> bool:
        conditions = [Queue.id == queue_id, Queue.tenant_id == principal.tenant_id]
        if principal.partner_id is not None:
            conditions.append(Queue.partner_id == principal.partner_id)
        return session.execute(select(Queue.id).where(*conditions)).first() is not None

    def arrivals(
        self,
        session: Session,
        principal: Principal,
        since: datetime,
        until: datetime,
        queue_id: str | None,
    ) -> tuple[list[datetime], list[float]]:
        """Arrival times of contact.queued events and each contact's handle time (NaN when it
        has no contact.ended with talk_s: abandoned, or still open)."""
        conditions = [
            event_scope(principal),
            Event.occurred_at >= since,
            Event.occurred_at < until,
        ]
        if queue_id is not None:
            conditions.append(Event.queue_id == queue_id)
        queued = session.execute(
            select(Event.contact_id, Event.occurred_at)
            .where(*conditions, Event.type == "contact.queued")
            .order_by(Event.occurred_at, Event.id)
        ).all()
        handle: dict[str | None, float] = {}
        for contact_id, payload in session.execute(
            select(Event.contact_id, Event.payload).where(
                *conditions, Event.type == "contact.ended"
            )
        ):
            talk = (payload or {}).get("talk_s")
            if isinstance(talk, int | float):
                extra = sum(
                    float(payload.get(k) or 0.0)
                    for k in ("hold_s", "acw_s")
                    if isinstance(payload.get(k), int | float)
                )
                handle[contact_id] = float(talk) + extra
        times = [at for _, at in queued]
        handle_s = [handle.get(cid, float("nan")) if cid else float("nan") for cid, _ in queued]
        return times, handle_s

    def agents(self, session: Session, principal: Principal, team: str | None) -> list[AgentRow]:
        conditions = [Agent.tenant_id == principal.tenant_id]
        if principal.partner_id is not None:
            conditions.append(Agent.partner_id == principal.partner_id)
        if team is not None:
            conditions.append(Agent.team == team)
        rows = session.execute(
            select(Agent.id, User.display_name, User.username, Agent.team)
            .join(User, User.id == Agent.user_id)
            .where(*conditions)
            .order_by(Agent.team, User.username, Agent.id)
        )
        return [AgentRow(r.id, r.display_name or r.username, r.team or "") for r in rows]

    def state_changes(
        self,
        session: Session,
        principal: Principal,
        agent_ids: Sequence[str],
        since: datetime,
        until: datetime,
    ) -> list[StateChange]:
        """agent.state_changed events of these agents in [since, until), oldest first."""
        if not agent_ids:
            return []
        rows = session.execute(
            select(Event.agent_id, Event.occurred_at, Event.payload)
            .where(
                event_scope(principal),
                Event.type == "agent.state_changed",
                Event.agent_id.in_(list(agent_ids)),
                Event.occurred_at >= since,
                Event.occurred_at < until,
            )
            .order_by(Event.occurred_at, Event.id)
        )
        return [StateChange(r.agent_id, r.occurred_at, dict(r.payload or {})) for r in rows]

    def activities(
        self,
        session: Session,
        principal: Principal,
        agent_ids: Sequence[str],
        since: datetime,
        until: datetime,
    ) -> list[ScheduleActivity]:
        """The published activities of these agents (in scope) that overlap [since, until)."""
        if not agent_ids:
            return []
        in_scope = select(Agent.id).where(
            Agent.tenant_id == principal.tenant_id,
            *([Agent.partner_id == principal.partner_id] if principal.partner_id else []),
        )
        rows = session.execute(
            select(ScheduleActivity)
            .where(
                ScheduleActivity.tenant_id == principal.tenant_id,
                ScheduleActivity.agent_id.in_(list(agent_ids)),
                ScheduleActivity.agent_id.in_(in_scope),
                ScheduleActivity.start_at < until,
                ScheduleActivity.end_at > since,
            )
            .order_by(ScheduleActivity.agent_id, ScheduleActivity.start_at)
        )
        return list(rows.scalars())

    def replace_activities(
        self,
        session: Session,
        tenant_id: str,
        agent_id: str,
        since: datetime,
        until: datetime,
        activities: Sequence[tuple[datetime, datetime, str]],
    ) -> None:
        """Publish an agent's activities for [since, until): what was published there before
        (overlapping) is replaced."""
        session.execute(
            delete(ScheduleActivity).where(
                ScheduleActivity.tenant_id == tenant_id,
                ScheduleActivity.agent_id == agent_id,
                ScheduleActivity.start_at < until,
                ScheduleActivity.end_at > since,
            )
        )
        session.add_all(
            ScheduleActivity(
                tenant_id=tenant_id, agent_id=agent_id, start_at=start, end_at=end, activity=name
            )
            for start, end, name in activities
        )
        session.flush()

    def queues(self, session: Session, principal: Principal) -> list[tuple[str, str]]:
        conditions = [Queue.tenant_id == principal.tenant_id, Queue.is_active.is_(True)]
        if principal.partner_id is not None:
            conditions.append(Queue.partner_id == principal.partner_id)
        rows = session.execute(select(Queue.id, Queue.name).where(*conditions).order_by(Queue.name))
        return [(r.id, r.name) for r in rows]

    def teams(self, session: Session, principal: Principal) -> list[str]:
        conditions = [Agent.tenant_id == principal.tenant_id, Agent.team != ""]
        if principal.partner_id is not None:
            conditions.append(Agent.partner_id == principal.partner_id)
        rows = session.execute(
            select(Agent.team).where(*conditions).distinct().order_by(Agent.team)
        )
        return [team for (team,) in rows]


wfm_repository = WfmRepository()
