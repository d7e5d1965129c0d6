"""`lianluo wfm …`: staffing, weekly schedules and adherence (forecast comes from wfm_forecast)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from lianluo.domain.wfm import staffing
from lianluo.domain.wfm.adherence import (
    ScheduledActivity,
    StateInterval,
    compute_adherence,
    team_adherence,
)

app = typer.Typer(no_args_is_help=True)
console = Console()

# Registered once the forecasting work has landed its command module beside this one.
if Path(__file__).with_name("wfm_forecast.py").exists():
    from lianluo.cli.wfm_forecast import forecast_command

    app.command("forecast")(forecast_command)


def _fail(message: str) -> typer.Exit:
    Console(stderr=True).print(f"[red]error:[/red] {message}")
    return typer.Exit(code=1)


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _staff(
    rates: list[float],
    aht_s: float,
    interval_s: float,
    targets: dict[str, Any],
) -> staffing.StaffingResult:
    try:
        return staffing.required_agents_for_contacts(np.array(rates), aht_s, interval_s, **targets)
    except ValueError as exc:
        raise _fail(str(exc)) from exc


@app.command("staff")
def staff_command(
    rate: str = typer.Option(..., help="Contacts per interval; a comma-separated list for many."),
    aht: float = typer.Option(..., help="Average handle time in seconds."),
    interval: float = typer.Option(1800.0, help="Interval length in seconds."),
    target_sl: float | None = typer.Option(0.8, help="Service-level target (share in 0–1)."),
    target_time: float = typer.Option(20.0, help="Service-level answer time in seconds."),
    target_asa: float | None = typer.Option(None, help="Maximum ASA in seconds."),
    patience: float | None = typer.Option(None, help="Mean patience in seconds (Erlang A)."),
    max_abandonment: float | None = typer.Option(None, help="Maximum abandonment (0–1)."),
    max_occupancy: float = typer.Option(1.0, help="Maximum occupancy (0–1]."),
    shrinkage: float = typer.Option(0.0, help="Shrinkage (0–1) for scheduled agents."),
    concurrency: int = typer.Option(1, help="Contacts an agent handles at once (chat)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Required agents per interval with Erlang C, or Erlang A when --patience is given."""
    try:
        rates = [float(r) for r in rate.split(",") if r.strip()]
    except ValueError as exc:
        raise _fail(f"--rate must be numbers: {exc}") from exc
    if not rates:
        raise _fail("--rate needs at least one value")
    targets: dict[str, Any] = {
        "target_sl": target_sl,
        "target_time_s": target_time,
        "target_asa_s": target_asa,
        "patience_s": patience,
        "max_abandonment": max_abandonment,
        "max_occupancy": max_occupancy,
        "shrinkage": shrinkage,
        "concurrency": concurrency,
    }
    result = _staff(rates, aht, interval, targets)
    rows = []
    for i, contacts in enumerate(rates):
        row: dict[str, Any] = {
            "contacts": contacts,
            "load_erlangs": float(result.load_erlangs.reshape(-1)[i]),
            "agents": int(result.agents.reshape(-1)[i]),
            "scheduled_agents": int(result.scheduled_agents.reshape(-1)[i]),
            "service_level": float(result.service_level.reshape(-1)[i]),
            "asa": _finite(result.asa_s.reshape(-1)[i]),
            "probability_wait": float(result.probability_wait.reshape(-1)[i]),
            "occupancy": float(result.occupancy.reshape(-1)[i]),
        }
        if result.abandonment is not None:
            row["abandonment"] = float(result.abandonment.reshape(-1)[i])
        rows.append(row)
    if as_json:
        print(json.dumps(rows[0] if len(rows) == 1 else {"intervals": rows}))
        return
    table = Table(title="Required agents" + (" (Erlang A)" if patience else " (Erlang C)"))
    headers = {
        "contacts": "contacts",
        "load_erlangs": "Erlangs",
        "agents": "agents",
        "scheduled_agents": "with shrinkage",
        "service_level": "SL",
        "asa": "ASA s",
        "probability_wait": "P(wait)",
        "occupancy": "occupancy",
        "abandonment": "abandon",
    }
    for column in rows[0]:
        table.add_column(headers[column], justify="right")
    for row in rows:
        table.add_row(
            *(
                "—" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)
                for v in row.values()
            )
        )
    console.print(table)


