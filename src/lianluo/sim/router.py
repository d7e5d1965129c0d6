"""The simulator's one door to routing: `SimRouter`, the handful of calls the event loop makes,
and `EngineRouter`, its implementation over `lianluo.domain.routing` — the engine the live
server runs. The simulator never decides itself who gets which contact.

Mapping (sim → engine): a scenario queue is a `QueueConfig` (its priority; VIP customers are
tier 1 with `tier_weight` = the queue's vip_priority; the queue requires the skill named after
it at level 1; extra fields from the scenario's `routing.queues.<name>`); an agent group
member is an `AgentProfile` serving the queues it has skills for, at the scenario's levels,
with capacity 1 on each of their channels, shared (one contact at a time); agents go
AVAILABLE / OFFLINE as their schedule says. A simulated agent accepts every offer at once.
A transfer completes the first contact and enqueues a new one in the target queue (the KPI
records count a transfer as a new contact there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from lianluo.domain import routing as rt


@dataclass(frozen=True, slots=True)
class Assignment:
    """The router connected `contact` (sim index) to `agent` (sim index)."""

    contact: int
    agent: int


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """What the simulator knows of a queue that routing needs."""

    name: str
    channel: str
    priority: float
    vip_priority: float


class SimRouter(Protocol):
    """What the event loop needs from routing. Agents and contacts are small ints."""

    def add_agent(self, agent: int, skills: Mapping[str, int], now: float) -> None: ...

    def agent_available(self, agent: int, now: float) -> None: ...

    def agent_unavailable(self, agent: int, now: float) -> None:
        """Off shift or on break; a contact in progress continues to its end."""
        ...

    def enqueue(
        self, contact: int, queue: str, now: float, *, vip: bool = False, priority: float = 0.0
    ) -> None: ...

    def cancel(self, contact: int, now: float) -> None:
        """The customer abandoned while waiting."""
        ...

    def keep_as_callback(self, contact: int, now: float) -> None:
        """The customer hung up but keeps their place as a callback (virtual hold)."""
        ...

    def release(self, agent: int, contact: int, now: float) -> None:
        """The agent finished the contact (wrap-up included) and is free again."""
        ...

    def dispatch(self, now: float) -> list[Assignment]:
        """Run routing at `now`; every offer is accepted at once by the simulated agent."""
        ...

    def next_wakeup(self, now: float) -> float | None: ...


class RoutingUnavailableError(RuntimeError):
    """The routing engine refused the configuration the scenario implies."""


_QUEUE_OPTIONS = {
    "policy",
    "ageing_per_s",
    "skills",
    "expression",
    "preference",
    "relaxation",
    "service_level_s",
    "service_level_pct",
}


def queue_config(spec: QueueSpec, options: Mapping[str, Any] | None = None) -> rt.QueueConfig:
    """The engine's `QueueConfig` for a simulated queue (`options`: extra QueueConfig fields
    from the scenario's routing section, e.g. policy or ageing_per_s)."""
    extra = dict(options or {})
    unknown = set(extra) - _QUEUE_OPTIONS
    if unknown:
        raise RoutingUnavailableError(
            f"routing.queues.{spec.name}: unknown option(s) {sorted(unknown)}; "
            f"allowed: {sorted(_QUEUE_OPTIONS)}"
        )
    if "policy" in extra:
        extra["policy"] = rt.SelectionPolicy(extra["policy"])
    if "relaxation" in extra:
        extra["relaxation"] = tuple(
            rt.RelaxationStep(**{**step, "overflow_to": tuple(step.get("overflow_to", ()))})
            for step in extra["relaxation"]
        )
    # Agents hold a skill named after each queue they serve (level 1-10 from the scenario);
    # the queue requires it at level 1, so proficiency-based policies can rank agents.
    extra.setdefault("skills", {spec.name: 1})
    return rt.QueueConfig(
        queue_id=spec.name,
        priority=spec.priority,
        tier_weight=spec.vip_priority,
        **extra,
    )


