"""Independent replications, run serially, in a process pool, or on a Dask / Ray cluster,
and the KPIs over them with 95 % confidence intervals (Student t).

A replication is identified by (scenario.seed, index); its result does not depend on where
or in what order it ran, so serial, pool and cluster runs give identical figures.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from scipy import stats

from lianluo.domain.kpi import (
    KpiParams,
    KpiSummary,
    occupancy,
    summarize,
    summarize_by,
    summarize_by_interval,
)
from lianluo.sim.engine import SimResult, simulate
from lianluo.sim.scenario import Scenario

T = TypeVar("T")


class ClusterUnavailableError(RuntimeError):
    """`--cluster` was given but neither dask.distributed nor ray can be imported."""


def kpi_params(scenario: Scenario) -> KpiParams:
    return KpiParams(
        service_level_threshold_s=scenario.kpi.service_level_threshold_s,
        short_abandon_s=scenario.kpi.short_abandon_s,
        fcr_window_s=scenario.kpi.fcr_window_s,
    )


@dataclass(frozen=True)
class TicketStats:
    tickets: int
    resolved: int
    mean_duration_s: float | None  # opened → resolved, resolved tickets only
    repeat_contacts_per_ticket: float | None  # customer contacts beyond the first
    escalated_share: float | None
    work_items: int


@dataclass(frozen=True)
class ReplicationKpis:
    """What one replication measured (small, so it travels back from a worker cheaply)."""

    replication: int
    overall: KpiSummary
    by_queue: dict[str, KpiSummary]
    by_tier: dict[str, KpiSummary]
    by_interval: dict[float, KpiSummary]
    occupancy: float | None
    handling_s: float
    tickets: TicketStats
    events: int
    occupancy_by_interval: tuple[float | None, ...] = ()  # by interval number of the horizon


def ticket_stats(result: SimResult) -> TicketStats:
    tickets = result.tickets
    resolved = [t for t in tickets if t.resolved_at is not None]
    durations = [t.resolved_at - t.opened_at for t in resolved if t.resolved_at is not None]
    return TicketStats(
        tickets=len(tickets),
        resolved=len(resolved),
        mean_duration_s=float(np.mean(durations)) if durations else None,
        repeat_contacts_per_ticket=(
            float(np.mean([max(t.contacts - 1, 0) for t in tickets])) if tickets else None
        ),
        escalated_share=float(np.mean([t.escalated for t in tickets])) if tickets else None,
        work_items=result.work_items,
    )


def measure_kpis(scenario: Scenario, replication: int) -> ReplicationKpis:
    """Simulate one replication and reduce it to its KPIs (the default worker job)."""
    result = simulate(scenario, replication)
    params = kpi_params(scenario)
    cols = result.outcomes
    by_interval = summarize_by_interval(cols, scenario.interval_s, scenario.timezone, params)
    return ReplicationKpis(
        replication=replication,
        overall=summarize(cols, params),
        by_queue=summarize_by(cols, "queue", params),
        by_tier=summarize_by(cols, "tier", params),
        by_interval={row.interval_start: row.kpis for row in by_interval},
        occupancy=occupancy(result.agent_time.handling_s, result.agent_time.available_s),
        handling_s=float(result.agent_time.handling_s.sum()),
        tickets=ticket_stats(result),
        events=result.events,
        occupancy_by_interval=tuple(
            occupancy(h, a)
            for h, a in zip(
                result.agent_time.handling_s, result.agent_time.available_s, strict=True
            )
        ),
    )


def _call(job: tuple[Callable[[Scenario, int], T], Scenario, int]) -> T:
    fn, scenario, replication = job
    return fn(scenario, replication)


def run_replications(
    scenario: Scenario,
    replications: int | None = None,
    *,
    workers: int = 1,
    cluster: str | None = None,
    job: Callable[[Scenario, int], T] = measure_kpis,  # type: ignore[assignment]
) -> list[T]:
    """Run replications 0..n-1 of `scenario` through `job` (a module-level function).

    workers=1 runs serially; more uses a ProcessPoolExecutor; `cluster` (an address such as
    tcp://host:8786 for Dask or ray://host:10001 for Ray) uses that cluster when its client
    package is importable, else raises `ClusterUnavailableError`. Results come back in
    replication order.
    """
    n = scenario.replications if replications is None else replications
    if n < 1:
        raise ValueError(f"replications must be >= 1, got {n}")
    jobs = [(job, scenario, r) for r in range(n)]
    if cluster is not None:
        return _run_on_cluster(cluster, jobs)
    if workers <= 1 or n == 1:
        return [_call(j) for j in jobs]
    with ProcessPoolExecutor(max_workers=min(workers, n)) as pool:
        return list(pool.map(_call, jobs))


def _run_on_cluster(address: str, jobs: list[Any]) -> list[Any]:
    if address.startswith("ray://") or address == "ray":
        if importlib.util.find_spec("ray") is None:
            raise ClusterUnavailableError(f"--cluster {address}: the ray package is not installed")
        import ray  # type: ignore[import-not-found]

        connected_here = not ray.is_initialized()
        if connected_here:
            ray.init(address=None if address == "ray" else address, log_to_driver=False)
        try:
            remote: Any = ray.remote(_call)
            return list(ray.get([remote.remote(j) for j in jobs]))
        finally:
            if connected_here:  # a caller's own Ray session is left as it was
                ray.shutdown()
    if importlib.util.find_spec("distributed") is None:
        raise ClusterUnavailableError(
            f"--cluster {address}: dask.distributed is not installed (pip install distributed)"
        )
    from distributed import Client  # type: ignore[import-not-found]

    with Client(address) as client:
        futures = client.map(_call, jobs, pure=False)
        return list(client.gather(futures))


@dataclass(frozen=True)
class Estimate:
    """Mean over replications with a Student-t confidence interval (Law, Simulation Modeling
    and Analysis, 5th ed., §9.4.1, fixed-sample-size procedure). `n` counts the replications
    where the KPI is defined."""

    mean: float | None
    low: float | None
    high: float | None
    n: int
    level: float = 0.95

    @property
    def half_width(self) -> float | None:
        return None if self.high is None or self.mean is None else self.high - self.mean

    def contains(self, value: float) -> bool:
        return self.low is not None and self.high is not None and self.low <= value <= self.high


def estimate(values: Sequence[float | None], level: float = 0.95) -> Estimate:
    """Mean and t-interval of the defined values; None where fewer than 2 are defined."""
    xs = np.array([v for v in values if v is not None and not math.isnan(v)], dtype=np.float64)
    if len(xs) == 0:
        return Estimate(None, None, None, 0, level)
    mean = float(xs.mean())
    if len(xs) < 2:
        return Estimate(mean, None, None, 1, level)
    half = float(stats.t.ppf(0.5 + level / 2, len(xs) - 1) * xs.std(ddof=1) / math.sqrt(len(xs)))
    return Estimate(mean, mean - half, mean + half, len(xs), level)


KPI_FIELDS = (
    "service_level",
    "asa_s",
    "aht_s",
    "abandonment_rate",
    "connect_rate",
    "effectiveness",
    "fcr",
)


@dataclass(frozen=True)
class KpiEstimates:
    offered_mean: float
    values: dict[str, Estimate] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Estimate:
        return self.values[name]


def estimate_kpis(summaries: Sequence[KpiSummary], level: float = 0.95) -> KpiEstimates:
    return KpiEstimates(
        offered_mean=float(np.mean([s.offered for s in summaries])) if summaries else 0.0,
        values={
            name: estimate([getattr(s, name) for s in summaries], level) for name in KPI_FIELDS
        },
    )


@dataclass(frozen=True)
class StudySummary:
    """KPIs with confidence intervals over replications: overall, per queue, per tier and per
    interval (interval start, epoch s)."""

    replications: int
    overall: KpiEstimates
    by_queue: dict[str, KpiEstimates]
    by_tier: dict[str, KpiEstimates]
    by_interval: dict[float, KpiEstimates]
    occupancy: Estimate
    events_mean: float
    occupancy_by_interval: tuple[Estimate, ...] = ()


def summarize_replications(runs: Sequence[ReplicationKpis], level: float = 0.95) -> StudySummary:
    def grouped(attr: str) -> dict[Any, KpiEstimates]:
        keys = sorted({k for r in runs for k in getattr(r, attr)})
        return {
            k: estimate_kpis([getattr(r, attr)[k] for r in runs if k in getattr(r, attr)], level)
            for k in keys
        }

    return StudySummary(
        replications=len(runs),
        overall=estimate_kpis([r.overall for r in runs], level),
        by_queue=grouped("by_queue"),
        by_tier=grouped("by_tier"),
        by_interval=grouped("by_interval"),
        occupancy=estimate([r.occupancy for r in runs], level),
        events_mean=float(np.mean([r.events for r in runs])) if runs else 0.0,
        occupancy_by_interval=tuple(
            estimate([r.occupancy_by_interval[k] for r in runs], level)
            for k in range(min((len(r.occupancy_by_interval) for r in runs), default=0))
        ),
    )


@dataclass(frozen=True)
class SteadyStateJob:
    """A picklable job measuring KPIs only on contacts offered in [warmup_s, horizon − cooldown_s]
    (the run starts empty and agents leave at the horizon; steady-state formulas such as
    Erlang C describe neither edge)."""

    warmup_s: float
    cooldown_s: float

    def __call__(self, scenario: Scenario, replication: int) -> KpiSummary:
        result = simulate(scenario, replication)
        cols = result.outcomes
        offset = cols.offered_at - scenario.start_epoch_s
        keep = (offset >= self.warmup_s) & (offset < scenario.horizon_s - self.cooldown_s)
        return summarize(cols.select(keep), kpi_params(scenario))
