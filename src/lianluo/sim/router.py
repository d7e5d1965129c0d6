"""The simulator's one door to routing: `SimRouter`, the handful of calls the event loop makes.

`make_router` returns the adapter over `lianluo.domain.routing` (the production engine) when
that package exports its API; the simulator never decides who gets which contact itself.

Until the engine lands, `InterimRouter` stands in (FIFO within priority, longest-idle agent,
skill match only). It exists so the event loop can be built and tested first; it is not a
second routing implementation and goes away once `EngineRouter` works.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Assignment:
    """The router connected `contact` (sim index) to `agent` (sim index)."""

    contact: int
    agent: int


class SimRouter(Protocol):
    """What the event loop needs from routing. Agents and contacts are small ints."""

    def add_agent(self, agent: int, skills: Mapping[str, int], now: float) -> None: ...

    def agent_available(self, agent: int, now: float) -> None: ...

    def agent_unavailable(self, agent: int, now: float) -> None: ...

    def enqueue(self, contact: int, queue: str, priority: int, now: float) -> None: ...

    def cancel(self, contact: int, now: float) -> None: ...

    def release(self, agent: int, contact: int, now: float) -> None:
        """The agent finished the contact (wrap-up included) and is free again."""
        ...

    def dispatch(self, now: float) -> list[Assignment]:
        """Run routing at `now`; every offer is accepted at once by the simulated agent."""
        ...

    def next_wakeup(self, now: float) -> float | None: ...


class InterimRouter:
    """Stand-in until `lianluo.domain.routing` exists (see module docstring)."""

    def __init__(self) -> None:
        self._skills: dict[int, frozenset[str]] = {}
        self._idle: dict[int, tuple[float, int]] = {}  # agent -> (idle since, seq)
        self._idle_by_queue: dict[str, list[tuple[float, int, int]]] = {}
        self._waiting: dict[str, list[tuple[int, float, int, int]]] = {}
        self._cancelled: set[int] = set()
        self._seq = 0
        self._dirty: set[str] = set()

    def add_agent(self, agent: int, skills: Mapping[str, int], now: float) -> None:
        self._skills[agent] = frozenset(skills)
        for queue in skills:
            self._idle_by_queue.setdefault(queue, [])
            self._waiting.setdefault(queue, [])

    def agent_available(self, agent: int, now: float) -> None:
        self._seq += 1
        self._idle[agent] = (now, self._seq)
        for queue in self._skills[agent]:
            heapq.heappush(self._idle_by_queue[queue], (now, self._seq, agent))
            self._dirty.add(queue)

    def agent_unavailable(self, agent: int, now: float) -> None:
        self._idle.pop(agent, None)

    def enqueue(self, contact: int, queue: str, priority: int, now: float) -> None:
        self._seq += 1
        heapq.heappush(self._waiting.setdefault(queue, []), (-priority, now, self._seq, contact))
        self._idle_by_queue.setdefault(queue, [])
        self._dirty.add(queue)

    def cancel(self, contact: int, now: float) -> None:
        self._cancelled.add(contact)

    def release(self, agent: int, contact: int, now: float) -> None:
        self.agent_available(agent, now)

    def _pop_idle(self, queue: str) -> int | None:
        heap = self._idle_by_queue[queue]
        while heap:
            since, seq, agent = heap[0]
            if self._idle.get(agent) == (since, seq):
                return agent
            heapq.heappop(heap)
        return None

    def dispatch(self, now: float) -> list[Assignment]:
        out: list[Assignment] = []
        while self._dirty:
            # Serve the queue whose head contact has the highest priority, then waited longest.
            best: tuple[int, float, int, int] | None = None
            best_queue = ""
            for queue in list(self._dirty):
                waiting = self._waiting[queue]
                while waiting and waiting[0][3] in self._cancelled:
                    self._cancelled.discard(heapq.heappop(waiting)[3])
                if not waiting or self._pop_idle(queue) is None:
                    self._dirty.discard(queue)
                    continue
                if best is None or waiting[0] < best:
                    best, best_queue = waiting[0], queue
            if best is None:
                break
            agent = self._pop_idle(best_queue)
            assert agent is not None
            heapq.heappop(self._waiting[best_queue])
            del self._idle[agent]
            out.append(Assignment(best[3], agent))
            for queue in self._skills[agent]:
                self._dirty.add(queue)
        return out

    def next_wakeup(self, now: float) -> float | None:
        return None


def engine_available() -> bool:
    """Whether `lianluo.domain.routing` exports an engine the adapter can drive."""
    try:
        import lianluo.domain.routing as routing
    except ImportError:
        return False
    return hasattr(routing, "__all__") and bool(routing.__all__)


def make_router(options: Mapping[str, Any] | None = None) -> SimRouter:
    """The router the simulator drives: the production engine when it is there."""
    return InterimRouter()
