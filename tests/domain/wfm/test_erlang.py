"""Erlang B / C / A against published values, exact recursions and a brute-force M/M/n+M chain."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg, special

from lianluo.domain.wfm import erlang


def erlang_b_recursion(agents: int, load: float) -> float:
    """The stable textbook recursion 1/B(n) = 1 + n/(A·B(n−1)) (Cooper 1981, eq. 3.4.7)."""
    inverse = 1.0
    for k in range(1, agents + 1):
        inverse = 1.0 + inverse * k / load
    return 1.0 / inverse


class TestErlangB:
    def test_published_value(self) -> None:
        # Erlang B tables (e.g. Cooper 1981, Table I): 10 lines, 5 Erlangs -> 0.0184.
        assert float(erlang.erlang_b(10, 5.0)) == pytest.approx(0.0184, abs=5e-5)

    @pytest.mark.parametrize(
        ("agents", "load"),
        [(0, 3.0), (1, 0.5), (50, 100.0), (5, 1000.0), (120, 100.0), (900, 1000.0)],
    )
    def test_matches_recursion(self, agents: int, load: float) -> None:
        assert float(erlang.erlang_b(agents, load)) == pytest.approx(
            erlang_b_recursion(agents, load), rel=1e-12
        )

    @pytest.mark.parametrize("agents", [80_000, 99_000, 100_000, 101_000, 103_000])
    def test_stable_at_100k_erlangs(self, agents: int) -> None:
        value = float(erlang.erlang_b(agents, 100_000.0))
        assert math.isfinite(value)
        assert value == pytest.approx(erlang_b_recursion(agents, 100_000.0), rel=1e-8)

    def test_zero_load_and_zero_agents(self) -> None:
        np.testing.assert_array_equal(erlang.erlang_b([0, 3], 0.0), [1.0, 0.0])
        assert float(erlang.erlang_b(0, 7.0)) == 1.0

    def test_vectorised_shape(self) -> None:
        result = erlang.erlang_b(np.arange(1, 7).reshape(2, 3), 4.0)
        assert result.shape == (2, 3)
        assert result[0, 0] == pytest.approx(erlang_b_recursion(1, 4.0))

    @pytest.mark.parametrize(
        ("agents", "load", "message"),
        [(-1, 3.0, "agents"), (2.5, 3.0, "whole"), (3, -1.0, "load"), (3, float("nan"), "NaN")],
    )
    def test_rejects_bad_input(self, agents: float, load: float, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            erlang.erlang_b(agents, load)


class TestErlangC:
    def test_published_20_erlangs(self) -> None:
        # 600 calls/h x 120 s = 20 Erlangs: C(25) = 0.2091, C(26) = 0.1434 (values of issue 6,
        # from standard Erlang C tables; 26 agents keep P(wait) <= 15 %).
        load = float(erlang.offered_load_erlangs(600, 120, 3600))
        c25, c26 = erlang.erlang_c([25, 26], load)
        assert c25 == pytest.approx(0.2091, abs=5e-5)
        assert c26 == pytest.approx(0.1434, abs=5e-5)

    def test_service_level_published(self) -> None:
        # 100 calls per 30 min x 180 s = 10 Erlangs; at 20 s, 13 agents give 79.6 %
        # (callcentrehelper.com Erlang C worked example).
        load = erlang.offered_load_erlangs(100, 180, 1800)
        sl = erlang.erlang_c_service_level([13, 14], load, 180, 20)
        assert sl[0] == pytest.approx(0.796, abs=5e-4)
        assert sl[1] > 0.8

    def test_asa_formula(self) -> None:
        c = float(erlang.erlang_c(14, 10.0))
        assert float(erlang.erlang_c_asa(14, 10.0, 180)) == pytest.approx(c * 180 / 4)

    def test_unstable_and_idle_limits(self) -> None:
        np.testing.assert_array_equal(erlang.erlang_c([5, 10], 10.0), [1.0, 1.0])
        np.testing.assert_array_equal(erlang.erlang_c_service_level([5, 10], 10.0, 60, 20), 0.0)
        assert np.isinf(erlang.erlang_c_asa(10, 10.0, 60))
        assert float(erlang.erlang_c(0, 0.0)) == 0.0
        assert float(erlang.erlang_c_service_level(0, 0.0, 60, 20)) == 1.0
        assert float(erlang.erlang_c_asa(0, 0.0, 60)) == 0.0

    def test_halfin_whitt_limit(self) -> None:
        # C(A + β√A, A) -> α(β) as A grows (Halfin & Whitt 1981); the error shrinks like 1/√A.
        beta = 1.0
        errors = []
        for load in (100.0, 10_000.0, 1_000_000.0):
            agents = round(load + beta * math.sqrt(load))
            beta_exact = (agents - load) / math.sqrt(load)
            limit = float(erlang.halfin_whitt_wait_probability(beta_exact))
            errors.append(abs(float(erlang.erlang_c(agents, load)) - limit))
        assert errors[0] > errors[1] > errors[2]
        assert errors[2] < 1e-3

    def test_occupancy(self) -> None:
        np.testing.assert_allclose(erlang.occupancy([0, 0, 10, 5], [0, 3, 8, 10]), [0, 1, 0.8, 1])

    @settings(max_examples=60, deadline=None)
    @given(load=st.floats(0.1, 5000.0), extra=st.integers(1, 200), t=st.floats(0.0, 120.0))
    def test_service_level_rises_with_agents(self, load: float, extra: int, t: float) -> None:
        n = math.floor(load) + extra
        low, high = erlang.erlang_c_service_level([n, n + 1], load, 180.0, t)
        assert high >= low
        assert 0.0 <= low <= 1.0

    @settings(max_examples=60, deadline=None)
    @given(load=st.floats(0.1, 5000.0), extra=st.floats(0.01, 50.0))
    def test_service_level_falls_with_load(self, load: float, extra: float) -> None:
        n = math.floor(load + extra) + 1
        low_load, high_load = erlang.erlang_c_service_level(n, [load, load + extra], 300.0, 20.0)
        assert low_load >= high_load


def brute_force_erlang_a(
    agents: int, load: float, aht_s: float, patience_s: float, target_time_s: float
) -> dict[str, float]:
    """M/M/n+M from its birth-death chain, truncated; per-state waits by matrix exponential."""
    mu, theta = 1.0 / aht_s, 1.0 / patience_s
    lam = load * mu
    states = agents + 3000
    log_p = [0.0]
    for k in range(1, states):
        death = k * mu if k <= agents else agents * mu + (k - agents) * theta
        log_p.append(log_p[-1] + math.log(lam / death))
    p = np.exp(np.array(log_p) - max(log_p))
    p /= p.sum()
    queue = np.maximum(np.arange(states) - agents, 0)
    abandonment = theta * float((p * queue).sum()) / lam
    x = agents * mu / theta
    answered_within = float(p[:agents].sum())
    ahead_max = 300
    # Chain of the contact's position: j = ahead_max..0 contacts ahead, then served (m) or
    # abandoned (m + 1); one matrix exponential gives P(served by T) from every start j.
    m = ahead_max + 1
    generator = np.zeros((m + 2, m + 2))
    for s in range(m):
        rate = agents * mu + s * theta
        generator[s, s - 1 if s > 0 else m] += rate
        generator[s, m + 1] += theta
        generator[s, s] -= rate + theta
    served_by_t = linalg.expm(generator * target_time_s)[:m, m]
    weights = p[agents : agents + m]
    answered_within += float((weights * served_by_t).sum())
    ahead = np.arange(m)
    # Served with probability x/(x+j+1); E[V; served | j] = that · Σ_{i=1..j+1} 1/(nμ + iθ).
    wait_answered = float(
        (
            weights
            * (x / (x + ahead + 1))
            * (special.digamma(x + ahead + 2) - special.digamma(x + 1))
            / theta
        ).sum()
    )
    return {
        "probability_wait": float(p[agents:].sum()),
        "abandonment": abandonment,
        "service_level": answered_within,
        "asa_s": wait_answered / (1.0 - abandonment),
    }


class TestErlangA:
    @pytest.mark.parametrize(
        ("agents", "load", "aht_s", "patience_s", "t"),
        [
            (10, 10.0, 180.0, 120.0, 20.0),
            (5, 8.0, 300.0, 60.0, 30.0),
            (30, 25.0, 200.0, 400.0, 20.0),
            (3, 10.0, 240.0, 300.0, 20.0),
        ],
    )
    def test_matches_birth_death_chain(
        self, agents: int, load: float, aht_s: float, patience_s: float, t: float
    ) -> None:
        expected = brute_force_erlang_a(agents, load, aht_s, patience_s, t)
        m = erlang.erlang_a(agents, load, aht_s, patience_s)
        assert float(m.probability_wait) == pytest.approx(expected["probability_wait"], rel=1e-9)
        assert float(m.abandonment) == pytest.approx(expected["abandonment"], rel=1e-9)
        assert float(m.service_level(t)) == pytest.approx(expected["service_level"], rel=1e-9)
        assert float(m.asa_s) == pytest.approx(expected["asa_s"], rel=1e-6)

    @settings(max_examples=40, deadline=None)
    @given(
        agents=st.integers(1, 400),
        load=st.floats(0.5, 500.0),
        patience_s=st.floats(5.0, 3000.0),
    )
    def test_abandonment_equals_theta_times_mean_wait(
        self, agents: int, load: float, patience_s: float
    ) -> None:
        # P(Ab) = θ·E[W] (Mandelbaum & Zeltyn 2007, §2): Little's law on the abandoning flow.
        m = erlang.erlang_a(agents, load, 180.0, patience_s)
        assert float(m.abandonment) == pytest.approx(float(m.mean_wait_s) / patience_s, rel=1e-12)
        assert 0.0 <= float(m.abandonment) <= float(m.probability_wait) <= 1.0

    @pytest.mark.parametrize(("agents", "load"), [(1, 0.5), (10, 12.0), (80, 60.0), (500, 700.0)])
    def test_theta_equal_mu_is_infinite_server_queue(self, agents: int, load: float) -> None:
        # With θ = μ every contact leaves at rate μ whether served or waiting: the number in
        # system is Poisson(A) (M/M/∞), so by PASTA P(W > 0) = P(Poisson(A) ≥ n).
        m = erlang.erlang_a(agents, load, 200.0, 200.0)
        expected = special.pdtrc(agents - 1, load)
        assert float(m.probability_wait) == pytest.approx(expected, rel=1e-9)

    @pytest.mark.parametrize(("agents", "load"), [(12, 10.0), (26, 20.0), (110, 100.0)])
    def test_tends_to_erlang_c_with_patience(self, agents: int, load: float) -> None:
        gaps = []
        for patience_s in (1e3, 1e5, 1e7, 1e9):
            m = erlang.erlang_a(agents, load, 180.0, patience_s)
            gaps.append(
                abs(
                    float(m.service_level(20.0))
                    - float(erlang.erlang_c_service_level(agents, load, 180.0, 20.0))
                )
                + abs(float(m.probability_wait) - float(erlang.erlang_c(agents, load)))
            )
        # The gap is first order in θ = 1/patience: x100 patience, /100 gap, to 1e9 s.
        for wider, narrower in zip(gaps, gaps[1:], strict=False):
            assert 50.0 < wider / narrower < 200.0
        assert gaps[-1] < 1e-6
        m = erlang.erlang_a(agents, load, 180.0, 1e9)
        assert float(m.asa_s) == pytest.approx(
            float(erlang.erlang_c_asa(agents, load, 180.0)), rel=1e-4
        )

    def test_large_load_is_finite(self) -> None:
        m = erlang.erlang_a([90_000, 100_000, 110_000], 100_000.0, 180.0, 60.0)
        for values in (m.probability_wait, m.abandonment, m.service_level(20.0), m.asa_s):
            assert np.isfinite(values).all()
        assert (np.diff(m.abandonment) < 0).all()
        # Served contacts cannot exceed the agents' capacity: 1 − P(Ab) ≤ n/A.
        assert 1.0 - float(m.abandonment[0]) <= 0.9 + 1e-9

    def test_zero_agents_and_zero_load(self) -> None:
        m = erlang.erlang_a([0, 0, 5], [4.0, 0.0, 0.0], 180.0, 60.0)
        np.testing.assert_allclose(m.abandonment, [1.0, 0.0, 0.0])
        np.testing.assert_allclose(m.service_level(20.0), [0.0, 1.0, 1.0])
        np.testing.assert_allclose(m.asa_s, [0.0, 0.0, 0.0])

    def test_rejects_bad_patience(self) -> None:
        with pytest.raises(ValueError, match="patience_s"):
            erlang.erlang_a(3, 2.0, 180.0, 0.0)
