"""Sampling of the scenario's duration distributions and arrival streams."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from lianluo.sim.scenario import (
    Duration,
    Empirical,
    Exponential,
    Fixed,
    LogNormal,
    PoissonArrivals,
    ReplayArrivals,
)

FloatArray = npt.NDArray[np.float64]


def lognormal_params(mean_s: float, cv: float) -> tuple[float, float]:
    """(mu, sigma) of the lognormal with this mean and coefficient of variation:
    sigma² = ln(1 + cv²), mu = ln(mean) − sigma²/2 (Johnson, Kotz & Balakrishnan,
    Continuous Univariate Distributions vol. 1, ch. 14)."""
    sigma2 = math.log1p(cv * cv)
    return math.log(mean_s) - sigma2 / 2.0, math.sqrt(sigma2)


def sample(dist: Duration, rng: np.random.Generator, n: int) -> FloatArray:
    """`n` draws of a duration distribution, in seconds."""
    if isinstance(dist, Exponential):
        return rng.exponential(dist.mean_s, n)
    if isinstance(dist, LogNormal):
        mu, sigma = lognormal_params(dist.mean_s, dist.cv)
        return rng.lognormal(mu, sigma, n)
    if isinstance(dist, Fixed):
        return np.full(n, dist.value_s)
    if isinstance(dist, Empirical):
        return rng.choice(np.asarray(dist.values_s, dtype=np.float64), n, replace=True)
    raise TypeError(f"unknown distribution {dist!r}")  # pragma: no cover


def mean_of(dist: Duration) -> float:
    if isinstance(dist, Exponential | LogNormal):
        return dist.mean_s
    if isinstance(dist, Fixed):
        return dist.value_s
    return float(np.mean(dist.values_s))


def arrival_times(
    arrivals: PoissonArrivals | ReplayArrivals,
    interval_s: float,
    intervals: int,
    rng: np.random.Generator,
) -> FloatArray:
    """Sorted arrival offsets (s from the start) within the horizon.

    Poisson: the count of interval k is Poisson(λ_k), the times uniform inside it, which is
    the nonhomogeneous Poisson process with a piecewise-constant rate (Ross, Simulation,
    5th ed., §5.5).
    """
    horizon_s = interval_s * intervals
    if isinstance(arrivals, ReplayArrivals):
        offsets = np.sort(np.asarray(arrivals.offsets_s or [], dtype=np.float64))
        return offsets[offsets < horizon_s]
    if arrivals.per_hour is not None:
        expected = np.full(intervals, arrivals.per_hour * interval_s / 3600.0)
    else:
        pattern = np.asarray(arrivals.per_interval, dtype=np.float64)
        expected = np.resize(pattern, intervals)
    counts = rng.poisson(expected * arrivals.scale)
    starts = np.repeat(np.arange(intervals) * interval_s, counts)
    times = starts + rng.random(len(starts)) * interval_s
    return np.sort(times)
