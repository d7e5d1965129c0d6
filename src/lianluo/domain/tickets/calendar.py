"""Business-hours calendar: weekly hours, public holidays and make-up working days (调休).

All arithmetic runs on the tenant's local wall clock and returns aware datetimes in that zone.
Durations are business seconds: only time inside an open span counts. A span is half-open at
its start and closed at its end for due times, so 8 business hours from 09:00 on a 09:00-18:00
day (lunch aside) ends at 17:00, and a full day's worth ends at 18:00, not at 09:00 next day.
Spans are wall-clock hours: on a daylight-saving change a 09:00-18:00 day still counts 9 hours
(China, the first market, has no DST).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_SEARCH_DAYS = 3 * 366  # a calendar that stays closed this long is a configuration error
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class CalendarError(ValueError):
    pass


Span = tuple[int, int]  # minutes since local midnight, start < end <= 1440


def parse_hhmm(text: str) -> int:
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise CalendarError(f"{text!r} is not HH:MM")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or not 0 <= value <= 24 * 60:
        raise CalendarError(f"{text!r} is not a time of day between 00:00 and 24:00")
    return value


def _normalise(spans: Iterable[Span], where: str) -> tuple[Span, ...]:
    ordered = sorted(spans)
    for start, end in ordered:
        if not 0 <= start < end <= 24 * 60:
            raise CalendarError(f"{where}: span {start}-{end} must lie in 0 <= start < end <= 1440")
    for (_, end), (start, _) in zip(ordered, ordered[1:], strict=False):
        if start < end:
            raise CalendarError(f"{where}: spans overlap")
    return tuple(ordered)


@dataclass(frozen=True)
class BusinessCalendar:
    """weekly[i] are the open spans of weekday i (0 = Monday). A holiday is closed whatever its
    weekday; a make-up working day (调休, e.g. a Sunday worked to bridge a holiday) opens with
    `makeup_spans`, the hours of a normal Monday unless given."""

    weekly: tuple[tuple[Span, ...], ...]
    timezone: str = "Asia/Shanghai"
    holidays: frozenset[date] = frozenset()
    makeup_days: frozenset[date] = frozenset()
    makeup_spans: tuple[Span, ...] | None = None
    _tz: ZoneInfo = field(init=False, repr=False, compare=False)
    _makeup: tuple[Span, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise CalendarError("weekly needs the spans of 7 days, Monday first")
        weekly = tuple(_normalise(day, WEEKDAYS[i]) for i, day in enumerate(self.weekly))
        object.__setattr__(self, "weekly", weekly)
        if self.makeup_spans is not None:
            object.__setattr__(self, "makeup_spans", _normalise(self.makeup_spans, "make-up"))
        if self.holidays & self.makeup_days:
            clash = min(self.holidays & self.makeup_days)
            raise CalendarError(f"{clash} is both a holiday and a make-up working day")
        try:
            object.__setattr__(self, "_tz", ZoneInfo(self.timezone))
        except Exception as exc:  # ZoneInfoNotFoundError, ValueError for odd keys
            raise CalendarError(f"unknown time zone {self.timezone!r}") from exc
        if not any(weekly):
            raise CalendarError("the calendar is never open; give some weekly business hours")
        # a make-up day works the hours of the first working weekday unless told otherwise
        object.__setattr__(
            self, "_makeup", self.makeup_spans or next(spans for spans in weekly if spans)
        )

    @classmethod
    def from_config(
        cls,
        hours: Mapping[str, Sequence[Sequence[str]]],
        timezone: str = "Asia/Shanghai",
        holidays: Iterable[date] = (),
        makeup_days: Iterable[date] = (),
    ) -> BusinessCalendar:
        """{"mon": [["09:00", "12:00"], ["13:00", "18:00"]], ...}; a day left out is closed."""
        unknown = set(hours) - set(WEEKDAYS)
        if unknown:
            raise CalendarError(f"unknown day(s) {sorted(unknown)}; days are {', '.join(WEEKDAYS)}")
        weekly = tuple(
            tuple((parse_hhmm(a), parse_hhmm(b)) for a, b in hours.get(day, ())) for day in WEEKDAYS
        )
        return cls(weekly, timezone, frozenset(holidays), frozenset(makeup_days))

    @property
    def tz(self) -> ZoneInfo:
        return self._tz

    def spans_on(self, day: date) -> tuple[Span, ...]:
        if day in self.holidays:
            return ()
        if day in self.makeup_days:
            return self._makeup
        return self.weekly[day.weekday()]

    def _local(self, at: datetime) -> datetime:
        if at.tzinfo is None:
            raise CalendarError("naive datetime given; pass an aware datetime")
        return at.astimezone(self._tz)

    def _intervals_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals (aware, local) that end after `start`, clipped to begin at `start`."""
        local = self._local(start)
        day = local.date()
        for _ in range(MAX_SEARCH_DAYS):
            midnight = datetime.combine(day, time(0), self._tz)
            for a, b in self.spans_on(day):
                lo = midnight + timedelta(minutes=a)
                hi = midnight + timedelta(minutes=b)
                if hi <= local:
                    continue
                yield max(lo, local), hi
            day += timedelta(days=1)
        raise CalendarError(f"no business hours within {MAX_SEARCH_DAYS} days of {start}")

    def is_open(self, at: datetime) -> bool:
        local = self._local(at)
        minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
        return any(a <= minute < b for a, b in self.spans_on(local.date()))

    def add_business(self, start: datetime, seconds: float) -> datetime:
        """The moment `seconds` of business time after `start`. With 0 it is `start` itself."""
        if seconds < 0:
            raise CalendarError("business time to add must be >= 0")
        if seconds == 0:
            return self._local(start)
        left = timedelta(seconds=seconds)
        for lo, hi in self._intervals_from(start):
            if hi - lo >= left:
                return lo + left
            left -= hi - lo
        raise AssertionError("unreachable")  # pragma: no cover - the iterator raises first

    def business_seconds_between(self, start: datetime, end: datetime) -> float:
        """Business seconds in [start, end]; 0 when end is not after start."""
        if self._local(end) <= self._local(start):
            return 0.0
        end_local = self._local(end)
        total = timedelta(0)
        for lo, hi in self._intervals_from(start):
            if lo >= end_local:
                break
            total += min(hi, end_local) - lo
        return total.total_seconds()

    def next_open(self, at: datetime) -> datetime:
        """`at` if open, else the start of the next open span."""
        lo, _ = next(self._intervals_from(at))
        return lo
