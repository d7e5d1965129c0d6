"""The indexed routing engine: same decisions as the brute-force scan, without the scanning.

How it avoids rescanning (the decisions are those of `ScanRouter`, see `scan.py`):

- Waiting contacts are grouped into *classes*: contacts of one home queue and relaxation
  stage with the same `Requirement` (channel, skills, expressions and the contact attributes
  they read, excluded agents, target agent). All members see exactly the same agents, so only
  a class's head can be matched next. Members are kept in a heap by a time-invariant key
  (base priority - ageing rate * start of wait, the rate being the queue's), so ageing never
  forces a re-sort.
- Available agents with room on a channel sit in one heap per (queue, channel), ordered by
  the queue's selection policy; stale entries are dropped lazily (version numbers).
- After every tick no waiting contact has an eligible agent. So a class that was non-empty at
  the end of the last tick can only be matched by an agent that *changed* since (freed
  capacity, became available, got new skills): the tick checks the changed agents against the
  classes of their queues and searches only among those agents. Classes that were empty at the
  last tick (new arrivals) search the agent heaps.
- The tick then processes candidate classes in global priority order of their heads
  (effective priority at `now`, then start of wait, then sequence), exactly as the scan does.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

from lianluo.domain.routing.core import ContactRuntime, RouterCore
from lianluo.domain.routing.model import (
    AgentProfile,
    AgentState,
    Command,
    ContactState,
    QueueConfig,
)
from lianluo.domain.routing.rules import (
    AgentRuntime,
    CompiledQueue,
    Requirement,
    is_eligible,
    open_channels,
    selection_key,
)

_WAITING = ContactState.WAITING
_AVAILABLE = AgentState.AVAILABLE

# above this many changed agents on one queue, search its agent heap instead of the list
RESTRICTED_SEARCH_LIMIT = 24

_ClassKey = tuple[str, int, Requirement]
_HeapEntry = tuple[float, float, int, str, int]
_AgentEntry = tuple[tuple[float | str, ...], int, str]


class _Class:
    __slots__ = ("key", "queue", "requirement", "lines", "rate", "heap", "size")

    def __init__(self, key: _ClassKey, queue: CompiledQueue, requirement: Requirement):
        self.key = key
        self.queue = queue
        self.requirement = requirement
        self.lines = queue.lines_by_stage[key[1]]
        self.rate = queue.config.ageing_per_s
        self.heap: list[_HeapEntry] = []
        self.size = 0


class RoutingEngine(RouterCore):
    """The routing engine (ACD). Pure and deterministic; time is passed in; every operation
    returns the commands its caller must carry out. See `lianluo.domain.routing`."""

    def __init__(self, queues: Iterable[QueueConfig] = ()):
        self._classes: dict[_ClassKey, _Class] = {}
        self._by_line: dict[tuple[str, str], dict[_ClassKey, _Class]] = {}
        self._by_target: dict[str, dict[_ClassKey, _Class]] = {}
        self._fresh: dict[_ClassKey, _Class] = {}
        self._changed: dict[str, AgentRuntime] = {}
        self._ready: dict[tuple[str, str], list[_AgentEntry]] = {}
        self._line_agents: dict[str, int] = {}
        super().__init__(queues)

    # ---- contacts in classes -----------------------------------------------------------
    def _enter(self, contact: ContactRuntime) -> None:
        requirement = contact.requirement
        key = (contact.queue.queue_id, contact.stage, requirement)
        cls = self._classes.get(key)
        if cls is None:
            cls = _Class(key, contact.queue, requirement)
            self._classes[key] = cls
            if requirement.target_agent is not None:
                self._by_target.setdefault(requirement.target_agent, {})[key] = cls
            else:
                channel = requirement.channel
                by_line = self._by_line
                for line in cls.lines:
                    lk = (line, channel)
                    group = by_line.get(lk)
                    if group is None:
                        by_line[lk] = group = {}
                    group[key] = cls
            self._fresh[key] = cls
        contact.entry += 1
        contact.cls = cls
        cls.size += 1
        heapq.heappush(
            cls.heap,
            (
                -contact.static,
                contact.waiting_since,
                contact.seq,
                contact.contact_id,
                contact.entry,
            ),
        )

    def _leave(self, contact: ContactRuntime) -> None:
        cls = contact.cls
        if cls is None:
            return
        contact.cls = None
        cls.size -= 1
        if cls.size == 0:
            self._drop_class(cls)

    def _drop_class(self, cls: _Class) -> None:
        key = cls.key
        del self._classes[key]
        self._fresh.pop(key, None)
        target = cls.requirement.target_agent
        if target is not None:
            group = self._by_target[target]
            del group[key]
            if not group:
                del self._by_target[target]
        else:
            channel = cls.requirement.channel
            for line in cls.lines:
                lk = (line, channel)
                group = self._by_line[lk]
                del group[key]
                if not group:
                    del self._by_line[lk]

    def _head(self, cls: _Class) -> ContactRuntime | None:
        heap = cls.heap
        contacts = self._contacts
        while heap:
            entry = heap[0]
            contact = contacts.get(entry[3])
            if contact is not None and contact.cls is cls and contact.entry == entry[4]:
                return contact
            heapq.heappop(heap)
        return None

    # ---- agents in heaps ---------------------------------------------------------------
    def _agent_reindex(self, agent: AgentRuntime) -> None:
        agent.version += 1
        channels = open_channels(agent)
        if not channels:
            return
        version = agent.version
        agent_id = agent.agent_id
        queues = self._queues
        ready = self._ready
        for line in agent.queues:
            entry_key = selection_key(queues[line], agent)
            for channel in channels:
                lk = (line, channel)
                heap = ready.get(lk)
                if heap is None:
                    ready[lk] = heap = []
                heapq.heappush(heap, (entry_key, version, agent_id))
                if len(heap) > 4 * self._line_agents.get(line, 0) + 64:
                    self._compact(heap)

    def _compact(self, heap: list[_AgentEntry]) -> None:
        agents = self._agents
        live = []
        for entry in heap:
            agent = agents.get(entry[2])
            if agent is not None and agent.version == entry[1]:
                live.append(entry)
        heapq.heapify(live)
        heap[:] = live

    def _agent_gained(self, agent: AgentRuntime) -> None:
        self._agent_reindex(agent)
        self._changed[agent.agent_id] = agent

    def _agent_removed(self, agent: AgentRuntime) -> None:
        agent.version += 1
        self._changed.pop(agent.agent_id, None)
        self._count_lines(agent.queues, -1)

    def _count_lines(self, lines: Iterable[str], delta: int) -> None:
        counts = self._line_agents
        for line in lines:
            counts[line] = counts.get(line, 0) + delta

    def add_agent(
        self,
        profile: AgentProfile,
        now: float,
        state: AgentState = AgentState.OFFLINE,
        reason: str | None = None,
    ) -> list[Command]:
        commands = super().add_agent(profile, now, state, reason)
        self._count_lines(self._agents[profile.agent_id].queues, 1)
        return commands

    def update_agent(self, profile: AgentProfile, now: float) -> list[Command]:
        before = self._agents[profile.agent_id].queues if profile.agent_id in self._agents else ()
        commands = super().update_agent(profile, now)
        self._count_lines(before, -1)
        self._count_lines(self._agents[profile.agent_id].queues, 1)
        return commands

    def _queues_changed(self) -> None:
        # policies may have changed: rebuild the agent heaps; everyone is "changed"
        self._ready = {}
        for agent in self._agents.values():
            self._agent_reindex(agent)
            self._changed[agent.agent_id] = agent
        for key, cls in self._classes.items():
            self._fresh[key] = cls

    # ---- matching ----------------------------------------------------------------------
    def _search_line(self, line: str, requirement: Requirement) -> AgentRuntime | None:
        heap = self._ready.get((line, requirement.channel))
        if not heap:
            return None
        agents = self._agents
        held: list[_AgentEntry] = []
        found = None
        while heap:
            entry = heap[0]
            agent = agents.get(entry[2])
            if agent is None or agent.version != entry[1]:
                heapq.heappop(heap)
                continue
            if is_eligible(agent, requirement):
                found = agent
                break
            held.append(heapq.heappop(heap))
        for entry in held:
            heapq.heappush(heap, entry)
        return found

    def _find_agent(
        self,
        cls: _Class,
        restricted: bool,
        changed_by_line: dict[str, list[AgentRuntime]],
    ) -> tuple[AgentRuntime, str] | None:
        requirement = cls.requirement
        if requirement.target_agent is not None:
            agent = self._agents.get(requirement.target_agent)
            if agent is not None and is_eligible(agent, requirement):
                return agent, cls.queue.queue_id
            return None
        queues = self._queues
        for line in cls.lines:
            if restricted:
                candidates = changed_by_line.get(line)
                if not candidates:
                    continue
                if len(candidates) <= RESTRICTED_SEARCH_LIMIT:
                    queue = queues[line]
                    best = None
                    best_key: tuple[float | str, ...] = ()
                    for agent in candidates:
                        if is_eligible(agent, requirement):
                            key = selection_key(queue, agent)
                            if best is None or key < best_key:
                                best, best_key = agent, key
                    if best is not None:
                        return best, line
                    continue
            found = self._search_line(line, requirement)
            if found is not None:
                return found, line
        return None

    def _match(self, now: float) -> list[Command]:
        changed = self._changed
        fresh = self._fresh
        if not changed and not fresh:
            return []
        self._changed = {}
        self._fresh = {}
        candidates: dict[_ClassKey, bool] = dict.fromkeys(fresh, False)  # key -> restricted
        changed_by_line: dict[str, list[AgentRuntime]] = {}
        by_line = self._by_line
        by_target = self._by_target
        for agent in changed.values():
            if agent.agent_id not in self._agents:
                continue
            channels = open_channels(agent)
            if not channels:
                continue
            for line in agent.queues:
                lst = changed_by_line.get(line)
                if lst is None:
                    changed_by_line[line] = lst = []
                lst.append(agent)
                for channel in channels:
                    group = by_line.get((line, channel))
                    if not group:
                        continue
                    for key, cls in group.items():
                        if key not in candidates and is_eligible(agent, cls.requirement):
                            candidates[key] = True
            targeted = by_target.get(agent.agent_id)
            if targeted:
                for key, cls in targeted.items():
                    if key not in candidates and is_eligible(agent, cls.requirement):
                        candidates[key] = True
        if not candidates:
            return []

        classes = self._classes
        order: list[tuple[float, float, int, _ClassKey, bool]] = []
        for key, restricted in candidates.items():
            candidate = classes.get(key)
            if candidate is None:
                continue
            first = self._head(candidate)
            if first is not None:
                order.append(
                    (
                        -(first.static + candidate.rate * now),
                        first.waiting_since,
                        first.seq,
                        key,
                        restricted,
                    )
                )
        heapq.heapify(order)
        commands: list[Command] = []
        while order:
            _p, _w, _s, key, restricted = heapq.heappop(order)
            current = classes.get(key)
            if current is None:
                continue
            cls = current
            head = self._head(cls)
            if head is None:
                continue
            found = self._find_agent(cls, restricted, changed_by_line)
            if found is None:
                continue  # blocked: no eligible agent until one changes
            agent, line = found
            commands.append(self._assign(head, agent, line, now))
            if cls.size:
                nxt = self._head(cls)
                if nxt is not None:
                    heapq.heappush(
                        order,
                        (
                            -(nxt.static + cls.rate * now),
                            nxt.waiting_since,
                            nxt.seq,
                            key,
                            restricted,
                        ),
                    )
        return commands
