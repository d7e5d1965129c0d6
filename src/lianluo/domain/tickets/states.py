"""Ticket statuses and the transitions between them (工单状态机).

new → in_progress → (waiting_customer ⇄ in_progress) → resolved → closed; resolved and closed
tickets can be re-opened (back to in_progress, counted); any open ticket can be merged into
another (a duplicate), which ends it. The SLA clock runs while the ticket is open and not
waiting on the customer.
"""

from __future__ import annotations

from enum import StrEnum


class TicketStatus(StrEnum):
    new = "new"
    in_progress = "in_progress"
    waiting_customer = "waiting_customer"
    resolved = "resolved"
    closed = "closed"
    merged = "merged"


class TransitionError(ValueError):
    def __init__(self, current: TicketStatus, target: TicketStatus) -> None:
        allowed = ", ".join(sorted(ALLOWED[current])) or "none (it is final)"
        super().__init__(f"a {current} ticket cannot become {target}; allowed: {allowed}")
        self.current = current
        self.target = target


S = TicketStatus
OPEN = frozenset({S.new, S.in_progress, S.waiting_customer})
DONE = frozenset({S.resolved, S.closed})
ALLOWED: dict[TicketStatus, frozenset[TicketStatus]] = {
    S.new: frozenset({S.in_progress, S.waiting_customer, S.resolved, S.merged}),
    S.in_progress: frozenset({S.waiting_customer, S.resolved, S.merged}),
    S.waiting_customer: frozenset({S.in_progress, S.resolved, S.merged}),
    S.resolved: frozenset({S.closed, S.in_progress}),
    S.closed: frozenset({S.in_progress}),
    S.merged: frozenset(),
}


def transition(current: TicketStatus, target: TicketStatus) -> TicketStatus:
    """The new status, or TransitionError naming what is allowed."""
    if target not in ALLOWED[current]:
        raise TransitionError(current, target)
    return target


def is_reopen(current: TicketStatus, target: TicketStatus) -> bool:
    return current in DONE and target in OPEN


def sla_running(status: TicketStatus) -> bool:
    """The resolution clock counts only while someone can work on the ticket."""
    return status in (S.new, S.in_progress)


def sla_paused(status: TicketStatus) -> bool:
    return status == S.waiting_customer
