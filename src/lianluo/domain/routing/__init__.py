"""Routing engine (ACD): pure, deterministic domain code shared by the live server and the
simulator. Time is passed in as float seconds; ids are strings; operations return commands.

Configuration and validation (errors map to HTTP 422):
    QueueConfig, RelaxationStep, SelectionPolicy, AgentProfile, ChannelMixing
    validate_queue(config, known_queue_ids) -> CompiledQueue
    validate_queues(configs) -> dict[str, CompiledQueue]
    compile_expression(text) -> CompiledExpression       (raises ExpressionError with .position)

The engine (`RoutingEngine`; `ScanRouter` has the same API and decisions, by brute force):
    RoutingEngine(queues=())
    configure_queue(config) / configure_queues(configs) / remove_queue(queue_id)
    add_agent(profile, now, state=OFFLINE, reason=None) / update_agent(profile, now)
    remove_agent(agent_id, now) / set_agent_state(agent_id, state, now, reason=None)
    enqueue(request: ContactRequest, now)           cancel(contact_id, now)  (abandon)
    accept(contact_id, agent_id, now)               reject(contact_id, agent_id, now)
    complete(contact_id, now)                       (frees the agent's capacity)
    transfer(contact_id, now, *, to_queue=None, to_agent=None, context=None, skills=None)
    request_callback(contact_id, now, at=None)      (None: virtual hold, keeps its place)
    tick(now) -> list[Command]                      (timers due, then all assignments)
    next_wakeup(now) -> float | None                (earliest time tick could act unprompted)
    snapshot() -> EngineSnapshot / RoutingEngine.restore(snapshot)   (crash recovery)
    waiting_count(queue_id=None), contact_state(contact_id), agent_state(agent_id),
    agent_load(agent_id), agent_snapshot(agent_id),
    contact_snapshot(contact_id)
Every operation returns list[Command]; commands are Offer, OfferExpired, OfferRescinded,
AgentStateChanged, ContactRelaxed, ContactOverflowed, CallbackDue.
"""

from lianluo.domain.routing.engine import RoutingEngine
from lianluo.domain.routing.errors import (
    AgentConfigError,
    ClockError,
    ConfigError,
    ConflictError,
    DuplicateIdError,
    ExpressionError,
    InvalidStateError,
    NotFoundError,
    QueueConfigError,
    RoutingError,
    UnknownAgentError,
    UnknownContactError,
    UnknownQueueError,
)
from lianluo.domain.routing.expressions import CompiledExpression, compile_expression
from lianluo.domain.routing.model import (
    AgentProfile,
    AgentSnapshot,
    AgentState,
    AgentStateChanged,
    CallbackDue,
    ChannelMixing,
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
    RelaxationStep,
    SelectionPolicy,
)
from lianluo.domain.routing.rules import CompiledQueue, validate_queue, validate_queues
from lianluo.domain.routing.scan import ScanRouter

__all__ = [
    "AgentConfigError",
    "AgentProfile",
    "AgentSnapshot",
    "AgentState",
    "AgentStateChanged",
    "CallbackDue",
    "ChannelMixing",
    "ClockError",
    "Command",
    "CompiledExpression",
    "CompiledQueue",
    "ConfigError",
    "ConflictError",
    "ContactOverflowed",
    "ContactRelaxed",
    "ContactRequest",
    "ContactSnapshot",
    "ContactState",
    "DuplicateIdError",
    "EngineSnapshot",
    "ExpressionError",
    "InvalidStateError",
    "NotFoundError",
    "Offer",
    "OfferExpired",
    "OfferRescinded",
    "QueueConfig",
    "QueueConfigError",
    "RelaxationStep",
    "RoutingEngine",
    "RoutingError",
    "ScanRouter",
    "SelectionPolicy",
    "UnknownAgentError",
    "UnknownContactError",
    "UnknownQueueError",
    "compile_expression",
    "validate_queue",
    "validate_queues",
]
