"""Every query about tickets, scoped by tenant and, for partner users, by partner."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from lianluo.auth.principal import Principal
from lianluo.customers.normalize import escape_like
from lianluo.models import (
    Agent,
    AgentSkill,
    Event,
    Skill,
    Tenant,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketEntry,
    TicketFollowUp,
    TicketSettings,
    User,
)


def ticket_scope(principal: Principal) -> ColumnElement[bool]:
    condition = Ticket.tenant_id == principal.tenant_id
    if principal.partner_id is not None:
        condition = condition & (Ticket.partner_id == principal.partner_id)
    return condition


@dataclass(frozen=True, slots=True)
class TicketFilters:
    status: Sequence[str] = ()
    priority: str | None = None
    category_id: str | None = None
    customer_id: str | None = None
    owner_id: str | None = None
    queue_id: str | None = None
    tier: int | None = None
    ownership_model: str | None = None
    open_only: bool = False
    unassigned: bool = False
    repeat_complaint: bool | None = None
    over_the_head: bool | None = None
    q: str | None = None


OPEN_STATUSES = ("new", "in_progress", "waiting_customer")


class TicketRepository:
    # ---- settings and categories --------------------------------------------------------------

    def settings(self, session: Session, tenant_id: str) -> TicketSettings | None:
        return session.get(TicketSettings, tenant_id)

    def tenant_timezone(self, session: Session, tenant_id: str) -> str:
        return session.execute(select(Tenant.timezone).where(Tenant.id == tenant_id)).scalar_one()

    def category(self, session: Session, tenant_id: str, category_id: str) -> TicketCategory | None:
        return session.execute(
            select(TicketCategory).where(
                TicketCategory.id == category_id, TicketCategory.tenant_id == tenant_id
            )
        ).scalar_one_or_none()

    def categories(
        self, session: Session, tenant_id: str, offset: int = 0, limit: int | None = None
    ) -> tuple[Sequence[TicketCategory], int]:
        where = TicketCategory.tenant_id == tenant_id
        total = session.execute(select(func.count()).where(where)).scalar_one()
        query = select(TicketCategory).where(where).order_by(TicketCategory.name)
        rows = session.execute(query.offset(offset).limit(limit)).scalars().all()
        return rows, total

    def category_name_taken(
        self, session: Session, tenant_id: str, name: str, except_id: str | None = None
    ) -> bool:
        query = select(TicketCategory.id).where(
            TicketCategory.tenant_id == tenant_id, TicketCategory.name == name
        )
        if except_id:
            query = query.where(TicketCategory.id != except_id)
        return session.execute(query.limit(1)).first() is not None

    # ---- tickets --------------------------------------------------------------------------

    def get(self, session: Session, principal: Principal, ticket_id: str) -> Ticket | None:
        return session.execute(
            select(Ticket).where(Ticket.id == ticket_id, ticket_scope(principal))
        ).scalar_one_or_none()

    def _conditions(self, principal: Principal, f: TicketFilters) -> list[ColumnElement[bool]]:
        conditions = [ticket_scope(principal)]
        if f.status:
            conditions.append(Ticket.status.in_(list(f.status)))
        if f.open_only:
            conditions.append(Ticket.status.in_(OPEN_STATUSES))
        for column, value in (
            (Ticket.priority, f.priority),
            (Ticket.category_id, f.category_id),
            (Ticket.customer_id, f.customer_id),
            (Ticket.owner_id, f.owner_id),
            (Ticket.queue_id, f.queue_id),
            (Ticket.tier, f.tier),
            (Ticket.ownership_model, f.ownership_model),
            (Ticket.repeat_complaint, f.repeat_complaint),
            (Ticket.over_the_head, f.over_the_head),
        ):
            if value is not None:
                conditions.append(column == value)
        if f.unassigned:
            conditions.append(Ticket.owner_id.is_(None))
        if f.q:
            pattern = f"%{escape_like(f.q.strip().lower())}%"
            conditions.append(func.lower(Ticket.subject).like(pattern, escape="\\"))
        return conditions

    def list(
        self,
        session: Session,
        principal: Principal,
        filters: TicketFilters,
        offset: int,
        limit: int | None,
    ) -> tuple[Sequence[Ticket], int]:
        conditions = self._conditions(principal, filters)
        total = session.execute(select(func.count()).select_from(Ticket).where(*conditions))
        rows = session.execute(
            select(Ticket)
            .where(*conditions)
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return rows.scalars().all(), total.scalar_one()

    def earlier_of_customer(
        self, session: Session, tenant_id: str, customer_id: str, category_id: str
    ) -> Sequence[Any]:
        return session.execute(
            select(Ticket.id, Ticket.created_at, Ticket.resolved_at, Ticket.status).where(
                Ticket.tenant_id == tenant_id,
                Ticket.customer_id == customer_id,
                Ticket.category_id == category_id,
                Ticket.status != "merged",
            )
        ).all()

    def for_customer(
        self, session: Session, principal: Principal, customer_id: str, limit: int
    ) -> Sequence[Any]:
        return session.execute(
            select(Ticket, TicketCategory.name)
            .join(TicketCategory, TicketCategory.id == Ticket.category_id)
            .where(ticket_scope(principal), Ticket.customer_id == customer_id)
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(limit)
        ).all()

    def running(self, session: Session, tenant_id: str | None, now: datetime) -> Sequence[Ticket]:
        """Running clocks that are due to warn or to breach by `now`: what a sweep acts on.
        The stored warning and due times come from the same calendar as the domain's reading,
        which makes the final decision."""
        query = select(Ticket).where(
            Ticket.status.in_(("new", "in_progress")),
            or_(
                and_(Ticket.sla_warned_at.is_(None), Ticket.sla_warn_at <= now),
                and_(Ticket.sla_breached_at.is_(None), Ticket.sla_due_at <= now),
            ),
        )
        if tenant_id is not None:
            query = query.where(Ticket.tenant_id == tenant_id)
        return session.execute(query.order_by(Ticket.tenant_id, Ticket.id)).scalars().all()

    def followups_due(
        self, session: Session, tenant_id: str | None, now: datetime
    ) -> Sequence[TicketFollowUp]:
        query = select(TicketFollowUp).where(
            TicketFollowUp.done_at.is_(None),
            TicketFollowUp.notified_at.is_(None),
            TicketFollowUp.due_at <= now,
        )
        if tenant_id is not None:
            query = query.where(TicketFollowUp.tenant_id == tenant_id)
        return session.execute(query.order_by(TicketFollowUp.due_at)).scalars().all()

    def open_of_tenant(self, session: Session, tenant_id: str) -> Sequence[Ticket]:
        return (
            session.execute(
                select(Ticket).where(
                    Ticket.tenant_id == tenant_id, Ticket.status.in_(OPEN_STATUSES)
                )
            )
            .scalars()
            .all()
        )

    def created_between(
        self, session: Session, principal: Principal, since: datetime, until: datetime
    ) -> Sequence[Ticket]:
        return (
            session.execute(
                select(Ticket).where(
                    ticket_scope(principal),
                    Ticket.created_at >= since,
                    Ticket.created_at < until,
                    Ticket.status != "merged",
                )
            )
            .scalars()
            .all()
        )

    # ---- entries, attachments, follow-ups, history ------------------------------------------

    def entries(self, session: Session, ticket_id: str) -> Sequence[TicketEntry]:
        return (
            session.execute(
                select(TicketEntry)
                .where(TicketEntry.ticket_id == ticket_id)
                .order_by(TicketEntry.created_at, TicketEntry.id)
            )
            .scalars()
            .all()
        )

    def attachments_meta(self, session: Session, ticket_id: str) -> Sequence[Any]:
        return session.execute(
            select(
                TicketAttachment.id,
                TicketAttachment.filename,
                TicketAttachment.content_type,
                TicketAttachment.size_bytes,
                TicketAttachment.sha256,
                TicketAttachment.created_by,
                TicketAttachment.created_at,
            )
            .where(TicketAttachment.ticket_id == ticket_id)
            .order_by(TicketAttachment.created_at, TicketAttachment.id)
        ).all()

    def attachment(
        self, session: Session, principal: Principal, ticket_id: str, attachment_id: str
    ) -> TicketAttachment | None:
        return session.execute(
            select(TicketAttachment)
            .join(Ticket, Ticket.id == TicketAttachment.ticket_id)
            .where(
                TicketAttachment.id == attachment_id,
                TicketAttachment.ticket_id == ticket_id,
                ticket_scope(principal),
            )
        ).scalar_one_or_none()

    def followups(self, session: Session, ticket_id: str) -> Sequence[TicketFollowUp]:
        return (
            session.execute(
                select(TicketFollowUp)
                .where(TicketFollowUp.ticket_id == ticket_id)
                .order_by(TicketFollowUp.due_at, TicketFollowUp.id)
            )
            .scalars()
            .all()
        )

    def followup(
        self, session: Session, principal: Principal, followup_id: str
    ) -> TicketFollowUp | None:
        return session.execute(
            select(TicketFollowUp)
            .join(Ticket, Ticket.id == TicketFollowUp.ticket_id)
            .where(TicketFollowUp.id == followup_id, ticket_scope(principal))
        ).scalar_one_or_none()

    def list_followups(
        self,
        session: Session,
        principal: Principal,
        owner_id: str | None,
        pending_only: bool,
        due_before: datetime | None,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[TicketFollowUp], int]:
        conditions = [ticket_scope(principal)]
        if owner_id is not None:
            conditions.append(TicketFollowUp.owner_id == owner_id)
        if pending_only:
            conditions.append(TicketFollowUp.done_at.is_(None))
        if due_before is not None:
            conditions.append(TicketFollowUp.due_at <= due_before)
        base = select(TicketFollowUp).join(Ticket, Ticket.id == TicketFollowUp.ticket_id)
        total = session.execute(
            select(func.count())
            .select_from(TicketFollowUp)
            .join(Ticket, Ticket.id == TicketFollowUp.ticket_id)
            .where(*conditions)
        ).scalar_one()
        rows = session.execute(
            base.where(*conditions)
            .order_by(TicketFollowUp.due_at, TicketFollowUp.id)
            .offset(offset)
            .limit(limit)
        )
        return rows.scalars().all(), total

    def history(self, session: Session, ticket: Ticket, limit: int = 500) -> builtins.list[Event]:
        """ticket.* events of this ticket, oldest first. Events name the customer, so the
        customer's events are the index; the ticket id sits in the payload."""
        rows = session.execute(
            select(Event)
            .where(
                Event.tenant_id == ticket.tenant_id,
                Event.customer_id == ticket.customer_id,
                Event.type.like("ticket.%"),
            )
            .order_by(Event.occurred_at.desc(), Event.id.desc())
            .limit(limit * 4)
        ).scalars()
        mine = [e for e in rows if (e.payload or {}).get("ticket_id") == ticket.id][:limit]
        return mine[::-1]

    def move_children(self, session: Session, tenant_id: str, source: str, target: str) -> None:
        for model in (TicketEntry, TicketAttachment, TicketFollowUp):
            session.execute(
                update(model)
                .where(model.tenant_id == tenant_id, model.ticket_id == source)
                .values(ticket_id=target)
                .execution_options(synchronize_session=False)
            )

    # ---- people -----------------------------------------------------------------------------

    def user_in_scope(self, session: Session, principal: Principal, user_id: str) -> User | None:
        condition = (User.id == user_id) & (User.tenant_id == principal.tenant_id)
        if principal.partner_id is not None:
            condition = condition & (User.partner_id == principal.partner_id)
        return session.execute(select(User).where(condition)).scalar_one_or_none()

    def display_names(
        self, session: Session, tenant_id: str, user_ids: Sequence[str]
    ) -> dict[str, str]:
        if not user_ids:
            return {}
        rows = session.execute(
            select(User.id, User.display_name).where(
                User.tenant_id == tenant_id, User.id.in_(sorted(set(user_ids)))
            )
        ).all()
        return {uid: name for uid, name in rows}

    def skills_of_user(self, session: Session, tenant_id: str, user_id: str) -> dict[str, int]:
        rows = session.execute(
            select(Skill.name, AgentSkill.level)
            .join(AgentSkill, AgentSkill.skill_id == Skill.id)
            .join(Agent, Agent.id == AgentSkill.agent_id)
            .where(Agent.user_id == user_id, Agent.tenant_id == tenant_id)
        ).all()
        return {name: level for name, level in rows}


ticket_repository = TicketRepository()
