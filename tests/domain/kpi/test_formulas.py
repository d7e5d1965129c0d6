import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lianluo.domain.kpi import (
    ContactOutcome,
    KpiError,
    KpiParams,
    OutcomeColumns,
    abandonment_rate,
    average_handle_time_s,
    average_speed_of_answer_s,
    connect_rate,
    effectiveness,
    first_contact_resolution,
    occupancy,
    repeat_complaint_rate,
    repeat_contact_flags,
    service_level,
    summarize,
)

DAY = 86_400.0


def cols_of(*outcomes: ContactOutcome) -> OutcomeColumns:
    return OutcomeColumns.from_outcomes(list(outcomes))


def answered(cid: str, offered: float, wait: float, **kw: object) -> ContactOutcome:
    return ContactOutcome(cid, "q", offered, answered_at=offered + wait, **kw)  # type: ignore[arg-type]


def abandoned(cid: str, offered: float, wait: float, **kw: object) -> ContactOutcome:
    return ContactOutcome(cid, "q", offered, abandoned_at=offered + wait, **kw)  # type: ignore[arg-type]


EMPTY = cols_of()


class TestEmptyDenominators:
    @pytest.mark.parametrize(
        "kpi",
        [
            connect_rate,
            abandonment_rate,
            service_level,
            average_speed_of_answer_s,
            average_handle_time_s,
            effectiveness,
            first_contact_resolution,
            repeat_complaint_rate,
        ],
    )
    def test_no_contacts_gives_none(self, kpi) -> None:  # type: ignore[no-untyped-def]
        assert kpi(EMPTY) is None

    def test_only_abandoned_gives_none_for_handled_kpis(self) -> None:
        cols = cols_of(abandoned("a", 0, 30), abandoned("b", 0, 40))
        assert average_speed_of_answer_s(cols) is None
        assert average_handle_time_s(cols) is None
        assert effectiveness(cols) is None
        assert first_contact_resolution(cols) is None
        assert connect_rate(cols) == 0.0
        assert abandonment_rate(cols) == 1.0

    def test_all_short_abandons_gives_none_service_level(self) -> None:
        cols = cols_of(abandoned("a", 0, 1), abandoned("b", 0, 2))
        assert service_level(cols, 20, short_abandon_s=5) is None

    def test_occupancy_without_time_is_none(self) -> None:
        assert occupancy(0.0, 0.0) is None


class TestServiceLevel:
    def test_short_abandon_leaves_denominator(self) -> None:
        # 2 answered in time, 1 answered late, 1 short abandon (3 s), 1 long abandon (40 s).
        cols = cols_of(
            answered("a", 0, 5),
            answered("b", 0, 20),
            answered("c", 0, 21),
            abandoned("d", 0, 3),
            abandoned("e", 0, 40),
        )
        assert service_level(cols, 20, short_abandon_s=5) == pytest.approx(2 / 4)
        assert service_level(cols, 20, short_abandon_s=0) == pytest.approx(2 / 5)

    def test_abandon_exactly_at_short_threshold_counts(self) -> None:
        cols = cols_of(answered("a", 0, 1), abandoned("b", 0, 5))
        assert service_level(cols, 20, short_abandon_s=5) == pytest.approx(1 / 2)

    def test_still_waiting_stays_in_denominator(self) -> None:
        cols = cols_of(answered("a", 0, 1), ContactOutcome("b", "q", 0.0))
        assert service_level(cols, 20) == pytest.approx(1 / 2)

    def test_rejects_negative_threshold(self) -> None:
        with pytest.raises(KpiError, match="threshold_s must be >= 0"):
            service_level(EMPTY, -1)


class TestAverages:
    def test_asa_over_answered_only(self) -> None:
        cols = cols_of(answered("a", 0, 10), answered("b", 100, 30), abandoned("c", 0, 500))
        assert average_speed_of_answer_s(cols) == pytest.approx(20.0)

    def test_aht_sums_talk_hold_acw(self) -> None:
        cols = cols_of(
            answered("a", 0, 1, talk_s=100, hold_s=20, acw_s=30),
            answered("b", 0, 1, talk_s=200, hold_s=0, acw_s=10),
            abandoned("c", 0, 50),
        )
        assert average_handle_time_s(cols) == pytest.approx((150 + 210) / 2)

    def test_rates(self) -> None:
        cols = cols_of(answered("a", 0, 1), answered("b", 0, 1), abandoned("c", 0, 9))
        assert connect_rate(cols) == pytest.approx(2 / 3)
        assert abandonment_rate(cols) == pytest.approx(1 / 3)


class TestEffectiveness:
    def test_transferred_contacts_are_not_end_to_end(self) -> None:
        cols = cols_of(
            answered("a", 0, 1, handled_end_to_end_by_first_agent=True),
            answered("b", 0, 1, transferred=True),
            answered("c", 0, 1, transferred=True),
            answered("d", 0, 1, handled_end_to_end_by_first_agent=True),
            abandoned("e", 0, 10),
        )
        assert effectiveness(cols) == pytest.approx(2 / 4)


