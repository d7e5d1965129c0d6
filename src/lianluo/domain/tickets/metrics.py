"""Per ownership model, the figures seed 001 argues with: 效能 (share of tickets resolved end to
end by their first owner), ticket duration, re-opens, repeat complaints and how many follow-up
staff the model needs. The ticket-level counterpart of `domain.kpi.effectiveness`."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from lianluo.domain.tickets.ownership import OwnershipModel, resolved_end_to_end


@dataclass(frozen=True, slots=True)
class TicketFacts:
    model: OwnershipModel
    created_at: datetime
    resolved_at: datetime | None
    first_owner: str | None
    resolver: str | None
    tier_changes: int
    reopens: int
    repeat_complaint: bool
    workers: frozenset[str] = field(default_factory=frozenset)  # everyone who owned it
    is_complaint: bool = False


@dataclass(frozen=True, slots=True)
class ModelMetrics:
    model: OwnershipModel
    tickets: int
    resolved: int
    effectiveness: float | None  # resolved end to end by the first owner / resolved
    mean_duration_s: float | None  # filed → (last) resolution, wall clock, resolved tickets
    median_duration_s: float | None
    reopened_tickets: int
    reopen_rate: float | None  # reopened / resolved
    repeat_complaints: int
    complaints: int
    repeat_complaint_rate: float | None  # repeat complaints / complaints (DESIGN.md KPI table)
    follow_up_staff: int  # distinct people, other than first owners, who owned a ticket


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def model_metrics(model: OwnershipModel, facts: Iterable[TicketFacts]) -> ModelMetrics:
    rows = [f for f in facts if f.model == model]
    resolved = [f for f in rows if f.resolved_at is not None]
    durations = [(f.resolved_at - f.created_at).total_seconds() for f in resolved if f.resolved_at]
    end_to_end = sum(
        resolved_end_to_end(f.first_owner, f.resolver, f.tier_changes) for f in resolved
    )
    reopened = sum(1 for f in rows if f.reopens > 0)
    complaints = [f for f in rows if f.is_complaint]
    repeats = sum(1 for f in complaints if f.repeat_complaint)
    first_owners = {f.first_owner for f in rows if f.first_owner}
    follow_up = set().union(*(f.workers for f in rows)) - first_owners if rows else set()
    return ModelMetrics(
        model=model,
        tickets=len(rows),
        resolved=len(resolved),
        effectiveness=_ratio(end_to_end, len(resolved)),
        mean_duration_s=statistics.fmean(durations) if durations else None,
        median_duration_s=statistics.median(durations) if durations else None,
        reopened_tickets=reopened,
        reopen_rate=_ratio(reopened, len(resolved)),
        repeat_complaints=repeats,
        complaints=len(complaints),
        repeat_complaint_rate=_ratio(repeats, len(complaints)),
        follow_up_staff=len(follow_up),
    )


def compare_models(facts: Iterable[TicketFacts]) -> dict[OwnershipModel, ModelMetrics]:
    rows = list(facts)
    return {model: model_metrics(model, rows) for model in OwnershipModel}
