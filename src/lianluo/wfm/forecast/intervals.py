"""Contacts and handle time per interval, on a local-time grid of open intervals.

Conventions shared by the whole forecast package:

- An *interval series* is a pandas DataFrame indexed by the interval start (tz-aware, in the
  operator's time zone, strictly increasing) with a column ``contacts`` (count) and a column
  ``aht_s`` (mean handle time of the contacts of that interval; NaN where unknown or where there
  were no contacts).
- Forecasting works on the regular grid of *open* intervals: closed hours and closed days are
  absent from the index, not zero-filled (see :func:`open_intervals`). A model that needs a
  periodic grid (seasonal naive, MSTL) takes the open grid as it is; the calendar-aware models
  read the weekday and the local time of day from the index.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta

import numpy as np
import pandas as pd

from lianluo.wfm.forecast.special_days import SpecialDays

CONTACTS = "contacts"
AHT_S = "aht_s"
MINUTES_PER_DAY = 24 * 60


class IntervalError(ValueError):
    """The input cannot be turned into an interval series."""


def check_interval_min(interval_min: int) -> None:
    if interval_min < 1 or MINUTES_PER_DAY % interval_min != 0:
        raise IntervalError(
            f"interval_min must be a positive divisor of 1440 (15, 30, 60 …), got {interval_min}"
        )


def _to_utc(timestamps: pd.Series | pd.DatetimeIndex | Sequence[object]) -> pd.DatetimeIndex:
    """Parse timestamps; naive ones are taken as UTC (the event log stores UTC)."""
    try:
        index = pd.DatetimeIndex(pd.to_datetime(pd.Series(timestamps), format="mixed"))
    except (ValueError, TypeError) as exc:  # pandas raises both for unparseable input
        raise IntervalError(f"cannot parse timestamps: {exc}") from exc
    if index.hasnans:
        raise IntervalError("timestamps contain missing values")
    if index.tz is None:
        return index.tz_localize("UTC")
    return index.tz_convert("UTC")


def _bucket_start_utc(utc: pd.DatetimeIndex, interval_min: int, tz: str) -> pd.DatetimeIndex:
    """Start of the local-time interval holding each instant, as a UTC instant.

    Flooring the local wall-clock time and subtracting that instant's own UTC offset keeps the
    two 01:30 intervals of a fall-back night apart (they differ in offset) and never produces
    the wall-clock times skipped by a spring-forward night.
    """
    local = utc.tz_convert(tz)
    wall = local.tz_localize(None)
    offset = wall - utc.tz_localize(None)
    floored = wall.floor(f"{interval_min}min")
    return (floored - offset).tz_localize("UTC")


def day_grid(first_day: date, last_day: date, interval_min: int, tz: str) -> pd.DatetimeIndex:
    """Every interval start of the local days ``first_day`` … ``last_day`` (23 or 25 hours on
    daylight-saving change days)."""
    start = pd.Timestamp(first_day).tz_localize(tz)
    end = pd.Timestamp(last_day + timedelta(days=1)).tz_localize(tz)
    return pd.date_range(start, end, freq=f"{interval_min}min", inclusive="left")


def intervals_from_timestamps(
    arrivals: pd.Series | pd.DatetimeIndex | Sequence[object],
    *,
    interval_min: int = 30,
    tz: str = "UTC",
    handle_time_s: Sequence[float] | np.ndarray | pd.Series | None = None,
) -> pd.DataFrame:
    """Bucket contact arrival times into local-time intervals of ``interval_min`` minutes.

    ``arrivals`` are instants: tz-aware timestamps are converted to ``tz``, naive ones are read as
    UTC. ``handle_time_s`` (one value per arrival, NaN allowed) gives the mean handle time per
    interval. The result is zero-filled: every interval of every local day from the first to the
    last arrival is present (pass it through :func:`open_intervals` before forecasting).
    """
    check_interval_min(interval_min)
    utc = _to_utc(arrivals)
    if len(utc) == 0:
        raise IntervalError("no arrivals to bucket")
    buckets = _bucket_start_utc(utc, interval_min, tz).tz_convert(tz)
    frame = pd.DataFrame({"start": buckets, CONTACTS: 1})
    if handle_time_s is not None:
        handle = np.asarray(handle_time_s, dtype=float)
        if handle.shape != (len(utc),):
            raise IntervalError(f"handle_time_s has {handle.size} values for {len(utc)} arrivals")
        if np.any(handle[~np.isnan(handle)] < 0):
            raise IntervalError("handle_time_s must not be negative")
        frame["handle_sum"] = np.nan_to_num(handle)
        frame["handled"] = ~np.isnan(handle)
    else:
        frame["handle_sum"] = 0.0
        frame["handled"] = False
    grouped = frame.groupby("start").agg(
        contacts=(CONTACTS, "sum"), handle_sum=("handle_sum", "sum"), handled=("handled", "sum")
    )
    local_days = buckets.tz_localize(None).normalize()
    grid = day_grid(local_days.min().date(), local_days.max().date(), interval_min, tz)
    grouped = grouped.reindex(grid, fill_value=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        aht = np.where(
            grouped["handled"] > 0, grouped["handle_sum"] / grouped["handled"].clip(lower=1), np.nan
        )
    result = pd.DataFrame(
        {CONTACTS: grouped[CONTACTS].to_numpy(dtype=np.int64), AHT_S: aht}, index=grid
    )
    result.index.name = "interval_start"
    return result


def intervals_from_counts(
    starts: pd.Series | pd.DatetimeIndex | Sequence[object],
    contacts: Sequence[float] | np.ndarray | pd.Series,
    *,
    interval_min: int = 30,
    tz: str = "UTC",
    aht_s: Sequence[float] | np.ndarray | pd.Series | None = None,
) -> pd.DataFrame:
    """An interval series from pre-bucketed counts (e.g. an ACD report).

    Each start must lie on the local ``interval_min`` grid; repeated starts are added up (AHT is
    contact-weighted). Only the given intervals are kept: a report of open intervals stays a grid
    of open intervals.
    """
    check_interval_min(interval_min)
    utc = _to_utc(starts)
    counts = np.asarray(contacts, dtype=float)
    if counts.shape != (len(utc),):
        raise IntervalError(f"{counts.size} counts for {len(utc)} interval starts")
    if np.any(np.isnan(counts)) or np.any(counts < 0):
        raise IntervalError("contact counts must be non-negative numbers")
    if len(utc) == 0:
        raise IntervalError("no intervals given")
    if not _bucket_start_utc(utc, interval_min, tz).equals(utc):
        raise IntervalError(f"interval starts are not on the {interval_min}-minute grid in {tz}")
    aht = np.full(len(utc), np.nan) if aht_s is None else np.asarray(aht_s, dtype=float)
    if aht.shape != (len(utc),):
        raise IntervalError(f"{aht.size} AHT values for {len(utc)} interval starts")
    frame = pd.DataFrame(
        {
            CONTACTS: counts,
            "handle_sum": np.where(np.isnan(aht), 0.0, aht * counts),
            "handled": np.where(np.isnan(aht), 0.0, counts),
        },
        index=utc.tz_convert(tz),
    )
    grouped = frame.groupby(level=0).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        aht_mean = np.where(
            grouped["handled"] > 0, grouped["handle_sum"] / grouped["handled"], np.nan
        )
    result = pd.DataFrame(
        {CONTACTS: grouped[CONTACTS].to_numpy(), AHT_S: aht_mean}, index=grouped.index
    )
    result.index.name = "interval_start"
    return result


def minute_of_day(index: pd.DatetimeIndex) -> np.ndarray:
    """Local wall-clock minute of the day of each interval start."""
    return np.asarray(index.hour * 60 + index.minute, dtype=np.int64)


def local_dates(index: pd.DatetimeIndex) -> np.ndarray:
    """Local calendar date of each interval start (numpy datetime64[D])."""
    return np.asarray(index.tz_localize(None).normalize().values.astype("datetime64[D]"))


def open_intervals(
    intervals: pd.DataFrame, special_days: SpecialDays | None = None
) -> pd.DataFrame:
    """Keep only the open intervals of a zero-filled series.

    A day with no contacts at all, or marked closed in ``special_days``, is closed; a
    (weekday, local time of day) slot that had no contacts on any open day of that weekday is a
    closed hour. Zero counts inside open hours stay (they are real zeros).
    """
    check_series(intervals)
    if intervals.empty:
        return intervals
    days = local_dates(intervals.index)
    counts = intervals[CONTACTS].to_numpy(dtype=float)
    day_totals = pd.Series(counts).groupby(days).transform("sum").to_numpy()
    open_day = day_totals > 0
    if special_days is not None:
        open_day &= ~np.array([special_days.is_closed(d) for d in days.astype(object)], dtype=bool)
    weekday = np.asarray(intervals.index.dayofweek)
    minute = minute_of_day(intervals.index)
    slot_key = weekday * MINUTES_PER_DAY + minute
    slot_totals = pd.Series(np.where(open_day, counts, 0.0)).groupby(slot_key).transform("sum")
    keep = open_day & (slot_totals.to_numpy() > 0)
    return intervals.loc[keep]


def check_series(intervals: pd.DataFrame) -> None:
    """Raise :class:`IntervalError` unless ``intervals`` is an interval series."""
    if not isinstance(intervals, pd.DataFrame) or CONTACTS not in intervals.columns:
        raise IntervalError(f"expected a DataFrame with a '{CONTACTS}' column")
    if not isinstance(intervals.index, pd.DatetimeIndex) or intervals.index.tz is None:
        raise IntervalError("the index must be tz-aware interval starts")
    if not intervals.index.is_monotonic_increasing or intervals.index.has_duplicates:
        raise IntervalError("interval starts must be strictly increasing")
    values = intervals[CONTACTS].to_numpy(dtype=float)
    if np.any(np.isnan(values)) or np.any(values < 0):
        raise IntervalError("contacts must be non-negative numbers")


def infer_interval_min(index: pd.DatetimeIndex) -> int:
    """The interval length of a grid: the smallest gap between consecutive starts."""
    if len(index) < 2:
        raise IntervalError("need at least two intervals to infer the interval length")
    gap_s = float(np.min(np.diff(index.asi8))) / 1e9
    interval_min = int(round(gap_s / 60))
    check_interval_min(interval_min)
    return interval_min


def _open_pattern(index: pd.DatetimeIndex, weeks: int) -> dict[int, frozenset[int]]:
    """Open minutes of the day per weekday, from the last ``weeks`` weeks of the history."""
    cutoff = index[-1] - pd.Timedelta(days=7 * weeks)
    recent = index[index > cutoff]
    minutes = minute_of_day(recent)
    weekdays = np.asarray(recent.dayofweek)
    return {d: frozenset(minutes[weekdays == d].tolist()) for d in range(7)}


def _future_days(
    index: pd.DatetimeIndex, interval_min: int, special_days: SpecialDays | None, pattern_weeks: int
) -> Iterator[pd.DatetimeIndex]:
    pattern = _open_pattern(index, pattern_weeks)
    if not any(pattern.values()):
        raise IntervalError("the history has no open intervals to repeat")
    tz = str(index.tz)
    last = index[-1]
    day = last.tz_localize(None).date()
    while True:
        closed = special_days is not None and special_days.is_closed(day)
        if not closed and pattern[day.weekday()]:
            grid = day_grid(day, day, interval_min, tz)
            keep = np.isin(minute_of_day(grid), list(pattern[day.weekday()])) & (grid > last)
            yield grid[keep]
        else:
            yield pd.DatetimeIndex([], tz=tz)
        day += timedelta(days=1)


def future_open_intervals(
    history_index: pd.DatetimeIndex,
    *,
    horizon_intervals: int | None = None,
    horizon_days: int | None = None,
    interval_min: int | None = None,
    special_days: SpecialDays | None = None,
    pattern_weeks: int = 4,
) -> pd.DatetimeIndex:
    """The open intervals after the history: the next ``horizon_intervals`` of them, or all of
    those in the ``horizon_days`` local days after the last history day (plus what is left of
    that day). Opening hours per weekday repeat those of the last ``pattern_weeks`` weeks; days
    closed in ``special_days`` are skipped."""
    if (horizon_intervals is None) == (horizon_days is None):
        raise IntervalError("give exactly one of horizon_intervals and horizon_days")
    if len(history_index) == 0:
        raise IntervalError("empty history")
    step = interval_min if interval_min is not None else infer_interval_min(history_index)
    days = _future_days(history_index, step, special_days, pattern_weeks)
    parts: list[pd.DatetimeIndex] = []
    if horizon_days is not None:
        if horizon_days < 1:
            raise IntervalError(f"horizon_days must be at least 1, got {horizon_days}")
        parts = [next(days) for _ in range(horizon_days + 1)]
    else:
        assert horizon_intervals is not None
        if horizon_intervals < 1:
            raise IntervalError(f"horizon_intervals must be at least 1, got {horizon_intervals}")
        found = 0
        for _ in range(3 * 366):
            part = next(days)
            parts.append(part)
            found += len(part)
            if found >= horizon_intervals:
                break
        else:
            raise IntervalError("the open-hours pattern yields too few future intervals")
    out = parts[0].append(parts[1:]) if len(parts) > 1 else parts[0]
    return out[:horizon_intervals] if horizon_intervals is not None else out
