"""The SLA clock of a ticket, in business hours.

A ticket's clock starts when it is filed (or escalated to a new tier, which grants that tier a
fresh clock) and counts business seconds against the target of its priority. It stops counting
while the ticket waits on the customer: the business time spent waiting is added to the target.
Within `warn_before_s` of the due time the reading is a warning (amber); at the due time it is
breached (red). Time is always passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from lianluo.domain.tickets.calendar import BusinessCalendar


class SlaState(StrEnum):
    ok = "ok"
    warning = "warning"
    breached = "breached"
    paused = "paused"


class SlaAction(StrEnum):
    warn = "warn"
    breach = "breach"


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    target_s: int  # business seconds to resolve
    warn_before_s: int  # business seconds before the due time that count as a warning

    def __post_init__(self) -> None:
        if self.target_s <= 0:
            raise ValueError("target_s must be > 0")
        if not 0 <= self.warn_before_s < self.target_s:
            raise ValueError("warn_before_s must be >= 0 and below target_s")


@dataclass(frozen=True, slots=True)
class SlaClock:
    started_at: datetime
    paused_since: datetime | None = None
    paused_business_s: float = 0.0

    def pause(self, now: datetime) -> SlaClock:
        return self if self.paused_since is not None else replace(self, paused_since=now)

    def resume(self, calendar: BusinessCalendar, now: datetime) -> SlaClock:
        if self.paused_since is None:
            return self
        waited = calendar.business_seconds_between(self.paused_since, now)
        return SlaClock(self.started_at, None, self.paused_business_s + waited)

    def elapsed_business_s(self, calendar: BusinessCalendar, now: datetime) -> float:
        until = self.paused_since if self.paused_since is not None else now
        counted = calendar.business_seconds_between(self.started_at, until)
        return max(0.0, counted - self.paused_business_s)


@dataclass(frozen=True, slots=True)
class SlaReading:
    state: SlaState
    due_at: datetime  # when paused: the due time were the clock to resume now
    remaining_s: float  # business seconds; negative once breached


def due_at(calendar: BusinessCalendar, policy: SlaPolicy, clock: SlaClock) -> datetime:
    """Due time of a running clock: `target_s` business seconds, plus the time paused, after
    the start."""
    return calendar.add_business(clock.started_at, policy.target_s + clock.paused_business_s)


def warn_at(calendar: BusinessCalendar, policy: SlaPolicy, clock: SlaClock) -> datetime:
    """When a running clock turns amber: `warn_before_s` business seconds before it is due."""
    return calendar.add_business(
        clock.started_at, policy.target_s - policy.warn_before_s + clock.paused_business_s
    )


def read(
    calendar: BusinessCalendar, policy: SlaPolicy, clock: SlaClock, now: datetime
) -> SlaReading:
    remaining = policy.target_s - clock.elapsed_business_s(calendar, now)
    if clock.paused_since is not None:
        projected = calendar.add_business(now, max(0.0, remaining))
        return SlaReading(SlaState.paused, projected, remaining)
    due = due_at(calendar, policy, clock)
    if now >= due:
        overdue = calendar.business_seconds_between(due, now)
        return SlaReading(SlaState.breached, due, -overdue)
    state = SlaState.warning if remaining <= policy.warn_before_s else SlaState.ok
    return SlaReading(state, due, remaining)


def actions_due(reading: SlaReading, *, warned: bool, breached: bool) -> list[SlaAction]:
    """What a sweep must do now, each action once per clock: warn, then breach."""
    actions: list[SlaAction] = []
    if reading.state in (SlaState.warning, SlaState.breached) and not warned:
        actions.append(SlaAction.warn)
    if reading.state == SlaState.breached and not breached:
        actions.append(SlaAction.breach)
    return actions
