"""Tour scheduling: tour geometry, covering optimality on small weeks, assignment to agents."""

import numpy as np
import pytest

from lianluo.wfm import schedule as s

HOUR = 60
EIGHT_HOURS = s.ShiftType("8h", 480)
NIGHTS = s.TourRules(days_on=5, start_step_min=60)


class TestTours:
    def test_five_on_two_consecutive_off(self) -> None:
        tours = s.build_tours(HOUR, [EIGHT_HOURS], s.TourRules(start_step_min=HOUR))
        patterns = {t.working_days for t in tours}
        assert len(patterns) == 7
        for days in patterns:
            off = sorted(set(range(7)) - set(days))
            assert len(off) == 2
            assert (off[1] - off[0]) % 7 in (1, 6)
        assert len(tours) == 7 * 24

    def test_any_two_days_off(self) -> None:
        rules = s.TourRules(consecutive_days_off=False, start_step_min=HOUR)
        assert len({t.working_days for t in s.build_tours(HOUR, [EIGHT_HOURS], rules)}) == 21

    def test_night_shift_wraps_into_next_day_and_week(self) -> None:
        tour = s.Tour((6,), 22 * HOUR, EIGHT_HOURS, (), 480)
        cells = s.tour_intervals(tour, HOUR)
        assert sorted(cells.tolist()) == [0, 1, 2, 3, 4, 5, 6 * 24 + 22, 6 * 24 + 23]

    def test_breaks_are_not_coverage_and_unpaid(self) -> None:
        shift = s.ShiftType("9h", 540, (s.BreakRule(60, 180, 300),))
        tours = s.build_tours(HOUR, [shift], s.TourRules(start_step_min=HOUR))
        placements = {t.break_starts_min for t in tours}
        assert placements == {(180,), (240,), (300,)}
        tour = next(t for t in tours if t.start_min == 8 * HOUR and t.working_days[0] == 0)
        cells = s.tour_intervals(tour, HOUR)
        assert len(cells) == 8 * len(tour.working_days)
        assert tour.paid_min_per_week == 480 * 5
        lunch_hour = 8 + tour.break_starts_min[0] // HOUR
        assert tour.working_days[0] * 24 + lunch_hour not in cells.tolist()

    def test_overlapping_breaks_are_not_placed(self) -> None:
        shift = s.ShiftType("x", 480, (s.BreakRule(60, 120, 180), s.BreakRule(60, 120, 180)))
        placements = s._break_placements(shift, HOUR)
        assert (120, 120) not in placements
        assert (120, 180) in placements

    @pytest.mark.parametrize(
        ("shift", "message"),
        [
            (s.ShiftType("odd", 90), "multiple"),
            (s.ShiftType("late break", 480, (s.BreakRule(60, 420, 460),)), "align|after"),
        ],
    )
    def test_rejects_bad_shifts(self, shift: s.ShiftType, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            s.build_tours(HOUR, [shift], s.TourRules(start_step_min=HOUR))


class TestScheduleWeek:
    def test_round_the_clock_one_agent_needs_three_tours(self) -> None:
        rules = s.TourRules(days_on=7, start_step_min=8 * HOUR, latest_start_min=16 * HOUR)
        result = s.schedule_week(np.ones(7 * 24), HOUR, [EIGHT_HOURS], rules)
        assert result.agents == 3
        assert result.paid_hours == pytest.approx(3 * 8 * 7)
        assert result.lp_bound_hours == pytest.approx(result.paid_hours)
        assert result.under.sum() == 0
        assert result.over.sum() == 0

    def test_covers_a_weekly_profile_within_gap(self) -> None:
        hours = np.arange(24)
        daily = np.where((hours >= 8) & (hours < 20), 6, 1) + np.where(hours == 12, 3, 0)
        required = np.concatenate([daily * f for f in (1, 1, 1, 1, 1, 0.5, 0.5)]).round()
        shifts = [EIGHT_HOURS, s.ShiftType("9h lunch", 540, (s.BreakRule(60, 180, 300),))]
        result = s.schedule_week(required, HOUR, shifts, NIGHTS, mip_rel_gap=0.0)
        assert (result.coverage >= required).all()
        assert result.under.sum() == 0
        np.testing.assert_array_equal(result.over, result.coverage - required)
        coverage = np.zeros(7 * 24, dtype=int)
        for tour, count in result.tours:
            np.add.at(coverage, s.tour_intervals(tour, HOUR), count)
        np.testing.assert_array_equal(coverage, result.coverage)
        assert result.paid_hours >= result.lp_bound_hours - 1e-6
        assert result.paid_hours == pytest.approx(
            sum(t.paid_min_per_week * c for t, c in result.tours) / 60
        )
        # Hours needed are a lower bound on hours paid.
        assert result.paid_hours >= required.sum()

    def test_understaffs_when_cheaper_than_a_shift(self) -> None:
        required = np.zeros(7 * 24)
        required[3] = 1  # one hour on Monday night: a whole tour costs 40 h
        result = s.schedule_week(
            required, HOUR, [EIGHT_HOURS], NIGHTS, understaffing_penalty_per_agent_hour=5.0
        )
        assert result.agents == 0
        assert result.under[3] == 1

    def test_rejects_wrong_length(self) -> None:
        with pytest.raises(ValueError, match="168"):
            s.schedule_week(np.ones(100), HOUR)


class TestAssignTours:
    def _result(self) -> s.ScheduleResult:
        rules = s.TourRules(days_on=5, start_step_min=8 * HOUR, latest_start_min=8 * HOUR)
        required = np.zeros(7 * 24)
        for day in range(5):
            required[day * 24 + 8 : day * 24 + 16] = 2
        return s.schedule_week(required, HOUR, [EIGHT_HOURS], rules)

    def test_respects_availability_skills_and_hours(self) -> None:
        result = self._result()
        assert result.agents == 2
        weekend_only = np.zeros(7 * 24, dtype=bool)
        weekend_only[5 * 24 :] = True
        agents = [
            s.Agent("li", 40, frozenset({"billing"})),
            s.Agent("wang", 40, frozenset({"billing"}), available=weekend_only),
            s.Agent("zhao", 20, frozenset({"billing"})),
            s.Agent("chen", 40, frozenset({"sales"})),
            s.Agent("liu", 38, frozenset({"billing"})),
        ]
        assignment = s.assign_tours(result, agents, skill="billing")
        assert set(assignment.by_agent) == {"li", "liu"}
        assert assignment.unassigned == []

    def test_reports_tours_nobody_can_take(self) -> None:
        assignment = s.assign_tours(self._result(), [s.Agent("li", 40)])
        assert list(assignment.by_agent) == ["li"]
        assert len(assignment.unassigned) == 1
