"""Model selection by rolling-origin backtest, special days, and the forecast itself."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lianluo.wfm.forecast.intervals import (
    AHT_S,
    CONTACTS,
    IntervalError,
    check_series,
    future_open_intervals,
    local_dates,
    minute_of_day,
)
from lianluo.wfm.forecast.models import ForecastModel, WeekdayProfile, default_models, seasons
from lianluo.wfm.forecast.special_days import SpecialDays

Progress = Callable[[str, int, int], None]
"""Called as progress(model_name, steps_done, steps_total) while backtesting."""


def wape(actual: Sequence[float] | np.ndarray, forecast: Sequence[float] | np.ndarray) -> float:
    """Weighted absolute percentage error Σ|a − f| / Σa, as a fraction (Hyndman &
    Athanasopoulos, FPP3, §5.8, "scaled/weighted errors"; the call-center industry's WAPE)."""
    a = np.asarray(actual, dtype=float)
    f = np.asarray(forecast, dtype=float)
    if a.shape != f.shape:
        raise ValueError(f"actual has shape {a.shape}, forecast {f.shape}")
    total = a.sum()
    if not total > 0:
        raise ValueError("WAPE is undefined when the actual volume is zero")
    return float(np.abs(a - f).sum() / total)


@dataclass(frozen=True)
class BacktestResult:
    model: str
    window_wapes: tuple[float, ...]

    @property
    def wape(self) -> float:
        """Mean WAPE over the held-out windows."""
        return float(np.mean(self.window_wapes))


def apply_special_days(
    prediction: np.ndarray,
    history: pd.DataFrame,
    future_index: pd.DatetimeIndex,
    special_days: SpecialDays | None,
) -> np.ndarray:
    """Closed days → 0; a day marked ``like_weekday`` takes that weekday's profile forecast;
    ``volume_factor`` scales the day. Works on any model's output."""
    if special_days is None or len(special_days) == 0 or len(future_index) == 0:
        return prediction
    out = prediction.astype(float).copy()
    days = local_dates(future_index).astype(object)
    like_rows = [
        i for i, d in enumerate(days) if (s := special_days.get(d)) and s.like_weekday is not None
    ]
    if like_rows:
        profile = WeekdayProfile()
        minutes, estimates = profile.day_estimates(history, special_days)
        column = {int(m): i for i, m in enumerate(minutes)}
        future_minutes = minute_of_day(future_index)
        for i in like_rows:
            special = special_days.get(days[i])
            assert special is not None
            assert special.like_weekday is not None
            total, share = estimates[special.like_weekday]
            col = column.get(int(future_minutes[i]))
            out[i] = 0.0 if col is None else total * share[col]
    for i, d in enumerate(days):
        special = special_days.get(d)
        if special is not None:
            out[i] = 0.0 if special.closed else out[i] * special.volume_factor
    return out


def backtest(
    history: pd.DataFrame,
    models: Sequence[ForecastModel] | None = None,
    *,
    n_windows: int = 4,
    window_intervals: int | None = None,
    special_days: SpecialDays | None = None,
    progress: Progress | None = None,
) -> list[BacktestResult]:
    """Rolling-origin evaluation (Tashman 2000, "Out-of-sample tests of forecasting accuracy",
    IJF 16(4)): the last ``n_windows`` blocks of ``window_intervals`` open intervals (default one
    week of the open grid) are each forecast from everything before them; WAPE per block.
    Special days are applied as the forecast applies them; closed days count as known. Models
    whose history need is not met by the first window are left out."""
    check_series(history)
    candidates = list(default_models() if models is None else models)
    if n_windows < 1:
        raise ValueError(f"n_windows must be at least 1, got {n_windows}")
    window = window_intervals if window_intervals is not None else seasons(history).week
    first_origin = len(history) - n_windows * window
    if first_origin < 1:
        raise IntervalError(
            f"{len(history)} intervals of history are too few for {n_windows} backtest windows "
            f"of {window} intervals"
        )
    origins = [first_origin + k * window for k in range(n_windows)]
    usable = [
        m
        for m in candidates
        if first_origin >= m.min_history_intervals(history.iloc[:first_origin])
    ]
    if not usable:
        raise IntervalError(
            f"no model can be backtested: the first window starts after only {first_origin} "
            "intervals of history"
        )
    results = []
    total_steps = len(usable) * n_windows
    step = 0
    for model in usable:
        scores = []
        for origin in origins:
            train = history.iloc[:origin]
            test = history.iloc[origin : origin + window]
            raw = model.predict(train, test.index, special_days)
            pred = apply_special_days(raw, train, test.index, special_days)
            scores.append(wape(test[CONTACTS].to_numpy(dtype=float), pred))
            step += 1
            if progress is not None:
                progress(model.name, step, total_steps)
        results.append(BacktestResult(model=model.name, window_wapes=tuple(scores)))
    return results


def forecast_aht(
    history: pd.DataFrame, future_index: pd.DatetimeIndex, *, weeks: int = 8
) -> np.ndarray:
    """AHT per future interval: contact-weighted mean handle time of the same weekday and local
    time of day over the last ``weeks`` weeks, falling back to the same time of day on any day,
    then to the overall mean; NaN when the history holds no handle time."""
    if AHT_S not in history.columns or len(future_index) == 0:
        return np.full(len(future_index), np.nan)
    cutoff = history.index[-1] - pd.Timedelta(days=7 * weeks)
    recent = history.loc[history.index > cutoff]
    aht = recent[AHT_S].to_numpy(dtype=float)
    n = recent[CONTACTS].to_numpy(dtype=float)
    known = ~np.isnan(aht) & (n > 0)
    if not known.any():
        return np.full(len(future_index), np.nan)
    frame = pd.DataFrame(
        {
            "weekday": np.asarray(recent.index.dayofweek)[known],
            "minute": minute_of_day(recent.index)[known],
            "handle": (aht * n)[known],
            "n": n[known],
        }
    )
    by_slot = frame.groupby(["weekday", "minute"])[["handle", "n"]].sum()
    by_minute = frame.groupby("minute")[["handle", "n"]].sum()
    overall = frame["handle"].sum() / frame["n"].sum()
    slot_aht = (by_slot["handle"] / by_slot["n"]).to_dict()
    minute_aht = (by_minute["handle"] / by_minute["n"]).to_dict()
    weekdays = np.asarray(future_index.dayofweek)
    minutes = minute_of_day(future_index)
    return np.array(
        [
            slot_aht.get((int(d), int(m)), minute_aht.get(int(m), overall))
            for d, m in zip(weekdays, minutes, strict=True)
        ],
        dtype=float,
    )


@dataclass(frozen=True)
class ForecastResult:
    """The point forecast per future open interval (columns ``contacts`` and ``aht_s``), the
    model chosen by backtest, its mean backtest WAPE and every candidate's backtest."""

    intervals: pd.DataFrame
    model: str
    backtest_wape: float
    backtest: list[BacktestResult] = field(default_factory=list)


def forecast(
    history: pd.DataFrame,
    horizon_intervals: int | None = None,
    *,
    future_index: pd.DatetimeIndex | None = None,
    models: Sequence[ForecastModel] | None = None,
    special_days: SpecialDays | None = None,
    n_windows: int = 4,
    window_intervals: int | None = None,
    progress: Progress | None = None,
) -> ForecastResult:
    """Forecast contacts and AHT for the next ``horizon_intervals`` open intervals (or exactly
    at ``future_index``): backtest every candidate on the last ``n_windows`` weeks of
    ``history`` (an open-interval series, see :func:`open_intervals`), keep the lowest mean
    WAPE, refit it on the whole history. Closed special days inside ``future_index`` get 0;
    generated horizons skip them."""
    check_series(history)
    if future_index is None:
        if horizon_intervals is None:
            raise ValueError("give horizon_intervals or future_index")
        future_index = future_open_intervals(
            history.index, horizon_intervals=horizon_intervals, special_days=special_days
        )
    elif horizon_intervals is not None and horizon_intervals != len(future_index):
        raise ValueError(
            f"horizon_intervals={horizon_intervals} but future_index has {len(future_index)}"
        )
    if len(future_index) and future_index[0] <= history.index[-1]:
        raise ValueError("future_index must start after the last history interval")
    candidates = list(default_models() if models is None else models)
    results = backtest(
        history,
        candidates,
        n_windows=n_windows,
        window_intervals=window_intervals,
        special_days=special_days,
        progress=progress,
    )
    best = min(results, key=lambda r: r.wape)
    model = next(m for m in candidates if m.name == best.model)
    raw = model.predict(history, future_index, special_days)
    contacts = apply_special_days(raw, history, future_index, special_days)
    aht = forecast_aht(history, future_index)
    if special_days is not None:
        closed = np.array(
            [special_days.is_closed(d) for d in local_dates(future_index).astype(object)],
            dtype=bool,
        )
        aht[closed] = np.nan
    intervals = pd.DataFrame({CONTACTS: contacts, AHT_S: aht}, index=future_index)
    intervals.index.name = "interval_start"
    return ForecastResult(
        intervals=intervals, model=best.model, backtest_wape=best.wape, backtest=results
    )
