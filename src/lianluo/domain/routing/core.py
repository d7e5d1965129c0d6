"""The routing state machine shared by the indexed engine and the brute-force scan.

`RouterCore` owns agents, contacts, queues and timers and implements every operation; its
subclasses only decide how to find matches (`_match`) and keep whatever indexes they need
through the hooks `_enter`, `_leave`, `_agent_gained`, `_agent_reindex`, `_agent_removed`
and `_queues_changed`.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any, Self

from lianluo.domain.routing.errors import (
    ClockError,
    ConfigError,
    ConflictError,
    DuplicateIdError,
    InvalidStateError,
    UnknownAgentError,
    UnknownContactError,
    UnknownQueueError,
)
from lianluo.domain.routing.expressions import freeze
from lianluo.domain.routing.model import (
    AgentProfile,
    AgentSnapshot,
    AgentState,
    AgentStateChanged,
    CallbackDue,
    Command,
    ContactOverflowed,
    ContactRelaxed,
    ContactRequest,
    ContactSnapshot,
    ContactState,
    EngineSnapshot,
    Offer,
    OfferExpired,
    OfferRescinded,
    QueueConfig,
)
from lianluo.domain.routing.rules import (
    AgentRuntime,
    CompiledQueue,
    Requirement,
    add_load,
    base_priority,
    make_requirement,
    static_priority,
    validate_queue,
    validate_skill_levels,
)

_WAITING = ContactState.WAITING
_OFFERED = ContactState.OFFERED
_CONNECTED = ContactState.CONNECTED
_SCHEDULED = ContactState.SCHEDULED
_AVAILABLE = AgentState.AVAILABLE

# timer kinds, in the order they fire at equal times
_EXPIRY = 0
_CALLBACK = 1
_RELAX = 2

_Timer = tuple[float, int, int, str, int, int]  # due, kind, seq, contact_id, token, step

# Timers that are pushed in time order (offer deadlines = now + a queue's timeout; relaxation
# steps = start of wait + a step's delay) go to FIFO lanes, one per (kind, delay): O(1)
# in and out, and no walk down a heap of 100,000 scattered tuples (which is memory-bound and
# was the largest single cost of a tick). Out-of-order timers go to the heap. At most this
# many lanes; beyond, timers go to the heap.
MAX_TIMER_LANES = 16
_RequirementKey = tuple[object, ...]
# distinct requirements remembered before the cache is emptied (rejections make new ones)
MAX_CACHED_REQUIREMENTS = 100_000


class ContactRuntime:
    """A contact as the routers hold it (mutable; internal)."""

    __slots__ = (
        "contact_id",
        "queue",
        "channel",
        "own_skills",
        "attributes",
        "tier",
        "priority",
        "context",
        "arrived_at",
        "state",
        "waiting_since",
        "seq",
        "stage",
        "agent_id",
        "offered_at",
        "offer_expires_at",
        "via_queue_id",
        "excluded",
        "target",
        "callback",
        "callback_due_at",
        "static",
        "rate",
        "requirement",
        "lines",
        "visit",
        "offers",
        "cls",
        "entry",
        "skills_key",
        "frozen_attributes",
    )

    contact_id: str
    queue: CompiledQueue
    channel: str
    own_skills: dict[str, int]
    attributes: dict[str, object]
    tier: int
    priority: float
    context: dict[str, object]
    arrived_at: float
    state: ContactState
    waiting_since: float
    seq: int
    stage: int
    agent_id: str | None
    offered_at: float | None
    offer_expires_at: float | None
    via_queue_id: str | None
    excluded: frozenset[str]
    target: str | None
    callback: bool
    callback_due_at: float | None
    static: float
    rate: float
    requirement: Requirement
    lines: tuple[str, ...]
    visit: int
    offers: int
    cls: Any  # the engine's class of equal requirements while WAITING, else None
    entry: int
    skills_key: tuple[tuple[str, int], ...]  # own_skills, sorted: part of the requirement key
    frozen_attributes: dict[str, object]  # attributes made hashable

    def request(self) -> ContactRequest:
        return ContactRequest(
            contact_id=self.contact_id,
            queue_id=self.queue.queue_id,
            arrived_at=self.arrived_at,
            channel=self.channel,
            skills=dict(self.own_skills),
            attributes=dict(self.attributes),
            tier=self.tier,
            priority=self.priority,
            context=dict(self.context),
        )


class RouterCore:
    """Operations of the routing engine; see `lianluo.domain.routing` for the contract."""

    def __init__(self, queues: Iterable[QueueConfig] = ()):
        self._now = -math.inf
        self._seq = 0
        self._queues: dict[str, CompiledQueue] = {}
        self._agents: dict[str, AgentRuntime] = {}
        self._contacts: dict[str, ContactRuntime] = {}
        self._timers: list[_Timer] = []
        self._lanes: dict[tuple[int, float], deque[_Timer]] = {}
        self._due = math.inf  # no pending timer is due before this (a lower bound)
        self._requirements: dict[_RequirementKey, Requirement] = {}
        queues = list(queues)
        if queues:
            self._install_queues(queues)

    # ---- hooks for subclasses ----------------------------------------------------------
    def _enter(self, contact: ContactRuntime) -> None:
        """The contact is now WAITING with `contact.requirement`."""

    def _leave(self, contact: ContactRuntime) -> None:
        """The contact stops WAITING (offered, cancelled, re-classified, scheduled)."""

    def _agent_gained(self, agent: AgentRuntime) -> None:
        """The agent may now be eligible for more contacts than before."""

    def _agent_reindex(self, agent: AgentRuntime) -> None:
        """The agent's load, state or order changed without widening what it can take."""

    def _agent_removed(self, agent: AgentRuntime) -> None:
        """The agent is gone."""

    def _queues_changed(self) -> None:
        """Queue configurations changed (after contacts were re-classified)."""

    def _match(self, now: float) -> list[Command]:
        raise NotImplementedError

    # ---- clock -------------------------------------------------------------------------
    def _advance(self, now: float) -> None:
        if now.__class__ is float and now >= self._now:  # the common case; NaN fails >=
            self._now = now
            return
        if not isinstance(now, int | float) or isinstance(now, bool) or math.isnan(now):
            raise ClockError(f"now must be a number, got {now!r}")
        if now < self._now:
            raise ClockError(f"now={now} is before the engine's clock {self._now}")
        self._now = now

    @property
    def now(self) -> float:
        """The latest time the engine was given."""
        return self._now

    # ---- queues ------------------------------------------------------------------------
    def configure_queues(self, configs: Iterable[QueueConfig]) -> None:
        """Create or replace queues, all validated before any takes effect. Waiting contacts
        of a replaced queue are re-classified under the new rules (their place is kept)."""
        self._install_queues(list(configs))

    def configure_queue(self, config: QueueConfig) -> None:
        self._install_queues([config])

    def _install_queues(self, configs: list[QueueConfig]) -> None:
        ids = [c.queue_id for c in configs]
        if len(set(ids)) != len(ids):
            raise ConfigError(f"duplicate queue ids in {ids!r}")
        known = set(self._queues) | set(ids)
        compiled = {c.queue_id: validate_queue(c, known) for c in configs}
        replaced = [qid for qid in compiled if qid in self._queues]
        self._queues.update(compiled)
        self._requirements.clear()
        if replaced:
            affected = [c for c in self._contacts.values() if c.queue.queue_id in compiled]
            for contact in affected:
                if contact.state is _WAITING:
                    self._leave(contact)
            for contact in affected:
                queue = self._queues[contact.queue.queue_id]
                contact.queue = queue
                contact.stage = min(contact.stage, len(queue.step_times_s))
                contact.rate = queue.config.ageing_per_s
                contact.static = static_priority(
                    base_priority(queue, contact.tier, contact.priority),
                    contact.rate,
                    contact.waiting_since,
                )
                self._refresh_requirement(contact)
                contact.visit += 1
                self._schedule_relaxation(contact)
            for contact in affected:
                if contact.state is _WAITING:
                    self._enter(contact)
        self._queues_changed()

    def remove_queue(self, queue_id: str) -> None:
        """Remove a queue no contact, agent or overflow step refers to."""
        if queue_id not in self._queues:
            raise UnknownQueueError(f"unknown queue {queue_id!r}")
        if any(c.queue.queue_id == queue_id for c in self._contacts.values()):
            raise ConflictError(f"queue {queue_id!r} still has contacts")
        if any(queue_id in a.queues for a in self._agents.values()):
            raise ConflictError(f"queue {queue_id!r} is still served by agents")
        for other in self._queues.values():
            if other.queue_id != queue_id and queue_id in other.lines_by_stage[-1]:
                raise ConflictError(f"queue {other.queue_id!r} overflows to {queue_id!r}")
        del self._queues[queue_id]
        self._queues_changed()

    def queue(self, queue_id: str) -> QueueConfig:
        return self._queue(queue_id).config

    def _queue(self, queue_id: str) -> CompiledQueue:
        try:
            return self._queues[queue_id]
        except KeyError:
            raise UnknownQueueError(f"unknown queue {queue_id!r}") from None

    # ---- agents ------------------------------------------------------------------------
    def _check_agent_queues(self, profile: AgentProfile) -> None:
        for qid in profile.queues:
            if qid not in self._queues:
                raise UnknownQueueError(f"agent {profile.agent_id!r} serves unknown queue {qid!r}")

    def add_agent(
        self,
        profile: AgentProfile,
        now: float,
        state: AgentState = AgentState.OFFLINE,
        reason: str | None = None,
    ) -> list[Command]:
        """Register an agent (OFFLINE unless told otherwise) with no load."""
        self._advance(now)
        if profile.agent_id in self._agents:
            raise DuplicateIdError(f"agent {profile.agent_id!r} already exists")
        self._check_agent_queues(profile)
        agent = AgentRuntime(profile, AgentState(state), reason, now)
        self._agents[agent.agent_id] = agent
        self._agent_gained(agent)
        return []

    def update_agent(self, profile: AgentProfile, now: float) -> list[Command]:
        """Change an agent's queues, skills, attributes, capacity or mixing; state and load
        stay. A capacity below the current load only stops new offers."""
        self._advance(now)
        agent = self._agent(profile.agent_id)
        self._check_agent_queues(profile)
        agent.set_profile(profile)
        self._agent_gained(agent)
        return []

    def remove_agent(self, agent_id: str, now: float) -> list[Command]:
        """Remove an agent without offered or connected contacts. Contacts transferred to
        this agent fall back to their queue."""
        self._advance(now)
        agent = self._agent(agent_id)
        if agent.total_load:
            raise InvalidStateError(f"agent {agent_id!r} still has {agent.total_load} contact(s)")
        del self._agents[agent_id]
        self._agent_removed(agent)
        for contact in list(self._contacts.values()):
            if contact.target == agent_id:
                self._retarget(contact, None)
        return []

    def set_agent_state(
        self, agent_id: str, state: AgentState, now: float, reason: str | None = None
    ) -> list[Command]:
        """Change what the agent is doing. Becoming AVAILABLE restarts their idle time."""
        self._advance(now)
        agent = self._agent(agent_id)
        state = AgentState(state)
        if state is agent.state:
            agent.reason = reason
            return []
        agent.state = state
        agent.reason = reason
        if state is _AVAILABLE:
            agent.ready_since = now
            self._agent_gained(agent)
        else:
            self._agent_reindex(agent)
        return []

    def _agent(self, agent_id: str) -> AgentRuntime:
        try:
            return self._agents[agent_id]
        except KeyError:
            raise UnknownAgentError(f"unknown agent {agent_id!r}") from None

    # ---- contacts ----------------------------------------------------------------------
    def _contact(self, contact_id: str) -> ContactRuntime:
        try:
            return self._contacts[contact_id]
        except KeyError:
            raise UnknownContactError(f"unknown contact {contact_id!r}") from None

    def _refresh_requirement(self, contact: ContactRuntime) -> None:
        """Set the contact's requirement for its queue and stage. Equal requirements are one
        object (interned): contacts that need the same agents share it, and its hash and
        equality are cheap."""
        queue = contact.queue
        stage = contact.stage
        names = queue.contact_attributes_by_stage[stage]
        frozen = contact.frozen_attributes
        key = (
            queue.queue_id,
            stage,
            contact.channel,
            contact.skills_key,
            tuple([(name, frozen.get(name)) for name in names]) if names else (),
            contact.excluded,
            contact.target,
        )
        cache = self._requirements
        requirement = cache.get(key)
        if requirement is None:
            if len(cache) >= MAX_CACHED_REQUIREMENTS:
                cache.clear()
            requirement = make_requirement(
                queue,
                stage,
                contact.channel,
                contact.own_skills,
                contact.attributes,
                contact.excluded,
                contact.target,
            )
            cache[key] = requirement
        contact.requirement = requirement
        contact.lines = queue.lines_by_stage[stage]

    # ---- timers ------------------------------------------------------------------------
    def _push_timer(self, timer: _Timer, delay: float | None = None) -> None:
        """Schedule `timer`; `delay` (its due time minus now) names its FIFO lane."""
        if timer[0] < self._due:
            self._due = timer[0]
        if delay is not None:
            lane_key = (timer[1], delay)
            lane = self._lanes.get(lane_key)
            if lane is None and len(self._lanes) < MAX_TIMER_LANES:
                lane = self._lanes[lane_key] = deque()
            if lane is not None and (not lane or lane[-1] <= timer):
                lane.append(timer)
                return
        heapq.heappush(self._timers, timer)

    def _next_timer(self) -> tuple[_Timer | None, deque[_Timer] | None]:
        """The earliest pending timer and the lane holding it (None: the heap)."""
        timers = self._timers
        best = timers[0] if timers else None
        best_lane = None
        for lane in self._lanes.values():
            if lane and (best is None or lane[0] < best):
                best = lane[0]
                best_lane = lane
        return best, best_lane

    def _pop_timer(self, lane: deque[_Timer] | None) -> _Timer:
        if lane is None:
            return heapq.heappop(self._timers)
        return lane.popleft()

    def _schedule_relaxation(self, contact: ContactRuntime) -> None:
        times = contact.queue.step_times_s
        if contact.stage < len(times):
            delay = times[contact.stage]
            due = contact.waiting_since + delay
            timer = (due, _RELAX, contact.seq, contact.contact_id, contact.visit, contact.stage)
            # steps of one delay come due in the order contacts started waiting, which is
            # mostly the order they are scheduled in: a lane per step delay (the lane takes
            # only timers in order; the others go to the heap)
            self._push_timer(timer, delay)

    def _start_visit(self, contact: ContactRuntime, waiting_since: float) -> None:
        """(Re-)enter the line: a new wait starts at `waiting_since`."""
        contact.waiting_since = waiting_since
        contact.seq = self._seq
        self._seq += 1
        own_skills = contact.own_skills
        contact.skills_key = tuple(sorted(own_skills.items())) if own_skills else ()
        contact.stage = 0
        contact.visit += 1
        contact.rate = contact.queue.config.ageing_per_s
        contact.static = static_priority(
            base_priority(contact.queue, contact.tier, contact.priority),
            contact.rate,
            waiting_since,
        )
        self._refresh_requirement(contact)
        contact.state = _WAITING
        self._enter(contact)
        self._schedule_relaxation(contact)

    def enqueue(self, request: ContactRequest, now: float) -> list[Command]:
        """Put a contact in line. Its wait (ageing, relaxation) runs from `arrived_at`."""
        self._advance(now)
        if not isinstance(request.contact_id, str) or not request.contact_id:
            raise ConfigError("contact_id must be a non-empty string")
        if request.contact_id in self._contacts:
            raise DuplicateIdError(f"contact {request.contact_id!r} is already in routing")
        queue = self._queue(request.queue_id)
        if not isinstance(request.channel, str) or not request.channel:
            raise ConfigError("channel must be a non-empty string")
        arrived = request.arrived_at
        if isinstance(arrived, bool) or not isinstance(arrived, int | float):
            raise ConfigError(f"arrived_at must be a number, got {arrived!r}")
        if not math.isfinite(arrived) or arrived > now:
            raise ConfigError(f"arrived_at={arrived} must be finite and not after now={now}")
        if isinstance(request.tier, bool) or not isinstance(request.tier, int):
            raise ConfigError(f"tier must be an integer, got {request.tier!r}")
        if not math.isfinite(request.priority):
            raise ConfigError(f"priority must be finite, got {request.priority!r}")
        contact = ContactRuntime()
        contact.contact_id = request.contact_id
        contact.queue = queue
        contact.channel = request.channel
        skills = request.skills
        contact.own_skills = (
            validate_skill_levels(skills, f"contact {request.contact_id!r}") if skills else {}
        )
        attributes = contact.attributes = dict(request.attributes)
        contact.frozen_attributes = (
            {name: freeze(v) for name, v in attributes.items()} if attributes else {}
        )
        contact.tier = request.tier
        contact.priority = float(request.priority)
        contact.context = dict(request.context)
        contact.arrived_at = float(arrived)
        contact.agent_id = None
        contact.offered_at = None
        contact.offer_expires_at = None
        contact.via_queue_id = None
        contact.excluded = frozenset()
        contact.target = None
        contact.callback = False
        contact.callback_due_at = None
        contact.visit = 0
        contact.offers = 0
        contact.cls = None
        contact.entry = 0
        self._contacts[contact.contact_id] = contact
        self._start_visit(contact, contact.arrived_at)
        return []

    def _release(self, contact: ContactRuntime, now: float) -> AgentRuntime | None:
        """Give the contact's agent its capacity back."""
        agent = self._agents.get(contact.agent_id) if contact.agent_id else None
        contact.agent_id = None
        contact.offered_at = None
        contact.offer_expires_at = None
        contact.via_queue_id = None
        if agent is not None:
            add_load(agent, contact.channel, -1)
            agent.ready_since = now
            self._agent_gained(agent)
        return agent

    def cancel(self, contact_id: str, now: float) -> list[Command]:
        """The contact leaves routing before being connected (abandoned, hung up, closed)."""
        self._advance(now)
        contact = self._contact(contact_id)
        commands: list[Command] = []
        if contact.state is _CONNECTED:
            raise InvalidStateError(f"contact {contact_id!r} is connected; use complete()")
        if contact.state is _WAITING:
            self._leave(contact)
        elif contact.state is _OFFERED:
            commands.append(OfferRescinded(contact_id, contact.agent_id or "", now))
            self._release(contact, now)
        del self._contacts[contact_id]
        return commands

    def accept(self, contact_id: str, agent_id: str, now: float) -> list[Command]:
        """The agent accepted the offer before it expired: the contact is connected."""
        self._advance(now)
        contact = self._contact(contact_id)
        if contact.state is not _OFFERED or contact.agent_id != agent_id:
            raise InvalidStateError(f"contact {contact_id!r} is not offered to {agent_id!r}")
        assert contact.offer_expires_at is not None
        if now >= contact.offer_expires_at:
            raise InvalidStateError(
                f"the offer of {contact_id!r} to {agent_id!r} expired at {contact.offer_expires_at}"
            )
        contact.state = _CONNECTED
        contact.offers += 1  # the expiry timer no longer applies
        return []

    def reject(self, contact_id: str, agent_id: str, now: float) -> list[Command]:
        """The agent declined: the contact returns to its place (never offered to this agent
        again in this visit) and the agent goes not-ready if the queue says so."""
        self._advance(now)
        contact = self._contact(contact_id)
        if contact.state is not _OFFERED or contact.agent_id != agent_id:
            raise InvalidStateError(f"contact {contact_id!r} is not offered to {agent_id!r}")
        commands: list[Command] = []
        self._return_offer(
            contact, now, contact.queue.config.not_ready_on_reject, "rejected", commands
        )
        return commands

    def _return_offer(
        self,
        contact: ContactRuntime,
        now: float,
        not_ready: bool,
        reason: str,
        commands: list[Command],
    ) -> None:
        agent_id = contact.agent_id or ""
        agent = self._release(contact, now)
        contact.offers += 1
        if contact.target is not None:
            contact.target = None  # a direct transfer the agent did not take falls back
        else:
            contact.excluded = contact.excluded | {agent_id}
        self._refresh_requirement(contact)
        contact.state = _WAITING
        self._enter(contact)
        if not_ready and agent is not None and agent.state is _AVAILABLE:
            agent.state = AgentState.BREAK
            agent.reason = reason
            self._agent_reindex(agent)
            commands.append(AgentStateChanged(agent_id, AgentState.BREAK, reason, now))

    def complete(self, contact_id: str, now: float) -> list[Command]:
        """A connected contact ended: it leaves routing and its agent's capacity is free."""
        self._advance(now)
        contact = self._contact(contact_id)
        if contact.state is not _CONNECTED:
            raise InvalidStateError(f"contact {contact_id!r} is {contact.state}, not connected")
        self._release(contact, now)
        del self._contacts[contact_id]
        return []

    def _retarget(self, contact: ContactRuntime, target: str | None) -> None:
        if contact.state is _WAITING:
            self._leave(contact)
        contact.target = target
        self._refresh_requirement(contact)
        if contact.state is _WAITING:
            self._enter(contact)

    def transfer(
        self,
        contact_id: str,
        now: float,
        *,
        to_queue: str | None = None,
        to_agent: str | None = None,
        context: Mapping[str, object] | None = None,
        skills: Mapping[str, int] | None = None,
    ) -> list[Command]:
        """Move a contact (waiting, offered or connected) to another queue and/or a named
        agent, merging `context` into its context. Its current agent (if any) is freed. It
        starts a new wait now in the target queue with its tier and priority; relaxation
        restarts. `skills` replaces the contact's own required skills (default: kept). A
        contact sent to a named agent waits for that agent only (skills and expressions do
        not apply); if the agent rejects or misses it, it falls back to its queue."""
        self._advance(now)
        contact = self._contact(contact_id)
        if to_queue is None and to_agent is None:
            raise ConfigError("transfer needs to_queue or to_agent")
        queue = self._queue(to_queue) if to_queue is not None else contact.queue
        if to_agent is not None:
            self._agent(to_agent)
        own_skills = (
            validate_skill_levels(skills, f"contact {contact_id!r}")
            if skills is not None
            else contact.own_skills
        )
        commands: list[Command] = []
        if contact.state is _WAITING:
            self._leave(contact)
        elif contact.state is _OFFERED:
            commands.append(OfferRescinded(contact_id, contact.agent_id or "", now))
            self._release(contact, now)
            contact.offers += 1
        elif contact.state is _CONNECTED:
            self._release(contact, now)
        contact.queue = queue
        contact.own_skills = own_skills
        contact.target = to_agent
        contact.excluded = frozenset()
        contact.callback_due_at = None
        if context:
            contact.context = {**contact.context, **context}
        self._start_visit(contact, now)
        return commands

    def request_callback(
        self, contact_id: str, now: float, at: float | None = None
    ) -> list[Command]:
        """A waiting caller hangs up and will be called back.

        at=None: virtual hold; the contact keeps its place and is offered as a callback.
        at=t: a callback at the chosen time; the contact leaves the line and re-enters at t
        (a CallbackDue command) with its original priority, its wait starting at t.
        """
        self._advance(now)
        contact = self._contact(contact_id)
        if contact.state is not _WAITING:
            raise InvalidStateError(f"contact {contact_id!r} is {contact.state}, not waiting")
        contact.callback = True
        if at is None:
            return []
        if isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at):
            raise ConfigError(f"callback time must be a finite number, got {at!r}")
        if at < now:
            raise ConfigError(f"callback time {at} is before now={now}")
        self._leave(contact)
        contact.state = _SCHEDULED
        contact.callback_due_at = float(at)
        contact.visit += 1
        self._push_timer((float(at), _CALLBACK, contact.seq, contact_id, contact.visit, 0))
        return []

    # ---- matching and time -------------------------------------------------------------
    def _assign(
        self, contact: ContactRuntime, agent: AgentRuntime, via_queue_id: str, now: float
    ) -> Offer:
        self._leave(contact)
        contact.state = _OFFERED
        contact.agent_id = agent.agent_id
        contact.offered_at = now
        expires = now + contact.queue.config.offer_timeout_s
        contact.offer_expires_at = expires
        contact.via_queue_id = via_queue_id
        contact.offers += 1
        add_load(agent, contact.channel, 1)
        agent.ready_since = now
        self._agent_reindex(agent)
        timeout = contact.queue.config.offer_timeout_s
        self._push_timer(
            (expires, _EXPIRY, contact.seq, contact.contact_id, contact.offers, 0), timeout
        )
        return Offer(
            contact_id=contact.contact_id,
            agent_id=agent.agent_id,
            queue_id=contact.queue.queue_id,
            via_queue_id=via_queue_id,
            channel=contact.channel,
            offered_at=now,
            expires_at=expires,
            callback=contact.callback,
            context=contact.context,
        )

    def _timer_valid(self, timer: _Timer) -> ContactRuntime | None:
        due, kind, _seq, contact_id, token, step = timer
        contact = self._contacts.get(contact_id)
        if contact is None:
            return None
        if kind == _EXPIRY:
            ok = contact.state is _OFFERED and contact.offers == token
        elif kind == _CALLBACK:
            ok = contact.state is _SCHEDULED and contact.visit == token
        else:
            ok = (
                contact.visit == token
                and contact.stage == step
                and (contact.state is _WAITING or contact.state is _OFFERED)
            )
        return contact if ok else None

    def _fire(self, timer: _Timer, commands: list[Command]) -> None:
        contact = self._timer_valid(timer)
        if contact is None:
            return
        due = timer[0]
        kind = timer[1]
        if kind == _EXPIRY:
            commands.append(OfferExpired(contact.contact_id, contact.agent_id or "", due))
            self._return_offer(
                contact, due, contact.queue.config.not_ready_on_timeout, "missed", commands
            )
        elif kind == _CALLBACK:
            commands.append(CallbackDue(contact.contact_id, contact.queue.queue_id, due))
            contact.callback_due_at = None
            contact.excluded = frozenset()
            self._start_visit(contact, due)
        else:
            step = timer[5]
            queue = contact.queue
            waiting = contact.state is _WAITING
            if waiting:
                self._leave(contact)
            old_lines = contact.lines
            contact.stage = step + 1
            self._refresh_requirement(contact)
            if waiting:
                self._enter(contact)
            commands.append(ContactRelaxed(contact.contact_id, queue.queue_id, step, due))
            added = contact.lines[len(old_lines) :]  # a stage's lines extend the previous
            if added:
                commands.append(ContactOverflowed(contact.contact_id, queue.queue_id, added, due))
            self._schedule_relaxation(contact)

    def tick(self, now: float) -> list[Command]:
        """Apply everything due by `now` (offer timeouts, callbacks, relaxation steps, in time
        order) and then make every assignment the rules allow; return the commands."""
        self._advance(now)
        commands: list[Command] = []
        if self._due <= now:
            while True:
                timer, lane = self._next_timer()
                if timer is None or timer[0] > now:
                    self._due = math.inf if timer is None else timer[0]
                    break
                self._fire(self._pop_timer(lane), commands)
        matched = self._match(now)
        if not commands:
            return matched
        commands.extend(matched)
        return commands

    def next_wakeup(self, now: float | None = None) -> float | None:
        """The earliest time at which `tick` could act without new input: an offer timing
        out, a callback coming due or a relaxation step. None if nothing is pending. A value
        at or before `now` means a tick is due now.

        Ageing contributes no wake-up: it only reorders contacts that compete for the same
        agent, and that order is evaluated by the tick in which the agent becomes free.
        """
        while True:
            timer, lane = self._next_timer()
            if timer is None:
                return None
            if self._timer_valid(timer) is not None:
                return timer[0]
            self._pop_timer(lane)

    # ---- views and recovery ------------------------------------------------------------
    def waiting_count(self, queue_id: str | None = None) -> int:
        """Contacts in line (all queues, or those whose home queue is `queue_id`); O(contacts)."""
        return sum(
            1
            for c in self._contacts.values()
            if c.state is _WAITING and (queue_id is None or c.queue.queue_id == queue_id)
        )

    def contact_state(self, contact_id: str) -> ContactState | None:
        """The contact's state, or None if it is not (or no longer) in routing."""
        contact = self._contacts.get(contact_id)
        return None if contact is None else contact.state

    def agent_state(self, agent_id: str) -> AgentState:
        return self._agent(agent_id).state

    def agent_load(self, agent_id: str) -> dict[str, int]:
        """Offered plus connected contacts per channel."""
        return dict(self._agent(agent_id).load)

    def agent_snapshot(self, agent_id: str) -> AgentSnapshot:
        agent = self._agent(agent_id)
        return AgentSnapshot(agent.profile, agent.state, agent.reason, agent.ready_since)

    def contact_snapshot(self, contact_id: str) -> ContactSnapshot:
        c = self._contact(contact_id)
        return ContactSnapshot(
            request=c.request(),
            state=c.state,
            waiting_since=c.waiting_since,
            seq=c.seq,
            stage=c.stage,
            agent_id=c.agent_id,
            offered_at=c.offered_at,
            offer_expires_at=c.offer_expires_at,
            via_queue_id=c.via_queue_id,
            excluded_agents=c.excluded,
            target_agent_id=c.target,
            callback=c.callback,
            callback_due_at=c.callback_due_at,
        )

    def contact_ids(self) -> list[str]:
        return list(self._contacts)

    def agent_ids(self) -> list[str]:
        return list(self._agents)

    def snapshot(self) -> EngineSnapshot:
        """Everything needed to rebuild an engine that makes the same future decisions."""
        return EngineSnapshot(
            now=self._now,
            next_seq=self._seq,
            queues=tuple(q.config for q in self._queues.values()),
            agents=tuple(self.agent_snapshot(a) for a in sorted(self._agents)),
            contacts=tuple(
                self.contact_snapshot(c.contact_id)
                for c in sorted(self._contacts.values(), key=lambda c: c.seq)
            ),
        )

    @classmethod
    def restore(cls, snapshot: EngineSnapshot) -> Self:
        """Rebuild an engine (e.g. after a crash, from the database) from a snapshot."""
        engine = cls(snapshot.queues)
        engine._now = snapshot.now
        for a in snapshot.agents:
            engine.add_agent(a.profile, snapshot.now, a.state, a.reason)
            engine._agents[a.profile.agent_id].ready_since = a.ready_since
        for s in sorted(snapshot.contacts, key=lambda s: s.seq):
            engine._restore_contact(s)
        engine._seq = max(snapshot.next_seq, engine._seq)
        for agent in engine._agents.values():
            engine._agent_gained(agent)
        return engine

    def _restore_contact(self, s: ContactSnapshot) -> None:
        request = s.request
        self.enqueue(request, self._now)
        contact = self._contacts[request.contact_id]
        self._leave(contact)
        contact.waiting_since = s.waiting_since
        contact.seq = s.seq
        self._seq = max(self._seq, s.seq + 1)
        contact.stage = s.stage
        contact.excluded = frozenset(s.excluded_agents)
        contact.target = s.target_agent_id
        contact.callback = s.callback
        contact.visit += 1
        contact.static = static_priority(
            base_priority(contact.queue, contact.tier, contact.priority),
            contact.rate,
            s.waiting_since,
        )
        self._refresh_requirement(contact)
        contact.state = ContactState(s.state)
        if contact.state is _SCHEDULED:
            if s.callback_due_at is None:
                raise ConfigError(f"scheduled contact {request.contact_id!r} has no due time")
            contact.callback_due_at = s.callback_due_at
            self._push_timer(
                (s.callback_due_at, _CALLBACK, contact.seq, contact.contact_id, contact.visit, 0)
            )
            return
        self._schedule_relaxation(contact)
        if contact.state is _WAITING:
            self._enter(contact)
            return
        agent = self._agent(s.agent_id or "")
        contact.agent_id = agent.agent_id
        contact.offered_at = s.offered_at
        contact.via_queue_id = s.via_queue_id
        add_load(agent, contact.channel, 1)
        if contact.state is _OFFERED:
            if s.offer_expires_at is None:
                raise ConfigError(f"offered contact {request.contact_id!r} has no deadline")
            contact.offer_expires_at = s.offer_expires_at
            contact.offers += 1
            self._push_timer(
                (s.offer_expires_at, _EXPIRY, contact.seq, contact.contact_id, contact.offers, 0)
            )
