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
  capacity, became available, got new skills), and only among those agents is searched.
- Classes are also kept per (queue, channel, ageing rate) in a list sorted by their head's
  rank. A changed agent puts forward, per list, only the first class it is eligible for: the
  next class the greedy order serves is always among those (it has an eligible agent, and
  nothing ranked above it in its list is eligible for that agent). After each assignment the
  agents concerned put forward again. Classes that were empty at the last tick (new
  arrivals, relaxed or returned contacts in a new class) search the agent heaps.
- The tick serves the classes put forward in global priority order of their heads
  (effective priority at `now`, then start of wait, then sequence), as the scan does.

Cost: a decision costs a few heap operations plus the eligibility checks of the classes a
freed agent passes over before the first it can take; it grows with the variety of
requirements (skill-level combinations, expression values) rather than with the number of
waiting contacts or agents.
"""

from __future__ import annotations

import bisect
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
_HeapEntry = tuple[float, float, int, int, ContactRuntime]
_AgentEntry = tuple[tuple[float | str, ...], int, AgentRuntime]
_Rank = tuple[float, float, int]
_Ranked = tuple[float, float, int, int]  # rank + class uid


class _Class:
    __slots__ = ("key", "uid", "queue", "requirement", "lines", "rate", "heap", "size", "rank")

    def __init__(self, key: _ClassKey, uid: int, queue: CompiledQueue, requirement: Requirement):
        self.key = key
        self.uid = uid
        self.queue = queue
        self.requirement = requirement
        self.lines = queue.lines_by_stage[key[1]]
        self.rate = queue.config.ageing_per_s
        self.heap: list[_HeapEntry] = []
        self.size = 0
        self.rank: _Rank | None = None  # (-static, waiting_since, seq) of the head


class RoutingEngine(RouterCore):
    """The routing engine (ACD). Pure and deterministic; time is passed in; every operation
    returns the commands its caller must carry out. See `lianluo.domain.routing`."""

    def __init__(self, queues: Iterable[QueueConfig] = ()):
        self._classes: dict[_ClassKey, _Class] = {}
        self._by_uid: dict[int, _Class] = {}
        self._next_uid = 0
        # per (queue, channel) and ageing rate: the classes sorted by their head's rank
        self._ranked: dict[tuple[str, str], dict[float, list[_Ranked]]] = {}
        self._by_target: dict[str, dict[_ClassKey, _Class]] = {}
        self._fresh: dict[_ClassKey, _Class] = {}
        self._changed: dict[str, AgentRuntime] = {}
        self._ready: dict[tuple[str, str], list[_AgentEntry]] = {}
        self._line_agents: dict[str, int] = {}
        self._versions = 0
        super().__init__(queues)

    # ---- contacts in classes -----------------------------------------------------------
    def _enter(self, contact: ContactRuntime) -> None:
        requirement = contact.requirement
        key = (contact.queue.queue_id, contact.stage, requirement)
        cls = self._classes.get(key)
        if cls is None:
            cls = _Class(key, self._next_uid, contact.queue, requirement)
            self._next_uid += 1
            self._classes[key] = cls
            self._by_uid[cls.uid] = cls
            if requirement.target_agent is not None:
                self._by_target.setdefault(requirement.target_agent, {})[key] = cls
            self._fresh[key] = cls
        contact.entry += 1
        contact.cls = cls
        cls.size += 1
        rank = (-contact.static, contact.waiting_since, contact.seq)
        heapq.heappush(cls.heap, (*rank, contact.entry, contact))
        if cls.rank is None or rank < cls.rank:
            self._set_rank(cls, rank)

    def _leave(self, contact: ContactRuntime) -> None:
        cls = contact.cls
        if cls is None:
            return
        contact.cls = None
        cls.size -= 1
        if cls.size == 0:
            self._drop_class(cls)
        elif cls.rank is not None and cls.rank[2] == contact.seq:
            head = self._head(cls)
            assert head is not None
            self._set_rank(cls, (-head.static, head.waiting_since, head.seq))

    def _set_rank(self, cls: _Class, rank: _Rank | None) -> None:
        """Move the class to its new place in the ranked lists of its queues."""
        if cls.requirement.target_agent is not None:
            cls.rank = rank
            return
        channel = cls.requirement.channel
        old = cls.rank
        cls.rank = rank
        ranked = self._ranked
        for line in cls.lines:
            by_rate = ranked.get((line, channel))
            if by_rate is None:
                ranked[(line, channel)] = by_rate = {}
            lst = by_rate.get(cls.rate)
            if lst is None:
                by_rate[cls.rate] = lst = []
            if old is not None:
                entry = (*old, cls.uid)
                i = bisect.bisect_left(lst, entry)
                del lst[i]
            if rank is not None:
                bisect.insort(lst, (*rank, cls.uid))

    def _drop_class(self, cls: _Class) -> None:
        key = cls.key
        self._set_rank(cls, None)
        del self._classes[key]
        del self._by_uid[cls.uid]
        self._fresh.pop(key, None)
        target = cls.requirement.target_agent
        if target is not None:
            group = self._by_target[target]
            del group[key]
            if not group:
                del self._by_target[target]

    def _head(self, cls: _Class) -> ContactRuntime | None:
        heap = cls.heap
        while heap:
            entry = heap[0]
            contact = entry[4]
            if contact.cls is cls and contact.entry == entry[3]:
                return contact
            heapq.heappop(heap)
        return None

    # ---- agents in heaps ---------------------------------------------------------------
    def _agent_reindex(self, agent: AgentRuntime) -> None:
        # versions are unique across agents, so heap entries never tie on (key, version) and
        # the agent objects behind them are never compared (a re-added agent has the same key)
        self._versions += 1
        agent.version = self._versions
        channels = open_channels(agent)
        if not channels:
            return
        version = agent.version
        queues = self._queues
        ready = self._ready
        for line in agent.queues:
            entry_key = selection_key(queues[line], agent)
            for channel in channels:
                lk = (line, channel)
                heap = ready.get(lk)
                if heap is None:
                    ready[lk] = heap = []
                heapq.heappush(heap, (entry_key, version, agent))
                if len(heap) > 4 * self._line_agents.get(line, 0) + 64:
                    self._compact(heap)

    def _compact(self, heap: list[_AgentEntry]) -> None:
        # a removed agent's version was bumped, so its entries are stale too
        live = [entry for entry in heap if entry[2].version == entry[1]]
        heapq.heapify(live)
        heap[:] = live

    def _agent_gained(self, agent: AgentRuntime) -> None:
        self._agent_reindex(agent)
        self._changed[agent.agent_id] = agent

    def _agent_removed(self, agent: AgentRuntime) -> None:
        self._versions += 1
        agent.version = self._versions
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
        held: list[_AgentEntry] = []
        found = None
        while heap:
            entry = heap[0]
            agent = entry[2]
            if agent.version != entry[1]:
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

    def _nominate(
        self,
        agent: AgentRuntime,
        now: float,
        order: list[tuple[float, float, int, int]],
        nominators: dict[int, dict[str, AgentRuntime]],
    ) -> None:
        """Put forward, for each of the agent's queues, channels and ageing rates, the
        highest-ranked class the agent is eligible for (and every class sent to it by name).

        The next class the greedy order serves is always among these: it has an eligible
        agent, which changed since the last tick, and no higher class of the same list is
        eligible for that agent."""
        if agent.agent_id not in self._agents:
            return
        channels = open_channels(agent)
        if not channels:
            return
        by_uid = self._by_uid
        ranked = self._ranked
        for line in agent.queues:
            for channel in channels:
                by_rate = ranked.get((line, channel))
                if not by_rate:
                    continue
                for lst in by_rate.values():
                    for entry in lst:
                        cls = by_uid[entry[3]]
                        if is_eligible(agent, cls.requirement):
                            self._propose(cls, agent, now, order, nominators)
                            break
        targeted = self._by_target.get(agent.agent_id)
        if targeted:
            for cls in list(targeted.values()):
                if is_eligible(agent, cls.requirement):
                    self._propose(cls, agent, now, order, nominators)

    def _propose(
        self,
        cls: _Class,
        agent: AgentRuntime | None,
        now: float,
        order: list[tuple[float, float, int, int]],
        nominators: dict[int, dict[str, AgentRuntime]],
    ) -> None:
        if agent is not None:
            nominators.setdefault(cls.uid, {})[agent.agent_id] = agent
        rank = cls.rank
        if rank is None:
            return
        # effective priority at now = static + rate * now = -rank[0] + rate * now
        heapq.heappush(order, (rank[0] - cls.rate * now, rank[1], rank[2], cls.uid))

    def _match(self, now: float) -> list[Command]:
        changed = self._changed
        fresh = self._fresh
        if not changed and not fresh:
            return []
        self._changed = {}
        self._fresh = {}
        full_search = {cls.uid for cls in fresh.values()}
        order: list[tuple[float, float, int, int]] = []
        nominators: dict[int, dict[str, AgentRuntime]] = {}
        for cls in fresh.values():
            self._propose(cls, None, now, order, nominators)
        changed_by_line: dict[str, list[AgentRuntime]] = {}
        live = [a for a in changed.values() if a.agent_id in self._agents and open_channels(a)]
        for agent in live:
            for line in agent.queues:
                lst = changed_by_line.get(line)
                if lst is None:
                    changed_by_line[line] = lst = []
                lst.append(agent)
            self._nominate(agent, now, order, nominators)
        commands: list[Command] = []
        by_uid = self._by_uid
        while order:
            _p, _w, seq, uid = heapq.heappop(order)
            current = by_uid.get(uid)
            if current is None or current.rank is None or current.rank[2] != seq:
                continue  # stale: the class's head changed since it was put forward
            cls = current
            head = self._head(cls)
            assert head is not None
            found = self._find_agent(cls, uid not in full_search, changed_by_line)
            if found is None:
                continue  # blocked: no eligible agent until one changes
            agent, line = found
            commands.append(self._assign(head, agent, line, now))
            affected = nominators.pop(uid, {})
            affected[agent.agent_id] = agent
            if uid in by_uid:
                self._propose(cls, None, now, order, nominators)
            for other in affected.values():
                self._nominate(other, now, order, nominators)
        return commands
