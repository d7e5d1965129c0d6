"""`lianluo sim …`: run scenarios and the studies of issue 7, each writing an HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lianluo.sim.replications import (
    ClusterUnavailableError,
    ReplicationKpis,
    run_replications,
    summarize_replications,
)
from lianluo.sim.router import RoutingUnavailableError
from lianluo.sim.scenario import Scenario, ScenarioError, load_scenario
from lianluo.sim.studies import RunOptions, StudyError

# What a user can get wrong in a scenario or an option; reported as one line, exit code 2.
_USER_ERRORS = (StudyError, ScenarioError, ClusterUnavailableError, RoutingUnavailableError)

app = typer.Typer(no_args_is_help=True, help="Digital twin: simulate scenarios and studies.")

ScenarioArg = Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)]
Replications = Annotated[
    int | None, typer.Option("--replications", "-r", help="Replications (default: scenario's).")
]
Workers = Annotated[int, typer.Option("--workers", "-w", help="Processes for replications.")]
Cluster = Annotated[
    str | None,
    typer.Option(
        "--cluster",
        help="Dask scheduler (tcp://host:8786) or Ray (ray://host:10001) address; "
        "needs the dask.distributed or ray package.",
    ),
]
Out = Annotated[Path, typer.Option("--out", "-o", help="HTML report to write.")]


def _load(path: Path) -> Scenario:
    try:
        return load_scenario(path)
    except ScenarioError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(2)


@app.command("check")
def check(scenario: ScenarioArg) -> None:
    """Validate a scenario file and print what it describes."""
    sc = _load(scenario)
    agents = sum(
        max(g.per_interval) if g.per_interval else sum(s.count for s in g.shifts or [])
        for g in sc.agents
    )
    typer.echo(
        f"{scenario}: ok — {len(sc.queues)} queue(s), {len(sc.agents)} agent group(s) "
        f"(up to {agents} agents), {sc.intervals} × {sc.interval_minutes} min"
    )


@app.command("run")
def run(
    scenario: ScenarioArg,
    out: Out = Path("sim-report.html"),
    replications: Replications = None,
    workers: Workers = 1,
    cluster: Cluster = None,
) -> None:
    """Simulate a scenario: KPIs per queue, tier and interval with 95 % confidence intervals."""
    from lianluo.sim.report import fmt, run_report

    sc = _load(scenario)
    try:
        runs: list[ReplicationKpis] = run_replications(
            sc, replications, workers=workers, cluster=cluster
        )
    except _USER_ERRORS as exc:
        raise _fail(exc) from None
    summary = summarize_replications(runs)
    for name, est in {"all": summary.overall, **summary.by_queue}.items():
        typer.echo(
            f"{name}: offered {est.offered_mean:.0f}, SL {fmt(est['service_level'], True)}, "
            f"ASA {fmt(est['asa_s'])} s, abandonment {fmt(est['abandonment_rate'], True)}"
        )
    typer.echo(f"report: {run_report(out, sc, summary)}")


@app.command("staffing")
def staffing(
    scenario: ScenarioArg,
    out: Out = Path("sim-staffing.html"),
    target: Annotated[float | None, typer.Option(help="Service level target, e.g. 0.8.")] = None,
    threshold_s: Annotated[float | None, typer.Option(help="Answer within, seconds.")] = None,
    replications: Replications = None,
    workers: Workers = 1,
    cluster: Cluster = None,
) -> None:
    """(a) Agents per interval for a day's forecast to hold the target, versus Erlang."""
    from lianluo.sim.report import staffing_report
    from lianluo.sim.studies import staffing_study

    sc = _load(scenario)
    try:
        study = staffing_study(sc, target, threshold_s, RunOptions(replications, workers, cluster))
    except _USER_ERRORS as exc:
        raise _fail(exc) from None
    typer.echo(
        f"agent-intervals: Erlang C {sum(study.erlang_c_agents)}, simulation "
        f"{sum(study.sim_agents)} ({'converged' if study.converged else 'NOT converged'} "
        f"after {study.iterations} iterations)"
    )
    typer.echo(f"report: {staffing_report(out, sc, study)}")


@app.command("ownership")
def ownership(
    scenario: ScenarioArg,
    out: Out = Path("sim-ownership.html"),
    size_staff: Annotated[
        bool, typer.Option(help="Also search the staff each model needs (slower).")
    ] = True,
    replications: Replications = None,
    workers: Workers = 1,
    cluster: Cluster = None,
) -> None:
    """(b) First-contact ownership versus tiered escalation on the same traffic (seed 001)."""
    from lianluo.sim.report import fmt, ownership_report
    from lianluo.sim.studies import ownership_study

    sc = _load(scenario)
    try:
        study = ownership_study(sc, RunOptions(replications, workers, cluster), size_staff)
    except _USER_ERRORS as exc:
        raise _fail(exc) from None
    for model, r in study.results.items():
        typer.echo(
            f"{model}: ticket duration {fmt(r.ticket_duration_s)} s, repeat contacts/ticket "
            f"{fmt(r.repeat_contacts_per_ticket)}, effectiveness {fmt(r.effectiveness, True)}, "
            f"front agents {r.front_agents_needed}, back office {r.back_office_agents_needed}"
        )
    typer.echo(f"report: {ownership_report(out, sc, study)}")


@app.command("vip")
def vip(
    scenario: ScenarioArg,
    out: Out = Path("sim-vip.html"),
    shares: Annotated[
        str, typer.Option(help="Comma-separated VIP shares to try.")
    ] = "0,0.05,0.1,0.2,0.3,0.5,0.7",
    queue: Annotated[str | None, typer.Option(help="Queue (default: the first).")] = None,
    replications: Replications = None,
    workers: Workers = 1,
    cluster: Cluster = None,
) -> None:
    """(c) Service level of VIP and standard customers as the VIP share grows (seed 000)."""
    from lianluo.sim.report import fmt, tier_report
    from lianluo.sim.studies import tier_study

    sc = _load(scenario)
    try:
        values = [float(s) for s in shares.split(",") if s.strip()]
    except ValueError:
        raise _fail(ValueError(f"--shares: {shares!r} is not a list of numbers")) from None
    try:
        study = tier_study(sc, values, queue, RunOptions(replications, workers, cluster))
    except _USER_ERRORS as exc:
        raise _fail(exc) from None
    for p in study.points:
        typer.echo(
            f"VIP {p.vip_share:.0%}: VIP SL {fmt(p.vip_service_level, True)}, "
            f"standard SL {fmt(p.standard_service_level, True)}"
        )
    typer.echo(f"report: {tier_report(out, sc, study)}")
