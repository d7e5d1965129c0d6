"""The live router: the routing engine of each tenant, driven by API operations and a clock.

How it stays correct (the database is the source of truth):

- Every routing change of a tenant runs in `RoutingRuntime.execute`, one at a time per tenant:
  a per-tenant thread lock inside the process, and across processes the tenant's
  `routing_states` row, locked for the transaction (PostgreSQL row lock; on SQLite the write
  lock that BEGIN IMMEDIATE takes). Inside, the operation calls the engine, the engine is
  ticked, every command it returns is persisted (contact and agent columns, legs, events) and
  the row's `version` is bumped, all in one transaction; only after the commit is anyone told
  (events are published post-commit by the event service).
- The engine is a cache of the database. It is kept between operations only while the
  tenant's `version` is the one this process committed last; otherwise (another process
  routed, a commit failed, an admin changed a queue or an agent) it is rebuilt from the rows
  with `rebuild_engine`, which is exactly the crash-recovery path.
- `RouterLoop` (a thread started in the app's lifespan) wakes at the engines' `next_wakeup`
  (offer timeouts, relaxation steps, callbacks) or when told, and ticks. At start-up it
  rebuilds every tenant with work, so after `kill -9` expired offers are returned and
  waiting contacts are routed again. With PostgreSQL only the holder of an advisory lock runs
  the loop; API operations may route from any worker (they are serialised by the row lock).
  On SQLite run one server process (the default of `lianluo serve`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from lianluo.auth.principal import Principal
from lianluo.domain import routing as rt
from lianluo.events.service import event_service
from lianluo.models import Agent, Contact, Leg
from lianluo.routing.repository import (
    STATE_OF_ENGINE,
    rebuild_engine,
    routing_repository,
    to_datetime,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# events of other modules after which a cached engine no longer matches the database
CONFIG_EVENTS = (
    "queue.",
    "agent.created",
    "agent.updated",
    "agent.deleted",
    "skill.",
)
ADVISORY_LOCK_KEY = 0x4C69616E  # "Lian"


@dataclass
class RoutingTxn:
    """What an operation inside `RoutingRuntime.execute` works with."""

    session: Session
    engine: rt.RoutingEngine
    tenant_id: str
    now: float
    actor: Principal | None = None
    forced: bool = False  # a supervisor forced the agent state change
    commands: list[rt.Command] = field(default_factory=list)
    contacts: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)
    agent_reasons: dict[str, str | None] = field(default_factory=dict)
    rescind_reason: str = "abandoned"

    def run(self, commands: list[rt.Command]) -> None:
        self.commands.extend(commands)

    def touch(self, contact_id: str | None = None, agent_id: str | None = None) -> None:
        if contact_id:
            self.contacts.add(contact_id)
        if agent_id:
            self.agents.add(agent_id)


@dataclass
class _Cached:
    engine: rt.RoutingEngine
    version: int
    built_at: float


class RoutingRuntime:
    """One routing engine per tenant in this process; see the module docstring."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Callable[[], float] = time.time,
        max_cache_age_s: float = 60.0,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.max_cache_age_s = max_cache_age_s
        self._cache: dict[str, _Cached] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.wake = threading.Event()

    def _lock(self, tenant_id: str) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(tenant_id)
            if lock is None:
                lock = self._locks[tenant_id] = threading.Lock()
            return lock

    def invalidate(self, tenant_id: str | None = None) -> None:
        """Forget cached engines (all, or one tenant's): the next operation rebuilds."""
        with self._guard:
            if tenant_id is None:
                self._cache.clear()
            else:
                self._cache.pop(tenant_id, None)
        self.wake.set()

    def on_event(self, event: dict[str, Any]) -> None:
        """EventBus subscriber: configuration changes made elsewhere invalidate the cache."""
        kind = str(event.get("type", ""))
        if kind.startswith(CONFIG_EVENTS):
            self.invalidate(event.get("tenant_id"))

    def execute(
        self,
        tenant_id: str,
        operation: Callable[[RoutingTxn], T],
        actor: Principal | None = None,
    ) -> T:
        """Run `operation` on the tenant's engine, tick, persist everything, commit."""
        with self._lock(tenant_id):
            session = self.sessions()
            try:
                state = routing_repository.lock_state(session, tenant_id)
                cached = self._cache.pop(tenant_id, None)
                now = self.clock()
                if (
                    cached is None
                    or cached.version != state.version
                    or now - cached.built_at > self.max_cache_age_s
                ):
                    engine = rebuild_engine(session, tenant_id, now)
                    built_at = now
                else:
                    engine, built_at = cached.engine, cached.built_at
                now = max(now, engine.now)
                txn = RoutingTxn(session, engine, tenant_id, now, actor)
                result = operation(txn)
                txn.run(engine.tick(now))
                _persist(txn)
                state.version += 1
                seqs = [engine.contact_snapshot(c).seq for c in txn.contacts if _has(engine, c)]
                state.next_seq = max([state.next_seq, *(s + 1 for s in seqs)])
                session.commit()
                self._cache[tenant_id] = _Cached(engine, state.version, built_at)
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()
        self.wake.set()
        return result

    def tick(self, tenant_id: str) -> None:
        """Apply what is due now (timeouts, relaxation, callbacks) and route."""
        self.execute(tenant_id, lambda txn: None)

    def next_wakeup(self) -> dict[str, float]:
        """tenant -> when its engine next needs a tick (only tenants with something due)."""
        with self._guard:
            cached = list(self._cache.items())
        result = {}
        for tenant_id, entry in cached:
            due = entry.engine.next_wakeup(entry.engine.now)
            if due is not None:
                result[tenant_id] = due
        return result

    def recover(self) -> list[str]:
        """Rebuild and tick every tenant with routing work (start-up after a crash)."""
        with self.sessions() as session:
            tenants = routing_repository.tenants_with_routing_work(session)
        for tenant_id in tenants:
            self.invalidate(tenant_id)
            self.tick(tenant_id)
        return tenants


