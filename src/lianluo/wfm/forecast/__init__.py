"""Contact forecasting per interval (WFM issue 6, part 2).

History is a series of contacts (and AHT) per *open* local-time interval; models are chosen by
rolling-origin backtest on held-out weeks (WAPE). See :mod:`.intervals` for the conventions.
"""

from lianluo.wfm.forecast.bank_calls import bank_calls_benchmark, load_bank_calls
from lianluo.wfm.forecast.intervals import (
    AHT_S,
    CONTACTS,
    IntervalError,
    future_open_intervals,
    infer_interval_min,
    intervals_from_counts,
    intervals_from_timestamps,
    open_intervals,
)
from lianluo.wfm.forecast.models import (
    AutoETSModel,
    ForecastModel,
    MSTLModel,
    SeasonalNaive,
    WeekdayProfile,
    default_models,
    light_models,
    seasons,
)
from lianluo.wfm.forecast.pipeline import (
    BacktestResult,
    ForecastResult,
    apply_special_days,
    backtest,
    forecast,
    forecast_aht,
    wape,
)
from lianluo.wfm.forecast.special_days import SpecialDay, SpecialDays

__all__ = [
    "AHT_S",
    "CONTACTS",
    "AutoETSModel",
    "BacktestResult",
    "ForecastModel",
    "ForecastResult",
    "IntervalError",
    "MSTLModel",
    "SeasonalNaive",
    "SpecialDay",
    "SpecialDays",
    "WeekdayProfile",
    "apply_special_days",
    "backtest",
    "bank_calls_benchmark",
    "default_models",
    "forecast",
    "forecast_aht",
    "future_open_intervals",
    "infer_interval_min",
    "intervals_from_counts",
    "intervals_from_timestamps",
    "light_models",
    "load_bank_calls",
    "open_intervals",
    "seasons",
    "wape",
]
