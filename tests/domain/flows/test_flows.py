"""The flow model and interpreter: validation with clear errors, and every step kind."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from lianluo.domain.flows import (
    Collect,
    CustomerInfo,
    Digits,
    Enqueue,
    FlowError,
    FlowRun,
    FlowStateError,
    Hangup,
    LookupCustomer,
    Play,
    PlayDone,
    Record,
    Recorded,
    RequestCallback,
    compile_flow,
)

HOTLINE = Path(__file__).parents[3] / "src/lianluo/channels/voice/flows/hotline.yaml"
MONDAY_NOON_BJ = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 12:00 in Beijing


def hotline_raw() -> dict[str, Any]:
    return yaml.safe_load(HOTLINE.read_text(encoding="utf-8"))


def to_menu(run: FlowRun, customer: dict[str, Any] | None = None) -> list[Any]:
    commands = run.start()
    assert isinstance(commands[-1], Play)
    commands = run.on(PlayDone())
    assert commands == [LookupCustomer(run.caller)]
    commands = run.on(CustomerInfo(customer is not None, customer or {}))
    while isinstance(commands[-1], Play):
        commands = run.on(PlayDone())
    return commands


class TestCompile:
    def test_the_shipped_hotline_compiles(self) -> None:
        flow = compile_flow(hotline_raw())
        assert flow.start == "hours"
        assert flow.steps["menu"].kind == "menu"

    def test_every_problem_is_listed_with_its_path(self) -> None:
        raw = hotline_raw()
        raw["steps"]["menu"]["options"]["1"] = "nowhere"
        raw["steps"]["menu"]["options"]["x"] = "tech"
        raw["steps"]["greet"]["prompt"] = "missing_prompt"
        raw["steps"]["account"]["max_digits"] = 0
        raw["steps"]["tier"]["cases"][1]["op"] = "approx"
        raw["steps"]["hours"]["schedule"] = {"mon-fri": "18:00-09:00"}
        raw["steps"]["queue"]["colour"] = "blue"
        with pytest.raises(FlowError) as caught:
            compile_flow(raw)
        problems = caught.value.problems
        assert "steps.menu.options.1: no step named 'nowhere'" in problems
        assert "steps.menu.options.x: a key is one of 0-9, * or #" in problems
        assert "steps.greet.prompt: no prompt named 'missing_prompt'" in problems
        assert "steps.account.max_digits: an integer from 1 to 32" in problems
        assert any(p.startswith("steps.tier.cases[1].op") for p in problems)
        assert any(p.startswith("steps.hours.schedule.mon-fri") for p in problems)
        assert "steps.queue.colour: not a field of a enqueue step" in problems

    @pytest.mark.parametrize(
        ("raw", "fragment"),
        [
            ([], "flow: must be a mapping"),
            ({"name": "x"}, "steps: required"),
            ({"name": "x", "steps": {"a": {"type": "dance"}}}, "unknown 'dance'"),
            ({"name": "x", "start": "b", "steps": {"a": {"type": "hangup"}}}, "start: no step"),
            ({"name": "", "steps": {"a": {"type": "hangup"}}}, "name: required"),
        ],
    )
    def test_bad_shapes(self, raw: Any, fragment: str) -> None:
        with pytest.raises(FlowError, match=fragment):
            compile_flow(raw)


class TestRun:
    def test_menu_digit_collection_and_enqueue(self) -> None:
        run = FlowRun(compile_flow(hotline_raw()), caller="13800138000", now=MONDAY_NOON_BJ)
        commands = to_menu(run)
        assert isinstance(commands[-1], Collect)
        assert commands[-1].max_digits == 1
        commands = run.on(Digits("1"))
        assert isinstance(commands[-1], Collect)
        assert commands[-1].terminator == "#"
        commands = run.on(Digits("12"))  # too short: invalid prompt, ask again
        assert [type(c) for c in commands] == [Play, Collect]
        commands = run.on(Digits("123456"))
        assert run.variables["account"] == "123456"
        assert isinstance(commands[0], Play)
        enqueue = commands[-1]
        assert isinstance(enqueue, Enqueue)
        assert enqueue.queue == "Support"
        assert enqueue.skills == {"billing": 1}
        assert enqueue.attributes["topic"] == "billing"
        assert run.finished
        assert run.outcome == "enqueued"

    def test_vip_callers_are_greeted_and_raised(self) -> None:
        run = FlowRun(compile_flow(hotline_raw()), caller="1", now=MONDAY_NOON_BJ)
        run.start()
        run.on(PlayDone())
        commands = run.on(CustomerInfo(True, {"value_tier": "gold", "churn_risk": 0.9}))
        assert isinstance(commands[-1], Play)
        assert commands[-1].prompt == "vip"
        commands = run.on(PlayDone())
        assert isinstance(commands[-1], Collect)
        assert run.priority == 10
        assert run.attributes["vip"] is True

    def test_churn_risk_branch(self) -> None:
        run = FlowRun(compile_flow(hotline_raw()), caller="1", now=MONDAY_NOON_BJ)
        run.start()
        run.on(PlayDone())
        commands = run.on(CustomerInfo(True, {"value_tier": "standard", "churn_risk": 0.8}))
        assert isinstance(commands[-1], Play)
        assert commands[-1].prompt == "stay"
        run.on(PlayDone())
        run.on(Digits("2"))
        assert run.skills == {"retention": 1, "tech": 1}

    def test_switching_to_english_changes_every_later_prompt(self) -> None:
        run = FlowRun(compile_flow(hotline_raw()), caller="1", now=MONDAY_NOON_BJ)
        first = to_menu(run)[-1]
        assert isinstance(first, Collect)
        assert first.language == "zh"
        again = run.on(Digits("3"))[-1]
        assert isinstance(again, Collect)
        assert again.language == "en"
        assert again.text.startswith("For billing")

    def test_no_input_retries_then_falls_through_to_the_queue(self) -> None:
        run = FlowRun(compile_flow(hotline_raw()), caller="1", now=MONDAY_NOON_BJ)
        to_menu(run)
        assert isinstance(run.on(Digits(""))[-1], Collect)
        assert isinstance(run.on(Digits("7"))[-1], Collect)
        commands = run.on(Digits(""))
        assert isinstance(commands[-1], Enqueue)

    def test_callback_keeps_the_callers_number(self) -> None:
        run = FlowRun(compile_flow(hotline_raw()), caller="13900001111", now=MONDAY_NOON_BJ)
        to_menu(run)
        commands = run.on(Digits("9"))
        assert isinstance(commands[-2], RequestCallback)
        assert commands[-2].number == "13900001111"
        assert commands[-1] == Hangup("callback")

    def test_voicemail_then_goodbye(self) -> None:
        run = FlowRun(compile_flow(hotline_raw()), caller="1", now=MONDAY_NOON_BJ)
        to_menu(run)
        commands = run.on(Digits("0"))
        assert isinstance(commands[-1], Record)
        commands = run.on(Recorded("/tmp/x.wav", 3.5))
        assert [type(c) for c in commands] == [Play, Hangup]
        assert run.variables["voicemail.path"] == "/tmp/x.wav"

    def test_after_hours_goes_to_voicemail(self) -> None:
        raw = hotline_raw()
        raw["steps"]["hours"]["schedule"] = {"mon-fri": "09:00-18:00"}
        flow = compile_flow(raw)
        saturday = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)
        monday_night = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # 20:00 in Beijing
        for moment in (saturday, monday_night):
            run = FlowRun(flow, caller="1", now=moment)
            assert isinstance(run.start()[-1], Record)
        assert isinstance(FlowRun(flow, now=MONDAY_NOON_BJ).start()[-1], Play)

    def test_an_unexpected_event_is_refused(self) -> None:
        run = FlowRun(compile_flow(hotline_raw()), caller="1", now=MONDAY_NOON_BJ)
        run.start()
        with pytest.raises(FlowStateError, match="waits for PlayDone"):
            run.on(Digits("1"))

    def test_a_loop_without_input_is_stopped(self) -> None:
        raw = {
            "name": "loop",
            "steps": {
                "a": {"type": "set", "next": "b"},
                "b": {"type": "set", "next": "a"},
            },
        }
        with pytest.raises(FlowStateError, match="a loop"):
            FlowRun(compile_flow(raw)).start()


EVENTS = st.one_of(
    st.builds(Digits, st.text(alphabet="0123456789*#", max_size=14)),
    st.just(PlayDone()),
    st.builds(
        CustomerInfo,
        st.booleans(),
        st.fixed_dictionaries(
            {},
            optional={
                "value_tier": st.sampled_from(["standard", "gold", "platinum"]),
                "churn_risk": st.floats(0, 1),
            },
        ),
    ),
    st.just(Recorded("/tmp/v.wav", 1.0)),
)


@settings(max_examples=200, deadline=None)
@given(events=st.lists(EVENTS, max_size=40), hour=st.integers(0, 23))
def test_any_event_sequence_ends_in_a_terminal_command_or_a_clear_refusal(
    events: list[Any], hour: int
) -> None:
    raw = copy.deepcopy(_RAW)
    raw["steps"]["hours"]["schedule"] = {"mon-fri": "09:00-18:00"}
    run = FlowRun(compile_flow(raw), caller="1", now=datetime(2026, 11, 23, hour, tzinfo=UTC))
    commands = run.start()
    waited = 0
    for event in events:
        if run.finished:
            break
        try:
            commands = run.on(event)
        except FlowStateError:
            continue
        waited += 1
    if run.finished:
        assert isinstance(commands[-1], Enqueue | Hangup)
    # bounded retries: a caller cannot be held in the menu forever
    assert waited <= 12 or run.finished


_RAW = hotline_raw()
