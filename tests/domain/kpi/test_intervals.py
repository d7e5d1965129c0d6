from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lianluo.domain.kpi import (
    ContactOutcome,
    KpiError,
    KpiParams,
    OutcomeColumns,
    interval_starts,
    summarize_by,
    summarize_by_interval,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(y: int, mo: int, d: int, h: int, mi: int, s: int = 0, tz: ZoneInfo = SHANGHAI) -> float:
    return datetime(y, mo, d, h, mi, s, tzinfo=tz).timestamp()


class TestIntervalStarts:
    def test_local_half_hours(self) -> None:
        t = np.array([at(2026, 3, 1, 8, 0), at(2026, 3, 1, 8, 29, 59), at(2026, 3, 1, 8, 30)])
        starts = interval_starts(t, 1800, "Asia/Shanghai")
        assert list(starts) == [at(2026, 3, 1, 8, 0), at(2026, 3, 1, 8, 0), at(2026, 3, 1, 8, 30)]

    def test_contact_spanning_midnight_counts_on_offered_day(self) -> None:
        offered = at(2026, 3, 1, 23, 59)
        outcomes = [
            ContactOutcome("late", "q", offered, answered_at=offered + 120, ended_at=offered + 900),
            ContactOutcome("next", "q", at(2026, 3, 2, 0, 1), answered_at=at(2026, 3, 2, 0, 2)),
        ]
        cols = OutcomeColumns.from_outcomes(outcomes)
        per_day = summarize_by_interval(cols, 86_400, "Asia/Shanghai")
        assert [r.interval_start for r in per_day] == [at(2026, 3, 1, 0, 0), at(2026, 3, 2, 0, 0)]
        assert [r.kpis.offered for r in per_day] == [1, 1]
        assert per_day[0].kpis.asa_s == 120.0

    def test_daylight_saving_zone(self) -> None:
        ny = ZoneInfo("America/New_York")
        # 2026-03-08: clocks jump from 02:00 to 03:00 local.
        before = at(2026, 3, 8, 1, 45, tz=ny)
        after = at(2026, 3, 8, 3, 15, tz=ny)
        starts = interval_starts(np.array([before, after]), 3600, ny)
        assert list(starts) == [at(2026, 3, 8, 1, 0, tz=ny), at(2026, 3, 8, 3, 0, tz=ny)]

    def test_rejects_interval_not_dividing_a_day(self) -> None:
        with pytest.raises(KpiError, match="divide a day"):
            interval_starts(np.array([0.0]), 7 * 60, "UTC")

    @settings(max_examples=50, deadline=None)
    @given(
        st.lists(st.floats(1.6e9, 1.9e9), min_size=1, max_size=30),
        st.sampled_from([900.0, 1800.0, 3600.0]),
    )
    def test_each_time_falls_in_its_interval(self, times, interval) -> None:  # type: ignore[no-untyped-def]
        t = np.array(times)
        starts = interval_starts(t, interval, "Asia/Shanghai")
        assert np.all(starts <= t)
        assert np.all(t < starts + interval)
        local = [datetime.fromtimestamp(s, SHANGHAI) for s in starts]
        assert all((x.hour * 3600 + x.minute * 60 + x.second) % interval == 0 for x in local)


class TestGrouping:
    def test_fcr_repeat_counts_across_intervals(self) -> None:
        t0 = at(2026, 3, 1, 9, 0)
        cols = OutcomeColumns.from_outcomes(
            [
                ContactOutcome("a", "q", t0, answered_at=t0 + 5, need_id="n"),
                ContactOutcome("b", "q", t0 + 3600, answered_at=t0 + 3605, need_id="n"),
            ]
        )
        rows = summarize_by_interval(cols, 1800, "Asia/Shanghai", KpiParams())
        assert [r.kpis.fcr for r in rows] == [0.0, 1.0]

    def test_by_queue_and_tier(self) -> None:
        cols = OutcomeColumns.from_outcomes(
            [
                ContactOutcome("a", "billing", 0.0, answered_at=5.0, tier="vip"),
                ContactOutcome("b", "billing", 0.0, abandoned_at=50.0),
                ContactOutcome("c", "tech", 0.0, answered_at=40.0),
            ]
        )
        by_queue = summarize_by(cols, "queue")
        assert list(by_queue) == ["billing", "tech"]
        assert by_queue["billing"].abandonment_rate == pytest.approx(0.5)
        assert by_queue["tech"].asa_s == 40.0
        by_tier = summarize_by(cols, "tier")
        assert by_tier["vip"].offered == 1
        with pytest.raises(KpiError):
            summarize_by(cols, "agent_id")

    def test_empty_gives_no_intervals(self) -> None:
        assert summarize_by_interval(OutcomeColumns.from_outcomes([])) == []
