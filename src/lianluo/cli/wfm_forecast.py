"""`lianluo wfm forecast`: forecast contacts and AHT per interval from a CSV.

The command function is registered by ``lianluo.cli.wfm``; it is a plain function here.
"""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from lianluo.wfm.forecast import (
    AHT_S,
    CONTACTS,
    ForecastResult,
    IntervalError,
    SpecialDays,
    default_models,
    forecast,
    future_open_intervals,
    intervals_from_counts,
    intervals_from_timestamps,
    light_models,
    open_intervals,
)

HANDLE_TIME_COLUMNS = ("handle_time_s", "aht_s")


def _fail(message: str) -> typer.Exit:
    Console(stderr=True).print(f"[red]error:[/red] {message}")
    return typer.Exit(code=1)


def _read_history(
    path: Path,
    *,
    time_column: str,
    count_column: str | None,
    handle_time_column: str | None,
    interval_min: int,
    tz: str,
) -> pd.DataFrame:
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise _fail(f"cannot read {path}: {exc}") from exc
    if time_column not in table.columns:
        raise _fail(f"{path} has no column '{time_column}' (columns: {', '.join(table.columns)})")
    counts = count_column or (CONTACTS if CONTACTS in table.columns else None)
    handle = handle_time_column or next(
        (c for c in HANDLE_TIME_COLUMNS if c in table.columns), None
    )
    for column in (counts, handle):
        if column is not None and column not in table.columns:
            raise _fail(f"{path} has no column '{column}'")
    handle_values = None if handle is None else table[handle].to_numpy(dtype=float)
    if counts is None:  # one arrival per row
        return intervals_from_timestamps(
            table[time_column], interval_min=interval_min, tz=tz, handle_time_s=handle_values
        )
    return intervals_from_counts(
        table[time_column],
        table[counts].to_numpy(dtype=float),
        interval_min=interval_min,
        tz=tz,
        aht_s=handle_values,
    )


def _as_json(result: ForecastResult, interval_min: int, tz: str) -> str:
    def number(value: float) -> float | None:
        return None if math.isnan(value) else round(float(value), 3)

    payload = {
        "model": result.model,
        "backtest_wape": round(result.backtest_wape, 5),
        "backtest": [
            {"model": r.model, "wape": round(r.wape, 5), "window_wapes": list(r.window_wapes)}
            for r in result.backtest
        ],
        "interval_min": interval_min,
        "tz": tz,
        "intervals": [
            {
                "start": start.isoformat(),
                "contacts": number(row[CONTACTS]),
                "aht_s": number(row[AHT_S]),
            }
            for start, row in result.intervals.iterrows()
        ],
    }
    return json.dumps(payload, ensure_ascii=False)


def _print_tables(console: Console, result: ForecastResult) -> None:
    scores = Table(title="Backtest (mean WAPE on held-out weeks)")
    scores.add_column("Model")
    scores.add_column("WAPE", justify="right")
    scores.add_column("Windows", justify="right")
    for r in sorted(result.backtest, key=lambda r: r.wape):
        mark = " ✓" if r.model == result.model else ""
        windows = " ".join(f"{w:.1%}" for w in r.window_wapes)
        scores.add_row(r.model + mark, f"{r.wape:.2%}", windows)
    console.print(scores)
    table = Table(title=f"Forecast ({result.model})")
    table.add_column("Interval start")
    table.add_column("Contacts", justify="right")
    table.add_column("AHT (s)", justify="right")
    for start, row in result.intervals.iterrows():
        aht = row[AHT_S]
        table.add_row(
            start.strftime("%Y-%m-%d %a %H:%M"),
            f"{row[CONTACTS]:.1f}",
            "–" if math.isnan(aht) else f"{aht:.0f}",
        )
    console.print(table)


def forecast_command(
    input_csv: Path = typer.Option(
        ...,
        "--input",
        "-i",
        exists=True,
        dir_okay=False,
        help="CSV of arrivals (one row per contact) or of interval counts (a 'contacts' column).",
    ),
    interval_min: int = typer.Option(30, "--interval-min", help="Interval length: 15, 30 or 60."),
    horizon_days: int = typer.Option(7, "--horizon-days", min=1, help="Days to forecast."),
    tz: str = typer.Option("UTC", "--tz", help="Time zone of the intervals, e.g. Asia/Shanghai."),
    time_column: str = typer.Option(
        "timestamp", "--time-column", help="Arrival time or interval start (naive = UTC)."
    ),
    count_column: str | None = typer.Option(
        None,
        "--count-column",
        help="Column of pre-bucketed counts (default: 'contacts' if present).",
    ),
    handle_time_column: str | None = typer.Option(
        None,
        "--handle-time-column",
        help="Handle time in seconds (default: handle_time_s / aht_s).",
    ),
    closed_days: list[str] = typer.Option(
        [], "--closed-day", help="A closed day YYYY-MM-DD (repeat for several)."
    ),
    windows: int = typer.Option(4, "--windows", min=1, help="Held-out weeks in the backtest."),
    light: bool = typer.Option(False, "--light", help="Skip the statsforecast models (faster)."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Forecast contacts and AHT per interval, choosing the model by rolling backtest."""
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise typer.BadParameter(f"unknown time zone {tz!r}", param_hint="--tz") from exc
    try:
        calendar = SpecialDays.closed(date.fromisoformat(d) for d in closed_days)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--closed-day") from exc
    stderr = Console(stderr=True)
    try:
        raw = _read_history(
            input_csv,
            time_column=time_column,
            count_column=count_column,
            handle_time_column=handle_time_column,
            interval_min=interval_min,
            tz=tz,
        )
        history = open_intervals(raw, calendar)
        future = future_open_intervals(
            history.index,
            horizon_days=horizon_days,
            interval_min=interval_min,
            special_days=calendar,
        )
        if len(future) == 0:
            raise IntervalError(
                f"no open intervals in the {horizon_days} day(s) after {history.index[-1]:%Y-%m-%d}"
            )
        with Progress(
            TextColumn("backtest {task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=stderr,
            transient=True,
        ) as bar:
            task: TaskID = bar.add_task("", total=None)

            def progress(model: str, done: int, total: int) -> None:
                bar.update(task, description=model, completed=done, total=total)

            result = forecast(
                history,
                future_index=future,
                models=light_models() if light else default_models(),
                special_days=calendar,
                n_windows=windows,
                progress=progress,
            )
    except (IntervalError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    if json_output:
        typer.echo(_as_json(result, interval_min, tz))
    else:
        _print_tables(Console(), result)
