"""Staffing searches: published answers, exactness against a linear scan, targets and errors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lianluo.domain.wfm import erlang, staffing


def linear_scan_erlang_c(load: float, aht_s: float, target_sl: float, t: float) -> int:
    n = 0
    while not (
        (n > load or load == 0)
        and float(erlang.erlang_c_service_level(n, load, aht_s, t)) >= target_sl
    ):
        n += 1
    return n


def linear_scan_erlang_a(
    load: float, aht_s: float, patience_s: float, target_sl: float, t: float
) -> int:
    n = 0
    while float(erlang.erlang_a(n, load, aht_s, patience_s).service_level(t)) < target_sl:
        n += 1
    return n


class TestErlangCStaffing:
    def test_published_wait_probability_target(self) -> None:
        # 20 Erlangs, P(wait) <= 15 %: 26 agents (C(26) = 0.1434, C(25) = 0.2091; issue 6).
        result = staffing.required_agents(20.0, 120.0, target_sl=0.85, target_time_s=0.0)
        assert int(result.agents) == 26
        assert float(result.probability_wait) == pytest.approx(0.1434, abs=5e-5)

    def test_published_80_20(self) -> None:
        # 100 calls / 30 min x 180 s at 80/20 needs 14 agents (callcentrehelper.com example).
        result = staffing.required_agents_for_contacts(
            100, 180.0, 1800.0, target_sl=0.8, target_time_s=20.0
        )
        assert int(result.agents) == 14
        assert float(result.service_level) >= 0.8
        assert float(result.occupancy) == pytest.approx(10 / 14)

    @settings(max_examples=80, deadline=None)
    @given(
        load=st.floats(0.0, 300.0),
        aht_s=st.floats(30.0, 900.0),
        target_sl=st.floats(0.0, 0.99),
        t=st.floats(0.0, 60.0),
    )
    def test_no_skipped_minimum(
        self, load: float, aht_s: float, target_sl: float, t: float
    ) -> None:
        result = staffing.required_agents(load, aht_s, target_sl=target_sl, target_time_s=t)
        assert int(result.agents) == linear_scan_erlang_c(load, aht_s, target_sl, t)

    def test_vectorised_equals_scalar(self) -> None:
        rng = np.random.default_rng(6)
        loads = rng.uniform(0, 400, 200)
        ahts = rng.uniform(120, 600, 200)
        together = staffing.required_agents(loads, ahts, target_sl=0.8, target_time_s=20.0)
        for i in range(0, 200, 17):
            alone = staffing.required_agents(loads[i], ahts[i], target_sl=0.8, target_time_s=20.0)
            assert int(alone.agents) == together.agents[i]

    def test_asa_target_is_minimal(self) -> None:
        result = staffing.required_agents([5.0, 50.0, 500.0], 240.0, target_asa_s=15.0)
        asa = erlang.erlang_c_asa(result.agents, [5.0, 50.0, 500.0], 240.0)
        before = erlang.erlang_c_asa(result.agents - 1, [5.0, 50.0, 500.0], 240.0)
        assert (asa <= 15.0).all()
        assert (before > 15.0).all()

    def test_max_occupancy_binds_without_float_error(self) -> None:
        # 20 / 0.8 = 25.000000000000004 in floating point; 25 agents are exactly 80 % occupied.
        result = staffing.required_agents(20.0, 60.0, target_sl=0.0, max_occupancy=0.8)
        assert int(result.agents) == 25

    def test_shrinkage(self) -> None:
        result = staffing.required_agents(10.0, 180.0, target_sl=0.8, shrinkage=0.3)
        assert int(result.scheduled_agents) == math.ceil(int(result.agents) / 0.7)
        assert int(staffing.apply_shrinkage(7, 0.3)) == 10  # 7 / 0.7 = 10.000000000000002

    def test_chat_concurrency(self) -> None:
        # Three chats at once: agents are counted in threes of servers, and the fewest suffice.
        chat = staffing.required_agents(
            30.0, 600.0, target_sl=0.8, target_time_s=60.0, concurrency=3
        )
        n = int(chat.agents)
        assert float(erlang.erlang_c_service_level(3 * n, 30.0, 600.0, 60.0)) >= 0.8
        assert float(erlang.erlang_c_service_level(3 * (n - 1), 30.0, 600.0, 60.0)) < 0.8
        assert float(chat.occupancy) == pytest.approx(30.0 / (3 * n))

    def test_zero_and_huge_loads(self) -> None:
        result = staffing.required_agents([0.0, 100_000.0], 180.0, target_sl=0.8)
        assert result.agents[0] == 0
        n = int(result.agents[1])
        assert n > 100_000
        assert float(erlang.erlang_c_service_level(n, 100_000.0, 180.0, 20.0)) >= 0.8
        assert float(erlang.erlang_c_service_level(n - 1, 100_000.0, 180.0, 20.0)) < 0.8


class TestErlangAStaffing:
    @settings(max_examples=40, deadline=None)
    @given(
        load=st.floats(0.0, 120.0),
        patience_s=st.floats(10.0, 900.0),
        target_sl=st.floats(0.0, 0.95),
    )
    def test_no_skipped_minimum(self, load: float, patience_s: float, target_sl: float) -> None:
        result = staffing.required_agents(
            load, 240.0, target_sl=target_sl, target_time_s=20.0, patience_s=patience_s
        )
        assert int(result.agents) == linear_scan_erlang_a(load, 240.0, patience_s, target_sl, 20.0)

    def test_staffs_below_the_load_when_abandonment_allows(self) -> None:
        # 50 Erlangs, impatient callers (30 s), up to 30 % may abandon: fewer than 50 agents do.
        result = staffing.required_agents(50.0, 300.0, max_abandonment=0.3, patience_s=30.0)
        n = int(result.agents)
        assert n < 50
        assert float(result.abandonment) <= 0.3
        assert float(erlang.erlang_a(n - 1, 50.0, 300.0, 30.0).abandonment) > 0.3

    def test_answered_share_bounds_agents(self) -> None:
        result = staffing.required_agents(
            [10.0, 200.0], 300.0, max_abandonment=0.05, patience_s=60.0
        )
        assert (1.0 - result.abandonment <= result.agents / np.array([10.0, 200.0]) + 1e-12).all()

    def test_asa_and_combined_targets(self) -> None:
        result = staffing.required_agents(
            40.0, 200.0, target_sl=0.8, target_asa_s=10.0, max_abandonment=0.03, patience_s=90.0
        )
        n = int(result.agents)
        m = erlang.erlang_a(n, 40.0, 200.0, 90.0)
        assert float(m.service_level(20.0)) >= 0.8
        assert float(m.asa_s) <= 10.0
        assert float(m.abandonment) <= 0.03
        before = erlang.erlang_a(n - 1, 40.0, 200.0, 90.0)
        assert (
            float(before.service_level(20.0)) < 0.8
            or float(before.asa_s) > 10.0
            or float(before.abandonment) > 0.03
        )


class TestErrors:
    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"target_sl": 1.0}, "target_sl"),
            ({"target_sl": -0.1}, "target_sl"),
            ({}, "at least one"),
            ({"max_abandonment": 0.1}, "patience_s"),
            ({"target_sl": 0.8, "patience_s": -3.0}, "patience_s"),
            ({"target_asa_s": 0.0}, "target_asa_s"),
            ({"target_sl": 0.8, "max_occupancy": 1.5}, "max_occupancy"),
            ({"target_sl": 0.8, "shrinkage": 1.0}, "shrinkage"),
            ({"target_sl": 0.8, "concurrency": 0}, "concurrency"),
        ],
    )
    def test_rejects_impossible_targets(self, kwargs: dict[str, float], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            staffing.required_agents(10.0, 180.0, **kwargs)  # type: ignore[arg-type]

    def test_rejects_negative_rates(self) -> None:
        with pytest.raises(ValueError, match="contacts_per_interval"):
            staffing.required_agents_for_contacts(-5, 180.0, 1800.0, target_sl=0.8)
        with pytest.raises(ValueError, match="aht_s"):
            staffing.required_agents(10.0, 0.0, target_sl=0.8)


def test_absurd_load_is_a_clear_error_not_an_overflow() -> None:
    from lianluo.domain.wfm.staffing import MAX_LOAD_ERLANGS, required_agents

    with pytest.raises(ValueError, match="Erlangs is beyond"):
        required_agents(np.array([MAX_LOAD_ERLANGS * 10, 5.0]), 300.0, target_sl=0.8)


def test_an_impossible_occupancy_cap_is_refused_at_once() -> None:
    """Found by fuzzing: a tiny max_occupancy made the Erlang C scan step towards A / cap, one
    agent at a time (a hang). It now starts at the cap's bound or refuses beyond the limit."""
    import time

    from lianluo.domain.wfm.staffing import required_agents

    started = time.perf_counter()
    with pytest.raises(ValueError, match="max_occupancy"):
        required_agents(np.array([5.0]), 300.0, target_sl=0.8, max_occupancy=1e-12)
    result = required_agents(np.array([50.0]), 300.0, target_sl=0.8, max_occupancy=0.05)
    assert time.perf_counter() - started < 2.0
    assert int(result.agents[0]) == 1000  # 50 Erlangs at 5 % occupancy
    assert float(result.occupancy[0]) <= 0.05 + 1e-12


def test_absurd_offered_load_is_an_error_not_an_overflow() -> None:
    from lianluo.domain.wfm.erlang import offered_load_erlangs
    from lianluo.domain.wfm.staffing import required_agents_for_contacts

    assert np.isinf(offered_load_erlangs(np.array([1e300]), 1e10, 1e-300)).all()
    with pytest.raises(ValueError, match="Erlangs"):
        required_agents_for_contacts(np.array([1e300]), 600.0, 1.0, target_sl=0.8)