def _read_numbers(path: Path) -> tuple[list[float], str, dict[str, Any]]:
    """Requirements or rates from CSV (column required_agents|agents or contacts) or JSON."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        data = json.loads(text)
        if isinstance(data, list):
            return [float(v) for v in data], "agents", {}
        for key in ("required_agents", "agents"):
            if key in data:
                return [float(v) for v in data[key]], "agents", data
        if "contacts" in data:
            return [float(v) for v in data["contacts"]], "contacts", data
        raise ValueError("JSON needs required_agents, agents or contacts")
    rows = list(csv.DictReader(text.splitlines()))
    if not rows:
        raise ValueError("the CSV has no rows")
    for key, kind in (
        ("required_agents", "agents"),
        ("agents", "agents"),
        ("contacts", "contacts"),
    ):
        if key in rows[0]:
            return [float(r[key]) for r in rows], kind, {}
    raise ValueError(f"CSV needs a column required_agents, agents or contacts: {list(rows[0])}")


@app.command("schedule")
def schedule_command(
    requirement_file: Path = typer.Argument(
        ..., help="CSV or JSON: agents or contacts per interval"
    ),
    interval_min: int = typer.Option(30, help="Interval length in minutes (15 or 30)."),
    aht: float | None = typer.Option(None, help="AHT in seconds when the file holds contacts."),
    target_sl: float = typer.Option(0.8, help="Service level when computing from contacts."),
    target_time: float = typer.Option(20.0, help="Answer time in seconds for that target."),
    days_on: int = typer.Option(5, help="Working days per tour."),
    start_step: int = typer.Option(30, help="Minutes between possible shift starts."),
    time_limit: float = typer.Option(60.0, help="Solver time limit in seconds."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Weekly tours (5 on / 2 consecutive off by default) covering the requirement."""
    from lianluo.wfm import schedule

    try:
        values, kind, extra = _read_numbers(requirement_file)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise _fail(f"cannot read {requirement_file}: {exc}") from exc
    if kind == "contacts":
        aht_s = aht if aht is not None else extra.get("aht_s")
        if aht_s is None:
            raise _fail("the file holds contacts: give --aht (or aht_s in the JSON)")
        targets = {"target_sl": target_sl, "target_time_s": target_time}
        values = _staff(values, float(aht_s), interval_min * 60.0, targets).agents.tolist()
    rules = schedule.TourRules(days_on=days_on, start_step_min=start_step)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=as_json,
    ) as progress:
        progress.add_task("solving LP bound and tours (HiGHS)…", total=None)
        try:
            result = schedule.schedule_week(
                values, interval_min, rules=rules, time_limit_s=time_limit
            )
        except ValueError as exc:
            raise _fail(str(exc)) from exc
    tours = [
        {
            "days": list(t.working_days),
            "start": f"{t.start_min // 60:02d}:{t.start_min % 60:02d}",
            "shift": t.shift.name,
            "break_offsets_min": list(t.break_starts_min),
            "paid_hours_per_week": t.paid_min_per_week / 60,
            "count": count,
        }
        for t, count in result.tours
    ]
    summary = {
        "agents": result.agents,
        "paid_hours": result.paid_hours,
        "lp_bound_hours": result.lp_bound_hours,
        "gap": result.objective_gap,
        "understaffed_agent_hours": float(result.under.sum()) * interval_min / 60,
        "overstaffed_agent_hours": float(result.over.sum()) * interval_min / 60,
        "status": result.solver_status,
        "seconds": result.seconds,
    }
    if as_json:
        payload = summary | {
            "tours": tours,
            "required": result.required.tolist(),
            "coverage": result.coverage.tolist(),
            "under": result.under.tolist(),
            "over": result.over.tolist(),
        }
        print(json.dumps(payload))
        return
    per_day = len(result.required) // 7
    table = Table(title="Coverage per day (agent-hours)")
    for column in ("day", "required", "scheduled", "under", "over"):
        table.add_column(column, justify="right")
    hours = interval_min / 60
    for day, name in enumerate("Mon Tue Wed Thu Fri Sat Sun".split()):
        cut = slice(day * per_day, (day + 1) * per_day)
        table.add_row(
            name,
            *(
                f"{float(np.sum(a[cut])) * hours:.1f}"
                for a in (result.required, result.coverage, result.under, result.over)
            ),
        )
    console.print(table)
    tour_table = Table(title="Tours")
    for column in ("count", "days", "start", "shift", "breaks (min after start)"):
        tour_table.add_column(column)
    for tour in tours:
        tour_table.add_row(
            str(tour["count"]),
            ",".join("MTWTFSS"[d] for d in tour["days"]),
            str(tour["start"]),
            str(tour["shift"]),
            ",".join(str(b) for b in tour["break_offsets_min"]),
        )
    console.print(tour_table)
    console.print(
        f"{summary['agents']} agents, {result.paid_hours:.1f} paid hours, LP bound "
        f"{result.lp_bound_hours:.1f} (gap {result.objective_gap:.2%}), {result.solver_status}, "
        f"{result.seconds:.1f} s"
    )


