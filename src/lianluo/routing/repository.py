"""Every query the live router makes, and the mapping between rows and the routing engine.

The database is the source of truth: `rebuild_engine` turns the rows of one tenant into a
`RoutingEngine` that makes the decisions the crashed one would have made, and `write_contact`
/ `write_agent` store the engine's view of a contact or agent back into its row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lianluo.domain import routing as rt
from lianluo.models import Agent, AgentSkill, Contact, Leg, Queue, RoutingState, Skill

# contact states that are inside the routing engine, and their names in the engine
IN_ROUTING = {
    "queued": rt.ContactState.WAITING,
    "offered": rt.ContactState.OFFERED,
    "connected": rt.ContactState.CONNECTED,
    "callback_scheduled": rt.ContactState.SCHEDULED,
}
STATE_OF_ENGINE = {engine: row for row, engine in IN_ROUTING.items()}
TIER_OF_VALUE = {"standard": 0, "silver": 1, "gold": 2, "vip": 3}


def to_datetime(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


def to_epoch(moment: datetime) -> float:
    return moment.timestamp()


# ---- rows -> engine ---------------------------------------------------------------------


def queue_config(queue: Queue) -> rt.QueueConfig:
    """A queue row as the engine's configuration. Each stored relaxation step is one engine
    step; a queue with a `drop_attributes` step holds its expression as a droppable
    preference, otherwise as a hard condition."""
    droppable = any(step.get("action") == "drop_attributes" for step in queue.relaxation)
    steps = []
    for step in queue.relaxation:
        action = step.get("action")
        steps.append(
            rt.RelaxationStep(
                after_s=float(step["after_s"]),
                lower_levels_by=int(step.get("by") or 0) if action == "lower_levels" else 0,
                drop_preference=action == "drop_attributes",
                overflow_to=(step["to_queue"],) if action == "overflow" else (),
            )
        )
    expression = queue.attribute_expr.strip() or None
    return rt.QueueConfig(
        queue_id=queue.id,
        priority=float(queue.priority),
        policy=rt.SelectionPolicy(queue.selection_policy),
        ageing_per_s=queue.ageing_per_min / 60.0,
        skills=dict(queue.required_skills),
        expression=None if droppable else expression,
        preference=expression if droppable else None,
        relaxation=tuple(steps),
        service_level_s=float(queue.sl_target_s),
        service_level_pct=queue.sl_target_ratio * 100.0,
        offer_timeout_s=float(queue.offer_timeout_s),
    )


def serves(agent: Agent, queue: Queue) -> bool:
    """An agent serves the queues of its own organisation: a partner's agents their
    partner's queues, the tenant's own agents the queues no partner works. Skills and the
    queue's expression decide the rest."""
    return agent.partner_id == queue.partner_id


def agent_profile(agent: Agent, skills: dict[str, int], queues: Iterable[Queue]) -> rt.AgentProfile:
    capacity = {str(k): int(v) for k, v in agent.capacity.items()} or {"voice": 1}
    return rt.AgentProfile(
        agent_id=agent.id,
        queues=frozenset(q.id for q in queues if serves(agent, q)),
        skills=skills,
        capacity=capacity,
        attributes=dict(agent.attributes),
    )


def contact_snapshot(contact: Contact) -> rt.ContactSnapshot:
    arrived = contact.arrived_s if contact.arrived_s is not None else to_epoch(contact.queued_at)
    request = rt.ContactRequest(
        contact_id=contact.id,
        queue_id=contact.queue_id or "",
        arrived_at=arrived,
        channel=contact.channel,
        skills=dict(contact.required_skills),
        attributes=dict(contact.attributes),
        tier=contact.tier,
        priority=float(contact.priority),
        context=dict(contact.context),
    )
    engine_state = IN_ROUTING[contact.state]
    holds_agent = engine_state in (rt.ContactState.OFFERED, rt.ContactState.CONNECTED)
    return rt.ContactSnapshot(
        request=request,
        state=engine_state,
        waiting_since=contact.waiting_since_s if contact.waiting_since_s is not None else arrived,
        seq=contact.routing_seq or 0,
        stage=contact.relax_stage,
        agent_id=contact.agent_id if holds_agent else None,
        offered_at=contact.offered_s,
        offer_expires_at=contact.offer_expires_s,
        via_queue_id=contact.via_queue_id,
        excluded_agents=frozenset(contact.excluded_agents),
        target_agent_id=contact.target_agent_id,
        callback=contact.callback,
        callback_due_at=contact.callback_due_s,
    )


