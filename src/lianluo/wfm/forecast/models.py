"""Forecast models of contacts per open interval.

Every model maps (history of contacts on the open grid, future interval starts) to a
non-negative point forecast per future interval. Grid models (seasonal naive, MSTL, AutoETS)
see only the sequence of open intervals; :class:`WeekdayProfile` reads the calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from lianluo.wfm.forecast.intervals import (
    CONTACTS,
    IntervalError,
    local_dates,
    minute_of_day,
)
from lianluo.wfm.forecast.special_days import SpecialDays


class ForecastModel(Protocol):
    @property
    def name(self) -> str: ...

    def min_history_intervals(self, history: pd.DataFrame) -> int:
        """Fewest history intervals the model needs."""
        ...

    def predict(
        self,
        history: pd.DataFrame,
        future_index: pd.DatetimeIndex,
        special_days: SpecialDays | None = None,
    ) -> np.ndarray: ...


@dataclass(frozen=True)
class Seasons:
    """Season lengths of an open grid, in intervals."""

    day: int
    week: int


def seasons(history: pd.DataFrame) -> Seasons:
    """Open intervals per day and per week: the median over the history's open days and over its
    ISO weeks (a week cut short by a holiday does not change it)."""
    index = history.index
    if len(index) == 0:
        raise IntervalError("empty history")
    days = local_dates(index)
    per_day = pd.Series(1, index=days).groupby(level=0).sum()
    wall = index.tz_localize(None)
    iso = wall.isocalendar()
    per_week = pd.Series(1, index=iso["year"] * 100 + iso["week"]).groupby(level=0).sum()
    day = int(np.median(per_day.to_numpy()))
    # The first and last weeks are usually partial; prefer the complete ones in between.
    inner = per_week.iloc[1:-1] if len(per_week) > 2 else per_week
    week = int(np.median(inner.to_numpy()))
    return Seasons(day=max(day, 1), week=max(week, day, 1))


def _contacts(history: pd.DataFrame) -> np.ndarray:
    return history[CONTACTS].to_numpy(dtype=float)


@dataclass(frozen=True)
class SeasonalNaive:
    """The last season repeated: y(t + h) = y(t + h − k·m) (Hyndman & Athanasopoulos, FPP3,
    §5.2). ``season`` is "day" or "week" of the open grid."""

    season: str = "week"

    @property
    def name(self) -> str:
        return f"seasonal_naive_{self.season}"

    def _length(self, history: pd.DataFrame) -> int:
        s = seasons(history)
        if self.season == "day":
            return s.day
        if self.season == "week":
            return s.week
        raise ValueError(f"season must be 'day' or 'week', got {self.season!r}")

    def min_history_intervals(self, history: pd.DataFrame) -> int:
        return self._length(history)

    def predict(
        self,
        history: pd.DataFrame,
        future_index: pd.DatetimeIndex,
        special_days: SpecialDays | None = None,
    ) -> np.ndarray:
        m = self._length(history)
        y = _contacts(history)
        if len(y) < m:
            raise IntervalError(f"{self.name} needs {m} intervals of history, got {len(y)}")
        last = y[-m:]
        return np.resize(last, len(future_index)).astype(float)


@dataclass(frozen=True)
class MSTLModel:
    """statsforecast MSTL with daily and weekly seasonality of the open grid and its default
    AutoETS trend (Bandara, Hyndman & Bergmeir 2021, "MSTL", arXiv:2107.13462)."""

    name: str = "mstl"

    def min_history_intervals(self, history: pd.DataFrame) -> int:
        return 2 * seasons(history).week + 1

    def predict(
        self,
        history: pd.DataFrame,
        future_index: pd.DatetimeIndex,
        special_days: SpecialDays | None = None,
    ) -> np.ndarray:
        from statsforecast.models import MSTL  # slow import: only when used

        s = seasons(history)
        lengths = [s.day, s.week] if s.week > s.day else [s.day]
        y = _contacts(history)
        mean = MSTL(season_length=lengths).forecast(y=y, h=len(future_index))["mean"]
        return np.clip(np.asarray(mean, dtype=float), 0.0, None)


@dataclass(frozen=True)
class AutoETSModel:
    """statsforecast AutoETS with daily seasonality of the open grid (Hyndman et al. 2008,
    "Forecasting with Exponential Smoothing", ch. 2 and 7)."""

    name: str = "auto_ets"

    def min_history_intervals(self, history: pd.DataFrame) -> int:
        return 2 * seasons(history).day + 1

    def predict(
        self,
        history: pd.DataFrame,
        future_index: pd.DatetimeIndex,
        special_days: SpecialDays | None = None,
    ) -> np.ndarray:
        from statsforecast.models import AutoETS

        y = _contacts(history)
        mean = AutoETS(season_length=seasons(history).day).forecast(y=y, h=len(future_index))
        return np.clip(np.asarray(mean["mean"], dtype=float), 0.0, None)


def _day_matrix(
    history: pd.DataFrame, special_days: SpecialDays | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Complete ordinary days of the history as (dates, weekdays, minutes, day × minute counts).

    A day is complete when it has as many open intervals as the most common count for its
    weekday (a history that starts or ends mid-day loses that day); special days are dropped.
    """
    index = history.index
    days = local_dates(index)
    minutes = minute_of_day(index)
    table = pd.DataFrame({"day": days, "minute": minutes, "y": _contacts(history)})
    # A fall-back night repeats wall-clock times: add them up (the profile is per wall time).
    matrix = table.pivot_table(index="day", columns="minute", values="y", aggfunc="sum")
    sizes = table.groupby("day").size().reindex(matrix.index)
    day_dates = matrix.index.to_numpy().astype("datetime64[D]")
    weekdays = np.asarray(pd.DatetimeIndex(day_dates).dayofweek)
    keep = np.ones(len(matrix), dtype=bool)
    for d in range(7):
        on_d = weekdays == d
        if on_d.any():
            usual = sizes[on_d].mode().max()
            keep &= ~on_d | (sizes.to_numpy() >= usual)
    if special_days is not None:
        keep &= np.array([day not in special_days for day in day_dates.astype(object)], dtype=bool)
    values = matrix.to_numpy(dtype=float)
    return day_dates[keep], weekdays[keep], matrix.columns.to_numpy(), values[keep]


