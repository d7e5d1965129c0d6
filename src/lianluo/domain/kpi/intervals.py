"""Bucketing of contacts by the local interval of their offered time, and grouped KPIs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

import numpy as np

from lianluo.domain.kpi.formulas import (
    KpiError,
    KpiParams,
    KpiSummary,
    repeat_complaint_flags,
    repeat_contact_flags,
    summarize,
)
from lianluo.domain.kpi.records import FloatArray, OutcomeColumns

# UTC offsets change only at quarter-hour-aligned instants in every real time zone.
_OFFSET_BLOCK_S = 900.0


def _zone(tz: str | tzinfo) -> tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def utc_offsets_s(times_s: FloatArray, tz: str | tzinfo) -> FloatArray:
    """The UTC offset (seconds) of zone `tz` at each epoch time in `times_s`."""
    zone = _zone(tz)
    times = np.asarray(times_s, dtype=np.float64)
    if times.size == 0:
        return np.empty(0)
    blocks = np.floor(times / _OFFSET_BLOCK_S)
    unique_blocks, inverse = np.unique(blocks, return_inverse=True)
    offsets = np.empty(len(unique_blocks))
    for k, block in enumerate(unique_blocks):
        moment = datetime.fromtimestamp(block * _OFFSET_BLOCK_S, tz=UTC).astimezone(zone)
        delta = moment.utcoffset()
        offsets[k] = 0.0 if delta is None else delta.total_seconds()
    return offsets[inverse]


def interval_starts(times_s: FloatArray, interval_s: float, tz: str | tzinfo = "UTC") -> FloatArray:
    """Epoch time of the start of the local `interval_s` interval holding each time.

    Intervals are aligned to local midnight in `tz` (interval_s must divide a day), so a
    contact offered at 23:59 local belongs to the last interval of that day whatever its end.
    Convention (DESIGN.md KPI table, issue 7): a contact counts in the interval it was offered.
    """
    if not interval_s > 0 or (86_400.0 / interval_s) != math.floor(86_400.0 / interval_s):
        raise KpiError(f"interval_s must be > 0 and divide a day, got {interval_s}")
    times = np.asarray(times_s, dtype=np.float64)
    offsets = utc_offsets_s(times, tz)
    local = times + offsets
    return np.floor(local / interval_s) * interval_s - offsets


@dataclass(frozen=True, slots=True)
class IntervalKpis:
    interval_start: float
    kpis: KpiSummary


def summarize_by_interval(
    cols: OutcomeColumns,
    interval_s: float = 1800.0,
    tz: str | tzinfo = "UTC",
    params: KpiParams | None = None,
) -> list[IntervalKpis]:
    """KPIs per local interval of offered time, in time order (empty intervals are left out).

    Repeat flags (FCR, repeat complaints) are computed over all of `cols` first.
    """
    p = params or KpiParams()
    if len(cols) == 0:
        return []
    repeat_contact = repeat_contact_flags(cols, p.fcr_window_s)
    repeat_complaint = repeat_complaint_flags(cols, p.repeat_complaint_window_s)
    starts = interval_starts(cols.offered_at, interval_s, tz)
    result = []
    for start in np.unique(starts):
        mask = starts == start
        result.append(
            IntervalKpis(
                interval_start=float(start),
                kpis=summarize(cols.select(mask), p, repeat_contact[mask], repeat_complaint[mask]),
            )
        )
    return result


def summarize_by(
    cols: OutcomeColumns, column: str = "queue", params: KpiParams | None = None
) -> dict[str, KpiSummary]:
    """KPIs per value of a label column ("queue", "channel", "tier"), keys sorted."""
    if column not in ("queue", "channel", "tier"):
        raise KpiError(f"can group by queue, channel or tier, not {column!r}")
    p = params or KpiParams()
    repeat_contact = repeat_contact_flags(cols, p.fcr_window_s)
    repeat_complaint = repeat_complaint_flags(cols, p.repeat_complaint_window_s)
    labels = getattr(cols, column).astype(str)
    return {
        str(label): summarize(
            cols.select(labels == label),
            p,
            repeat_contact[labels == label],
            repeat_complaint[labels == label],
        )
        for label in np.unique(labels)
    }


GRAINS = ("15min", "30min", "60min", "day", "week", "month")
GRAIN_S = {"15min": 900.0, "30min": 1800.0, "60min": 3600.0, "day": 86_400.0}
# 1970-01-05 (local) was a Monday: weeks start on Monday (ISO 8601).
_MONDAY_S = 4 * 86_400.0


def local_bucket_starts(times_s: FloatArray, grain: str, tz: str | tzinfo = "UTC") -> FloatArray:
    """The start of the local bucket of each epoch time, as *local wall-clock* seconds since
    1970-01-01 00:00 local (so a day is always 86,400 of them, whatever the DST shifts).

    `grain` is one of GRAINS; weeks start on Monday, months on the 1st. A contact counts in
    the bucket where it was offered (a contact spanning midnight counts on its first day).
    Turn a start back into a moment with `local_start_datetime`.
    """
    if grain not in GRAINS:
        raise KpiError(f"grain must be one of {', '.join(GRAINS)}, not {grain!r}")
    times = np.asarray(times_s, dtype=np.float64)
    local = times + utc_offsets_s(times, tz)
    if grain in GRAIN_S:
        return np.floor(local / GRAIN_S[grain]) * GRAIN_S[grain]
    if grain == "week":
        week = 7 * 86_400.0
        return np.floor((local - _MONDAY_S) / week) * week + _MONDAY_S
    months = np.floor(local).astype("datetime64[s]").astype("datetime64[M]")
    return months.astype("datetime64[s]").astype(np.float64)


def local_start_datetime(local_s: float, tz: str | tzinfo) -> datetime:
    """The aware datetime of a local wall-clock start from `local_bucket_starts` (an hour
    skipped by DST resolves forward; an hour repeated takes its first occurrence)."""
    naive = datetime.fromtimestamp(local_s, tz=UTC).replace(tzinfo=None)
    return naive.replace(tzinfo=_zone(tz))
