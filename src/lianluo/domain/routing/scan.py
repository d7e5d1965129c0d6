"""The brute-force router: the reference the indexed engine must agree with, and the
benchmark's baseline.

At each tick it sorts every waiting contact by the rules' order and, for each in turn, scans
every agent for eligibility, as Asterisk's app_queue does for its callers and members
(apps/app_queue.c, ring_one/try_calling: each caller walks the member list). No index is
kept, so it cannot disagree with the rules through a stale index.
"""

from __future__ import annotations

from lianluo.domain.routing.core import RouterCore
from lianluo.domain.routing.model import Command, ContactState
from lianluo.domain.routing.rules import (
    AgentRuntime,
    is_eligible,
    open_channels,
    order_key,
    selection_key,
)

_WAITING = ContactState.WAITING


class ScanRouter(RouterCore):
    """Same operations and decisions as `RoutingEngine`, by exhaustive scanning."""

    def _match(self, now: float) -> list[Command]:
        agents = sorted(self._agents.values(), key=lambda a: a.agent_id)
        if not any(open_channels(a) for a in agents):
            return []
        waiting = [c for c in self._contacts.values() if c.state is _WAITING]
        waiting.sort(key=lambda c: order_key(c.static, c.rate, now, c.waiting_since, c.seq))
        commands: list[Command] = []
        for contact in waiting:
            requirement = contact.requirement
            if requirement.target_agent is not None:
                target = self._agents.get(requirement.target_agent)
                if target is not None and is_eligible(target, requirement):
                    commands.append(self._assign(contact, target, contact.queue.queue_id, now))
                continue
            for line in contact.lines:
                queue = self._queues[line]
                best: AgentRuntime | None = None
                best_key: tuple[float | str, ...] = ()
                for agent in agents:
                    if line in agent.queues and is_eligible(agent, requirement):
                        key = selection_key(queue, agent)
                        if best is None or key < best_key:
                            best, best_key = agent, key
                if best is not None:
                    commands.append(self._assign(contact, best, line, now))
                    break
        return commands
