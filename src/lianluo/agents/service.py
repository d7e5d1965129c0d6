"""Agent profiles: the user, skills with levels, attributes, capacity, team and career level.

Who may read: tenant admins, supervisors, QA and WFM read every agent of the tenant; partner
users only their partner's agents; a user who is only an agent reads its own profile alone.
Who may change: admins, and partner admins for their partner's agents.
`state` is never changed here: the routing runtime owns it (the lead's agent state module).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from sqlalchemy.orm import Session

from lianluo.agents.repository import AgentFilter, agent_repository
from lianluo.agents.schemas import AgentIn, AgentOut, AgentSkillIn, AgentSkillOut, AgentUpdate
from lianluo.auth.principal import FLOOR_READERS, PEOPLE_ADMINS, Principal
from lianluo.errors import BadRequest, Conflict, Forbidden, NotFound, Unprocessable
from lianluo.events.service import event_service
from lianluo.models import Agent, AgentSkill, AgentStateName, Role
from lianluo.queues.repository import skill_repository
from lianluo.users.repository import user_repository

# Roles that see more than their own agent profile.
AGENT_OVERSEERS = FLOOR_READERS - {Role.agent}


def _sees_only_self(principal: Principal) -> bool:
    return not principal.has_any(AGENT_OVERSEERS)


class AgentService:
    def list(
        self, session: Session, principal: Principal, flt: AgentFilter, offset: int, limit: int
    ) -> tuple[builtins.list[AgentOut], int]:
        principal.require(FLOOR_READERS, "listing agents")
        if _sees_only_self(principal):
            flt = AgentFilter(flt.q, flt.team, flt.career_level, flt.skill, principal.user_id)
        rows, total = agent_repository.list(session, principal, flt, offset, limit)
        return self.present(session, rows), total

    def get(self, session: Session, principal: Principal, agent_id: str) -> Agent:
        principal.require(FLOOR_READERS, "reading agents")
        agent = agent_repository.get(session, principal, agent_id)
        if agent is None:
            raise NotFound.of("agent", agent_id)
        if _sees_only_self(principal) and agent.user_id != principal.user_id:
            raise Forbidden("an agent may read only its own profile")
        return agent

    def read(self, session: Session, principal: Principal, agent_id: str) -> AgentOut:
        return self.present(session, [self.get(session, principal, agent_id)])[0]

    def create(self, session: Session, principal: Principal, data: AgentIn) -> Agent:
        principal.require(PEOPLE_ADMINS, "creating an agent")
        user = user_repository.get(session, principal, data.user_id)
        if user is None:
            # Another tenant's or partner's user looks exactly like one that does not exist.
            raise Unprocessable(
                f"user {data.user_id} not found in this tenant"
                + (" and partner" if principal.partner_id else ""),
                details=[{"field": "user_id", "message": "unknown user"}],
            )
        if agent_repository.by_user(session, user.id) is not None:
            raise Conflict(f"user {user.username!r} already has an agent profile")
        agent = Agent(
            tenant_id=principal.tenant_id,
            user_id=user.id,
            partner_id=user.partner_id,
            team=data.team,
            career_level=data.career_level.value,
            attributes=data.attributes,
            capacity={str(k): v for k, v in data.capacity.items()},
            skills=self._skill_rows(session, principal.tenant_id, data.skills),
        )
        session.add(agent)
        session.flush()
        event_service.append(
            session,
            principal.tenant_id,
            "agent.created",
            actor=principal,
            agent_id=agent.id,
            partner_id=agent.partner_id,
            payload={"user_id": user.id},
        )
        return agent

    def update(
        self, session: Session, principal: Principal, agent_id: str, data: AgentUpdate
    ) -> Agent:
        principal.require(PEOPLE_ADMINS, "changing an agent")
        agent = agent_repository.get(session, principal, agent_id, with_skills=True)
        if agent is None:
            raise NotFound.of("agent", agent_id)
        changes = data.model_dump(exclude_unset=True)
        for field, value in changes.items():
            if value is None:
                raise BadRequest(f"{field} cannot be null; leave it out to keep it")
        if data.skills is not None:
            wanted = self._skill_rows(session, principal.tenant_id, data.skills)
            current = {row.skill_id: row for row in agent.skills}
            kept = []
            for row in wanted:
                if row.skill_id in current:  # update in place: the (agent, skill) pair is unique
                    current[row.skill_id].level = row.level
                    kept.append(current[row.skill_id])
                else:
                    kept.append(row)
            agent.skills = kept
        if data.attributes is not None:
            agent.attributes = data.attributes
        if data.capacity is not None:
            agent.capacity = {str(k): v for k, v in data.capacity.items()}
        if data.team is not None:
            agent.team = data.team
        if data.career_level is not None:
            agent.career_level = data.career_level.value
        session.flush()
        event_service.append(
            session,
            principal.tenant_id,
            "agent.updated",
            actor=principal,
            agent_id=agent.id,
            partner_id=agent.partner_id,
            payload={"fields": sorted(changes)},
        )
        return agent

    def delete(self, session: Session, principal: Principal, agent_id: str) -> None:
        principal.require(PEOPLE_ADMINS, "deleting an agent")
        agent = agent_repository.get(session, principal, agent_id, with_skills=True)
        if agent is None:
            raise NotFound.of("agent", agent_id)
        if agent.state != AgentStateName.offline:
            raise Conflict(f"agent {agent.id} is {agent.state}; it can be deleted only offline")
        handled = agent_repository.history_count(session, principal.tenant_id, agent.id)
        if handled:
            raise Conflict(
                f"agent {agent.id} has handled {handled} contact(s) or leg(s); keep the profile "
                "for the history and disable the user (is_active=false) instead"
            )
        event_service.append(
            session,
            principal.tenant_id,
            "agent.deleted",
            actor=principal,
            agent_id=agent.id,
            partner_id=agent.partner_id,
            payload={"user_id": agent.user_id},
        )
        session.delete(agent)
        session.flush()

    def present(self, session: Session, agents: Sequence[Agent]) -> builtins.list[AgentOut]:
        ids = [a.id for a in agents]
        users = agent_repository.users(session, [a.user_id for a in agents])
        skills = agent_repository.skills_of(session, ids)
        return [
            AgentOut(
                id=a.id,
                user_id=a.user_id,
                username=users[a.user_id].username,
                display_name=users[a.user_id].display_name,
                partner_id=a.partner_id,
                team=a.team,
                career_level=a.career_level,
                attributes=a.attributes,
                capacity=a.capacity,
                skills=[
                    AgentSkillOut(skill_id=sid, name=name, level=level)
                    for sid, name, level in skills.get(a.id, [])
                ],
                state=a.state,
                state_reason=a.state_reason,
                state_since=a.state_since,
                created_at=a.created_at,
                updated_at=a.updated_at,
            )
            for a in agents
        ]

    @staticmethod
    def _skill_rows(
        session: Session, tenant_id: str, skills: Sequence[AgentSkillIn]
    ) -> builtins.list[AgentSkill]:
        """Resolve each skill by name, else by id, within the tenant; unknown ones are 422."""
        refs = [s.skill for s in skills]
        by_name = skill_repository.by_names(session, tenant_id, refs)
        by_id = skill_repository.by_ids(session, tenant_id, refs)
        rows: builtins.list[AgentSkill] = []
        unknown: builtins.list[str] = []
        seen: set[str] = set()
        for item in skills:
            skill = by_name.get(item.skill) or by_id.get(item.skill)
            if skill is None:
                unknown.append(item.skill)
                continue
            if skill.id in seen:
                raise Unprocessable(
                    f"skill {skill.name!r} is given twice (by name and by id)",
                    details=[{"field": "skills", "message": "duplicate skill"}],
                )
            seen.add(skill.id)
            rows.append(AgentSkill(tenant_id=tenant_id, skill_id=skill.id, level=item.level))
        if unknown:
            raise Unprocessable(
                f"unknown skill(s) {', '.join(repr(u) for u in unknown)}; "
                "give a skill name or id of this tenant (see /api/v1/skills)",
                details=[{"field": "skills", "unknown": unknown}],
            )
        return rows


agent_service = AgentService()
