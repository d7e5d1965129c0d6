"""Is a queue open? Its business hours, in the tenant's local time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def is_open(business_hours: Mapping[str, Sequence[Sequence[str]]], local: datetime) -> bool:
    """`business_hours` as the queue API stores it: {"mon": [["08:00", "20:00"]], ...}; a day
    left out is closed, an empty mapping means always open. Spans are [start, end) in the
    tenant's local time, `local` is that wall-clock time."""
    if not business_hours:
        return True
    hhmm = f"{local.hour:02d}:{local.minute:02d}"
    spans = business_hours.get(WEEKDAYS[local.weekday()], ())
    return any(start <= hhmm < end for start, end in spans)
