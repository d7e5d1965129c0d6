from __future__ import annotations

from fastapi import APIRouter

from lianluo.deps import Context, CurrentPrincipal, DbSession
from lianluo.routing.schemas import AgentStateOut, OfferOut, QueueStatusOut, StateChangeIn
from lianluo.routing.service import routing_service
from lianluo.runtime.router import RoutingRuntime, runtime_of

router = APIRouter(prefix="/api/v1/routing", tags=["routing"])


def _runtime(ctx: Context, session: DbSession) -> RoutingRuntime:
    session.commit()  # release SQLite's write lock before the router's transaction
    return runtime_of(ctx)


@router.get("/queues", response_model=list[QueueStatusOut])
def queue_status(
    principal: CurrentPrincipal, session: DbSession, ctx: Context
) -> list[QueueStatusOut]:
    """Waiting, longest wait, agents available and busy, and the service-level target."""
    return routing_service.queue_status(session, principal, runtime_of(ctx).clock())


@router.get("/queues/{queue_id}", response_model=QueueStatusOut)
def one_queue_status(
    queue_id: str, principal: CurrentPrincipal, session: DbSession, ctx: Context
) -> QueueStatusOut:
    return routing_service.queue_status(session, principal, runtime_of(ctx).clock(), queue_id)[0]


@router.get("/agents", response_model=list[AgentStateOut])
def agent_states(principal: CurrentPrincipal, session: DbSession) -> list[AgentStateOut]:
    return routing_service.agent_states(session, principal)


@router.post("/agents/{agent_id}/state", response_model=AgentStateOut)
def force_state(
    agent_id: str,
    body: StateChangeIn,
    principal: CurrentPrincipal,
    session: DbSession,
    ctx: Context,
) -> AgentStateOut:
    """A supervisor forces an agent's state (the event records who)."""
    routing_service.change_state(_runtime(ctx, session), principal, agent_id, body)
    session.expire_all()
    return routing_service.agent_states(session, principal, agent_id)[0]


@router.get("/me", response_model=AgentStateOut)
def my_state(principal: CurrentPrincipal, session: DbSession) -> AgentStateOut:
    agent = routing_service.my_agent(session, principal)
    return routing_service.agent_states(session, principal, agent.id)[0]


@router.post("/me/state", response_model=AgentStateOut)
def change_my_state(
    body: StateChangeIn, principal: CurrentPrincipal, session: DbSession, ctx: Context
) -> AgentStateOut:
    """Log in (available), take a break with a reason code, log out (offline)."""
    agent_id = routing_service.change_state(_runtime(ctx, session), principal, None, body)
    session.expire_all()
    return routing_service.agent_states(session, principal, agent_id)[0]


@router.get("/me/offers", response_model=list[OfferOut])
def my_offers(principal: CurrentPrincipal, session: DbSession) -> list[OfferOut]:
    """What is offered to me (with its deadline), connected or in wrap-up. Poll it until the
    agent desktop pushes offers."""
    return routing_service.my_offers(session, principal)
