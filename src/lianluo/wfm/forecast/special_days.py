"""Special days: closed days and holidays whose intra-day profile differs from their weekday."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class SpecialDay:
    """A local calendar day treated specially by the forecast.

    ``closed``: no contacts are forecast (0 for any interval of that day) and the day is left out
    of the history the models learn weekday profiles from. Otherwise the day is forecast like
    ``like_weekday`` (0 = Monday … 6 = Sunday; its own weekday when None) times
    ``volume_factor`` — e.g. a public holiday that behaves like a Sunday at 80 % of its volume.
    """

    day: date
    closed: bool = False
    like_weekday: int | None = None
    volume_factor: float = 1.0
    name: str = ""

    def __post_init__(self) -> None:
        if self.like_weekday is not None and not 0 <= self.like_weekday <= 6:
            raise ValueError(
                f"like_weekday must be 0 (Monday) … 6 (Sunday), got {self.like_weekday}"
            )
        if not self.volume_factor >= 0:
            raise ValueError(f"volume_factor must be non-negative, got {self.volume_factor}")
        if self.closed and (self.like_weekday is not None or self.volume_factor != 1.0):
            raise ValueError(f"{self.day}: a closed day takes no like_weekday or volume_factor")


class SpecialDays:
    """A calendar of special days, at most one entry per date."""

    def __init__(self, days: Iterable[SpecialDay] = ()) -> None:
        self._days: dict[date, SpecialDay] = {}
        for special in days:
            if special.day in self._days:
                raise ValueError(f"{special.day} is listed twice in the special-day calendar")
            self._days[special.day] = special

    @classmethod
    def closed(cls, days: Iterable[date]) -> SpecialDays:
        return cls(SpecialDay(day=d, closed=True) for d in days)

    def get(self, day: date) -> SpecialDay | None:
        return self._days.get(day)

    def is_closed(self, day: date) -> bool:
        special = self._days.get(day)
        return special is not None and special.closed

    def __contains__(self, day: object) -> bool:
        return day in self._days

    def __iter__(self) -> Iterator[SpecialDay]:
        return iter(sorted(self._days.values(), key=lambda s: s.day))

    def __len__(self) -> int:
        return len(self._days)
