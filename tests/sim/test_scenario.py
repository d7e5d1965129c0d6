import json
from pathlib import Path
from typing import Any

import pytest

from lianluo.sim.scenario import ScenarioError, load_scenario, scenario_from_dict

EXAMPLES = Path(__file__).parents[2] / "examples" / "scenarios"


class TestValidation:
    def test_error_names_field_path(self, make_scenario: Any) -> None:
        data = make_scenario()
        data["queues"][0]["handle_time"]["mean_s"] = -5
        with pytest.raises(ScenarioError, match=r"queues\.0\.handle_time\.exponential\.mean_s"):
            scenario_from_dict(data)

    def test_unknown_field_is_rejected(self, make_scenario: Any) -> None:
        data = make_scenario()
        data["queues"][0]["patiense"] = {"kind": "exponential", "mean_s": 60}
        with pytest.raises(ScenarioError, match=r"queues\.0\.patiense: Extra inputs"):
            scenario_from_dict(data)

    def test_unknown_skill_queue(self, make_scenario: Any) -> None:
        data = make_scenario()
        data["agents"][0]["skills"] = {"billing": 3}
        with pytest.raises(ScenarioError, match=r"agents\.0\.skills: unknown queue 'billing'"):
            scenario_from_dict(data)

    def test_schedule_needs_exactly_one_form(self, make_scenario: Any) -> None:
        data = make_scenario()
        data["agents"][0]["shifts"] = [{"start": "08:00", "end": "16:00", "count": 3}]
        with pytest.raises(ScenarioError, match="exactly one of per_interval or shifts"):
            scenario_from_dict(data)

    def test_bad_clock_and_zone(self, make_scenario: Any) -> None:
        data = make_scenario()
        data["timezone"] = "Mars/Olympus"
        del data["agents"][0]["per_interval"]
        data["agents"][0]["shifts"] = [{"start": "8h", "end": "16:00", "count": 3}]
        with pytest.raises(ScenarioError) as info:
            scenario_from_dict(data)
        message = str(info.value)
        assert "timezone: Value error, unknown time zone 'Mars/Olympus'" in message
        assert "agents.0.shifts.0.start" in message

    def test_tiered_tickets_need_back_office(self, make_scenario: Any) -> None:
        data = make_scenario(tickets={"model": "tiered"})
        with pytest.raises(ScenarioError, match="tiered tickets need back_office_queue"):
            scenario_from_dict(data)

    def test_top_level_must_be_mapping(self) -> None:
        with pytest.raises(ScenarioError, match="must be a mapping"):
            scenario_from_dict([1, 2])


class TestLoading:
    def test_yaml_syntax_error(self, tmp_path: Path) -> None:
        bad = tmp_path / "bad.yaml"
        bad.write_text("queues: [\n", encoding="utf-8")
        with pytest.raises(ScenarioError, match="not valid YAML"):
            load_scenario(bad)

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(ScenarioError, match="cannot read"):
            load_scenario(tmp_path / "nope.yaml")

    def test_replay_csv_resolved_next_to_file(self, tmp_path: Path) -> None:
        start = 1_767_542_400  # 2026-01-05T00:00:00+08:00
        (tmp_path / "arrivals.csv").write_text(
            f"offered_at\n{start + 30}\n{start + 10}\n{start - 5}\n", encoding="utf-8"
        )
        (tmp_path / "s.yaml").write_text(
            """
queues:
  - name: q
    arrivals: {kind: replay, csv: arrivals.csv}
    handle_time: {kind: fixed, value_s: 60}
agents:
  - {group: g, skills: {q: 1}, per_interval: [1]}
""",
            encoding="utf-8",
        )
        scenario = load_scenario(tmp_path / "s.yaml")
        arrivals = scenario.queues[0].arrivals
        assert arrivals is not None
        assert arrivals.kind == "replay"
        assert arrivals.offsets_s == [10.0, 30.0]  # sorted, before-start dropped

    @pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
    def test_examples_are_valid(self, path: Path) -> None:
        scenario = load_scenario(path)
        assert scenario.queues


def test_replay_from_event_log_export(tmp_path: Path) -> None:
    events = [
        {"type": "contact.queued", "occurred_at": "2026-01-04T16:00:30+00:00", "queue_id": "q"},
        {"type": "contact.answered", "occurred_at": "2026-01-04T16:00:40+00:00", "queue_id": "q"},
        {"type": "contact.queued", "occurred_at": "2026-01-04T16:00:10", "queue_id": "q"},
        {"type": "contact.queued", "occurred_at": "2026-01-04T16:00:20+00:00", "queue_id": "x"},
    ]
    (tmp_path / "events.jsonl").write_text(
        "\n".join(json.dumps(e) for e in events) + "\n", encoding="utf-8"
    )
    (tmp_path / "s.yaml").write_text(
        """
start: "2026-01-05T00:00:00+08:00"
queues:
  - name: q
    arrivals: {kind: replay, events_jsonl: events.jsonl}
    handle_time: {kind: fixed, value_s: 60}
agents:
  - {group: g, skills: {q: 1}, per_interval: [1]}
""",
        encoding="utf-8",
    )
    arrivals = load_scenario(tmp_path / "s.yaml").queues[0].arrivals
    assert arrivals is not None
    assert arrivals.kind == "replay"
    assert arrivals.offsets_s == [10.0, 30.0]  # naive times are UTC; other queues ignored


def test_replay_needs_one_source(make_scenario: Any) -> None:
    data = make_scenario()
    data["queues"][0]["arrivals"] = {"kind": "replay", "offsets_s": [1.0], "csv": "a.csv"}
    with pytest.raises(ScenarioError, match="exactly one of offsets_s, csv or events_jsonl"):
        scenario_from_dict(data)
