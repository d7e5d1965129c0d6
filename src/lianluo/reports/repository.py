"""Every query of the reports: the contact events of the log, names, state changes, saved
reports. Scoped by tenant, and for partner users by the queues their partner serves."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from lianluo.auth.principal import Principal
from lianluo.domain.kpi import CSAT_EVENT_TYPES
from lianluo.models import (
    Agent,
    Customer,
    Event,
    Partner,
    Queue,
    SavedReport,
    Skill,
    Tenant,
    User,
)
from lianluo.queues.repository import queue_scope

# The events a contact's outcome is read from (contacts/service.py, runtime/router.py and the
# chat channel write them; the CSAT events carry a satisfaction score {"score": 1..5}).
CONTACT_EVENT_TYPES = (
    "contact.queued",
    "contact.answered",
    "contact.abandoned",
    "contact.transferred",
    "contact.ended",
    *CSAT_EVENT_TYPES,
)


# The row shape of `contact_events` and `queued_events`.
_EVENT_ROW = (
    Event.contact_id,
    Event.type,
    Event.occurred_at,
    Event.queue_id,
    Event.agent_id,
    Event.partner_id,
    Event.customer_id,
    Event.payload,
)


class ReportRepository:
    def _queued_in(
        self,
        principal: Principal,
        since: datetime,
        until: datetime,
        queue_id: str | None,
        channel: str | None,
        partner_id: str | None,
    ) -> Any:
        conditions: list[ColumnElement[bool]] = [
            Event.tenant_id == principal.tenant_id,
            Event.type == "contact.queued",
            Event.occurred_at >= since,
            Event.occurred_at < until,
            Event.contact_id.is_not(None),
        ]
        if principal.partner_id is not None:
            conditions.append(Event.queue_id.in_(select(Queue.id).where(queue_scope(principal))))
        if queue_id is not None:
            conditions.append(Event.queue_id == queue_id)
        if partner_id is not None:
            conditions.append(
                Event.queue_id.in_(
                    select(Queue.id).where(
                        Queue.tenant_id == principal.tenant_id, Queue.partner_id == partner_id
                    )
                )
            )
        if channel is not None:
            conditions.append(Event.payload["channel"].as_string() == channel)
        return select(Event.contact_id).where(*conditions)

    def contact_events(
        self,
        session: Session,
        principal: Principal,
        since: datetime,
        until: datetime,
        *,
        queue_id: str | None = None,
        channel: str | None = None,
        partner_id: str | None = None,
    ) -> Sequence[Any]:
        """The contact events of every contact queued in [since, until), oldest first:
        (contact_id, type, occurred_at, queue_id, agent_id, partner_id, customer_id, payload)."""
        queued = self._queued_in(principal, since, until, queue_id, channel, partner_id)
        return session.execute(
            select(*_EVENT_ROW)
            .where(
                Event.tenant_id == principal.tenant_id,
                Event.type.in_(CONTACT_EVENT_TYPES),
                Event.contact_id.in_(queued),
            )
            .order_by(Event.occurred_at, Event.id)
        ).all()

    def queued_events(
        self,
        session: Session,
        principal: Principal,
        since: datetime,
        until: datetime,
        *,
        complaints_only: bool = False,
    ) -> Sequence[Any]:
        """Only the contact.queued events of [since, until) (the complaints, with
        `complaints_only`), in `contact_events`' row shape: the contacts around a report's
        range that matter only as later contacts on a need (FCR) or earlier complaints."""
        queued = self._queued_in(principal, since, until, None, None, None)
        conditions = [
            Event.tenant_id == principal.tenant_id,
            Event.type == "contact.queued",
            Event.occurred_at >= since,
            Event.occurred_at < until,
            Event.contact_id.in_(queued),
        ]
        if complaints_only:
            conditions.append(Event.payload["complaint_category"].as_string().is_not(None))
        return session.execute(
            select(*_EVENT_ROW).where(*conditions).order_by(Event.occurred_at, Event.id)
        ).all()

    def state_changes(
        self,
        session: Session,
        principal: Principal,
        agent_ids: Sequence[str],
        since: datetime,
        until: datetime,
    ) -> Sequence[Any]:
        """(agent_id, occurred_at, payload) of agent.state_changed in [since, until)."""
        if not agent_ids:
            return []
        return session.execute(
            select(Event.agent_id, Event.occurred_at, Event.payload)
            .where(
                Event.tenant_id == principal.tenant_id,
                Event.type == "agent.state_changed",
                Event.agent_id.in_(list(agent_ids)),
                Event.occurred_at >= since,
                Event.occurred_at < until,
            )
            .order_by(Event.occurred_at, Event.id)
        ).all()

    def timezone(self, session: Session, principal: Principal) -> str:
        zone = session.execute(
            select(Tenant.timezone).where(Tenant.id == principal.tenant_id)
        ).scalar_one_or_none()
        return zone or "UTC"

    def queue_names(self, session: Session, principal: Principal) -> dict[str, str]:
        rows = session.execute(select(Queue.id, Queue.name).where(queue_scope(principal)))
        return {r.id: r.name for r in rows}

    def partner_names(self, session: Session, principal: Principal) -> dict[str, str]:
        conditions = [Partner.tenant_id == principal.tenant_id]
        if principal.partner_id is not None:
            conditions.append(Partner.id == principal.partner_id)
        rows = session.execute(select(Partner.id, Partner.name).where(*conditions))
        return {r.id: r.name for r in rows}

    def agent_names(self, session: Session, principal: Principal) -> dict[str, str]:
        rows = session.execute(
            select(Agent.id, User.display_name, User.username)
            .join(User, User.id == Agent.user_id)
            .where(*self._agent_conditions(principal))
        )
        return {r.id: r.display_name or r.username for r in rows}

    def agent_teams(self, session: Session, principal: Principal) -> dict[str, str]:
        """agent id -> team (班组) of the agents in scope that have one."""
        rows = session.execute(
            select(Agent.id, Agent.team).where(*self._agent_conditions(principal), Agent.team != "")
        )
        return {r.id: r.team for r in rows}

    def agent_partners(self, session: Session, principal: Principal) -> dict[str, str]:
        """agent id -> partner id of the agents in scope that work for a partner."""
        rows = session.execute(
            select(Agent.id, Agent.partner_id).where(
                *self._agent_conditions(principal), Agent.partner_id.is_not(None)
            )
        )
        return {r.id: r.partner_id for r in rows}

    def skill_names(self, session: Session, principal: Principal) -> list[str]:
        rows = session.execute(
            select(Skill.name).where(Skill.tenant_id == principal.tenant_id).order_by(Skill.name)
        )
        return [name for (name,) in rows]

    def regions(self, session: Session, principal: Principal) -> list[str]:
        """The customers' regions (a filter of the reports page); partner users, who see only
        some customers, get none and can still group by region."""
        if principal.partner_id is not None:
            return []
        rows = session.execute(
            select(Customer.region)
            .where(Customer.tenant_id == principal.tenant_id, Customer.region != "")
            .distinct()
            .order_by(Customer.region)
            .limit(200)
        )
        return [region for (region,) in rows]

    def _agent_conditions(self, principal: Principal) -> list[ColumnElement[bool]]:
        conditions = [Agent.tenant_id == principal.tenant_id]
        if principal.partner_id is not None:
            conditions.append(Agent.partner_id == principal.partner_id)
        return conditions

    def agent(self, session: Session, principal: Principal, agent_id: str) -> Agent | None:
        return session.execute(
            select(Agent).where(Agent.id == agent_id, *self._agent_conditions(principal))
        ).scalar_one_or_none()

    def agent_of_user(self, session: Session, principal: Principal) -> Agent | None:
        return session.execute(
            select(Agent).where(
                Agent.tenant_id == principal.tenant_id, Agent.user_id == principal.user_id
            )
        ).scalar_one_or_none()

    # ---- saved reports -----------------------------------------------------------------

    def _saved_conditions(self, principal: Principal) -> list[ColumnElement[bool]]:
        conditions = [SavedReport.tenant_id == principal.tenant_id]
        if principal.partner_id is not None:
            conditions.append(SavedReport.partner_id == principal.partner_id)
        return conditions

    def saved(self, session: Session, principal: Principal, report_id: str) -> SavedReport | None:
        return session.execute(
            select(SavedReport).where(
                SavedReport.id == report_id, *self._saved_conditions(principal)
            )
        ).scalar_one_or_none()

    def saved_list(
        self, session: Session, principal: Principal, offset: int, limit: int
    ) -> tuple[Sequence[SavedReport], int]:
        from sqlalchemy import func

        conditions = self._saved_conditions(principal)
        total = session.execute(
            select(func.count()).select_from(SavedReport).where(*conditions)
        ).scalar_one()
        rows = session.execute(
            select(SavedReport)
            .where(*conditions)
            .order_by(SavedReport.name, SavedReport.id)
            .offset(offset)
            .limit(limit)
        )
        return rows.scalars().all(), total

    def due(self, session: Session, now: datetime, limit: int = 100) -> Sequence[SavedReport]:
        """Saved reports of every tenant whose next run is due (the scheduler's query)."""
        return (
            session.execute(
                select(SavedReport)
                .where(SavedReport.next_run_at <= now)
                .order_by(SavedReport.next_run_at, SavedReport.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            .scalars()
            .all()
        )

    def user(self, session: Session, user_id: str) -> User | None:
        return session.get(User, user_id)


report_repository = ReportRepository()
