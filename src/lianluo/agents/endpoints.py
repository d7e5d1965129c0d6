from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from lianluo.agents.repository import AgentFilter
from lianluo.agents.schemas import AgentIn, AgentOut, AgentUpdate, CareerLevel
from lianluo.agents.service import agent_service
from lianluo.deps import CurrentPrincipal, DbSession
from lianluo.paging import Page, PageParams, page_params
from lianluo.tenants.schemas import NO_NUL, IdPath

router = APIRouter(prefix="/api/v1/agents", tags=["agents"])


@router.get("", response_model=Page[AgentOut], summary="List agents")
def list_agents(
    principal: CurrentPrincipal,
    session: DbSession,
    paging: Annotated[PageParams, Depends(page_params)],
    q: str | None = Query(
        None, pattern=NO_NUL, max_length=120, description="part of username or display name"
    ),
    team: str | None = Query(None, pattern=NO_NUL, max_length=100),
    career_level: CareerLevel | None = Query(None),
    skill: str | None = Query(
        None, pattern=NO_NUL, max_length=100, description="holding this skill (name or id)"
    ),
) -> Page[AgentOut]:
    """Supervisors, QA, WFM and admins see the tenant's agents, partner users their partner's,
    and a user who is only an agent sees itself."""
    flt = AgentFilter(q, team, career_level.value if career_level else None, skill)
    items, total = agent_service.list(session, principal, flt, paging.offset, paging.page_size)
    return Page(items=items, total=total, page=paging.page, page_size=paging.page_size)


@router.post(
    "", response_model=AgentOut, status_code=status.HTTP_201_CREATED, summary="Create an agent"
)
def create_agent(body: AgentIn, principal: CurrentPrincipal, session: DbSession) -> AgentOut:
    """Links a user of the tenant (a partner admin: of its partner); the agent belongs to the
    user's partner. Skills by name or id, levels 1-10; an unknown skill is 422."""
    agent = agent_service.create(session, principal, body)
    return agent_service.read(session, principal, agent.id)


@router.get("/{agent_id}", response_model=AgentOut, summary="Read an agent")
def get_agent(agent_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> AgentOut:
    return agent_service.read(session, principal, agent_id)


@router.patch("/{agent_id}", response_model=AgentOut, summary="Change an agent's profile")
def update_agent(
    agent_id: IdPath, body: AgentUpdate, principal: CurrentPrincipal, session: DbSession
) -> AgentOut:
    """Skills and attributes given replace the old ones. The state is not changed here."""
    agent_service.update(session, principal, agent_id, body)
    return agent_service.read(session, principal, agent_id)


@router.delete("/{agent_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete an agent")
def delete_agent(agent_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> Response:
    """Only an offline agent that never handled a contact; otherwise disable its user."""
    agent_service.delete(session, principal, agent_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
