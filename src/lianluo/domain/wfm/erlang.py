"""Erlang B, Erlang C and Erlang A (M/M/n+M) performance measures, vectorised over intervals.

Every function takes array-likes that broadcast together (one element per interval) and returns
float64 arrays of the broadcast shape. The load is the offered traffic in Erlangs
(contacts per second × mean handle time in seconds). Agents are whole numbers.

Numerics: Erlang B is evaluated as a ratio of a Poisson pmf to a Poisson cdf, both in log space
through the regularised incomplete gamma function (scipy.special.gammaincc), with a direct series
where the cdf would underflow; Erlang A uses the same device for its incomplete-gamma sums. Both
hold to 100,000 Erlangs and never divide by zero: a zero load, zero agents and overload (agents at
or below the load in Erlang C) all have defined limits.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

FloatArray = NDArray[np.float64]

# Below this ratio of term to running sum a series is converged (float64 epsilon / 10).
_SERIES_TOLERANCE = 1e-17
# The direct series are used where each term shrinks by at least this factor.
_SERIES_RATIO = 0.9
# Below this value gammaincc / gammainc lose relative precision to underflow.
_UNDERFLOW = 1e-280
# Step of the central difference used for the mean wait of answered contacts in Erlang A.
_DIFF_STEP = 5e-3


def _check_nonnegative(name: str, value: ArrayLike, *, allow_inf: bool = False) -> FloatArray:
    array = np.asarray(value, dtype=np.float64)
    if np.isnan(array).any():
        raise ValueError(f"{name} must not be NaN")
    if (array < 0).any():
        raise ValueError(f"{name} must be >= 0, got {float(array.min())}")
    if not allow_inf and np.isinf(array).any():
        raise ValueError(f"{name} must be finite")
    return array


def _check_positive(name: str, value: ArrayLike) -> FloatArray:
    array = _check_nonnegative(name, value)
    if (array == 0).any():
        raise ValueError(f"{name} must be > 0")
    return array


def _check_agents(agents: ArrayLike) -> FloatArray:
    array = _check_nonnegative("agents", agents)
    if (array != np.floor(array)).any():
        raise ValueError("agents must be whole numbers")
    return array


def offered_load_erlangs(
    contacts_per_interval: ArrayLike, aht_s: ArrayLike, interval_s: ArrayLike
) -> FloatArray:
    """Offered load A = λ·h in Erlangs (Erlang 1917; Gans, Koole & Mandelbaum 2003, §4.1)."""
    contacts = _check_nonnegative("contacts_per_interval", contacts_per_interval)
    aht = _check_nonnegative("aht_s", aht_s)
    interval = _check_positive("interval_s", interval_s)
    with np.errstate(over="ignore"):  # an absurd load is inf, which callers reject by name
        return np.asarray(contacts * aht / interval, dtype=np.float64)


def _series_sum(ratio: Callable[[int], FloatArray], shape: tuple[int, ...]) -> FloatArray:
    """Σ_j Π_{i≤j} ratio(i), for ratios in [0, _SERIES_RATIO] once j ≥ 1."""
    total = np.ones(shape)
    term = np.ones(shape)
    j = 1
    while True:
        term = term * np.maximum(ratio(j), 0.0)
        total += term
        if not (term > _SERIES_TOLERANCE * total).any():
            return total
        j += 1


def _log_erlang_b(agents: FloatArray, load: FloatArray) -> FloatArray:
    """log B(n, A) = log[Poisson pmf(n; A) / Poisson cdf(n; A)], broadcast, never NaN."""
    n, a = np.broadcast_arrays(agents, load)
    out = np.zeros(n.shape)
    idle = a == 0
    out[idle & (n > 0)] = -np.inf
    busy = ~idle
    nb, ab = n[busy], a[busy]
    with np.errstate(divide="ignore", under="ignore"):
        cdf = special.gammaincc(nb + 1.0, ab)
        log_pmf = nb * np.log(ab) - ab - special.gammaln(nb + 1.0)
        direct = (nb >= _SERIES_RATIO * ab) & (cdf > _UNDERFLOW)
        result = np.empty(nb.shape)
        result[direct] = log_pmf[direct] - np.log(cdf[direct])
    rest = ~direct
    if rest.any():
        # 1/B = Σ_{j=0}^{n} Π_{i<j} (n − i)/A: terminating, each ratio ≤ n/A < 0.9.
        nr, ar = nb[rest], ab[rest]
        result[rest] = -np.log(_series_sum(lambda j: (nr + 1.0 - j) / ar, nr.shape))
    out[busy] = result
    return out


def erlang_b(agents: ArrayLike, load_erlangs: ArrayLike) -> FloatArray:
    """Blocking probability of M/M/n/n, Erlang's loss formula.

    B(n, A) = (Aⁿ/n!) / Σ_{k≤n} Aᵏ/k! (Erlang 1917; Cooper, *Introduction to Queueing Theory*,
    3rd ed., eq. 3.4.6), evaluated as a Poisson pmf/cdf ratio in log space.
    """
    n = _check_agents(agents)
    a = _check_nonnegative("load_erlangs", load_erlangs)
    return np.asarray(np.exp(_log_erlang_b(n, a)), dtype=np.float64)


def _erlang_c(n: FloatArray, a: FloatArray) -> FloatArray:
    n, a = np.broadcast_arrays(n, a)
    b = np.exp(_log_erlang_b(n, a))
    stable = n > a
    out = np.where(a == 0, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = n * b / (n - a * (1.0 - b))
    return np.asarray(np.where(stable, np.minimum(c, 1.0), out), dtype=np.float64)


def erlang_c(agents: ArrayLike, load_erlangs: ArrayLike) -> FloatArray:
    """Probability that a contact waits in M/M/n (Erlang C), from Erlang B.

    C(n, A) = n·B / (n − A·(1 − B)) for n > A (Cooper 1981, eq. 3.5.15; Gans, Koole & Mandelbaum
    2003, eq. 4.2). With n ≤ A the queue is unstable and every contact waits: C = 1; with A = 0,
    C = 0.
    """
    n = _check_agents(agents)
    a = _check_nonnegative("load_erlangs", load_erlangs)
    return _erlang_c(n, a)


def _erlang_c_service_level(
    n: FloatArray, a: FloatArray, aht: FloatArray, target_time: FloatArray
) -> FloatArray:
    c = _erlang_c(n, a)
    with np.errstate(invalid="ignore", over="ignore"):
        decay = np.exp(-(n - a) * target_time / aht)
    sl = np.where(n > a, 1.0 - c * decay, np.where(a == 0, 1.0, 0.0))
    return np.asarray(np.clip(sl, 0.0, 1.0), dtype=np.float64)


def erlang_c_service_level(
    agents: ArrayLike, load_erlangs: ArrayLike, aht_s: ArrayLike, target_time_s: ArrayLike
) -> FloatArray:
    """P(wait ≤ T) in M/M/n: SL = 1 − C(n, A)·exp(−(n − A)·T/h).

    Gans, Koole & Mandelbaum (2003), *Telephone call centers: tutorial, review and research
    prospects*, MSOM 5(2), eq. 4.3. Zero for an unstable queue (n ≤ A > 0), one at zero load.
    """
    n = _check_agents(agents)
    a = _check_nonnegative("load_erlangs", load_erlangs)
    aht = _check_positive("aht_s", aht_s)
    t = _check_nonnegative("target_time_s", target_time_s)
    return _erlang_c_service_level(n, a, aht, t)


def _erlang_c_asa(n: FloatArray, a: FloatArray, aht: FloatArray) -> FloatArray:
    c = _erlang_c(n, a)
    with np.errstate(divide="ignore", invalid="ignore"):
        asa = c * aht / (n - a)
    return np.asarray(np.where(n > a, asa, np.where(a == 0, 0.0, np.inf)), dtype=np.float64)


def erlang_c_asa(agents: ArrayLike, load_erlangs: ArrayLike, aht_s: ArrayLike) -> FloatArray:
    """Average speed of answer in M/M/n: ASA = C(n, A)·h / (n − A) seconds.

    Gans, Koole & Mandelbaum (2003), eq. 4.4. Infinite for an unstable queue, zero at zero load.
    """
    n = _check_agents(agents)
    a = _check_nonnegative("load_erlangs", load_erlangs)
    aht = _check_positive("aht_s", aht_s)
    return _erlang_c_asa(n, a, aht)


def occupancy(agents: ArrayLike, load_erlangs: ArrayLike) -> FloatArray:
    """Agent occupancy min(A/n, 1) (carried load per agent; with abandonment use `carried`).

    Koole, *Call Center Optimization* (2013), §5.2. Zero at zero load, one with zero agents.
    """
    n = _check_agents(agents)
    a = _check_nonnegative("load_erlangs", load_erlangs)
    with np.errstate(divide="ignore", invalid="ignore"):
        occ = np.where(n > 0, np.minimum(a / np.where(n > 0, n, 1.0), 1.0), np.where(a > 0, 1, 0))
    return np.asarray(occ, dtype=np.float64)


# --- Erlang A -----------------------------------------------------------------------------------


def _log_s(x: FloatArray, y: FloatArray) -> FloatArray:
    """log S(x, y) with S = Σ_{j≥0} Π_{i=1..j} y/(x+i) = Γ(x+1)·eʸ·y⁻ˣ·P(x, y).

    P is the regularised lower incomplete gamma function; S = ₁F₁(1; x+1; y)
    (Mandelbaum & Zeltyn 2007, the function A(x, y) of their appendix).
    """
    x, y = np.broadcast_arrays(x, y)
    out = np.zeros(x.shape)
    positive = y > 0
    xp, yp = x[positive], y[positive]
    with np.errstate(divide="ignore", under="ignore"):
        p = special.gammainc(xp, yp)
        direct = (yp > _SERIES_RATIO * (xp + 1.0)) & (p > _UNDERFLOW)
        result = np.empty(xp.shape)
        # x = 0 gives S = eʸ; gammaln(1) = 0 and 0·log y = 0 keep the formula exact there.
        result[direct] = (
            special.gammaln(xp[direct] + 1.0)
            + np.log(p[direct])
            + yp[direct]
            - xp[direct] * np.log(yp[direct])
        )
    rest = ~direct
    if rest.any():
        xr, yr = xp[rest], yp[rest]
        # P(x, y) ≥ ~1/2 for y ≥ x + 1, so it only underflows where the series converges.
        if (yr >= xr + 1.0).any():  # pragma: no cover
            raise FloatingPointError("Erlang A: incomplete gamma underflow outside series range")
        result[rest] = np.log(_series_sum(lambda j: yr / (xr + j), xr.shape))
    out[positive] = result
    return out


class ErlangAMeasures:
    """Steady-state measures of M/M/n+M for given agents, load, handle time and patience.

    Formulas after Garnett, Mandelbaum & Reiman (2002), *Designing a call center with impatient
    customers*, MSOM 4(3), §3 and Mandelbaum & Zeltyn (2007), *Service engineering in action:
    the Palm/Erlang-A queue*, §2 and appendix: with x = n·μ/θ, y = λ/θ and E = Erlang B(n, λ/μ),
      P(W > 0) = S·E / (1 + (S − 1)·E)                       S = S(x, y) of `_log_s`
      P(Ab | W > 0) = 1 − (1/ρ)·(1 − 1/S)                     ρ = λ/(nμ)
      P(answered within t | W > 0) = [γ(x+1, y) − γ(x+1, y·e^{−θt})] / (y·γ(x, y))
      E[W] = P(Ab)/θ                                         (all contacts, abandoners included)
    The mean wait of answered contacts (ASA) uses the Laplace transform
    E[e^{−sV}; V > 0] = P(W > 0)·x·S(x+s/θ, y)/((x+s/θ)·S(x, y)) of the offered wait V,
    differentiated numerically at s = θ (five-point stencil).
    """

    def __init__(
        self, agents: ArrayLike, load_erlangs: ArrayLike, aht_s: ArrayLike, patience_s: ArrayLike
    ) -> None:
        n = _check_agents(agents)
        a = _check_nonnegative("load_erlangs", load_erlangs)
        aht = _check_positive("aht_s", aht_s)
        patience = _check_positive("patience_s", patience_s)
        n, a, aht, patience = np.broadcast_arrays(n, a, aht, patience)
        self._n, self._a, self._aht, self._patience = n, a, aht, patience
        ratio = aht / patience  # θ/μ
        self._x = n / ratio
        self._y = a / ratio
        idle = a == 0
        self._idle = idle
        log_e = _log_erlang_b(n, a)
        self._log_s_xy = _log_s(self._x, self._y)
        with np.errstate(over="ignore", under="ignore"):
            inv_s = np.exp(-self._log_s_xy)
            p_wait = 1.0 / (np.exp(-self._log_s_xy - log_e) + 1.0 - inv_s)
        self.probability_wait: FloatArray = np.where(idle, 0.0, np.clip(p_wait, 0.0, 1.0))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ab_given_wait = 1.0 - (self._x / self._y) * (1.0 - inv_s)
            # Subnormal loads overflow x/y; the limit y → 0 is 1/(x + 1).
            ab_given_wait = np.where(
                np.isfinite(ab_given_wait), ab_given_wait, 1.0 / (self._x + 1.0)
            )
        self._ab_given_wait = np.where(idle, 0.0, np.clip(ab_given_wait, 0.0, 1.0))
        self.abandonment: FloatArray = self.probability_wait * self._ab_given_wait
        self.mean_wait_s: FloatArray = self.abandonment * patience

    def _log_shifted(self, shift: float, y: FloatArray) -> FloatArray:
        """log[x·S(x+shift, y) / ((x+shift)·S(x, y))]."""
        with np.errstate(divide="ignore"):
            return np.asarray(
                np.log(self._x)
                - np.log(self._x + shift)
                + _log_s(self._x + shift, y)
                - self._log_s_xy,
                dtype=np.float64,
            )

    def service_level(self, target_time_s: ArrayLike) -> FloatArray:
        """Share of all offered contacts answered within T (abandoners count as not served)."""
        t = _check_nonnegative("target_time_s", target_time_s)
        t = np.broadcast_to(t, self._n.shape)
        theta_t = t / self._patience
        u = self._y * np.exp(-theta_t)
        served_given_wait = 1.0 - self._ab_given_wait
        with np.errstate(divide="ignore", under="ignore", invalid="ignore"):
            log_tail = (
                -(self._x + 1.0) * theta_t
                - self._y * np.expm1(-theta_t)
                + np.log(self._x)
                - np.log(self._x + 1.0)
                + _log_s(self._x + 1.0, u)
                - self._log_s_xy
            )
            tail = np.where(self._x > 0, np.exp(log_tail), 0.0)
            answered_within = np.array(served_given_wait - tail, dtype=np.float64)
            # Far above the agents' capacity (u > x + 1) both terms are near Γ(x+1); the same
            # difference in upper incomplete gammas, [Q(x+1, u) − Q(x+1, y)]·x/(y·P(x, y)), keeps
            # its relative precision there.
            upper = u > self._x + 1.0
            if upper.any():
                xu, yu, uu = self._x[upper], self._y[upper], u[upper]
                answered_within[upper] = (
                    (special.gammaincc(xu + 1.0, uu) - special.gammaincc(xu + 1.0, yu))
                    * xu
                    / (yu * special.gammainc(xu, yu))
                )
        answered_within = np.clip(answered_within, 0.0, 1.0)
        sl = 1.0 - self.probability_wait + self.probability_wait * answered_within
        return np.asarray(np.where(self._idle, 1.0, np.clip(sl, 0.0, 1.0)), dtype=np.float64)

    @property
    def asa_s(self) -> FloatArray:
        """Mean wait of answered contacts in seconds (NaN-free: zero where nobody is answered)."""
        h = _DIFF_STEP
        with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
            f = [np.exp(self._log_shifted(1.0 + k * h, self._y)) for k in (-2, -1, 1, 2)]
            derivative = (f[0] - 8.0 * f[1] + 8.0 * f[2] - f[3]) / (12.0 * h)
            wait_if_answered = self.probability_wait * (-derivative) * self._patience
            answered = 1.0 - self.abandonment
            asa = wait_if_answered / answered
        ok = (self._x > 0) & ~self._idle & (answered > 0) & np.isfinite(asa)
        return np.asarray(np.where(ok, np.maximum(asa, 0.0), 0.0), dtype=np.float64)


def erlang_a(
    agents: ArrayLike, load_erlangs: ArrayLike, aht_s: ArrayLike, patience_s: ArrayLike
) -> ErlangAMeasures:
    """Erlang A (M/M/n+M) measures; see `ErlangAMeasures` for the formulas and their sources."""
    return ErlangAMeasures(agents, load_erlangs, aht_s, patience_s)


def halfin_whitt_wait_probability(beta: ArrayLike) -> FloatArray:
    """Limit of C(n, A) as A → ∞ with n = A + β√A: [1 + β·Φ(β)/φ(β)]⁻¹.

    Halfin & Whitt (1981), *Heavy-traffic limits for queues with many exponential servers*,
    Operations Research 29(3), Proposition 1.
    """
    b = _check_positive("beta", beta)
    ratio = special.ndtr(b) / (np.exp(-0.5 * b * b) / np.sqrt(2.0 * np.pi))
    return np.asarray(1.0 / (1.0 + b * ratio), dtype=np.float64)
