"""Every query about skills and queues. Partner users see only the queues their partner serves."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from lianluo.auth.principal import Principal
from lianluo.customers.normalize import escape_like
from lianluo.models import AgentSkill, Contact, Queue, Skill


def queue_scope(principal: Principal) -> ColumnElement[bool]:
    condition = Queue.tenant_id == principal.tenant_id
    if principal.partner_id is not None:
        condition = condition & (Queue.partner_id == principal.partner_id)
    return condition


class SkillRepository:
    def get(self, session: Session, tenant_id: str, skill_id: str) -> Skill | None:
        return session.execute(
            select(Skill).where(Skill.id == skill_id, Skill.tenant_id == tenant_id)
        ).scalar_one_or_none()

    def by_names(self, session: Session, tenant_id: str, names: Sequence[str]) -> dict[str, Skill]:
        if not names:
            return {}
        rows = session.execute(
            select(Skill).where(Skill.tenant_id == tenant_id, Skill.name.in_(list(names)))
        )
        return {s.name: s for s in rows.scalars()}

    def by_ids(self, session: Session, tenant_id: str, ids: Sequence[str]) -> dict[str, Skill]:
        if not ids:
            return {}
        rows = session.execute(
            select(Skill).where(Skill.tenant_id == tenant_id, Skill.id.in_(list(ids)))
        )
        return {s.id: s for s in rows.scalars()}

    def name_taken(
        self, session: Session, tenant_id: str, name: str, except_id: str | None = None
    ) -> bool:
        query = select(Skill.id).where(Skill.tenant_id == tenant_id, Skill.name == name)
        if except_id is not None:
            query = query.where(Skill.id != except_id)
        return session.execute(query.limit(1)).first() is not None

    def list(
        self, session: Session, tenant_id: str, q: str | None, offset: int, limit: int
    ) -> tuple[Sequence[Skill], int]:
        conditions = [Skill.tenant_id == tenant_id]
        if q:
            conditions.append(
                func.lower(Skill.name).like(f"%{escape_like(q.strip().lower())}%", escape="\\")
            )
        total = session.execute(select(func.count()).select_from(Skill).where(*conditions))
        rows = session.execute(
            select(Skill)
            .where(*conditions)
            .order_by(Skill.name, Skill.id)
            .offset(offset)
            .limit(limit)
        )
        return rows.scalars().all(), total.scalar_one()

    def agents_holding(self, session: Session, tenant_id: str, skill_id: str) -> int:
        return session.execute(
            select(func.count()).where(
                AgentSkill.tenant_id == tenant_id, AgentSkill.skill_id == skill_id
            )
        ).scalar_one()


class QueueRepository:
    def get(self, session: Session, principal: Principal, queue_id: str) -> Queue | None:
        return session.execute(
            select(Queue).where(Queue.id == queue_id, queue_scope(principal))
        ).scalar_one_or_none()

    def ids_in_tenant(self, session: Session, tenant_id: str, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        rows = session.execute(
            select(Queue.id).where(Queue.tenant_id == tenant_id, Queue.id.in_(list(ids)))
        )
        return set(rows.scalars())

    def all_in_tenant(self, session: Session, tenant_id: str) -> Sequence[Queue]:
        return session.execute(select(Queue).where(Queue.tenant_id == tenant_id)).scalars().all()

    def name_taken(
        self, session: Session, tenant_id: str, name: str, except_id: str | None = None
    ) -> bool:
        query = select(Queue.id).where(Queue.tenant_id == tenant_id, Queue.name == name)
        if except_id is not None:
            query = query.where(Queue.id != except_id)
        return session.execute(query.limit(1)).first() is not None

    def list(
        self,
        session: Session,
        principal: Principal,
        q: str | None,
        channel: str | None,
        is_active: bool | None,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[Queue], int]:
        conditions = [queue_scope(principal)]
        if q:
            conditions.append(
                func.lower(Queue.name).like(f"%{escape_like(q.strip().lower())}%", escape="\\")
            )
        if is_active is not None:
            conditions.append(Queue.is_active.is_(is_active))
        query = select(Queue).where(*conditions).order_by(Queue.name, Queue.id)
        if channel is None:
            total = session.execute(
                select(func.count()).select_from(Queue).where(*conditions)
            ).scalar_one()
            return session.execute(query.offset(offset).limit(limit)).scalars().all(), total
        # channels is a short JSON list; a tenant has tens of queues, so filter in Python.
        matching = [row for row in session.execute(query).scalars() if channel in row.channels]
        return matching[offset : offset + limit], len(matching)

    def contacts_in(self, session: Session, tenant_id: str, queue_id: str) -> int:
        return session.execute(
            select(func.count()).where(Contact.tenant_id == tenant_id, Contact.queue_id == queue_id)
        ).scalar_one()


skill_repository = SkillRepository()
queue_repository = QueueRepository()
