"""`forecast_command` through a Typer app built here (lianluo.cli.wfm registers it for real)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from lianluo.cli.wfm_forecast import forecast_command

TZ = "Asia/Shanghai"
OPEN_SLOTS = 2 * 9  # 09:00–18:00 local, weekdays


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    app.command("forecast")(forecast_command)

    @app.command("other")
    def other() -> None:  # a second command keeps "forecast" a sub-command
        """Unused."""

    return app


def _arrivals(tmp_path: Path, weeks: int = 6, seed: int = 0) -> Path:
    """One row per call (UTC timestamps, handle time) for weekdays 09:00–18:00 Shanghai."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(7 * weeks):
        day = date(2024, 1, 1) + timedelta(days=k)
        if day.weekday() >= 5:
            continue
        for slot in range(OPEN_SLOTS):
            start = pd.Timestamp(day).tz_localize(TZ) + pd.Timedelta(minutes=9 * 60 + 30 * slot)
            n = rng.poisson(8 + 4 * (slot < 6) + 3 * (day.weekday() == 0))
            for offset in rng.uniform(0, 1800, n):
                moment = (start + pd.Timedelta(seconds=float(offset))).tz_convert("UTC")
                rows.append((moment.isoformat(), rng.uniform(120, 360)))
    path = tmp_path / "arrivals.csv"
    pd.DataFrame(rows, columns=["timestamp", "handle_time_s"]).to_csv(path, index=False)
    return path


def test_json_forecast_from_arrivals(app: typer.Typer, tmp_path: Path) -> None:
    path = _arrivals(tmp_path)
    result = CliRunner().invoke(
        app,
        ["forecast", "-i", str(path), "--tz", TZ, "--horizon-days", "7", "--light", "--json"],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    starts = pd.DatetimeIndex([row["start"] for row in payload["intervals"]])
    assert len(starts) == 5 * OPEN_SLOTS
    assert starts[0] == pd.Timestamp("2024-02-12 09:00", tz=TZ)
    assert set(starts.dayofweek) == set(range(5))
    assert payload["model"] in {r["model"] for r in payload["backtest"]}
    assert payload["backtest_wape"] == min(r["wape"] for r in payload["backtest"])
    contacts = np.array([row["contacts"] for row in payload["intervals"]])
    assert (contacts >= 0).all()
    assert 120 <= np.mean([row["aht_s"] for row in payload["intervals"]]) <= 360


def test_table_from_counts_with_a_closed_day(app: typer.Typer, tmp_path: Path) -> None:
    starts = pd.date_range("2024-01-01 09:00", periods=5 * 7 * 24, freq="h", tz=TZ)
    starts = starts[(starts.dayofweek < 5) & (starts.hour >= 9) & (starts.hour < 18)]
    counts = 10 + starts.hour.to_numpy() % 4
    path = tmp_path / "counts.csv"
    pd.DataFrame({"start": starts.tz_convert("UTC"), "contacts": counts}).to_csv(path, index=False)
    args = ["forecast", "-i", str(path), "--time-column", "start", "--interval-min", "60"]
    args += ["--tz", TZ, "--light", "--horizon-days", "5", "--closed-day", "2024-02-06"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Forecast (" in result.stdout
    assert "Backtest" in result.stdout
    assert "2024-02-05 Mon 09:00" in result.stdout
    assert "2024-02-06" not in result.stdout
    assert "2024-02-07 Wed 17:00" in result.stdout
    assert "2024-02-08" not in result.stdout  # 5 days after Friday 2 Feb end on the 7th


def test_bad_time_zone_is_a_usage_error(app: typer.Typer, tmp_path: Path) -> None:
    path = _arrivals(tmp_path, weeks=1)
    result = CliRunner().invoke(app, ["forecast", "-i", str(path), "--tz", "Mars/Olympus"])
    assert result.exit_code == 2
    assert "unknown time zone" in result.output


def test_missing_column_and_short_history_fail_clearly(app: typer.Typer, tmp_path: Path) -> None:
    path = _arrivals(tmp_path, weeks=1)
    missing = CliRunner().invoke(app, ["forecast", "-i", str(path), "--time-column", "when"])
    assert missing.exit_code == 1
    assert "no column 'when'" in missing.output
    short = CliRunner().invoke(app, ["forecast", "-i", str(path), "--tz", TZ, "--light"])
    assert short.exit_code == 1
    assert "too few" in short.output


def test_horizon_without_open_intervals_fails_clearly(app: typer.Typer, tmp_path: Path) -> None:
    path = _arrivals(tmp_path, weeks=6)  # ends on a Friday; the weekend is closed
    result = CliRunner().invoke(
        app, ["forecast", "-i", str(path), "--tz", TZ, "--light", "--horizon-days", "1"]
    )
    assert result.exit_code == 1
    assert "no open intervals in the 1 day(s) after 2024-02-09" in result.output