class EngineRouter:
    """`SimRouter` over `lianluo.domain.routing.RoutingEngine` (or `ScanRouter`, the engine's
    brute-force reference with the same decisions, when `engine="scan"`)."""

    def __init__(
        self,
        queues: Sequence[QueueSpec],
        queue_options: Mapping[str, Mapping[str, Any]] | None = None,
        engine: str = "indexed",
    ) -> None:
        options = queue_options or {}
        for name in options:
            if name not in {q.name for q in queues}:
                raise RoutingUnavailableError(f"routing.queues: unknown queue {name!r}")
        try:
            configs = [queue_config(q, options.get(q.name)) for q in queues]
            cls = {"indexed": rt.RoutingEngine, "scan": rt.ScanRouter}[engine]
        except KeyError:
            raise RoutingUnavailableError(
                f"routing.engine must be 'indexed' or 'scan', not {engine!r}"
            ) from None
        except (rt.ConfigError, TypeError, ValueError) as exc:
            raise RoutingUnavailableError(f"routing: {exc}") from None
        try:
            self.engine = cls(configs)
        except rt.ConfigError as exc:
            raise RoutingUnavailableError(f"routing: {exc}") from None
        self._channel = {q.name: q.channel for q in queues}
        self._channels_of_queue = self._channel
        # Ids: the engine wants strings; keep both directions as lists/dicts for speed.
        self._agent_ids: list[str] = []
        self._contact_ids: dict[int, str] = {}
        self._available = rt.AgentState.AVAILABLE
        self._offline = rt.AgentState.OFFLINE
        self._offer = rt.Offer

    def add_agent(self, agent: int, skills: Mapping[str, int], now: float) -> None:
        agent_id = f"a{agent}"
        assert agent == len(self._agent_ids), "agents are added in index order"
        self._agent_ids.append(agent_id)
        queues = frozenset(skills)
        profile = rt.AgentProfile(
            agent_id=agent_id,
            queues=queues,
            skills=dict(skills),
            capacity={self._channel[q]: 1 for q in queues},
        )
        self.engine.add_agent(profile, now)

    def agent_available(self, agent: int, now: float) -> None:
        self.engine.set_agent_state(self._agent_ids[agent], self._available, now)

    def agent_unavailable(self, agent: int, now: float) -> None:
        self.engine.set_agent_state(self._agent_ids[agent], self._offline, now)

    def enqueue(
        self, contact: int, queue: str, now: float, *, vip: bool = False, priority: float = 0.0
    ) -> None:
        contact_id = str(contact)
        self._contact_ids[contact] = contact_id
        request = rt.ContactRequest(
            contact_id=contact_id,
            queue_id=queue,
            arrived_at=now,
            channel=self._channel[queue],
            tier=1 if vip else 0,
            priority=priority,
        )
        self.engine.enqueue(request, now)

    def cancel(self, contact: int, now: float) -> None:
        self.engine.cancel(self._contact_ids.pop(contact), now)

    def keep_as_callback(self, contact: int, now: float) -> None:
        self.engine.request_callback(self._contact_ids[contact], now)

    def release(self, agent: int, contact: int, now: float) -> None:
        self.engine.complete(self._contact_ids.pop(contact), now)

    def dispatch(self, now: float) -> list[Assignment]:
        out: list[Assignment] = []
        engine = self.engine
        for command in engine.tick(now):
            if type(command) is self._offer:
                engine.accept(command.contact_id, command.agent_id, now)
                out.append(Assignment(int(command.contact_id), int(command.agent_id[1:])))
            # Relaxation, overflow and callback-due commands need no action from the caller;
            # offers never expire or get rescinded here, as they are accepted at once.
        return out

    def next_wakeup(self, now: float) -> float | None:
        return self.engine.next_wakeup(now)


def make_router(queues: Sequence[QueueSpec], routing: Mapping[str, Any] | None = None) -> SimRouter:
    """The router the simulator drives: the production routing engine.

    `routing` is the scenario's routing section: `engine` ("indexed", the default, or "scan")
    and `queues: {name: {policy, ageing_per_s, skills, relaxation, ...}}`.
    """
    options = dict(routing or {})
    engine = options.pop("engine", "indexed")
    queue_options = options.pop("queues", None) or {}
    if options:
        raise RoutingUnavailableError(
            f"routing: unknown key(s) {sorted(options)}; allowed: engine, queues"
        )
    return EngineRouter(queues, queue_options, engine)