class RoutingRepository:
    def lock_state(self, session: Session, tenant_id: str) -> RoutingState:
        """The tenant's routing row, locked for this transaction (PostgreSQL: row lock;
        SQLite: the write lock BEGIN IMMEDIATE already holds)."""
        values = {"tenant_id": tenant_id, "version": 0, "next_seq": 0}
        if session.get_bind().dialect.name == "postgresql":
            session.execute(pg_insert(RoutingState).values(**values).on_conflict_do_nothing())
        else:
            session.execute(sqlite_insert(RoutingState).values(**values).on_conflict_do_nothing())
        return session.execute(
            select(RoutingState)
            .where(RoutingState.tenant_id == tenant_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one()

    def queues(self, session: Session, tenant_id: str) -> Sequence[Queue]:
        return (
            session.execute(select(Queue).where(Queue.tenant_id == tenant_id).order_by(Queue.id))
            .scalars()
            .all()
        )

    def agents(self, session: Session, tenant_id: str) -> Sequence[Agent]:
        return (
            session.execute(select(Agent).where(Agent.tenant_id == tenant_id).order_by(Agent.id))
            .scalars()
            .all()
        )

    def skill_levels(self, session: Session, tenant_id: str) -> dict[str, dict[str, int]]:
        """agent id -> {skill name: level}."""
        rows = session.execute(
            select(AgentSkill.agent_id, Skill.name, AgentSkill.level)
            .join(Skill, Skill.id == AgentSkill.skill_id)
            .where(AgentSkill.tenant_id == tenant_id)
        )
        result: dict[str, dict[str, int]] = defaultdict(dict)
        for agent_id, name, level in rows:
            result[agent_id][name] = level
        return result

    def routed_contacts(self, session: Session, tenant_id: str) -> Sequence[Contact]:
        return (
            session.execute(
                select(Contact)
                .where(Contact.tenant_id == tenant_id, Contact.state.in_(list(IN_ROUTING)))
                .order_by(Contact.routing_seq, Contact.id)
            )
            .scalars()
            .all()
        )

    def contacts(self, session: Session, tenant_id: str, ids: Iterable[str]) -> dict[str, Contact]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = session.execute(
            select(Contact).where(Contact.tenant_id == tenant_id, Contact.id.in_(wanted))
        )
        return {c.id: c for c in rows.scalars()}

    def agents_by_id(
        self, session: Session, tenant_id: str, ids: Iterable[str]
    ) -> dict[str, Agent]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = session.execute(
            select(Agent).where(Agent.tenant_id == tenant_id, Agent.id.in_(wanted))
        )
        return {a.id: a for a in rows.scalars()}

    def open_leg(self, session: Session, contact_id: str, agent_id: str) -> Leg | None:
        return (
            session.execute(
                select(Leg)
                .where(
                    Leg.contact_id == contact_id, Leg.agent_id == agent_id, Leg.ended_at.is_(None)
                )
                .order_by(Leg.offered_at.desc())
                .limit(1)
            )
            .scalars()
            .first()
        )

    def tenants_with_routing_work(self, session: Session) -> list[str]:
        """Tenants with contacts in routing or agents logged in: the router starts with these."""
        contacts = select(Contact.tenant_id).where(Contact.state.in_(list(IN_ROUTING)))
        agents = select(Agent.tenant_id).where(Agent.state != "offline")
        found = set(session.execute(contacts.distinct()).scalars())
        found |= set(session.execute(agents.distinct()).scalars())
        return sorted(found)


routing_repository = RoutingRepository()


def rebuild_engine(session: Session, tenant_id: str, now: float) -> rt.RoutingEngine:
    """The tenant's routing engine rebuilt from the database (after a crash, at start-up, or
    when another process changed routing). `now` is raised to the latest stored time if the
    clock is behind it, since the engine's clock never goes backwards."""
    repo = routing_repository
    queues = repo.queues(session, tenant_id)
    agents = repo.agents(session, tenant_id)
    levels = repo.skill_levels(session, tenant_id)
    contacts = repo.routed_contacts(session, tenant_id)
    stamps = [now]
    agent_snaps = []
    for agent in agents:
        ready = agent.ready_since_s
        if ready is None:
            ready = to_epoch(agent.state_since)
        stamps.append(ready)
        agent_snaps.append(
            rt.AgentSnapshot(
                profile=agent_profile(agent, dict(levels.get(agent.id, {})), queues),
                state=rt.AgentState(agent.state),
                reason=agent.state_reason or None,
                ready_since=ready,
            )
        )
    contact_snaps = [contact_snapshot(c) for c in contacts]
    for snap in contact_snaps:
        stamps.extend([snap.request.arrived_at, snap.waiting_since])
        if snap.offered_at is not None:
            stamps.append(snap.offered_at)
    next_seq = max((s.seq + 1 for s in contact_snaps), default=0)
    snapshot = rt.EngineSnapshot(
        now=max(stamps),
        next_seq=next_seq,
        queues=tuple(queue_config(q) for q in queues),
        agents=tuple(agent_snaps),
        contacts=tuple(contact_snaps),
    )
    return rt.RoutingEngine.restore(snapshot)
