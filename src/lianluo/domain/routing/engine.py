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
  nothing ranked above it in its list is eligible for that agent). The agent has room on the
  list's channel, so on the way down only the state-free half of eligibility (`meets`) is
  asked, and a class whose skill levels the agent lacks (the usual reason) is passed over by
  an inline test. After each assignment the assigned agent puts forward again; so do the
  agents that had put the assigned class forward, unless its new head left it between the
  same neighbours in every list (then it is still their first eligible class). Classes that
  were empty at the last tick (new arrivals, relaxed or returned contacts in a new class)
  search the agent heaps.
- Each agent's open channels are computed when it is re-indexed (every change of state,
  load or profile passes through `_agent_reindex`) and kept on it (`AgentRuntime.open`).
- The tick serves the classes put forward in global priority order of their heads
  (effective priority at `now`, then start of wait, then sequence), as the scan does.

Cost: a decision costs a few heap operations plus a skill test for each class a freed agent
passes over before the first it can take; it grows with the variety of requirements
(skill-level combinations, expression values) rather than with the number of waiting
contacts or agents.
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
    meets,
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
_Ranked = tuple[float, float, int, int, "_Class"]  # rank, class uid, class
_Proposal = tuple[float, float, int, int, "_Class"]  # effective rank at now, uid, class


class _Class:
    __slots__ = (
        "key",
        "uid",
        "queue",
        "requirement",
        "skills",
        "lines",
        "rate",
        "heap",
        "size",
        "rank",
        "head",
        "ranked",
        "lists",
        "moves",
    )

    def __init__(
        self,
        key: _ClassKey,
        uid: int,
        queue: CompiledQueue,
        requirement: Requirement,
        lists: tuple[list[_Ranked], ...],
    ):
        self.key = key
        self.uid = uid
        self.queue = queue
        self.requirement = requirement
        self.skills = requirement.skills
        self.lines = queue.lines_by_stage[key[1]]
        self.rate = queue.config.ageing_per_s
        self.heap: list[_HeapEntry] = []
        self.size = 0
        self.rank: _Rank | None = None  # (-static, waiting_since, seq) of the head
        self.head: ContactRuntime | None = None
        self.ranked: _Ranked | None = None  # the class's entry in its ranked lists
        self.lists = lists  # the ranked lists of its queues (none if sent to a named agent)
        self.moves = 0  # times it changed places with another class in a ranked list


