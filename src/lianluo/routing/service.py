"""Routing use cases: queue status, agent states and their changes (by the agent itself or
forced by a supervisor), the agent's offers. Changes go through the live router."""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianluo.agents.repository import agent_scope
from lianluo.auth.principal import FLOOR_READERS, Principal
from lianluo.domain import routing as rt
from lianluo.errors import Forbidden, NotFound
from lianluo.models import Agent, Contact, Queue, Role
from lianluo.queues.repository import queue_scope
from lianluo.routing.errors import engine_errors
from lianluo.routing.repository import serves
from lianluo.routing.schemas import AgentStateOut, OfferOut, QueueStatusOut, StateChangeIn
from lianluo.runtime.router import RoutingRuntime, RoutingTxn

SUPERVISORS = frozenset({Role.supervisor, Role.admin, Role.partner_admin})
HOLDING = ("offered", "connected")


def _loads(session: Session, tenant_id: str) -> dict[str, Counter[str]]:
    rows = session.execute(
        select(Contact.agent_id, Contact.channel).where(
            Contact.tenant_id == tenant_id, Contact.state.in_(HOLDING)
        )
    )
    loads: dict[str, Counter[str]] = defaultdict(Counter)
    for agent_id, channel in rows:
        if agent_id is not None:
            loads[agent_id][channel] += 1
    return loads


def _present(agent: Agent, load: Counter[str]) -> AgentStateOut:
    return AgentStateOut(
        agent_id=agent.id,
        user_id=agent.user_id,
        partner_id=agent.partner_id,
        state=agent.state,
        reason=agent.state_reason,
        since=agent.state_since,
        load=dict(load),
        capacity={str(k): int(v) for k, v in agent.capacity.items()},
    )


def _has_room(agent: Agent, load: Counter[str]) -> bool:
    capacity = {str(k): int(v) for k, v in agent.capacity.items()} or {"voice": 1}
    used = sum(load[ch] / cap for ch, cap in capacity.items() if cap)
    return used < 1 - 1e-9 and any(load[ch] < cap for ch, cap in capacity.items())


class RoutingService:
    def queue_status(
        self, session: Session, principal: Principal, now: float, queue_id: str | None = None
    ) -> list[QueueStatusOut]:
        principal.require(FLOOR_READERS, "reading queue status")
        query = select(Queue).where(queue_scope(principal)).order_by(Queue.name)
        if queue_id is not None:
            query = query.where(Queue.id == queue_id)
        queues = session.execute(query).scalars().all()
        if queue_id is not None and not queues:
            raise NotFound.of("queue", queue_id)
        agents = (
            session.execute(select(Agent).where(Agent.tenant_id == principal.tenant_id))
            .scalars()
            .all()
        )
        loads = _loads(session, principal.tenant_id)
        counts: dict[tuple[str | None, str], int] = Counter()
        oldest: dict[str | None, float] = {}
        for qid, state, since in session.execute(
            select(Contact.queue_id, Contact.state, Contact.waiting_since_s).where(
                Contact.tenant_id == principal.tenant_id,
                Contact.state.in_(["queued", "offered", "connected", "callback_scheduled"]),
            )
        ):
            counts[(qid, state)] += 1
            if state == "queued" and since is not None:
                oldest[qid] = min(oldest.get(qid, since), since)
        result = []
        for q in queues:
            serving = [a for a in agents if serves(a, q)]
            available = sum(
                1 for a in serving if a.state == "available" and _has_room(a, loads[a.id])
            )
            busy = sum(
                1
                for a in serving
                if a.state != "offline" and (loads[a.id] or a.state in ("busy", "wrap_up"))
            )
            first = oldest.get(q.id)
            result.append(
                QueueStatusOut(
                    queue_id=q.id,
                    name=q.name,
                    partner_id=q.partner_id,
                    waiting=counts[(q.id, "queued")],
                    offered=counts[(q.id, "offered")],
                    connected=counts[(q.id, "connected")],
                    callbacks_scheduled=counts[(q.id, "callback_scheduled")],
                    longest_wait_s=None if first is None else max(0.0, now - first),
                    agents_available=available,
                    agents_busy=busy,
                    sl_target_s=q.sl_target_s,
                    sl_target_ratio=q.sl_target_ratio,
                )
            )
        return result

    def agent_states(
        self, session: Session, principal: Principal, agent_id: str | None = None
    ) -> list[AgentStateOut]:
        principal.require(FLOOR_READERS, "reading agent states")
        query = select(Agent).where(agent_scope(principal)).order_by(Agent.id)
        if not principal.has_any(SUPERVISORS | {Role.qa, Role.wfm}):
            query = query.where(Agent.user_id == principal.user_id)  # an agent sees itself
        if agent_id is not None:
            query = query.where(Agent.id == agent_id)
        agents = session.execute(query).scalars().all()
        if agent_id is not None and not agents:
            raise NotFound.of("agent", agent_id)
        loads = _loads(session, principal.tenant_id)
        return [_present(a, loads[a.id]) for a in agents]

    def my_agent(self, session: Session, principal: Principal) -> Agent:
        agent = session.execute(
            select(Agent).where(
                Agent.user_id == principal.user_id, Agent.tenant_id == principal.tenant_id
            )
        ).scalar_one_or_none()
        if agent is None:
            raise NotFound("your user has no agent profile")
        return agent

    def my_offers(self, session: Session, principal: Principal) -> list[OfferOut]:
        agent = self.my_agent(session, principal)
        rows = session.execute(
            select(Contact)
            .where(
                Contact.tenant_id == principal.tenant_id,
                Contact.agent_id == agent.id,
                Contact.state.in_(["offered", "connected", "wrap_up"]),
            )
            .order_by(Contact.offered_s)
        ).scalars()
        return [
            OfferOut(
                contact_id=c.id,
                customer_id=c.customer_id,
                queue_id=c.queue_id,
                channel=c.channel,
                state=c.state,
                offered_s=c.offered_s,
                expires_s=c.offer_expires_s if c.state == "offered" else None,
                callback=c.callback,
                context=c.context,
            )
            for c in rows
        ]

    def change_state(
        self,
        router: RoutingRuntime,
        principal: Principal,
        agent_id: str | None,
        data: StateChangeIn,
    ) -> str:
        """agent_id None: the caller's own agent; otherwise a supervisor forces it."""
        if agent_id is not None:
            principal.require(SUPERVISORS, "forcing an agent's state")
        state = rt.AgentState(str(data.state))

        def op(txn: RoutingTxn) -> str:
            agent: Agent | None
            if agent_id is None:
                agent = self.my_agent(txn.session, principal)
            else:
                agent = txn.session.execute(
                    select(Agent).where(Agent.id == agent_id, agent_scope(principal))
                ).scalar_one_or_none()
                if agent is None:
                    raise NotFound.of("agent", agent_id)
                txn.forced = True
            user_reason = data.reason if state is not rt.AgentState.AVAILABLE else None
            with engine_errors():
                txn.run(txn.engine.set_agent_state(agent.id, state, txn.now, user_reason))
            txn.touch(agent_id=agent.id)
            return agent.id

        if agent_id is None and not principal.has_any(frozenset({Role.agent}) | SUPERVISORS):
            raise Forbidden("changing your state needs an agent profile")
        return router.execute(principal.tenant_id, op, principal)


routing_service = RoutingService()
