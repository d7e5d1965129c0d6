"""`lianluo wfm staff | schedule | adherence` through Typer's runner."""

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lianluo.cli.main import app
from lianluo.domain.wfm import erlang

runner = CliRunner()


def invoke(*args: str) -> dict:
    result = runner.invoke(app, ["wfm", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


class TestStaff:
    def test_erlang_c_json(self) -> None:
        out = invoke(
            "staff", "--rate", "100", "--aht", "180", "--interval", "1800",
            "--target-sl", "0.8", "--target-time", "20", "--json",
        )  # fmt: skip
        assert out["agents"] == 14
        assert out["service_level"] == pytest.approx(
            float(erlang.erlang_c_service_level(14, 10.0, 180, 20))
        )
        assert out["asa"] == pytest.approx(float(erlang.erlang_c_asa(14, 10.0, 180)))
        assert "abandonment" not in out

    def test_erlang_a_json_has_abandonment(self) -> None:
        out = invoke(
            "staff", "--rate", "100", "--aht", "180", "--target-sl", "0.8", "--patience", "60",
            "--json",
        )  # fmt: skip
        m = erlang.erlang_a(out["agents"], 10.0, 180.0, 60.0)
        assert out["abandonment"] == pytest.approx(float(m.abandonment))
        assert out["service_level"] >= 0.8
        assert float(erlang.erlang_a(out["agents"] - 1, 10.0, 180.0, 60.0).service_level(20)) < 0.8

    def test_many_rates_and_table(self) -> None:
        out = invoke("staff", "--rate", "0,50,500", "--aht", "240", "--json")
        assert [row["agents"] for row in out["intervals"]][0] == 0
        table = runner.invoke(app, ["wfm", "staff", "--rate", "50", "--aht", "240"])
        assert table.exit_code == 0
        assert "Erlang C" in table.stdout

    def test_impossible_target_is_a_clean_error(self) -> None:
        result = runner.invoke(
            app, ["wfm", "staff", "--rate", "10", "--aht", "60", "--target-sl", "1.5"]
        )
        assert result.exit_code == 1
        assert "target_sl" in result.output


class TestSchedule:
    def test_json_requirement(self, tmp_path: Path) -> None:
        hours = np.arange(48) / 2
        daily = np.where((hours >= 8) & (hours < 20), 4, 0)
        path = tmp_path / "req.json"
        path.write_text(json.dumps({"required_agents": np.tile(daily, 7).tolist()}))
        out = invoke("schedule", str(path), "--start-step", "60", "--json", "--time-limit", "20")
        assert out["understaffed_agent_hours"] == 0
        assert out["paid_hours"] >= out["lp_bound_hours"] - 1e-6
        assert sum(t["count"] for t in out["tours"]) == out["agents"]
        assert all(c >= r for c, r in zip(out["coverage"], out["required"], strict=True))

    def test_csv_of_contacts_needs_aht(self, tmp_path: Path) -> None:
        path = tmp_path / "rates.csv"
        daily = ["20" if 16 <= i < 40 else "0" for i in range(48)]
        path.write_text("contacts\n" + "\n".join(daily * 7))
        result = runner.invoke(app, ["wfm", "schedule", str(path)])
        assert result.exit_code == 1
        assert "--aht" in result.output
        table = runner.invoke(
            app,
            [
                "wfm",
                "schedule",
                str(path),
                "--aht",
                "300",
                "--start-step",
                "120",
                "--time-limit",
                "10",
            ],
        )
        assert table.exit_code == 0, table.output
        assert "Tours" in table.stdout
        assert "LP bound" in table.stdout


def test_adherence_json(tmp_path: Path) -> None:
    plan = [{"agent_id": "li", "start_s": 0, "end_s": 3600, "activity": "work"}]
    states = [{"agent_id": "li", "start_s": 900, "end_s": 3600, "state": "available"}]
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    (tmp_path / "states.json").write_text(json.dumps(states))
    (tmp_path / "teams.json").write_text(json.dumps({"li": "A"}))
    out = invoke(
        "adherence", str(tmp_path / "plan.json"), str(tmp_path / "states.json"),
        "--teams", str(tmp_path / "teams.json"), "--json",
    )  # fmt: skip
    assert out["agents"]["li"]["adherence"] == pytest.approx(0.75)
    assert out["teams"]["A"]["adherence"] == pytest.approx(0.75)
    assert out["agents"]["li"]["deviations"][0]["actual"] == "offline"
