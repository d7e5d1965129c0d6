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

Shortcuts (`shortcuts=True`, the default), each giving the same decisions as calling the engine
every time (tests/sim/test_shortcuts.py runs scenarios both ways):

- `dispatch` skips the engine's tick while no agent is free or no contact waits: no
  assignment is possible then, and what the tick would also do (relaxation steps coming due)
  is done, at its due time, by the next tick that runs, before it matches anything.
- `next_wakeup` answers None without asking the engine when no queue has relaxation steps:
  the engine's other timers are offer timeouts, void here because every offer is accepted in
  the tick that makes it, and callbacks at a chosen time, which the simulator does not use.
  `has_timers` says so, and the event loop then does not ask at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from lianluo.domain import routing as rt


class Assignment(NamedTuple):
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

    @property
    def has_timers(self) -> bool:
        """False: `next_wakeup` always answers None, so the event loop need not ask."""
        ...


_NO_ASSIGNMENTS: list[Assignment] = []  # returned, never mutated: `dispatch` with nothing to do
_EMPTY: Mapping[str, Any] = {}  # never mutated: the engine copies what it keeps


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
        *,
        shortcuts: bool = True,
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
        # Ids: the engine wants strings. Agents: both directions kept; contacts: str(index).
        self._agent_ids: list[str] = []
        self._agent_index: dict[str, int] = {}
        self._request = rt.ContactRequest
        self._available = rt.AgentState.AVAILABLE
        self._offline = rt.AgentState.OFFLINE
        self._offer = rt.Offer
        self.shortcuts = shortcuts
        # What the shortcuts need: agents AVAILABLE with no contact, contacts in line. An
        # agent takes one contact at a time (capacity 1 per channel, shared).
        self._agent_on: list[bool] = []
        self._agent_busy: list[bool] = []
        self._free_agents = 0
        self._waiting = 0
        self._has_timers = not shortcuts or any(c.relaxation for c in configs)

    @property
    def has_timers(self) -> bool:
        return self._has_timers

    def add_agent(self, agent: int, skills: Mapping[str, int], now: float) -> None:
        agent_id = f"a{agent}"
        assert agent == len(self._agent_ids), "agents are added in index order"
        self._agent_ids.append(agent_id)
        self._agent_index[agent_id] = agent
        self._agent_on.append(False)  # the engine registers agents OFFLINE
        self._agent_busy.append(False)
        queues = frozenset(skills)
        profile = rt.AgentProfile(
            agent_id=agent_id,
            queues=queues,
            skills=dict(skills),
            capacity={self._channel[q]: 1 for q in queues},
        )
        self.engine.add_agent(profile, now)

    def agent_available(self, agent: int, now: float) -> None:
        if not self._agent_on[agent]:
            self._agent_on[agent] = True
            if not self._agent_busy[agent]:
                self._free_agents += 1
        self.engine.set_agent_state(self._agent_ids[agent], self._available, now)

    def agent_unavailable(self, agent: int, now: float) -> None:
        if self._agent_on[agent]:
            self._agent_on[agent] = False
            if not self._agent_busy[agent]:
                self._free_agents -= 1
        self.engine.set_agent_state(self._agent_ids[agent], self._offline, now)

    def enqueue(
        self, contact: int, queue: str, now: float, *, vip: bool = False, priority: float = 0.0
    ) -> None:
        self._waiting += 1
        # positional, with one shared empty mapping for skills, attributes and context (the
        # engine copies them): a quarter cheaper than the keyword form, once per contact
        request = self._request(
            str(contact),
            queue,
            now,
            self._channel[queue],
            _EMPTY,
            _EMPTY,
            1 if vip else 0,
            priority,
            _EMPTY,
        )
        self.engine.enqueue(request, now)

    def cancel(self, contact: int, now: float) -> None:
        self._waiting -= 1  # only waiting contacts abandon; connected ones end by release
        self.engine.cancel(str(contact), now)

    def keep_as_callback(self, contact: int, now: float) -> None:
        self.engine.request_callback(str(contact), now)

    def release(self, agent: int, contact: int, now: float) -> None:
        self._agent_busy[agent] = False
        if self._agent_on[agent]:
            self._free_agents += 1
        self.engine.complete(str(contact), now)

    def dispatch(self, now: float) -> list[Assignment]:
        if self.shortcuts and (self._free_agents == 0 or self._waiting == 0):
            return _NO_ASSIGNMENTS
        out: list[Assignment] = []
        new = tuple.__new__  # Assignment(c, a) without NamedTuple's Python-level __new__
        engine = self.engine
        offer = self._offer
        agent_index = self._agent_index
        busy = self._agent_busy
        for command in engine.tick(now):
            if type(command) is offer:
                agent_id = command.agent_id
                engine.accept(command.contact_id, agent_id, now)
                agent = agent_index[agent_id]
                busy[agent] = True
                out.append(new(Assignment, (int(command.contact_id), agent)))
            # Relaxation, overflow and callback-due commands need no action from the caller;
            # offers never expire or get rescinded here, as they are accepted at once.
        # Offers go to AVAILABLE agents with no contact, each taking one waiting contact.
        self._free_agents -= len(out)
        self._waiting -= len(out)
        return out

    def next_wakeup(self, now: float) -> float | None:
        if not self._has_timers:
            return None
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