def _load_json_list(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _fail(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, list):
        raise _fail(f"{path} must hold a JSON list")
    return data


@app.command("adherence")
def adherence_command(
    schedule_file: Path = typer.Argument(..., help="JSON list: agent_id, start_s, end_s, activity"),
    states_file: Path = typer.Argument(..., help="JSON list: agent_id, start_s, end_s, state"),
    window_start: float | None = typer.Option(None, help="Window start (s); default earliest."),
    window_end: float | None = typer.Option(None, help="Window end (s); default latest."),
    grace: float = typer.Option(0.0, help="Forgive deviations shorter than this (s)."),
    teams_file: Path | None = typer.Option(None, "--teams", help="JSON object agent_id → team."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Adherence and conformance per agent (and team) from a schedule and logged states."""
    try:
        plan = [
            ScheduledActivity(
                str(r["agent_id"]), float(r["start_s"]), float(r["end_s"]), r["activity"]
            )
            for r in _load_json_list(schedule_file)
        ]
        states = [
            StateInterval(str(r["agent_id"]), float(r["start_s"]), float(r["end_s"]), r["state"])
            for r in _load_json_list(states_file)
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail(f"bad record: {exc}") from exc
    times = [t for item in (*plan, *states) for t in (item.start_s, item.end_s)]
    if not times:
        raise _fail("no schedule and no states")
    try:
        per_agent = compute_adherence(
            plan,
            states,
            window_start_s=min(times) if window_start is None else window_start,
            window_end_s=max(times) if window_end is None else window_end,
            grace_s=grace,
        )
        teams = {}
        if teams_file is not None:
            team_of = json.loads(teams_file.read_text(encoding="utf-8"))
            teams = team_adherence(per_agent, team_of)
    except (OSError, ValueError) as exc:
        raise _fail(str(exc)) from exc

    def as_row(report: Any) -> dict[str, Any]:
        return {
            "adherence": report.adherence,
            "conformance": report.conformance,
            "scheduled_s": report.scheduled_s,
            "in_adherence_s": report.in_adherence_s,
            "deviations": [
                {
                    "start_s": d.start_s,
                    "end_s": d.end_s,
                    "scheduled": d.scheduled,
                    "actual": d.actual,
                }
                for d in report.deviations
            ],
        }

    if as_json:
        print(
            json.dumps(
                {
                    "agents": {a: as_row(r) for a, r in per_agent.items()},
                    "teams": {t: as_row(r) for t, r in teams.items()},
                }
            )
        )
        return
    for title, reports in (("Agents", per_agent), ("Teams", teams)):
        if not reports:
            continue
        table = Table(title=title)
        for column in ("name", "adherence", "conformance", "scheduled h", "deviations"):
            table.add_column(column, justify="right")
        for name, report in reports.items():
            table.add_row(
                name,
                f"{report.adherence:.1%}",
                f"{report.conformance:.1%}",
                f"{report.scheduled_s / 3600:.2f}",
                str(len(report.deviations)),
            )
        console.print(table)
