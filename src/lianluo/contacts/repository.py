"""Every query about contacts, scoped by tenant and, for partner users, by their queues."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from lianluo.auth.principal import Principal
from lianluo.models import Agent, Contact, Leg, Queue


def contact_scope(principal: Principal) -> ColumnElement[bool]:
    condition = Contact.tenant_id == principal.tenant_id
    if principal.partner_id is not None:
        condition = condition & Contact.queue_id.in_(
            select(Queue.id).where(Queue.partner_id == principal.partner_id)
        )
    return condition


class ContactRepository:
    def get(self, session: Session, principal: Principal, contact_id: str) -> Contact | None:
        return session.execute(
            select(Contact).where(Contact.id == contact_id, contact_scope(principal))
        ).scalar_one_or_none()

    def agent_of_user(self, session: Session, principal: Principal) -> Agent | None:
        return session.execute(
            select(Agent).where(
                Agent.user_id == principal.user_id, Agent.tenant_id == principal.tenant_id
            )
        ).scalar_one_or_none()

    def agent_of_id(self, session: Session, principal: Principal, agent_id: str) -> Agent | None:
        condition = (Agent.id == agent_id) & (Agent.tenant_id == principal.tenant_id)
        if principal.partner_id is not None:
            condition = condition & (Agent.partner_id == principal.partner_id)
        return session.execute(select(Agent).where(condition)).scalar_one_or_none()

    def legs(self, session: Session, contact_id: str) -> int:
        return session.execute(
            select(func.count()).where(Leg.contact_id == contact_id)
        ).scalar_one()

    def legs_of(self, session: Session, contact_id: str) -> list[Leg]:
        return list(
            session.execute(
                select(Leg).where(Leg.contact_id == contact_id).order_by(Leg.offered_at)
            ).scalars()
        )

    def wrapping_up(self, session: Session, agent_id: str, except_id: str) -> int:
        return session.execute(
            select(func.count()).where(
                Contact.agent_id == agent_id,
                Contact.state == "wrap_up",
                Contact.id != except_id,
            )
        ).scalar_one()


contact_repository = ContactRepository()