class RoutingEngine(RouterCore):
    """The routing engine (ACD). Pure and deterministic; time is passed in; every operation
    returns the commands its caller must carry out. See `lianluo.domain.routing`."""

    def __init__(self, queues: Iterable[QueueConfig] = ()):
        self._classes: dict[_ClassKey, _Class] = {}
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
            cls = self._new_class(key, contact.queue, requirement)
        contact.entry += 1
        contact.cls = cls
        cls.size += 1
        rank = (-contact.static, contact.waiting_since, contact.seq)
        heapq.heappush(cls.heap, (*rank, contact.entry, contact))
        if cls.rank is None or rank < cls.rank:
            cls.head = contact
            self._set_rank(cls, rank)

    def _new_class(self, key: _ClassKey, queue: CompiledQueue, requirement: Requirement) -> _Class:
        lists: tuple[list[_Ranked], ...] = ()
        if requirement.target_agent is None:
            ranked = self._ranked
            channel = requirement.channel
            rate = queue.config.ageing_per_s
            found = []
            for line in queue.lines_by_stage[key[1]]:
                by_rate = ranked.get((line, channel))
                if by_rate is None:
                    ranked[(line, channel)] = by_rate = {}
                lst = by_rate.get(rate)
                if lst is None:
                    by_rate[rate] = lst = []
                found.append(lst)
            lists = tuple(found)
        cls = _Class(key, self._next_uid, queue, requirement, lists)
        self._next_uid += 1
        self._classes[key] = cls
        if requirement.target_agent is not None:
            self._by_target.setdefault(requirement.target_agent, {})[key] = cls
        self._fresh[key] = cls
        return cls

    def _leave(self, contact: ContactRuntime) -> None:
        cls = contact.cls
        if cls is None:
            return
        contact.cls = None
        cls.size -= 1
        if cls.size == 0:
            self._drop_class(cls)
        elif cls.head is contact:
            head = self._head(cls)
            assert head is not None
            cls.head = head
            self._set_rank(cls, (-head.static, head.waiting_since, head.seq))

    def _set_rank(self, cls: _Class, rank: _Rank | None) -> None:
        """Move the class to its new place in the ranked lists of its queues."""
        old = cls.ranked
        cls.rank = rank
        new = None if rank is None else (rank[0], rank[1], rank[2], cls.uid, cls)
        cls.ranked = new
        for lst in cls.lists:
            if old is None:
                if new is not None:
                    bisect.insort(lst, new)
                continue
            i = bisect.bisect_left(lst, old)
            if new is not None and (i == 0 or lst[i - 1] < new):
                if i + 1 == len(lst) or new < lst[i + 1]:
                    lst[i] = new  # between the same neighbours: no shift of the list
                    continue
            cls.moves += 1
            del lst[i]
            if new is not None:
                bisect.insort(lst, new)

    def _drop_class(self, cls: _Class) -> None:
        key = cls.key
        self._set_rank(cls, None)
        cls.head = None
        del self._classes[key]
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
        version = agent.version = self._versions
        channels = agent.open = open_channels(agent)
        if not channels:
            return
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
        agent.open = ()
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
        for line in cls.lines:
            if restricted:
                candidates = changed_by_line.get(line)
                if not candidates:
                    continue
                if len(candidates) <= RESTRICTED_SEARCH_LIMIT:
                    best = None
                    best_key: tuple[float | str, ...] | None = None
                    for agent in candidates:
                        if is_eligible(agent, requirement):
                            if best is None:
                                best = agent  # its key is only needed against a second one
                                continue
                            queue = self._queues[line]
                            if best_key is None:
                                best_key = selection_key(queue, best)
                            key = selection_key(queue, agent)
                            if key < best_key:
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
        order: list[_Proposal],
        nominators: dict[int, dict[str, AgentRuntime]],
    ) -> None:
        """Put forward, for each of the agent's queues, channels and ageing rates, the
        highest-ranked class the agent is eligible for (and every class sent to it by name).

        The next class the greedy order serves is always among these: it has an eligible
        agent, which changed since the last tick, and no higher class of the same list is
        eligible for that agent."""
        channels = agent.open
        if not channels or agent.agent_id not in self._agents:
            return
        # The agent has room on every channel of `channels` (the state and load half of
        # `is_eligible`), so a class of a (queue, channel) list only needs `meets`; a skill
        # level the agent lacks, the usual reason to pass a class over, is checked inline.
        ranked = self._ranked
        skill_of = agent.skills.get
        agent_id = agent.agent_id
        for line in agent.queues:
            for channel in channels:
                by_rate = ranked.get((line, channel))
                if not by_rate:
                    continue
                for lst in by_rate.values():
                    for entry in lst:
                        cls = entry[4]
                        for skill, level in cls.skills:
                            if skill_of(skill, 0) < level:
                                break
                        else:
                            if meets(agent, cls.requirement):
                                nominators.setdefault(entry[3], {})[agent_id] = agent
                                # effective priority at now = -rank[0] + rate * now
                                heapq.heappush(
                                    order,
                                    (entry[0] - cls.rate * now, entry[1], entry[2], entry[3], cls),
                                )
                                break
        targeted = self._by_target.get(agent_id)
        if targeted:
            for cls in list(targeted.values()):
                if is_eligible(agent, cls.requirement):
                    self._propose(cls, agent, now, order, nominators)

    def _propose(
        self,
        cls: _Class,
        agent: AgentRuntime | None,
        now: float,
        order: list[_Proposal],
        nominators: dict[int, dict[str, AgentRuntime]],
    ) -> None:
        if agent is not None:
            nominators.setdefault(cls.uid, {})[agent.agent_id] = agent
        rank = cls.rank
        if rank is None:
            return
        # effective priority at now = static + rate * now = -rank[0] + rate * now
        heapq.heappush(order, (rank[0] - cls.rate * now, rank[1], rank[2], cls.uid, cls))

    def _match(self, now: float) -> list[Command]:
        changed = self._changed
        fresh = self._fresh
        if not changed and not fresh:
            return []
        self._changed = {}
        self._fresh = {}
        order: list[_Proposal] = []
        nominators: dict[int, dict[str, AgentRuntime]] = {}
        full_search: set[int] | tuple[()] = ()
        if fresh:
            full_search = {cls.uid for cls in fresh.values()}
            for cls in fresh.values():
                self._propose(cls, None, now, order, nominators)
        changed_by_line: dict[str, list[AgentRuntime]] = {}
        agents = self._agents
        for agent in changed.values():
            if not agent.open or agent.agent_id not in agents:
                continue
            for line in agent.queues:
                lst = changed_by_line.get(line)
                if lst is None:
                    changed_by_line[line] = [agent]
                else:
                    lst.append(agent)
            self._nominate(agent, now, order, nominators)
        commands: list[Command] = []
        while order:
            _p, _w, seq, uid, cls = heapq.heappop(order)
            rank = cls.rank
            if rank is None or rank[2] != seq:
                continue  # stale: the class's head changed (or it emptied) since put forward
            found = self._find_agent(cls, uid not in full_search, changed_by_line)
            if found is None:
                continue  # blocked: no eligible agent until one changes
            agent, line = found
            head = cls.head
            assert head is not None
            moves = cls.moves
            commands.append(self._assign(head, agent, line, now))
            if cls.rank is not None:
                self._propose(cls, None, now, order, nominators)
            if cls.rank is not None and cls.moves == moves:
                # the class kept its place in every list: for the other agents that put it
                # forward it is still the first class they can take; only the assigned agent
                # changed
                kept = nominators.get(uid)
                if kept is not None:
                    kept.pop(agent.agent_id, None)
                self._nominate(agent, now, order, nominators)
                continue
            affected = nominators.pop(uid, {})
            affected[agent.agent_id] = agent
            for other in affected.values():
                self._nominate(other, now, order, nominators)
        return commands
