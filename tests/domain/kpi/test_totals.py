"""KPIs from totals (what reports sum per cell) agree with the column formulas; CSAT,
over-the-head complaints, local buckets across DST, staffed time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lianluo.domain.kpi import (
    ContactOutcome,
    KpiError,
    KpiParams,
    KpiTotals,
    OutcomeColumns,
    OutcomeError,
    csat,
    local_bucket_starts,
    local_start_datetime,
    over_the_head_complaint_rate,
    report_kpis,
    staffed_time_s,
    summarize,
    totals_by_group,
    totals_of,
)

DAY = 86_400.0


def contact(i: int, **kw: object) -> ContactOutcome:
    return ContactOutcome(str(i), "q", kw.pop("offered_at", 1000.0 * i), **kw)  # type: ignore[arg-type]


class TestCsatAndComplaints:
    def test_csat_is_the_share_of_4_and_5(self) -> None:
        cols = OutcomeColumns.from_outcomes(
            [
                contact(1, csat_score=5),
                contact(2, csat_score=4),
                contact(3, csat_score=3),
                contact(4),
            ]  # fmt: skip
        )
        assert csat(cols) == pytest.approx(2 / 3)

    def test_no_survey_no_csat(self) -> None:
        assert csat(OutcomeColumns.from_outcomes([contact(1)])) is None

    def test_score_outside_1_to_5_is_refused(self) -> None:
        with pytest.raises(OutcomeError, match="csat_score"):
            contact(1, csat_score=6)

    def test_over_the_head_among_complaints_only(self) -> None:
        cols = OutcomeColumns.from_outcomes(
            [
                contact(1, complaint_category="billing", over_the_head=True),
                contact(2, complaint_category="billing"),
                contact(3, over_the_head=True),  # not a complaint: not counted
            ]
        )
        assert over_the_head_complaint_rate(cols) == pytest.approx(1 / 2)


class TestTotals:
    def test_totals_add_up(self) -> None:
        a = KpiTotals(offered=2, answered=1, talk_s=10.0)
        b = KpiTotals(offered=3, answered=2, talk_s=5.0)
        assert a + b == KpiTotals(offered=5, answered=3, talk_s=15.0)

    def test_transfer_counts_against_effectiveness_not_connect_rate(self) -> None:
        cols = OutcomeColumns.from_outcomes(
            [
                contact(1, answered_at=1010.0, talk_s=60, transferred=True),
                contact(2, answered_at=2005.0, talk_s=60, handled_end_to_end_by_first_agent=True),
            ]
        )
        k = report_kpis(totals_of(cols))
        assert k.connect_rate == 1.0
        assert k.effectiveness == pytest.approx(1 / 2)
        assert k.transfer_rate == pytest.approx(1 / 2)

    def test_short_abandon_threshold_is_strict(self) -> None:
        cols = OutcomeColumns.from_outcomes(
            [
                contact(1, abandoned_at=1004.999),  # inside 5 s: out of the SL denominator
                contact(2, abandoned_at=2005.0),  # exactly 5 s: counts
                contact(3, answered_at=3020.0),  # exactly 20 s: within
            ]
        )
        k = report_kpis(totals_of(cols, KpiParams(short_abandon_s=5, service_level_threshold_s=20)))
        assert k.short_abandoned == 1
        assert k.service_level == pytest.approx(1 / 2)

    def test_occupancy_needs_staffed_time(self) -> None:
        t = KpiTotals(offered=1, answered=1, talk_s=30.0)
        assert report_kpis(t).occupancy is None
        assert report_kpis(t, 30.0, 90.0).occupancy == pytest.approx(0.25)


outcome_st = st.builds(
    lambda i, t, w, kind, talk, need, score, complaint: ContactOutcome(
        str(i),
        "q",
        t,
        answered_at=t + w if kind == 0 else None,
        abandoned_at=t + w if kind == 1 else None,
        talk_s=talk if kind == 0 else 0.0,
        acw_s=talk / 10 if kind == 0 else 0.0,
        transferred=kind == 0 and i % 3 == 0,
        handled_end_to_end_by_first_agent=kind == 0 and i % 3 != 0,
        need_id=f"n{need}",
        customer_id=f"c{need % 3}",
        csat_score=score,
        complaint_category="billing" if complaint else None,
        over_the_head=complaint and i % 2 == 0,
    ),
    st.integers(0, 10**6),
    st.floats(0, 30 * DAY),
    st.floats(0, 1e3),
    st.integers(0, 2),
    st.floats(0, 1e4),
    st.integers(0, 5),
    st.one_of(st.none(), st.integers(1, 5).map(float)),
    st.booleans(),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(outcome_st, max_size=40, unique_by=lambda o: o.contact_id))
def test_totals_give_the_formulas(outcomes: list[ContactOutcome]) -> None:
    """One meaning: the KPIs from summed totals equal the KPIs of the column formulas."""
    cols = OutcomeColumns.from_outcomes(outcomes)
    s = summarize(cols)
    k = report_kpis(totals_of(cols))
    for name in (
        "offered",
        "answered",
        "abandoned",
        "connect_rate",
        "service_level",
        "asa_s",
        "aht_s",
        "abandonment_rate",
        "effectiveness",
        "fcr",
        "repeat_complaint_rate",
    ):
        expected, got = getattr(s, name), getattr(k, name)
        assert (expected is None) == (got is None), name
        if expected is not None:
            assert got == pytest.approx(expected, rel=1e-9, abs=1e-9), name
    assert k.csat == csat(cols)
    assert k.over_the_head_rate == over_the_head_complaint_rate(cols)


@settings(max_examples=40, deadline=None)
@given(st.lists(outcome_st, min_size=1, max_size=30, unique_by=lambda o: o.contact_id),
       st.integers(1, 5))  # fmt: skip
def test_totals_of_parts_add_to_the_whole(outcomes: list[ContactOutcome], parts: int) -> None:
    cols = OutcomeColumns.from_outcomes(outcomes)
    params = KpiParams()
    from lianluo.domain.kpi import repeat_complaint_flags, repeat_contact_flags

    rc = repeat_contact_flags(cols, params.fcr_window_s)
    rq = repeat_complaint_flags(cols, params.repeat_complaint_window_s)
    labels = np.arange(len(cols)) % parts
    summed = KpiTotals()
    for part in range(parts):
        mask = labels == part
        summed = summed + totals_of(cols.select(mask), params, rc[mask], rq[mask])
    whole = totals_of(cols, params)
    for name, value in whole.as_dict().items():
        assert getattr(summed, name) == pytest.approx(value), name


@settings(max_examples=40, deadline=None)
@given(st.lists(outcome_st, min_size=1, max_size=30, unique_by=lambda o: o.contact_id),
       st.integers(1, 6))  # fmt: skip
def test_totals_by_group_is_totals_of_each_group(
    outcomes: list[ContactOutcome], groups: int
) -> None:
    cols = OutcomeColumns.from_outcomes(outcomes)
    params = KpiParams()
    from lianluo.domain.kpi import repeat_complaint_flags, repeat_contact_flags

    rc = repeat_contact_flags(cols, params.fcr_window_s)
    rq = repeat_complaint_flags(cols, params.repeat_complaint_window_s)
    group = (np.arange(len(cols)) * 7919) % groups
    by_group = totals_by_group(cols, group, groups, params, rc, rq)
    assert len(by_group) == groups
    for g in range(groups):
        mask = group == g
        expected = totals_of(cols.select(mask), params, rc[mask], rq[mask])
        for name, value in expected.as_dict().items():
            assert getattr(by_group[g], name) == pytest.approx(value), name


class TestLocalBuckets:
    NY = "America/New_York"

    def epoch(self, *args: int, tz: str) -> float:
        return datetime(*args, tzinfo=ZoneInfo(tz)).timestamp()

    def test_day_of_a_dst_change_is_23_hours(self) -> None:
        # 2026-03-08: New York springs forward at 02:00
        t = self.epoch(2026, 3, 8, 12, 0, tz=self.NY)
        (start,) = local_bucket_starts(np.array([t]), "day", self.NY)
        begin = local_start_datetime(start, self.NY)
        end = local_start_datetime(start + DAY, self.NY)
        assert begin.isoformat() == "2026-03-08T00:00:00-05:00"
        assert end.timestamp() - begin.timestamp() == 23 * 3600

    def test_hour_after_the_change(self) -> None:
        t = self.epoch(2026, 3, 8, 3, 30, tz=self.NY)  # 03:30 EDT
        (start,) = local_bucket_starts(np.array([t]), "60min", self.NY)
        assert local_start_datetime(start, self.NY).isoformat() == "2026-03-08T03:00:00-04:00"

    def test_month_in_local_time(self) -> None:
        # 2026-04-01 03:00 in Shanghai is still March in UTC
        t = self.epoch(2026, 4, 1, 3, 0, tz="Asia/Shanghai")
        assert datetime.fromtimestamp(t, UTC).month == 3
        (start,) = local_bucket_starts(np.array([t]), "month", "Asia/Shanghai")
        assert local_start_datetime(start, "Asia/Shanghai").date().isoformat() == "2026-04-01"
        (utc_start,) = local_bucket_starts(np.array([t]), "month", "UTC")
        assert local_start_datetime(utc_start, "UTC").date().isoformat() == "2026-03-01"

    def test_weeks_start_on_monday(self) -> None:
        sunday = self.epoch(2026, 11, 15, 22, 0, tz="Asia/Shanghai")
        monday = self.epoch(2026, 11, 16, 0, 0, tz="Asia/Shanghai")
        a, b = local_bucket_starts(np.array([sunday, monday]), "week", "Asia/Shanghai")
        assert local_start_datetime(a, "Asia/Shanghai").date().isoformat() == "2026-11-09"
        assert local_start_datetime(b, "Asia/Shanghai").date().isoformat() == "2026-11-16"

    def test_unknown_grain(self) -> None:
        with pytest.raises(KpiError, match="grain"):
            local_bucket_starts(np.array([0.0]), "fortnight", "UTC")


class TestStaffedTime:
    def test_breaks_and_offline_do_not_count(self) -> None:
        changes = [(100.0, "available"), (200.0, "break:lunch"), (260.0, "available"),
                   (300.0, "wrap_up"), (320.0, "offline")]  # fmt: skip
        assert staffed_time_s(changes, 0.0, 1000.0) == pytest.approx(100 + 40 + 20)

    def test_window_clips_and_state_at_start(self) -> None:
        assert staffed_time_s([(500.0, "offline")], 0.0, 1000.0, "available") == 500.0
        assert staffed_time_s([(50.0, "available")], 100.0, 200.0, "offline") == 100.0
        assert staffed_time_s([(150.0, "busy")], 0.0, 100.0, "available") == 100.0
