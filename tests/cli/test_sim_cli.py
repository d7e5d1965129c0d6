from pathlib import Path

import pytest
from typer.testing import CliRunner

from lianluo.cli.sim import app

runner = CliRunner()

SMALL = """
name: tiny
intervals: 4
seed: 3
replications: 3
queues:
  - name: hotline
    arrivals: {kind: poisson, per_hour: 60}
    handle_time: {kind: exponential, mean_s: 240}
    patience: {kind: exponential, mean_s: 120}
agents:
  - {group: front, skills: {hotline: 3}, per_interval: [5]}
"""

TICKETS = """
name: tickets
intervals: 4
seed: 3
replications: 2
queues:
  - name: complaints
    arrivals: {kind: poisson, per_hour: 30}
    handle_time: {kind: exponential, mean_s: 300}
    patience: {kind: exponential, mean_s: 240}
    tickets: {model: first_contact, back_office_queue: back, escalate_p: 0.5, chase_p: 0.5,
              chase_mean_delay_s: 1200, followup_delay_s: 1200}
  - name: back
    handle_time: {kind: exponential, mean_s: 600}
agents:
  - {group: front, skills: {complaints: 3}, per_interval: [5]}
  - {group: back, skills: {back: 3}, per_interval: [4]}
"""


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return path


def assert_report(path: Path, *needles: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "Plotly.newPlot" in text  # charts drawn...
    assert "<script src=" not in text  # ...with plotly.js inline, nothing fetched
    for needle in needles:
        assert needle in text


class TestCheck:
    def test_valid(self, small: Path) -> None:
        result = runner.invoke(app, ["check", str(small)])
        assert result.exit_code == 0, result.output
        assert "ok — 1 queue(s), 1 agent group(s) (up to 5 agents)" in result.output

    def test_invalid_names_the_field(self, tmp_path: Path) -> None:
        bad = tmp_path / "bad.yaml"
        bad.write_text(SMALL.replace("mean_s: 240", "mean_s: zero"), encoding="utf-8")
        result = runner.invoke(app, ["check", str(bad)])
        assert result.exit_code == 2
        assert "queues.0.handle_time.exponential.mean_s" in result.output


class TestRun:
    def test_writes_report(self, small: Path, tmp_path: Path) -> None:
        out = tmp_path / "r.html"
        result = runner.invoke(app, ["run", str(small), "-o", str(out), "-r", "2"])
        assert result.exit_code == 0, result.output
        assert "hotline: offered" in result.output
        assert_report(out, "Per interval", "2 independent replications")

    def test_cluster_without_package(
        self, small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import lianluo.sim.replications as rep

        monkeypatch.setattr(rep.importlib.util, "find_spec", lambda name: None)
        result = runner.invoke(
            app, ["run", str(small), "-o", str(tmp_path / "x.html"), "--cluster", "tcp://h:8786"]
        )
        assert result.exit_code == 2
        assert "dask.distributed is not installed" in result.output


class TestStudies:
    def test_staffing(self, small: Path, tmp_path: Path) -> None:
        out = tmp_path / "s.html"
        result = runner.invoke(app, ["staffing", str(small), "-o", str(out), "-r", "2"])
        assert result.exit_code == 0, result.output
        assert "agent-intervals: Erlang C" in result.output
        assert_report(out, "Erlang C", "Erlang A", "simulation")

    def test_staffing_needs_one_queue(self, tmp_path: Path) -> None:
        path = tmp_path / "t.yaml"
        path.write_text(TICKETS, encoding="utf-8")
        result = runner.invoke(app, ["staffing", str(path), "-o", str(tmp_path / "x.html")])
        assert result.exit_code == 2
        assert "exactly one queue and one agent group" in result.output

    def test_ownership(self, tmp_path: Path) -> None:
        path = tmp_path / "t.yaml"
        path.write_text(TICKETS, encoding="utf-8")
        out = tmp_path / "o.html"
        result = runner.invoke(app, ["ownership", str(path), "-o", str(out), "--no-size-staff"])
        assert result.exit_code == 0, result.output
        assert "first_contact: ticket duration" in result.output
        assert "tiered: ticket duration" in result.output
        assert_report(out, "首问负责", "effectiveness 效能")

    def test_vip(self, small: Path, tmp_path: Path) -> None:
        out = tmp_path / "v.html"
        result = runner.invoke(app, ["vip", str(small), "-o", str(out), "--shares", "0,0.3"])
        assert result.exit_code == 0, result.output
        assert "VIP 30%" in result.output
        assert_report(out, "VIP share")

    def test_vip_bad_shares(self, small: Path, tmp_path: Path) -> None:
        result = runner.invoke(app, ["vip", str(small), "--shares", "a,b"])
        assert result.exit_code == 2
        assert "not a list of numbers" in result.output


def test_bad_routing_section_is_reported(small: Path, tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(SMALL + "routing: {engine: quantum}\n", encoding="utf-8")
    result = runner.invoke(app, ["run", str(path), "-o", str(tmp_path / "x.html")])
    assert result.exit_code == 2
    assert "routing.engine must be 'indexed' or 'scan'" in result.output
