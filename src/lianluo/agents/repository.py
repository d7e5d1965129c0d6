"""Every query about agents, scoped by tenant and, for partner users, by partner."""

from __future__ import annotations

import builtins
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, selectinload

from lianluo.auth.principal import Principal
from lianluo.customers.normalize import escape_like
from lianluo.models import Agent, AgentSkill, Contact, Leg, Skill, User


def agent_scope(principal: Principal) -> ColumnElement[bool]:
    condition = Agent.tenant_id == principal.tenant_id
    if principal.partner_id is not None:
        condition = condition & (Agent.partner_id == principal.partner_id)
    return condition


@dataclass(frozen=True, slots=True)
class AgentFilter:
    q: str | None = None
    team: str | None = None
    career_level: str | None = None
    skill: str | None = None
    only_user_id: str | None = None  # an agent-only caller sees itself


class AgentRepository:
    def get(
        self, session: Session, principal: Principal, agent_id: str, with_skills: bool = False
    ) -> Agent | None:
        query = select(Agent).where(Agent.id == agent_id, agent_scope(principal))
        if with_skills:
            query = query.options(selectinload(Agent.skills))
        return session.execute(query).scalar_one_or_none()

    def by_user(self, session: Session, user_id: str) -> Agent | None:
        return session.execute(select(Agent).where(Agent.user_id == user_id)).scalar_one_or_none()

    def list(
        self, session: Session, principal: Principal, flt: AgentFilter, offset: int, limit: int
    ) -> tuple[Sequence[Agent], int]:
        conditions = [agent_scope(principal)]
        if flt.only_user_id is not None:
            conditions.append(Agent.user_id == flt.only_user_id)
        if flt.team is not None:
            conditions.append(Agent.team == flt.team)
        if flt.career_level is not None:
            conditions.append(Agent.career_level == flt.career_level)
        if flt.q:
            term = f"%{escape_like(flt.q.strip().lower())}%"
            conditions.append(
                Agent.user_id.in_(
                    select(User.id).where(
                        User.tenant_id == principal.tenant_id,
                        or_(
                            func.lower(User.username).like(term, escape="\\"),
                            func.lower(User.display_name).like(term, escape="\\"),
                        ),
                    )
                )
            )
        if flt.skill:
            conditions.append(
                Agent.id.in_(
                    select(AgentSkill.agent_id)
                    .join(Skill, Skill.id == AgentSkill.skill_id)
                    .where(
                        AgentSkill.tenant_id == principal.tenant_id,
                        or_(Skill.name == flt.skill, Skill.id == flt.skill),
                    )
                )
            )
        total = session.execute(select(func.count()).select_from(Agent).where(*conditions))
        rows = session.execute(
            select(Agent)
            .where(*conditions)
            .order_by(Agent.created_at, Agent.id)
            .offset(offset)
            .limit(limit)
        )
        return rows.scalars().all(), total.scalar_one()

    def users(self, session: Session, user_ids: Sequence[str]) -> dict[str, User]:
        if not user_ids:
            return {}
        rows = session.execute(select(User).where(User.id.in_(list(user_ids))))
        return {u.id: u for u in rows.scalars()}

    def skills_of(
        self, session: Session, agent_ids: Sequence[str]
    ) -> dict[str, builtins.list[tuple[str, str, int]]]:
        """agent id -> [(skill id, skill name, level)], by skill name."""
        if not agent_ids:
            return {}
        rows = session.execute(
            select(AgentSkill.agent_id, Skill.id, Skill.name, AgentSkill.level)
            .join(Skill, Skill.id == AgentSkill.skill_id)
            .where(AgentSkill.agent_id.in_(list(agent_ids)))
            .order_by(Skill.name)
        )
        result: dict[str, builtins.list[tuple[str, str, int]]] = defaultdict(list)
        for agent_id, skill_id, name, level in rows:
            result[agent_id].append((skill_id, name, level))
        return result

    def history_count(self, session: Session, tenant_id: str, agent_id: str) -> int:
        contacts = session.execute(
            select(func.count()).where(Contact.tenant_id == tenant_id, Contact.agent_id == agent_id)
        ).scalar_one()
        legs = session.execute(
            select(func.count()).where(Leg.tenant_id == tenant_id, Leg.agent_id == agent_id)
        ).scalar_one()
        return contacts + legs


agent_repository = AgentRepository()
