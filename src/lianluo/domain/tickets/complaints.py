"""Complaint flags: repeat complaints (反复投诉) and over-the-head complaints (越级投诉)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class EarlierTicket:
    """An earlier ticket of the same customer and category."""

    id: str
    created_at: datetime
    resolved_at: datetime | None  # None while open


def repeat_of(
    earlier: Iterable[EarlierTicket], now: datetime, window_days: int
) -> EarlierTicket | None:
    """The earlier ticket that makes a new one a repeat complaint, or None.

    DESIGN.md's KPI table: a complaint from a customer with an open or recent complaint on the
    same category. Recent means filed or resolved within `window_days` (a tenant setting) before
    `now`; the most recent such ticket is returned.
    """
    if window_days < 0:
        raise ValueError("window_days must be >= 0")
    since = now - timedelta(days=window_days)
    matches = [
        t
        for t in earlier
        if t.created_at <= now
        and (t.resolved_at is None or t.resolved_at >= since or t.created_at >= since)
    ]
    return max(matches, key=lambda t: (t.created_at, t.id), default=None)


OVER_THE_HEAD_CHANNELS = frozenset({"regulator", "executive", "media", "12315", "工信部"})


def is_over_the_head(flagged: bool, source_channel: str | None) -> bool:
    """越级投诉: the customer went past the center (to a regulator such as 工信部 or 12315, to
    management, to the press); flagged by the agent or implied by where it came from."""
    return flagged or (source_channel or "") in OVER_THE_HEAD_CHANNELS