def _has(engine: rt.RoutingEngine, contact_id: str) -> bool:
    try:
        engine.contact_snapshot(contact_id)
    except rt.UnknownContactError:
        return False
    return True


# ---- persistence of commands -----------------------------------------------------------------


def _persist(txn: RoutingTxn) -> None:
    session, tenant_id = txn.session, txn.tenant_id
    for command in txn.commands:
        txn.touch(command.contact_id if hasattr(command, "contact_id") else None)
        txn.touch(agent_id=getattr(command, "agent_id", None))
        if isinstance(command, rt.AgentStateChanged):
            txn.agent_reasons.setdefault(command.agent_id, command.reason)
    contacts = routing_repository.contacts(session, tenant_id, txn.contacts)
    for command in txn.commands:
        _apply_command(txn, command, contacts)
    for contact_id, row in contacts.items():
        if _has(txn.engine, contact_id):
            write_contact(row, txn.engine.contact_snapshot(contact_id))
    agents = routing_repository.agents_by_id(session, tenant_id, txn.agents)
    for agent_id, agent in agents.items():
        try:
            snap = txn.engine.agent_snapshot(agent_id)
        except rt.UnknownAgentError:
            continue
        write_agent(txn, agent, snap)
    session.flush()


def write_contact(row: Contact, snap: rt.ContactSnapshot) -> None:
    """Store the engine's view of a contact in routing into its row."""
    request = snap.request
    row.state = STATE_OF_ENGINE[snap.state]
    row.queue_id = request.queue_id
    if snap.agent_id is not None:
        row.agent_id = snap.agent_id
    elif snap.state is rt.ContactState.WAITING:
        row.agent_id = None
    row.routing_seq = snap.seq
    row.arrived_s = request.arrived_at
    row.waiting_since_s = snap.waiting_since
    row.relax_stage = snap.stage
    row.offered_s = snap.offered_at
    row.offer_expires_s = snap.offer_expires_at
    row.via_queue_id = snap.via_queue_id
    row.excluded_agents = sorted(snap.excluded_agents)
    row.target_agent_id = snap.target_agent_id
    row.callback = snap.callback
    row.callback_due_s = snap.callback_due_at
    row.context = dict(request.context)
    row.required_skills = dict(request.skills)


def write_agent(txn: RoutingTxn, agent: Agent, snap: rt.AgentSnapshot) -> None:
    """Store the engine's view of an agent; a change of state is an agent.state_changed."""
    new_state = str(snap.state)
    reason = snap.reason or ""
    if new_state != agent.state or reason != agent.state_reason:
        payload: dict[str, Any] = {"from": agent.state, "to": new_state, "reason": reason}
        if txn.forced and txn.actor is not None:
            payload["forced_by"] = txn.actor.user_id
        event_service.append(
            txn.session,
            txn.tenant_id,
            "agent.state_changed",
            actor=txn.actor,
            occurred_at=to_datetime(txn.now),
            agent_id=agent.id,
            partner_id=agent.partner_id,
            payload=payload,
        )
        if new_state != agent.state:
            agent.state_since = to_datetime(txn.now)
        agent.state = new_state
        agent.state_reason = reason
    agent.ready_since_s = snap.ready_since


def _event(
    txn: RoutingTxn, kind: str, row: Contact, at: float, agent_id: str | None, **payload: Any
) -> None:
    event_service.append(
        txn.session,
        txn.tenant_id,
        kind,
        actor=txn.actor,
        occurred_at=to_datetime(at),
        customer_id=row.customer_id,
        contact_id=row.id,
        queue_id=row.queue_id,
        agent_id=agent_id,
        payload={"channel": row.channel, **payload},
    )


