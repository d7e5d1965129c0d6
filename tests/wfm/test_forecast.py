"""Forecast package: interval bucketing, open grid, models, backtest, special days, AHT."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lianluo.wfm.forecast import (
    AHT_S,
    CONTACTS,
    IntervalError,
    SeasonalNaive,
    SpecialDay,
    SpecialDays,
    WeekdayProfile,
    backtest,
    forecast,
    forecast_aht,
    future_open_intervals,
    infer_interval_min,
    intervals_from_counts,
    intervals_from_timestamps,
    light_models,
    open_intervals,
    seasons,
    wape,
)

TZ = "Asia/Shanghai"
# Open hours of the synthetic center: weekdays 08:00–20:00, Saturday 09:00–17:00, Sunday closed.
OPEN = {d: (8 * 60, 20 * 60) for d in range(5)} | {5: (9 * 60, 17 * 60)}
DAY_VOLUME = {0: 1.4, 1: 1.1, 2: 1.0, 3: 1.0, 4: 1.05, 5: 0.5}


def rate(weekday: int, minute: int, scale: float) -> float:
    """Known intensity per 30-minute interval: weekday level × a two-peak intra-day shape."""
    hour = minute / 60
    shape = 1.0 + 0.8 * np.exp(-((hour - 10.5) ** 2) / 2) + 0.5 * np.exp(-((hour - 15) ** 2) / 3)
    return scale * DAY_VOLUME[weekday] * shape


def synthetic(
    weeks: int, *, scale: float = 60.0, seed: int = 0, start: date = date(2024, 1, 1)
) -> tuple[pd.DataFrame, np.ndarray]:
    """Open-interval series (Poisson counts) and its true means, starting on a Monday."""
    rng = np.random.default_rng(seed)
    starts, means = [], []
    for k in range(7 * weeks):
        day = start + timedelta(days=k)
        hours = OPEN.get(day.weekday())
        if hours is None:
            continue
        for minute in range(hours[0], hours[1], 30):
            starts.append(pd.Timestamp(day).tz_localize(TZ) + pd.Timedelta(minutes=minute))
            means.append(rate(day.weekday(), minute, scale))
    lam = np.array(means)
    series = intervals_from_counts(
        pd.DatetimeIndex(starts), rng.poisson(lam), interval_min=30, tz=TZ
    )
    return series, lam


class TestIntervalsFromTimestamps:
    def test_counts_across_midnight_in_the_local_zone(self) -> None:
        arrivals = ["2024-01-01T15:59:59Z", "2024-01-01T16:00:00Z", "2024-01-01T16:29:00Z"]
        out = intervals_from_timestamps(arrivals, interval_min=30, tz=TZ)
        nonzero = out[out[CONTACTS] > 0]
        assert [t.strftime("%Y-%m-%d %H:%M") for t in nonzero.index] == [
            "2024-01-01 23:30",
            "2024-01-02 00:00",
        ]
        assert nonzero[CONTACTS].tolist() == [1, 2]
        assert len(out) == 2 * 48  # zero-filled whole local days

    def test_spring_forward_day_has_23_hours(self) -> None:
        arrivals = ["2024-03-31T00:59:00Z", "2024-03-31T01:00:00Z"]  # 01:59 CET, 03:00 CEST
        out = intervals_from_timestamps(arrivals, interval_min=30, tz="Europe/Berlin")
        assert len(out) == 46
        nonzero = out[out[CONTACTS] > 0]
        assert [t.strftime("%H:%M%z") for t in nonzero.index] == ["01:30+0100", "03:00+0200"]

    def test_fall_back_keeps_the_repeated_hour_apart(self) -> None:
        arrivals = ["2024-10-27T00:10:00Z", "2024-10-27T01:10:00Z"]  # 02:10 CEST, 02:10 CET
        out = intervals_from_timestamps(arrivals, interval_min=60, tz="Europe/Berlin")
        assert len(out) == 25
        nonzero = out[out[CONTACTS] > 0]
        assert [t.strftime("%H:%M%z") for t in nonzero.index] == ["02:00+0200", "02:00+0100"]

    def test_naive_timestamps_are_utc(self) -> None:
        naive = intervals_from_timestamps(["2024-05-01 10:05"], interval_min=15, tz=TZ)
        aware = intervals_from_timestamps(["2024-05-01T10:05:00+00:00"], interval_min=15, tz=TZ)
        pd.testing.assert_frame_equal(naive, aware)
        assert naive[CONTACTS].idxmax().strftime("%H:%M") == "18:00"

    def test_handle_time_mean_per_interval(self) -> None:
        out = intervals_from_timestamps(
            ["2024-05-01T01:00:00Z", "2024-05-01T01:10:00Z", "2024-05-01T01:40:00Z"],
            tz="UTC",
            handle_time_s=[100.0, 300.0, float("nan")],
        )
        assert out.loc["2024-05-01 01:00", AHT_S].item() == pytest.approx(200.0)
        assert np.isnan(out.loc["2024-05-01 01:30", AHT_S].item())  # its one call had no time
        assert np.isnan(out.loc["2024-05-01 02:00", AHT_S].item())  # no calls

    @pytest.mark.parametrize("bad", [0, 7, 50, -30])
    def test_rejects_interval_not_dividing_the_day(self, bad: int) -> None:
        with pytest.raises(IntervalError, match="divisor of 1440"):
            intervals_from_timestamps(["2024-01-01T00:00:00Z"], interval_min=bad)

    def test_rejects_bad_input(self) -> None:
        with pytest.raises(IntervalError, match="no arrivals"):
            intervals_from_timestamps([])
        with pytest.raises(IntervalError, match="cannot parse"):
            intervals_from_timestamps(["yesterday-ish"])
        with pytest.raises(IntervalError, match="handle_time_s has 1 values for 2"):
            intervals_from_timestamps(["2024-01-01", "2024-01-02"], handle_time_s=[1.0])

    @settings(max_examples=40, deadline=None)
    @given(
        seconds=st.lists(st.integers(0, 20 * 86400), min_size=1, max_size=60),
        tz=st.sampled_from(["UTC", TZ, "Europe/Berlin", "America/New_York", "Asia/Kolkata"]),
        interval_min=st.sampled_from([15, 30, 60]),
    )
    def test_every_arrival_lands_in_the_interval_holding_it(
        self, seconds: list[int], tz: str, interval_min: int
    ) -> None:
        # Spans the 2024-03-10 (New York) and 2024-03-31 (Berlin) clock changes.
        instants = pd.Timestamp("2024-03-08T00:00:00Z") + pd.to_timedelta(seconds, unit="s")
        out = intervals_from_timestamps(instants, interval_min=interval_min, tz=tz)
        assert out[CONTACTS].sum() == len(seconds)
        assert out.index.is_monotonic_increasing
        assert (np.diff(out.index.asi8) == interval_min * 60 * 10**9).all()
        assert (out.index.minute % interval_min == 0).all()
        holder = out.index.searchsorted(instants.tz_convert(tz), side="right") - 1
        expected = np.bincount(holder, minlength=len(out))
        np.testing.assert_array_equal(out[CONTACTS].to_numpy(), expected)


class TestIntervalsFromCounts:
    def test_adds_repeated_starts_and_weights_aht(self) -> None:
        out = intervals_from_counts(
            ["2024-01-01T00:00Z", "2024-01-01T00:00Z", "2024-01-01T00:30Z"],
            [1, 3, 2],
            aht_s=[100.0, 200.0, float("nan")],
        )
        assert out[CONTACTS].tolist() == [4, 2]
        assert out[AHT_S].iloc[0] == pytest.approx(175.0)
        assert np.isnan(out[AHT_S].iloc[1])

    def test_rejects_starts_off_the_grid_and_negative_counts(self) -> None:
        with pytest.raises(IntervalError, match="not on the 30-minute grid"):
            intervals_from_counts(["2024-01-01T00:10Z"], [1])
        with pytest.raises(IntervalError, match="non-negative"):
            intervals_from_counts(["2024-01-01T00:00Z"], [-1])


class TestOpenIntervals:
    def test_drops_closed_hours_and_days_keeps_open_zeros(self) -> None:
        series, _ = synthetic(3)
        grid = series.reindex(
            pd.date_range(series.index[0].normalize(), periods=21 * 48, freq="30min"),
            fill_value=0,
        )
        monday_9 = pd.Timestamp("2024-01-08 09:00", tz=TZ)
        grid.loc[monday_9, CONTACTS] = 0  # a quiet open interval stays
        opened = open_intervals(grid)
        assert monday_9 in opened.index
        assert set(opened.index.dayofweek) == set(range(6))  # Sundays are gone
        assert len(opened) == len(series)

    def test_closed_special_day_is_dropped(self) -> None:
        series, _ = synthetic(2)
        opened = open_intervals(series, SpecialDays.closed([date(2024, 1, 3)]))
        assert date(2024, 1, 3) not in set(opened.index.date)
        assert len(opened) == len(series) - 24


class TestFutureOpenIntervals:
    def test_repeats_the_weekly_opening_pattern(self) -> None:
        series, _ = synthetic(4)
        future = future_open_intervals(series.index, horizon_days=7)
        assert len(future) == 5 * 24 + 16
        assert future[0] > series.index[-1]
        assert 6 not in set(future.dayofweek)
        sat = future[future.dayofweek == 5]
        assert (sat.hour.min(), sat.hour.max()) == (9, 16)

    def test_skips_closed_days_and_counts_intervals(self) -> None:
        series, _ = synthetic(4)
        calendar = SpecialDays.closed([date(2024, 1, 29)])  # the next Monday
        future = future_open_intervals(series.index, horizon_intervals=30, special_days=calendar)
        assert len(future) == 30
        assert future[0].date() == date(2024, 1, 30)

    def test_needs_exactly_one_horizon(self) -> None:
        series, _ = synthetic(1)
        with pytest.raises(IntervalError, match="exactly one"):
            future_open_intervals(series.index)

    def test_infers_interval_length(self) -> None:
        series, _ = synthetic(1)
        assert infer_interval_min(series.index) == 30


class TestWape:
    def test_known_value(self) -> None:
        assert wape([10, 20, 30], [12, 18, 30]) == pytest.approx(4 / 60)

    def test_rejects_zero_volume_and_shape_mismatch(self) -> None:
        with pytest.raises(ValueError, match="undefined"):
            wape([0, 0], [1, 1])
        with pytest.raises(ValueError, match="shape"):
            wape([1, 2], [1])

    @given(
        pairs=st.lists(st.tuples(st.floats(0.5, 1e4), st.floats(0, 1e4)), min_size=1, max_size=50),
        scale=st.floats(0.01, 100),
    )
    def test_zero_on_perfect_forecast_and_scale_free(
        self, pairs: list[tuple[float, float]], scale: float
    ) -> None:
        actual, predicted = (np.array(x) for x in zip(*pairs, strict=True))
        assert wape(actual, actual) == 0
        assert wape(actual * scale, predicted * scale) == pytest.approx(wape(actual, predicted))
        assert wape(actual, predicted) >= 0


class TestModels:
    def test_seasons_ignore_a_short_holiday_week(self) -> None:
        series, _ = synthetic(5)
        holiday = series[series.index.date != date(2024, 1, 17)]
        assert seasons(holiday).week == 5 * 24 + 16
        assert seasons(holiday).day == 24

    def test_seasonal_naive_repeats_the_last_week(self) -> None:
        series, _ = synthetic(3)
        week = seasons(series).week
        future = future_open_intervals(series.index, horizon_intervals=week + 5)
        pred = SeasonalNaive("week").predict(series, future)
        last = series[CONTACTS].to_numpy()[-week:]
        np.testing.assert_array_equal(pred[:week], last)
        np.testing.assert_array_equal(pred[week:], last[:5])

    def test_weekday_profile_is_near_the_poisson_noise_floor(self) -> None:
        series, lam = synthetic(11, scale=80.0, seed=3)
        week = seasons(series).week
        history, held_out = series.iloc[:-week], series.iloc[-week:]
        pred = WeekdayProfile().predict(history, held_out.index)
        actual = held_out[CONTACTS].to_numpy(dtype=float)
        floor = wape(actual, lam[-week:])  # the error of knowing the true rates
        assert wape(actual, pred) < 1.25 * floor

    def test_weekday_profile_survives_a_closed_day_that_shifts_the_grid(self) -> None:
        series, lam = synthetic(10, scale=80.0, seed=4)
        week = seasons(series).week
        history, held_out = series.iloc[:-week], series.iloc[-week:]
        gap = history.index.date != date(2024, 2, 28)  # a Wednesday outage 2 weeks before
        actual = held_out[CONTACTS].to_numpy(dtype=float)
        profile = wape(actual, WeekdayProfile().predict(history[gap], held_out.index))
        naive = wape(actual, SeasonalNaive("week").predict(history[gap], held_out.index))
        assert profile < 1.25 * wape(actual, lam[-week:])
        assert naive > 2 * profile  # the open grid lost its weekly alignment

    def test_weekday_profile_forecasts_zero_outside_that_weekdays_hours(self) -> None:
        series, _ = synthetic(4)
        future = future_open_intervals(series.index, horizon_days=7)
        saturday_8am = pd.DatetimeIndex([pd.Timestamp("2024-02-03 08:00", tz=TZ)])
        assert WeekdayProfile().predict(series, saturday_8am)[0] == 0
        assert (WeekdayProfile().predict(series, future) > 0).all()

    @settings(max_examples=15, deadline=None)
    @given(seed=st.integers(0, 10_000), weeks=st.integers(2, 6), horizon=st.integers(1, 300))
    def test_forecasts_are_finite_non_negative_and_sized(
        self, seed: int, weeks: int, horizon: int
    ) -> None:
        series, _ = synthetic(weeks, scale=5.0, seed=seed)
        future = future_open_intervals(series.index, horizon_intervals=horizon)
        for model in light_models():
            pred = model.predict(series, future)
            assert pred.shape == (horizon,)
            assert np.isfinite(pred).all()
            assert (pred >= 0).all()


class TestBacktestAndForecast:
    def test_backtest_scores_each_model_on_each_window(self) -> None:
        series, _ = synthetic(6)
        calls: list[tuple[str, int, int]] = []
        results = backtest(series, light_models(), n_windows=3, progress=lambda *a: calls.append(a))
        assert [r.model for r in results] == [m.name for m in light_models()]
        assert all(len(r.window_wapes) == 3 for r in results)
        assert calls[-1][1:] == (9, 9)
        assert [c[1] for c in calls] == list(range(1, 10))

    def test_backtest_rejects_too_short_history(self) -> None:
        series, _ = synthetic(2)
        with pytest.raises(IntervalError, match="too few"):
            backtest(series, light_models(), n_windows=4)

    def test_picks_the_lowest_backtest_wape(self) -> None:
        series, _ = synthetic(10, scale=80.0, seed=5)
        result = forecast(series, 50, models=light_models())
        best = min(result.backtest, key=lambda r: r.wape)
        assert result.model == best.model == "weekday_profile"
        assert result.backtest_wape == best.wape
        assert len(result.intervals) == 50
        assert result.intervals.index[0] > series.index[-1]

    def test_an_exactly_periodic_series_is_forecast_exactly(self) -> None:
        series, lam = synthetic(6)
        periodic = series.assign(contacts=np.round(lam))
        result = forecast(periodic, 40, models=[SeasonalNaive("week"), SeasonalNaive("day")])
        assert result.model == "seasonal_naive_week"
        assert result.backtest_wape == 0
        week = seasons(periodic).week
        np.testing.assert_array_equal(
            result.intervals[CONTACTS].to_numpy(), periodic[CONTACTS].to_numpy()[-week:][:40]
        )

    def test_rejects_future_overlapping_history(self) -> None:
        series, _ = synthetic(6)
        with pytest.raises(ValueError, match="after the last history"):
            forecast(series, future_index=series.index[-3:], models=light_models())


class TestSpecialDays:
    def test_closed_day_in_the_future_is_zero(self) -> None:
        series, _ = synthetic(6, seed=1)
        future = future_open_intervals(series.index, horizon_days=7)
        closed = future[0].date()
        result = forecast(
            series,
            future_index=future,
            models=light_models(),
            special_days=SpecialDays.closed([closed]),
        )
        on_day = result.intervals.index.date == closed
        assert on_day.sum() > 0
        assert (result.intervals.loc[on_day, CONTACTS] == 0).all()
        assert (result.intervals.loc[~on_day, CONTACTS] > 0).all()

    def test_generated_horizon_skips_closed_days(self) -> None:
        series, _ = synthetic(6, seed=1)
        closed = date(2024, 2, 12)
        result = forecast(
            series, 30, models=light_models(), special_days=SpecialDays.closed([closed])
        )
        assert closed not in set(result.intervals.index.date)
        assert len(result.intervals) == 30

    def test_holiday_like_saturday_at_a_reduced_volume(self) -> None:
        series, _ = synthetic(8, seed=2)
        wednesday = date(2024, 2, 28)
        future = future_open_intervals(series.index, horizon_days=7)
        calendar = SpecialDays(
            [SpecialDay(wednesday, like_weekday=5, volume_factor=0.5, name="holiday")]
        )
        result = forecast(series, future_index=future, models=light_models(), special_days=calendar)
        plain = WeekdayProfile().predict(series, future)
        day = result.intervals.index.date == wednesday
        got = result.intervals.loc[day, CONTACTS]
        saturday_hours = (got.index.hour >= 9) & (got.index.hour < 17)
        assert (got[~saturday_hours] == 0).all()
        sat_future = future[future.dayofweek == 5]
        sat_plain = pd.Series(WeekdayProfile().predict(series, sat_future), index=sat_future)
        by_time = sat_plain.groupby(sat_plain.index.strftime("%H:%M")).first()
        expected = 0.5 * by_time.loc[got[saturday_hours].index.strftime("%H:%M")].to_numpy()
        np.testing.assert_allclose(got[saturday_hours].to_numpy(), expected)
        if result.model == "weekday_profile":
            np.testing.assert_allclose(result.intervals.loc[~day, CONTACTS], plain[~day])

    def test_special_days_in_history_do_not_shape_the_profile(self) -> None:
        series, _ = synthetic(8, seed=6)
        spike_day = date(2024, 2, 19)  # the last Monday
        spiked = series.copy()
        on_spike = spiked.index.date == spike_day
        spiked.loc[on_spike, CONTACTS] = spiked.loc[on_spike, CONTACTS] * 5
        future = future_open_intervals(series.index, horizon_days=7)
        calendar = SpecialDays([SpecialDay(spike_day, name="campaign")])
        marked = WeekdayProfile().predict(spiked, future, calendar)
        without = WeekdayProfile().predict(series[~on_spike], future)
        np.testing.assert_allclose(marked, without)
        assert not np.allclose(WeekdayProfile().predict(spiked, future), without)

    def test_calendar_validation(self) -> None:
        with pytest.raises(ValueError, match="listed twice"):
            SpecialDays.closed([date(2024, 1, 1), date(2024, 1, 1)])
        with pytest.raises(ValueError, match="like_weekday"):
            SpecialDay(date(2024, 1, 1), like_weekday=7)
        with pytest.raises(ValueError, match="closed day takes no"):
            SpecialDay(date(2024, 1, 1), closed=True, volume_factor=0.5)


class TestAht:
    def test_same_weekday_and_time_then_fallbacks(self) -> None:
        series, _ = synthetic(3)
        aht = 200.0 + 10 * series.index.dayofweek + series.index.hour
        with_aht = series.assign(aht_s=np.asarray(aht, dtype=float))
        future = pd.DatetimeIndex(
            [
                pd.Timestamp("2024-01-22 10:00", tz=TZ),  # Monday 10:00 seen
                pd.Timestamp("2024-01-27 19:00", tz=TZ),  # Saturday 19:00 never open
                pd.Timestamp("2024-01-28 03:00", tz=TZ),  # never open at all
            ]
        )
        got = forecast_aht(with_aht, future)
        assert got[0] == pytest.approx(210.0)
        weekday_19 = [200 + 10 * d + 19 for d in range(5)]
        assert got[1] == pytest.approx(np.mean(weekday_19), rel=0.05)
        weights = with_aht[CONTACTS].to_numpy(dtype=float)
        overall = (weights * with_aht[AHT_S].to_numpy()).sum() / weights.sum()
        assert got[2] == pytest.approx(overall)

    def test_nan_without_handle_time(self) -> None:
        series, _ = synthetic(2)
        future = future_open_intervals(series.index, horizon_intervals=3)
        assert np.isnan(forecast_aht(series, future)).all()


@pytest.mark.slow
def test_statsforecast_models_take_part_in_the_selection() -> None:
    series, _ = synthetic(6, scale=40.0, seed=7)
    result = forecast(series, 24, n_windows=2)
    names = {r.model for r in result.backtest}
    assert {"mstl", "auto_ets", "weekday_profile"} <= names
    assert result.model in names
    assert np.isfinite(result.intervals[CONTACTS]).all()
    assert (result.intervals[CONTACTS] >= 0).all()
