"""Schedule adherence over scheduled activities and logged agent states."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lianluo.domain.wfm.adherence import (
    ScheduledActivity,
    StateInterval,
    compute_adherence,
    team_adherence,
)

H = 3600.0
PLAN = [
    ScheduledActivity("li", 9 * H, 12 * H, "work"),
    ScheduledActivity("li", 12 * H, 13 * H, "lunch"),
    ScheduledActivity("li", 13 * H, 17 * H, "work"),
]


def report(states, plan=PLAN, grace_s=0.0):
    return compute_adherence(plan, states, window_start_s=0.0, window_end_s=24 * H, grace_s=grace_s)


class TestAgentAdherence:
    def test_perfect_day(self) -> None:
        states = [
            StateInterval("li", 9 * H, 10 * H, "available"),
            StateInterval("li", 10 * H, 12 * H, "busy"),
            StateInterval("li", 12 * H, 13 * H, "break:lunch"),
            StateInterval("li", 13 * H, 17 * H, "wrap_up"),
        ]
        r = report(states)["li"]
        assert r.scheduled_s == 8 * H
        assert r.adherence == 1.0
        assert r.conformance == 1.0
        assert r.deviations == ()

    def test_late_start_and_long_lunch(self) -> None:
        states = [
            StateInterval("li", 9.25 * H, 12 * H, "available"),
            StateInterval("li", 12 * H, 13.5 * H, "break:lunch"),
            StateInterval("li", 13.5 * H, 17.5 * H, "busy"),
        ]
        r = report(states)["li"]
        assert r.in_adherence_s == pytest.approx(8 * H - 0.25 * H - 0.5 * H)
        assert r.adherence == pytest.approx(7.25 / 8)
        # Worked 2.75 h + 3.5 h of the 7 h scheduled to work (the extra half hour is off-plan).
        assert r.worked_s == pytest.approx(6.25 * H)
        assert r.conformance == pytest.approx(6.25 / 7)
        assert [(d.scheduled, d.actual) for d in r.deviations] == [
            ("work", "offline"),
            ("work", "break:lunch"),
        ]
        assert r.deviations[1].end_s - r.deviations[1].start_s == pytest.approx(0.5 * H)

    def test_grace_forgives_short_episodes(self) -> None:
        states = [
            StateInterval("li", 9 * H + 120, 12 * H, "available"),
            StateInterval("li", 12 * H, 13 * H, "break"),
            StateInterval("li", 13 * H, 17 * H, "available"),
        ]
        assert report(states)["li"].adherence < 1.0
        graced = report(states, grace_s=300.0)["li"]
        assert graced.adherence == 1.0
        assert graced.deviations == ()

    def test_unscheduled_agent_and_window_clip(self) -> None:
        states = [StateInterval("wang", -H, 2 * H, "available")]
        r = report(states)["wang"]
        assert r.scheduled_s == 0
        assert r.adherence == 1.0
        assert r.worked_s == 0

    @pytest.mark.parametrize(
        ("plan", "states", "message"),
        [
            ([ScheduledActivity("li", 5.0, 5.0, "work")], [], "end after"),
            ([ScheduledActivity("li", 0.0, 5.0, "nap")], [], "unknown"),
            (
                [],
                [StateInterval("li", 0.0, 5.0, "busy"), StateInterval("li", 4.0, 6.0, "busy")],
                "overlap",
            ),
        ],
    )
    def test_rejects_bad_input(self, plan, states, message) -> None:
        with pytest.raises(ValueError, match=message):
            report(states, plan=plan)

    @settings(max_examples=50, deadline=None)
    @given(
        cuts=st.lists(st.floats(0, 24 * H), min_size=2, max_size=12, unique=True),
        labels=st.lists(st.sampled_from(["available", "busy", "break", "offline"]), min_size=11),
    )
    def test_bounded_and_consistent(self, cuts, labels) -> None:
        points = sorted(cuts)
        states = [
            StateInterval("li", a, b, s)
            for (a, b), s in zip(zip(points, points[1:], strict=False), labels, strict=False)
            if b > a
        ]
        r = report(states)["li"]
        assert 0.0 <= r.adherence <= 1.0
        assert 0.0 <= r.conformance <= 1.0
        lost = sum(d.end_s - d.start_s for d in r.deviations)
        assert r.in_adherence_s + lost == pytest.approx(r.scheduled_s)


def test_team_is_time_weighted() -> None:
    plan = PLAN + [ScheduledActivity("zhao", 9 * H, 11 * H, "work")]
    states = [StateInterval("li", 9 * H, 17 * H, "available")]
    per_agent = report(states, plan=plan)
    teams = team_adherence(per_agent, {"li": "A", "zhao": "A"})
    # li: 7 of 8 h (worked through lunch); zhao: 0 of 2 h -> team 7 of 10 h.
    assert teams["A"].adherence == pytest.approx(0.7)
    with pytest.raises(ValueError, match="no team"):
        team_adherence(per_agent, {"li": "A"})