@dataclass(frozen=True)
class WeekdayProfile:
    """Top-down calendar model: daily volume × intra-day profile, both by weekday.

    Day total = median of the last ``total_weeks`` ordinary days of the same weekday; profile =
    mean share of the day per interval over the last ``profile_weeks`` such days. This is the
    "daily volume × intra-day proportion" decomposition of Weinberg, Brown & Stroud 2007,
    "Bayesian forecasting of an inhomogeneous Poisson process with applications to call center
    data", JASA 102(480), §2, with robust recent-week estimates in place of their Bayesian
    posterior. Because it keys on the
    weekday rather than on the position in the open grid, a closed day in the history does not
    shift the weekly cycle. The defaults were chosen by rolling backtest on bank_calls weeks
    before the four evaluation weeks. A weekday never seen in the history borrows the pooled
    profile and median day total of all weekdays.
    """

    total_weeks: int = 6
    profile_weeks: int = 8
    name: str = "weekday_profile"

    def min_history_intervals(self, history: pd.DataFrame) -> int:
        return seasons(history).week

    def day_estimates(
        self, history: pd.DataFrame, special_days: SpecialDays | None = None
    ) -> tuple[np.ndarray, dict[int, tuple[float, np.ndarray]]]:
        """(minute columns, {weekday: (day total, share per minute column)})."""
        _, weekdays, minutes, counts = _day_matrix(history, special_days)
        if len(counts) == 0:
            raise IntervalError("the history has no complete ordinary day")
        counts = np.nan_to_num(counts)  # a slot open on other weekdays only counts 0 here
        totals = counts.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = np.where(totals[:, None] > 0, counts / totals[:, None], 0.0)
        pooled = (
            float(np.median(totals[-self.total_weeks * 7 :])),
            shares[-self.profile_weeks * 7 :].mean(axis=0),
        )
        estimates: dict[int, tuple[float, np.ndarray]] = {}
        for d in range(7):
            rows = np.flatnonzero(weekdays == d)
            if rows.size == 0:
                estimates[d] = pooled
                continue
            total = float(np.median(totals[rows[-self.total_weeks :]]))
            estimates[d] = (total, shares[rows[-self.profile_weeks :]].mean(axis=0))
        return minutes, estimates

    def predict(
        self,
        history: pd.DataFrame,
        future_index: pd.DatetimeIndex,
        special_days: SpecialDays | None = None,
    ) -> np.ndarray:
        minutes, estimates = self.day_estimates(history, special_days)
        column = {int(m): i for i, m in enumerate(minutes)}
        weekdays = np.asarray(future_index.dayofweek)
        future_minutes = minute_of_day(future_index)
        out = np.zeros(len(future_index))
        for i, (d, m) in enumerate(zip(weekdays, future_minutes, strict=True)):
            col = column.get(int(m))
            if col is not None:  # never open at that time of day: forecast 0
                total, share = estimates[int(d)]
                out[i] = total * share[col]
        return out


def default_models() -> list[ForecastModel]:
    """The candidates :func:`lianluo.wfm.forecast.forecast` chooses from by backtest."""
    return [
        SeasonalNaive("day"),
        SeasonalNaive("week"),
        MSTLModel(),
        AutoETSModel(),
        WeekdayProfile(),
    ]


def light_models() -> list[ForecastModel]:
    """Candidates without statsforecast (fast start: no numba compile)."""
    return [SeasonalNaive("day"), SeasonalNaive("week"), WeekdayProfile()]


__all__ = [
    "AutoETSModel",
    "ForecastModel",
    "MSTLModel",
    "SeasonalNaive",
    "Seasons",
    "WeekdayProfile",
    "default_models",
    "light_models",
    "seasons",
]
