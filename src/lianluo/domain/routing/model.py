"""Plain data of the routing engine: configuration in, commands out, snapshots for recovery.

Ids are strings; times are float seconds (epoch or virtual); skill levels are 1-10.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

_EMPTY: Mapping[str, object] = MappingProxyType({})


class AgentState(StrEnum):
    """What the agent said they are doing. Only AVAILABLE agents receive offers.

    Routed work is tracked as load per channel, not as a state: an available chat agent with
    two chats is still AVAILABLE and receives a third if capacity allows. BUSY means busy with
    work outside routing (e.g. a manual outbound call).
    """

    OFFLINE = "offline"
    AVAILABLE = "available"
    BUSY = "busy"
    WRAP_UP = "wrap_up"
    BREAK = "break"


class ChannelMixing(StrEnum):
    """How an agent's per-channel capacities combine (Amazon Connect routing profiles call
    this cross-channel concurrency).

    SHARED: each contact uses 1/capacity of the agent; the total may not exceed 1. With voice 1,
        chat 3, email 5: one call blocks everything, two chats leave room for one more chat or
        one e-mail... (exact integer arithmetic on the least common multiple of capacities).
    EXCLUSIVE: one channel at a time, up to that channel's capacity.
    INDEPENDENT: each channel on its own.
    """

    SHARED = "shared"
    EXCLUSIVE = "exclusive"
    INDEPENDENT = "independent"


class SelectionPolicy(StrEnum):
    """How a queue picks among eligible agents.

    LONGEST_IDLE: the agent whose load or state changed longest ago (`ready_since`).
    BEST_PROFICIENCY: highest sum of levels on the queue's skills, then longest idle.
    LEAST_LOADED: smallest used fraction of capacity, then longest idle.
    Remaining ties go to the smaller agent id.
    """

    LONGEST_IDLE = "longest_idle"
    BEST_PROFICIENCY = "best_proficiency"
    LEAST_LOADED = "least_loaded"


class ContactState(StrEnum):
    WAITING = "waiting"  # in line (also a virtual-hold callback keeping its place)
    OFFERED = "offered"  # offered to an agent, awaiting accept/reject/timeout
    CONNECTED = "connected"  # accepted; the agent's capacity stays used until complete()
    SCHEDULED = "scheduled"  # a callback at a chosen time; back in line when due


@dataclass(frozen=True, slots=True)
class RelaxationStep:
    """What changes once a contact has waited `after_s` in its queue (Genesys bullseye rings).

    lower_levels_by: this step lowers every required skill level by this much more (the
        reductions of successive steps add up; a level never drops below 1).
    drop_preference: from this step on the queue's `preference` expression no longer applies.
    overflow_to: queues whose agents may also take the contact from this step on; the
        contact keeps its place and its home queue's agents are still tried first.
    """

    after_s: float
    lower_levels_by: int = 0
    drop_preference: bool = False
    overflow_to: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """A queue. Effective priority of a waiting contact:

        priority + contact.priority + tier_weight * contact.tier + ageing_per_s * wait_s

    skills: levels every contact of the queue needs (a contact's own skills are added, the
        higher level winning).
    expression: hard attribute condition on the agent (never relaxed).
    preference: attribute condition dropped by a relaxation step with drop_preference.
    service_level_s / service_level_pct: the target (e.g. 80 % in 20 s); reporting only.
    offer_timeout_s: how long an agent has to accept an offer.
    not_ready_on_reject / not_ready_on_timeout: put the agent on BREAK ("rejected" /
        "missed") when they reject or miss an offer.
    """

    queue_id: str
    priority: float = 0.0
    policy: SelectionPolicy = SelectionPolicy.LONGEST_IDLE
    ageing_per_s: float = 0.0
    tier_weight: float = 1.0
    skills: Mapping[str, int] = field(default_factory=dict)
    expression: str | None = None
    preference: str | None = None
    relaxation: tuple[RelaxationStep, ...] = ()
    service_level_s: float = 20.0
    service_level_pct: float = 80.0
    offer_timeout_s: float = 20.0
    not_ready_on_reject: bool = True
    not_ready_on_timeout: bool = True


@dataclass(frozen=True, slots=True)
class AgentProfile:
    """Who an agent is: the queues they serve (their routing profile), skills with levels
    1-10, attributes for expressions, and capacity per channel."""

    agent_id: str
    queues: frozenset[str] = frozenset()
    skills: Mapping[str, int] = field(default_factory=dict)
    capacity: Mapping[str, int] = field(default_factory=lambda: {"voice": 1})
    attributes: Mapping[str, object] = field(default_factory=dict)
    mixing: ChannelMixing = ChannelMixing.SHARED


@dataclass(frozen=True, slots=True)
class ContactRequest:
    """A contact to route. `arrived_at` starts its wait (priority ageing, relaxation).

    tier: customer value tier (0 standard, higher buys faster service), weighted by the queue.
    priority: extra priority of this contact on top of its queue's.
    skills: extra skills it needs (e.g. {"cantonese": 5}); the queue's skills always apply.
    """

    contact_id: str
    queue_id: str
    arrived_at: float
    channel: str = "voice"
    skills: Mapping[str, int] = field(default_factory=dict)
    attributes: Mapping[str, object] = field(default_factory=dict)
    tier: int = 0
    priority: float = 0.0
    context: Mapping[str, object] = field(default_factory=dict)


# ---- commands: what the engine tells its caller to do -------------------------------------


@dataclass(frozen=True, slots=True)
class Offer:
    """Offer `contact_id` to `agent_id` until `expires_at`. `via_queue_id` is the queue whose
    agents it was found among (the home queue or an overflow queue)."""

    contact_id: str
    agent_id: str
    queue_id: str
    via_queue_id: str
    channel: str
    offered_at: float
    expires_at: float
    callback: bool = False
    context: Mapping[str, object] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, slots=True)
class OfferExpired:
    """The agent did not answer in time; the contact is back in its place."""

    contact_id: str
    agent_id: str
    at: float


@dataclass(frozen=True, slots=True)
class OfferRescinded:
    """The offered contact went away (abandoned, transferred): withdraw the offer."""

    contact_id: str
    agent_id: str
    at: float


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    """The engine changed an agent's state (not-ready after a rejected or missed offer)."""

    agent_id: str
    state: AgentState
    reason: str | None
    at: float


