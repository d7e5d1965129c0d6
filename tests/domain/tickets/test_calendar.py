"""Business-hours calendar and SLA clock across nights, weekends, holidays and 调休 days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lianluo.domain.tickets.calendar import BusinessCalendar, CalendarError
from lianluo.domain.tickets.sla import SlaClock, SlaPolicy, SlaState, actions_due, read, warn_at

SH = ZoneInfo("Asia/Shanghai")
WEEKDAY = [["09:00", "12:00"], ["13:00", "18:00"]]  # 8 business hours
HOURS = {d: WEEKDAY for d in ("mon", "tue", "wed", "thu", "fri")}
# 2026 National Day: Oct 1-7 off; Sun Sep 27 and Sat Oct 10 worked (调休)
NATIONAL_DAY = [date(2026, 10, d) for d in range(1, 8)]
MAKEUP = [date(2026, 9, 27), date(2026, 10, 10)]
CAL = BusinessCalendar.from_config(HOURS, "Asia/Shanghai", NATIONAL_DAY, MAKEUP)
H = 3600


def at(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


class TestAddBusiness:
    def test_within_one_morning(self) -> None:
        assert CAL.add_business(at(2026, 11, 23, 9), 2 * H) == at(2026, 11, 23, 11)

    def test_skips_lunch(self) -> None:
        assert CAL.add_business(at(2026, 11, 23, 11), 2 * H) == at(2026, 11, 23, 14)

    def test_a_full_day_ends_at_closing_not_next_morning(self) -> None:
        assert CAL.add_business(at(2026, 11, 23, 9), 8 * H) == at(2026, 11, 23, 18)

    def test_across_the_night(self) -> None:
        assert CAL.add_business(at(2026, 11, 23, 17), 2 * H) == at(2026, 11, 24, 10)

    def test_filed_at_night_starts_next_morning(self) -> None:
        assert CAL.add_business(at(2026, 11, 23, 22, 30), 30 * 60) == at(2026, 11, 24, 9, 30)

    def test_across_the_weekend(self) -> None:
        # Friday 17:00 + 4 h = Monday 12:00
        assert CAL.add_business(at(2026, 11, 27, 17), 4 * H) == at(2026, 11, 30, 12)

    def test_holiday_week_and_makeup_days(self) -> None:
        # Wed Sep 30 17:00 + 2 h: Oct 1-7 closed, Thu Oct 8 opens -> Oct 8 10:00
        assert CAL.add_business(at(2026, 9, 30, 17), 2 * H) == at(2026, 10, 8, 10)
        # Saturday Oct 10 is a make-up working day: Fri Oct 9 17:00 + 2 h = Sat 10:00
        assert CAL.add_business(at(2026, 10, 9, 17), 2 * H) == at(2026, 10, 10, 10)
        # Sunday Sep 27 works too
        assert CAL.is_open(at(2026, 9, 27, 10))
        assert not CAL.is_open(at(2026, 10, 2, 10))

    def test_utc_input_is_read_in_the_tenant_zone(self) -> None:
        # 01:00 UTC is 09:00 in Shanghai
        start = datetime(2026, 11, 23, 1, tzinfo=UTC)
        assert CAL.add_business(start, H) == at(2026, 11, 23, 10)

    def test_zero_is_the_start(self) -> None:
        assert CAL.add_business(at(2026, 11, 23, 22), 0) == at(2026, 11, 23, 22)


class TestBusinessBetween:
    def test_weekend_counts_nothing(self) -> None:
        assert CAL.business_seconds_between(at(2026, 11, 28, 8), at(2026, 11, 29, 23)) == 0

    def test_week(self) -> None:
        assert CAL.business_seconds_between(at(2026, 11, 23, 0), at(2026, 11, 30, 0)) == 40 * H

    def test_reversed_is_zero(self) -> None:
        assert CAL.business_seconds_between(at(2026, 11, 24, 10), at(2026, 11, 23, 10)) == 0


class TestConfiguration:
    def test_never_open_is_refused(self) -> None:
        with pytest.raises(CalendarError, match="never open"):
            BusinessCalendar.from_config({})

    def test_bad_times_and_days(self) -> None:
        with pytest.raises(CalendarError):
            BusinessCalendar.from_config({"mon": [["18:00", "09:00"]]})
        with pytest.raises(CalendarError):
            BusinessCalendar.from_config({"mon": [["09:00", "25:00"]]})
        with pytest.raises(CalendarError, match="unknown day"):
            BusinessCalendar.from_config({"monday": [["09:00", "18:00"]]})
        with pytest.raises(CalendarError, match="overlap"):
            BusinessCalendar.from_config({"mon": [["09:00", "12:00"], ["11:00", "13:00"]]})

    def test_a_day_both_holiday_and_makeup_is_refused(self) -> None:
        with pytest.raises(CalendarError, match="both"):
            BusinessCalendar.from_config(HOURS, holidays=[MAKEUP[0]], makeup_days=[MAKEUP[0]])

    def test_naive_datetimes_are_refused(self) -> None:
        with pytest.raises(CalendarError, match="naive"):
            CAL.add_business(datetime(2026, 11, 23, 9), 60)


POLICY = SlaPolicy(target_s=8 * H, warn_before_s=2 * H)


class TestSlaClock:
    def test_ok_warning_breached_across_the_night(self) -> None:
        clock = SlaClock(at(2026, 11, 23, 14))  # due Tue 14:00
        assert read(CAL, POLICY, clock, at(2026, 11, 23, 20)).state == SlaState.ok
        warning = read(CAL, POLICY, clock, at(2026, 11, 24, 12, 30))
        assert warning.state == SlaState.warning
        assert warning.due_at == at(2026, 11, 24, 14)
        breached = read(CAL, POLICY, clock, at(2026, 11, 24, 15))
        assert breached.state == SlaState.breached
        assert breached.remaining_s == -H

    def test_waiting_on_the_customer_stops_the_clock(self) -> None:
        clock = SlaClock(at(2026, 11, 23, 9)).pause(at(2026, 11, 23, 10))
        paused = read(CAL, POLICY, clock, at(2026, 11, 25, 10))
        assert paused.state == SlaState.paused
        assert paused.remaining_s == 7 * H
        resumed = clock.resume(CAL, at(2026, 11, 25, 10))  # two business days waited
        assert resumed.paused_business_s == 16 * H
        reading = read(CAL, POLICY, resumed, at(2026, 11, 25, 10))
        assert reading.state == SlaState.ok
        assert reading.due_at == at(2026, 11, 25, 18)

    def test_holiday_gives_no_breach(self) -> None:
        clock = SlaClock(at(2026, 9, 30, 11))  # 6 h used on Sep 30, then a week off
        assert read(CAL, POLICY, clock, at(2026, 10, 7, 23)).state == SlaState.warning
        breached = read(CAL, POLICY, clock, at(2026, 10, 8, 11, 30))
        assert breached.state == SlaState.breached
        assert breached.due_at == at(2026, 10, 8, 11)

    def test_sweep_actions_happen_once(self) -> None:
        clock = SlaClock(at(2026, 11, 23, 9))
        late = read(CAL, POLICY, clock, at(2026, 11, 24, 9, 30))
        assert actions_due(late, warned=False, breached=False) == ["warn", "breach"]
        assert actions_due(late, warned=True, breached=False) == ["breach"]
        assert actions_due(late, warned=True, breached=True) == []

    def test_policy_is_checked(self) -> None:
        with pytest.raises(ValueError, match="warn_before_s"):
            SlaPolicy(target_s=H, warn_before_s=H)


# ---- properties --------------------------------------------------------------------------

starts = st.datetimes(
    min_value=datetime(2026, 9, 1), max_value=datetime(2027, 3, 1), timezones=st.just(SH)
)
amounts = st.integers(min_value=0, max_value=30 * 8 * H)


@settings(max_examples=300, deadline=None)
@given(start=starts, seconds=st.integers(min_value=1, max_value=30 * 8 * H))
def test_due_time_lies_inside_business_hours(start: datetime, seconds: int) -> None:
    due = CAL.add_business(start, seconds)
    just_before = due - timedelta(microseconds=1)
    assert CAL.is_open(just_before), f"{due} is not inside an open span"
    assert due > start


@settings(max_examples=300, deadline=None)
@given(start=starts, a=amounts, b=amounts)
def test_adding_business_time_is_additive_and_monotone(start: datetime, a: int, b: int) -> None:
    assert CAL.add_business(CAL.add_business(start, a), b) == CAL.add_business(start, a + b)
    if a <= b:
        assert CAL.add_business(start, a) <= CAL.add_business(start, b)


@settings(max_examples=300, deadline=None)
@given(start=starts, seconds=amounts)
def test_business_time_between_start_and_due_is_what_was_added(
    start: datetime, seconds: int
) -> None:
    due = CAL.add_business(start, seconds)
    assert CAL.business_seconds_between(start, due) == pytest.approx(seconds, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(start=starts, pause_after=amounts, waited_s=st.integers(0, 20 * 24 * H))
def test_a_pause_never_brings_the_due_time_forward(
    start: datetime, pause_after: int, waited_s: int
) -> None:
    clock = SlaClock(start)
    due_before = read(CAL, POLICY, clock, start).due_at
    paused_at = CAL.add_business(start, pause_after)
    resumed = clock.pause(paused_at).resume(CAL, paused_at + timedelta(seconds=waited_s))
    assert read(CAL, POLICY, resumed, paused_at).due_at >= due_before


@settings(max_examples=200, deadline=None)
@given(start=starts, offset_s=st.integers(0, 20 * 24 * H))
def test_stored_warning_and_due_times_agree_with_the_reading(
    start: datetime, offset_s: int
) -> None:
    """The sweep selects on warn_at and due_at; the reading must agree with them."""
    clock = SlaClock(start)
    warn, due = warn_at(CAL, POLICY, clock), read(CAL, POLICY, clock, start).due_at
    assert warn <= due
    now = start + timedelta(seconds=offset_s)
    state = read(CAL, POLICY, clock, now).state
    if now >= due:
        assert state == SlaState.breached
    elif now >= warn:
        assert state == SlaState.warning
    else:
        assert state == SlaState.ok
