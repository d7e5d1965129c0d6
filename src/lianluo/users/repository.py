"""Every query about users, scoped by tenant and, for partner admins, by partner."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, String, cast, func, or_, select
from sqlalchemy.orm import Session

from lianluo.auth.principal import Principal
from lianluo.customers.normalize import escape_like
from lianluo.models import Agent, User


def user_scope(principal: Principal) -> ColumnElement[bool]:
    condition = User.tenant_id == principal.tenant_id
    if principal.partner_id is not None:
        condition = condition & (User.partner_id == principal.partner_id)
    return condition


@dataclass(frozen=True, slots=True)
class UserFilter:
    q: str | None = None
    role: str | None = None
    partner_id: str | None = None
    is_active: bool | None = None


class UserRepository:
    def get(self, session: Session, principal: Principal, user_id: str) -> User | None:
        return session.execute(
            select(User).where(User.id == user_id, user_scope(principal))
        ).scalar_one_or_none()

    def get_in_tenant(self, session: Session, tenant_id: str, user_id: str) -> User | None:
        return session.execute(
            select(User).where(User.id == user_id, User.tenant_id == tenant_id)
        ).scalar_one_or_none()

    def username_taken(self, session: Session, username: str) -> bool:
        query = select(User.id).where(func.lower(User.username) == username.lower()).limit(1)
        return session.execute(query).first() is not None

    def has_agent(self, session: Session, user_id: str) -> bool:
        return session.execute(select(Agent.id).where(Agent.user_id == user_id)).first() is not None

    def list(
        self, session: Session, principal: Principal, flt: UserFilter, offset: int, limit: int
    ) -> tuple[Sequence[User], int]:
        conditions = [user_scope(principal)]
        if flt.q:
            term = f"%{escape_like(flt.q.strip().lower())}%"
            conditions.append(
                or_(
                    func.lower(User.username).like(term, escape="\\"),
                    func.lower(User.display_name).like(term, escape="\\"),
                )
            )
        if flt.role:
            # roles is a JSON list on both backends; its text holds each role in quotes.
            conditions.append(cast(User.roles, String).like(f'%"{flt.role}"%'))
        if flt.partner_id:
            conditions.append(User.partner_id == flt.partner_id)
        if flt.is_active is not None:
            conditions.append(User.is_active.is_(flt.is_active))
        total = session.execute(select(func.count()).select_from(User).where(*conditions))
        rows = session.execute(
            select(User)
            .where(*conditions)
            .order_by(User.username, User.id)
            .offset(offset)
            .limit(limit)
        )
        return rows.scalars().all(), total.scalar_one()


user_repository = UserRepository()
