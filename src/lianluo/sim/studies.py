"""The three studies of issue 7: staffing per interval, ticket ownership, value-tier routing.

Each takes a validated `Scenario`, runs replications (serially, in a pool or on a cluster,
see `run_replications`) and returns plain results that `lianluo.sim.report` turns into HTML.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lianluo.domain.kpi import interval_starts
from lianluo.domain.wfm.staffing import required_agents_for_contacts
from lianluo.sim.distributions import mean_of
from lianluo.sim.replications import (
    Estimate,
    ReplicationKpis,
    StudySummary,
    estimate,
    run_replications,
    summarize_replications,
)
from lianluo.sim.scenario import (
    Exponential,
    PoissonArrivals,
    Scenario,
    ScenarioError,
)


class StudyError(ValueError):
    """The scenario does not have what the study needs; the message says what."""


@dataclass(frozen=True)
class RunOptions:
    replications: int | None = None
    workers: int = 1
    cluster: str | None = None


def _runs(scenario: Scenario, options: RunOptions) -> list[ReplicationKpis]:
    return run_replications(
        scenario, options.replications, workers=options.workers, cluster=options.cluster
    )


def with_changes(scenario: Scenario, **changes: Any) -> Scenario:
    """A copy of the scenario with top-level fields replaced, validated again."""
    data = scenario.model_dump()
    data.update(changes)
    try:
        return Scenario.model_validate(data)
    except Exception as exc:  # pydantic's ValidationError, re-worded by the loader
        raise ScenarioError(str(exc)) from None


def _replace_queue(scenario: Scenario, name: str, **fields: Any) -> Scenario:
    queues = [q.model_dump() for q in scenario.queues]
    for q in queues:
        if q["name"] == name:
            q.update(fields)
    return with_changes(scenario, queues=queues)


def _replace_group(scenario: Scenario, group: str, **fields: Any) -> Scenario:
    groups = [g.model_dump() for g in scenario.agents]
    for g in groups:
        if g["group"] == group:
            g.update(fields)
    return with_changes(scenario, agents=groups)


# -- (a) agents per interval versus Erlang --------------------------------------------------------


@dataclass(frozen=True)
class StaffingStudy:
    """Agents per interval holding the target, found by simulation, next to the Erlang answer.

    erlang_c_agents: Erlang C (no abandonment), the usual WFM answer.
    erlang_a_agents: Erlang A where the queue has exponential patience, else None.
    sim_agents: fewest agents (per interval, after the iterative search) whose simulated
        service level met the target in every interval, on the same traffic.
    """

    queue: str
    interval_starts: list[float]
    forecast: list[float]
    target_sl: float
    threshold_s: float
    erlang_c_agents: list[int]
    erlang_a_agents: list[int] | None
    sim_agents: list[int]
    sim_service_level: list[Estimate]
    erlang_staff_service_level: list[Estimate]
    iterations: int
    converged: bool
    summary: StudySummary


def _single_queue_setup(scenario: Scenario) -> tuple[str, str, list[float]]:
    if len(scenario.queues) != 1 or len(scenario.agents) != 1:
        raise StudyError("the staffing study needs exactly one queue and one agent group")
    queue = scenario.queues[0]
    group = scenario.agents[0]
    if not isinstance(queue.arrivals, PoissonArrivals):
        raise StudyError("queues.0.arrivals: the staffing study needs a Poisson forecast")
    if group.per_interval is None:
        raise StudyError("agents.0: the staffing study needs a per_interval schedule to vary")
    arrivals = queue.arrivals
    if arrivals.per_interval is not None:
        forecast = np.resize(np.asarray(arrivals.per_interval), scenario.intervals)
    else:
        assert arrivals.per_hour is not None
        forecast = np.full(scenario.intervals, arrivals.per_hour * scenario.interval_s / 3600)
    return queue.name, group.group, [float(x) * arrivals.scale for x in forecast]


def _interval_sl(runs: Sequence[ReplicationKpis], starts: Sequence[float]) -> list[Estimate]:
    return [
        estimate([r.by_interval[s].service_level if s in r.by_interval else None for r in runs])
        for s in starts
    ]


def staffing_study(
    scenario: Scenario,
    target_sl: float | None = None,
    threshold_s: float | None = None,
    options: RunOptions | None = None,
    max_iterations: int = 15,
) -> StaffingStudy:
    """Agents per interval for a day's forecast to hold `target_sl` within `threshold_s`.

    Starts from the Erlang C answer and repeatedly adds agents to the intervals whose mean
    simulated service level misses the target, and removes one where the interval still
    meets it with one fewer (the iterative-staffing idea of Feldman, Mandelbaum, Massey &
    Whitt 2008, *Staffing of time-varying queues to achieve time-stable performance*,
    Management Science 54(2), §4), all on common random numbers.
    """
    opts = options or RunOptions()
    target = scenario.kpi.target_service_level if target_sl is None else target_sl
    threshold = scenario.kpi.service_level_threshold_s if threshold_s is None else threshold_s
    kpi = scenario.kpi.model_copy(update={"service_level_threshold_s": threshold})
    scenario = with_changes(scenario, kpi=kpi.model_dump())
    queue_name, group_name, forecast = _single_queue_setup(scenario)
    queue = scenario.queues[0]
    group = scenario.agents[0]
    aht_s = mean_of(queue.handle_time) + (mean_of(queue.acw) if queue.acw else 0.0)
    contacts = np.asarray(forecast)
    erlang_c = required_agents_for_contacts(
        contacts,
        aht_s,
        scenario.interval_s,
        target_sl=target,
        target_time_s=threshold,
        shrinkage=group.shrinkage,
    )
    erlang_a_agents = None
    if isinstance(queue.patience, Exponential):
        erlang_a = required_agents_for_contacts(
            contacts,
            aht_s,
            scenario.interval_s,
            target_sl=target,
            target_time_s=threshold,
            patience_s=queue.patience.mean_s,
            shrinkage=group.shrinkage,
        )
        erlang_a_agents = [int(x) for x in erlang_a.scheduled_agents]
    erlang_c_agents = [int(x) for x in erlang_c.scheduled_agents]
    start = scenario.start_epoch_s
    starts = [
        float(x)
        for x in interval_starts(
            start + np.arange(scenario.intervals, dtype=np.float64) * scenario.interval_s,
            scenario.interval_s,
            scenario.timezone,
        )
    ]

    def evaluate(agents: Sequence[int]) -> tuple[list[ReplicationKpis], list[Estimate]]:
        trial = _replace_group(scenario, group_name, per_interval=list(agents))
        runs = _runs(trial, opts)
        return runs, _interval_sl(runs, starts)

    erlang_runs, erlang_sl = evaluate(erlang_c_agents)
    busy = np.asarray(forecast) > 0
    iterations = 0

    def raise_until_met(
        agents: list[int], runs: list[ReplicationKpis], sl: list[Estimate]
    ) -> tuple[list[int], list[ReplicationKpis], list[Estimate], bool]:
        nonlocal iterations
        agents = list(agents)
        while True:
            means = [e.mean if e.mean is not None else 1.0 for e in sl]
            short = [k for k, m in enumerate(means) if m < target and busy[k]]
            if not short:
                return agents, runs, sl, True
            if iterations >= max_iterations:
                return agents, runs, sl, False
            iterations += 1
            for k in short:
                agents[k] += 1 + int((target - means[k]) // 0.1)
            runs, sl = evaluate(agents)

    agents, runs, sl, converged = raise_until_met(list(erlang_c_agents), erlang_runs, erlang_sl)
    if converged:
        # Try one fewer in every busy interval; keep the cuts that still hold, then repair
        # the intervals that a neighbour's cut pushed under the target.
        trial = [max(a - 1, 0) if busy[k] else a for k, a in enumerate(agents)]
        _, trial_sl = evaluate(trial)
        cut = [
            trial[k] if (e.mean is not None and e.mean >= target) else agents[k]
            for k, e in enumerate(trial_sl)
        ]
        if cut != agents:
            cut_runs, cut_sl = evaluate(cut)
            agents, runs, sl, converged = raise_until_met(cut, cut_runs, cut_sl)
    return StaffingStudy(
        queue=queue_name,
        interval_starts=starts,
        forecast=list(forecast),
        target_sl=target,
        threshold_s=threshold,
        erlang_c_agents=erlang_c_agents,
        erlang_a_agents=erlang_a_agents,
        sim_agents=agents,
        sim_service_level=sl,
        erlang_staff_service_level=erlang_sl,
        iterations=iterations,
        converged=converged,
        summary=summarize_replications(runs),
    )


# -- (b) first-contact ownership versus tiered escalation ---------------------------------------


@dataclass(frozen=True)
class OwnershipResult:
    model: str
    summary: StudySummary
    ticket_duration_s: Estimate
    repeat_contacts_per_ticket: Estimate
    escalated_share: Estimate
    effectiveness: Estimate
    fcr: Estimate
    service_level: Estimate
    handling_hours: Estimate
    front_agents_needed: int | None
    back_office_agents_needed: int | None


@dataclass(frozen=True)
class OwnershipStudy:
    queue: str
    results: dict[str, OwnershipResult]


def _ticket_queue(scenario: Scenario) -> tuple[str, str]:
    for q in scenario.queues:
        if q.tickets is not None:
            front = [g.group for g in scenario.agents if q.name in g.skills]
            if len(front) != 1:
                raise StudyError(f"queue {q.name!r} needs exactly one agent group serving it")
            return q.name, front[0]
    raise StudyError("the ownership study needs a queue with tickets")


def _scaled(schedule: Sequence[int], factor: float) -> list[int]:
    return [max(0, math.ceil(x * factor)) if x > 0 else 0 for x in schedule]


def ownership_study(
    scenario: Scenario,
    options: RunOptions | None = None,
    size_staff: bool = True,
    back_office_occupancy: float = 0.85,
) -> OwnershipStudy:
    """Seed 001's question on the same traffic: first-contact ownership (首问负责) versus tiered
    escalation (首问 → 升级 → 支撑). Ticket duration, repeat contacts, effectiveness (效能), FCR
    and the staff each model needs: front-line agents for the service-level target (found by
    bisection on a uniform scaling of the front schedule) and back-office agents for the
    escalated workload at `back_office_occupancy`.
    """
    opts = options or RunOptions()
    queue_name, front_group = _ticket_queue(scenario)
    queue = scenario.queue(queue_name)
    assert queue.tickets is not None
    results: dict[str, OwnershipResult] = {}
    for model in ("first_contact", "tiered"):
        tickets = queue.tickets.model_copy(update={"model": model}).model_dump()
        if model == "tiered" and tickets["back_office_queue"] is None:
            raise StudyError(f"queues.{queue_name}.tickets.back_office_queue is needed for tiered")
        sc = _replace_queue(scenario, queue_name, tickets=tickets)
        runs = _runs(sc, opts)
        summary = summarize_replications(runs)
        queue_runs = [r.by_queue.get(queue_name) for r in runs]
        front_needed = back_needed = None
        if size_staff:
            front_needed = _front_agents_needed(sc, queue_name, front_group, opts)
            back_needed = _back_office_needed(sc, runs, back_office_occupancy)
        results[model] = OwnershipResult(
            model=model,
            summary=summary,
            ticket_duration_s=estimate([r.tickets.mean_duration_s for r in runs]),
            repeat_contacts_per_ticket=estimate(
                [r.tickets.repeat_contacts_per_ticket for r in runs]
            ),
            escalated_share=estimate([r.tickets.escalated_share for r in runs]),
            effectiveness=estimate([q.effectiveness if q else None for q in queue_runs]),
            fcr=estimate([q.fcr if q else None for q in queue_runs]),
            service_level=estimate([q.service_level if q else None for q in queue_runs]),
            handling_hours=estimate([r.handling_s / 3600 for r in runs]),
            front_agents_needed=front_needed,
            back_office_agents_needed=back_needed,
        )
    return OwnershipStudy(queue=queue_name, results=results)


def _front_agents_needed(
    scenario: Scenario, queue_name: str, group_name: str, opts: RunOptions
) -> int | None:
    group = next(g for g in scenario.agents if g.group == group_name)
    if group.per_interval is None:
        return None
    base = list(np.resize(np.asarray(group.per_interval), scenario.intervals))
    target = scenario.kpi.target_service_level

    def meets(factor: float) -> bool:
        trial = _replace_group(scenario, group_name, per_interval=_scaled(base, factor))
        runs = _runs(trial, opts)
        values = [r.by_queue[queue_name].service_level for r in runs if queue_name in r.by_queue]
        sl = estimate(values).mean
        return sl is not None and sl >= target

    low, high = 0.25, 1.0
    while not meets(high):
        low, high = high, high * 1.6
        if high > 20:
            return None
    for _ in range(6):
        mid = (low + high) / 2
        if meets(mid):
            high = mid
        else:
            low = mid
    return int(max(_scaled(base, high)))


def _back_office_needed(
    scenario: Scenario, runs: Sequence[ReplicationKpis], occupancy: float
) -> int | None:
    tickets_queue = next(q for q in scenario.queues if q.tickets is not None)
    assert tickets_queue.tickets is not None
    bo = tickets_queue.tickets.back_office_queue
    if tickets_queue.tickets.model != "tiered" or bo is None:
        return 0
    handle = tickets_queue.tickets.back_office_handle or scenario.queue(bo).handle_time
    work_s = np.mean([r.tickets.work_items for r in runs]) * mean_of(handle)
    return int(math.ceil(work_s / (occupancy * scenario.horizon_s)))


# -- (c) value tiers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TierPoint:
    vip_share: float
    vip_service_level: Estimate
    standard_service_level: Estimate
    overall_service_level: Estimate
    vip_asa_s: Estimate
    standard_asa_s: Estimate


@dataclass(frozen=True)
class TierStudy:
    queue: str
    points: list[TierPoint]
    replications: int


def tier_study(
    scenario: Scenario,
    shares: Sequence[float] = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7),
    queue: str | None = None,
    options: RunOptions | None = None,
) -> TierStudy:
    """Service level of VIP and standard customers as the VIP share of one queue grows
    (seed 000: 客户分层 — value tiers buy faster service, at the expense of the rest)."""
    opts = options or RunOptions()
    name = queue or scenario.queues[0].name
    scenario.queue(name)
    points = []
    replications = 0
    for share in shares:
        if not 0 <= share <= 1:
            raise StudyError(f"VIP share must be in [0, 1], got {share}")
        runs = _runs(_replace_queue(scenario, name, vip_share=share), opts)
        replications = len(runs)

        def tier(r: ReplicationKpis, t: str, field: str) -> float | None:
            s = r.by_tier.get(t)
            return None if s is None else getattr(s, field)

        points.append(
            TierPoint(
                vip_share=share,
                vip_service_level=estimate([tier(r, "vip", "service_level") for r in runs]),
                standard_service_level=estimate(
                    [tier(r, "standard", "service_level") for r in runs]
                ),
                overall_service_level=estimate([r.overall.service_level for r in runs]),
                vip_asa_s=estimate([tier(r, "vip", "asa_s") for r in runs]),
                standard_asa_s=estimate([tier(r, "standard", "asa_s") for r in runs]),
            )
        )
    return TierStudy(queue=name, points=points, replications=replications)