def end_leg(txn: RoutingTxn, contact_id: str, agent_id: str, reason: str) -> Leg | None:
    leg = routing_repository.open_leg(txn.session, contact_id, agent_id)
    if leg is not None:
        leg.ended_at = to_datetime(txn.now)
        leg.end_reason = reason
        if leg.answered_at is not None:
            leg.talk_s = max(0.0, txn.now - leg.answered_at.timestamp())
    return leg


def _apply_command(txn: RoutingTxn, command: rt.Command, contacts: dict[str, Contact]) -> None:
    if isinstance(command, rt.AgentStateChanged):
        return  # stored by write_agent with its reason
    row = contacts.get(command.contact_id)
    if row is None:  # pragma: no cover - every routed contact has a row
        log.error("routing command for unknown contact %s", command.contact_id)
        return
    if isinstance(command, rt.Offer):
        leg = Leg(
            tenant_id=txn.tenant_id,
            contact_id=row.id,
            agent_id=command.agent_id,
            offered_at=to_datetime(command.offered_at),
        )
        txn.session.add(leg)
        txn.session.flush()
        _event(
            txn,
            "contact.offered",
            row,
            command.offered_at,
            command.agent_id,
            leg_id=leg.id,
            expires_at=command.expires_at,
            via_queue_id=command.via_queue_id,
            callback=command.callback,
        )
    elif isinstance(command, rt.OfferExpired):
        end_leg(txn, row.id, command.agent_id, "offer_timeout")
        _event(txn, "contact.offer_expired", row, command.at, command.agent_id)
    elif isinstance(command, rt.OfferRescinded):
        end_leg(txn, row.id, command.agent_id, txn.rescind_reason)
        _event(txn, "contact.offer_rescinded", row, command.at, command.agent_id)
    elif isinstance(command, rt.ContactRelaxed):
        _event(txn, "contact.relaxed", row, command.at, None, step=command.step_index)
    elif isinstance(command, rt.ContactOverflowed):
        _event(
            txn,
            "contact.overflowed",
            row,
            command.at,
            None,
            to_queue_ids=list(command.to_queue_ids),
        )
    elif isinstance(command, rt.CallbackDue):
        _event(txn, "contact.callback_due", row, command.at, None)


# ---- the clock -------------------------------------------------------------------------------


class RouterLoop:
    """A thread that ticks each tenant's engine when its next timer is due."""

    def __init__(self, runtime: RoutingRuntime, engine: Engine, max_sleep_s: float = 1.0):
        self.runtime = runtime
        self.db_engine = engine
        self.max_sleep_s = max_sleep_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock_conn: Connection | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="lianluo-router", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.runtime.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._lock_conn is not None:
            self._lock_conn.close()
            self._lock_conn = None

    def _is_leader(self) -> bool:
        if self.db_engine.dialect.name != "postgresql":
            return True  # SQLite: one server process (documented)
        if self._lock_conn is not None:
            return True
        conn = self.db_engine.connect()
        got = conn.execute(text("select pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
        if got.scalar():
            conn.commit()
            self._lock_conn = conn
            return True
        conn.close()
        return False

    def _run(self) -> None:
        recovered = False
        while not self._stop.is_set():
            try:
                if not self._is_leader():
                    self._stop.wait(5.0)
                    continue
                if not recovered:
                    tenants = self.runtime.recover()
                    log.info("router recovered %d tenant(s)", len(tenants))
                    recovered = True
                now = self.runtime.clock()
                due = self.runtime.next_wakeup()
                for tenant_id, at in due.items():
                    if at <= now:
                        self.runtime.tick(tenant_id)
                now = self.runtime.clock()
                later = [at for at in self.runtime.next_wakeup().values()]
                sleep_s = min([self.max_sleep_s, *(at - now for at in later)])
                self.runtime.wake.clear()
                if sleep_s > 0:
                    self.runtime.wake.wait(sleep_s)
            except Exception:
                log.exception("router loop iteration failed; retrying")
                self._stop.wait(1.0)


def runtime_of(ctx: Any) -> RoutingRuntime:
    """The app's routing runtime (created on first use, subscribed to its event bus). Tests
    may put a clock in `ctx.extras["router_clock"]`."""
    runtime = ctx.extras.get("router")
    if runtime is None:
        with _create_guard:
            runtime = ctx.extras.get("router")
            if runtime is None:
                runtime = RoutingRuntime(ctx.sessions, ctx.extras.get("router_clock", time.time))
                ctx.bus.subscribe(runtime.on_event)
                ctx.extras["router"] = runtime
    return runtime


_create_guard = threading.Lock()