@dataclass(frozen=True, slots=True)
class ContactRelaxed:
    """Relaxation step `step_index` (0-based) of the contact's queue took effect."""

    contact_id: str
    queue_id: str
    step_index: int
    at: float


@dataclass(frozen=True, slots=True)
class ContactOverflowed:
    """The contact may now also be served by the agents of `to_queue_ids`."""

    contact_id: str
    queue_id: str
    to_queue_ids: tuple[str, ...]
    at: float


@dataclass(frozen=True, slots=True)
class CallbackDue:
    """A scheduled callback is due: the contact is back in line (to be offered as a callback)."""

    contact_id: str
    queue_id: str
    at: float


Command = (
    Offer
    | OfferExpired
    | OfferRescinded
    | AgentStateChanged
    | ContactRelaxed
    | ContactOverflowed
    | CallbackDue
)


# ---- snapshots: everything needed to rebuild an engine that decides the same ---------------


@dataclass(frozen=True, slots=True)
class AgentSnapshot:
    """An agent as persisted. Its load is not stored: it follows from the contacts offered to
    or connected with it."""

    profile: AgentProfile
    state: AgentState
    reason: str | None
    ready_since: float


@dataclass(frozen=True, slots=True)
class ContactSnapshot:
    """A contact in routing as persisted.

    request: the contact as it was last (re-)entered (queue, skills, attributes, tier,
        priority, context, channel, original arrival).
    waiting_since: start of the current wait in the current queue (ageing and relaxation run
        from here; equals request.arrived_at unless transferred or called back).
    seq: the engine's enqueue sequence number; breaks ties (FIFO) between equal priority and
        equal waiting_since.
    stage: how many relaxation steps have taken effect.
    """

    request: ContactRequest
    state: ContactState
    waiting_since: float
    seq: int
    stage: int = 0
    agent_id: str | None = None
    offered_at: float | None = None
    offer_expires_at: float | None = None
    via_queue_id: str | None = None
    excluded_agents: frozenset[str] = frozenset()
    target_agent_id: str | None = None
    callback: bool = False
    callback_due_at: float | None = None


@dataclass(frozen=True, slots=True)
class EngineSnapshot:
    """The whole routing state at `now`."""

    now: float
    next_seq: int
    queues: tuple[QueueConfig, ...]
    agents: tuple[AgentSnapshot, ...]
    contacts: tuple[ContactSnapshot, ...]