class TestFirstContactResolution:
    def test_repeat_within_window(self) -> None:
        cols = cols_of(
            answered("a1", 0, 1, need_id="n1"),
            answered("a2", 2 * DAY, 1, need_id="n1"),  # repeat of a1 within 7 days
            answered("b1", 0, 1, need_id="n2"),
            answered("b2", 9 * DAY, 1, need_id="n2"),  # 9 days later: outside the window
            answered("c", 0, 1),  # no need id: no repeat possible
        )
        flags = repeat_contact_flags(cols, 7 * DAY)
        assert list(flags) == [True, False, False, False, False]
        assert first_contact_resolution(cols, 7 * DAY) == pytest.approx(4 / 5)

    def test_abandoned_first_try_is_not_in_denominator(self) -> None:
        cols = cols_of(abandoned("a1", 0, 30, need_id="n"), answered("a2", 60, 1, need_id="n"))
        assert first_contact_resolution(cols) == pytest.approx(1.0)

    def test_precomputed_flags_see_repeats_outside_the_slice(self) -> None:
        cols = cols_of(answered("a1", 0, 1, need_id="n"), answered("a2", DAY, 1, need_id="n"))
        flags = repeat_contact_flags(cols)
        first_day = cols.select(cols.offered_at < DAY)
        assert first_contact_resolution(first_day) == 1.0
        assert first_contact_resolution(first_day, repeat_flags=flags[:1]) == 0.0


class TestRepeatComplaints:
    def test_open_and_recent_complaints(self) -> None:
        def complaint(cid: str, t: float, cust: str, cat: str, resolved: float | None):
            return answered(
                cid, t, 1, customer_id=cust, complaint_category=cat, need_resolved_at=resolved
            )

        cols = cols_of(
            complaint("x1", 0, "u1", "billing", None),  # stays open
            complaint("x2", DAY, "u1", "billing", 2 * DAY),  # repeat: x1 open
            complaint("y1", 0, "u2", "billing", DAY),
            complaint("y2", 40 * DAY, "u2", "billing", None),  # closed 39 days ago: new
            complaint("z1", 0, "u3", "network", DAY),
            complaint("z2", 5 * DAY, "u3", "billing", None),  # other category: new
            answered("n", 0, 1, customer_id="u1"),  # not a complaint
        )
        assert repeat_complaint_rate(cols, 30 * DAY) == pytest.approx(1 / 6)
        assert repeat_complaint_rate(cols, 40 * DAY) == pytest.approx(2 / 6)


class TestOccupancy:
    def test_formula(self) -> None:
        assert occupancy(30.0, 10.0) == pytest.approx(0.75)
        assert occupancy(np.array([10.0, 20.0]), np.array([5.0, 5.0])) == pytest.approx(0.75)

    def test_rejects_negative(self) -> None:
        with pytest.raises(KpiError):
            occupancy(-1.0, 1.0)


class TestSummarize:
    def test_agrees_with_single_formulas(self) -> None:
        cols = cols_of(answered("a", 0, 10, talk_s=100), abandoned("b", 0, 2), answered("c", 0, 30))
        s = summarize(cols, KpiParams(service_level_threshold_s=20, short_abandon_s=5))
        assert (s.offered, s.answered, s.abandoned) == (3, 2, 1)
        assert s.service_level == service_level(cols, 20, 5)
        assert s.asa_s == average_speed_of_answer_s(cols)
        assert s.repeat_complaint_rate is None

    def test_params_reject_negative(self) -> None:
        with pytest.raises(KpiError, match="fcr_window_s"):
            KpiParams(fcr_window_s=-1)


outcome_st = st.builds(
    lambda i, t, w, kind, talk: (
        ContactOutcome(str(i), "q", t, answered_at=t + w, talk_s=talk)
        if kind == 0
        else ContactOutcome(str(i), "q", t, abandoned_at=t + w)
        if kind == 1
        else ContactOutcome(str(i), "q", t)
    ),
    st.integers(0, 10**6),
    st.floats(0, 1e6),
    st.floats(0, 1e3),
    st.integers(0, 2),
    st.floats(0, 1e4),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(outcome_st, max_size=40), st.floats(0, 100), st.floats(0, 30))
def test_ratios_stay_in_unit_interval(outcomes, threshold, short) -> None:  # type: ignore[no-untyped-def]
    cols = OutcomeColumns.from_outcomes(outcomes)
    for value in (
        connect_rate(cols),
        abandonment_rate(cols),
        service_level(cols, threshold, short),
        effectiveness(cols),
        first_contact_resolution(cols),
    ):
        assert value is None or 0.0 <= value <= 1.0
    cr, ar = connect_rate(cols), abandonment_rate(cols)
    if cr is not None and ar is not None:
        assert cr + ar <= 1.0 + 1e-12
    sl = service_level(cols, threshold, 0.0)
    if sl is not None and cr is not None:
        assert sl <= cr + 1e-12  # answered in time is a subset of answered


@settings(max_examples=60, deadline=None)
@given(st.lists(outcome_st, max_size=40), st.floats(0, 100), st.floats(0, 100))
def test_service_level_grows_with_threshold(outcomes, t1, t2) -> None:  # type: ignore[no-untyped-def]
    cols = OutcomeColumns.from_outcomes(outcomes)
    lo, hi = sorted((t1, t2))
    a, b = service_level(cols, lo, 0.0), service_level(cols, hi, 0.0)
    assert (a is None) == (b is None)
    if a is not None and b is not None:
        assert a <= b
        assert not math.isnan(a)
