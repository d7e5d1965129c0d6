"""The simulator against queueing theory (issue 7, part 3).

For a single-skill queue with Poisson arrivals and exponential handle times the simulated
service level, ASA and abandonment must agree with Erlang C (no abandonment) and Erlang A
(exponential patience) from lianluo.domain.wfm: the formula's value lies inside the 95 %
Student-t confidence interval over independent replications. Only contacts offered after a
one-hour warm-up and before the last hour count (the formulas are steady state). Seeds are
fixed, so the tests are deterministic; with 95 % intervals about one check in twenty would
fail for an unlucky seed even if the simulator were exact, which is why each case checks
few quantities and the seeds are not tuned per case.
"""

from typing import Any

import pytest

from lianluo.domain.wfm.erlang import erlang_a, erlang_c_asa, erlang_c_service_level
from lianluo.sim.replications import SteadyStateJob, estimate_kpis, run_replications
from lianluo.sim.scenario import scenario_from_dict

THRESHOLD_S = 20.0
HOUR_S = 3600.0


def simulate_ci(make_scenario: Any, level: float = 0.95, **kwargs: Any):  # type: ignore[no-untyped-def]
    sc = scenario_from_dict(make_scenario(**kwargs))
    return estimate_kpis(run_replications(sc, job=SteadyStateJob(HOUR_S, HOUR_S)), level)


@pytest.mark.parametrize(
    ("agents", "per_hour", "aht_s"),
    [
        pytest.param(5, 36, 300, id="light-rho0.6"),
        pytest.param(20, 216, 300, id="heavy-rho0.9"),
    ],
)
def test_erlang_c(make_scenario: Any, agents: int, per_hour: float, aht_s: float) -> None:
    load = per_hour * aht_s / HOUR_S
    est = simulate_ci(
        make_scenario,
        agents=agents,
        per_hour=per_hour,
        aht_s=aht_s,
        intervals=20,
        replications=30,
        seed=11,
    )
    sl = float(erlang_c_service_level(agents, load, aht_s, THRESHOLD_S))
    asa = float(erlang_c_asa(agents, load, aht_s))
    assert est["service_level"].contains(sl), (sl, est["service_level"])
    assert est["asa_s"].contains(asa), (asa, est["asa_s"])
    assert est["abandonment_rate"].mean == 0.0


@pytest.mark.parametrize(
    ("agents", "per_hour", "aht_s", "patience_s"),
    [
        pytest.param(8, 72, 300, 180, id="light-rho0.75"),
        pytest.param(20, 264, 300, 200, id="overloaded-rho1.1"),
    ],
)
def test_erlang_a(
    make_scenario: Any, agents: int, per_hour: float, aht_s: float, patience_s: float
) -> None:
    load = per_hour * aht_s / HOUR_S
    est = simulate_ci(
        make_scenario,
        agents=agents,
        per_hour=per_hour,
        aht_s=aht_s,
        patience_s=patience_s,
        intervals=16,
        replications=30,
        seed=12,
    )
    measures = erlang_a(agents, load, aht_s, patience_s)
    sl = float(measures.service_level(THRESHOLD_S))
    abandonment = float(measures.abandonment)
    asa = float(measures.asa_s)
    assert est["service_level"].contains(sl), (sl, est["service_level"])
    assert est["abandonment_rate"].contains(abandonment), (abandonment, est["abandonment_rate"])
    assert est["asa_s"].contains(asa), (asa, est["asa_s"])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("agents", "per_hour", "aht_s", "patience_s", "replications"),
    [
        pytest.param(100, 1140, 300, None, 40, id="C-large-rho0.95"),
        pytest.param(100, 1320, 300, 120, 40, id="A-large-rho1.1"),
        pytest.param(3, 20, 360, 300, 200, id="A-small"),
    ],
)
def test_large_and_small_centers(
    make_scenario: Any,
    agents: int,
    per_hour: float,
    aht_s: float,
    patience_s: float | None,
    replications: int,
) -> None:
    """Three checks per case, each at 99 % (Bonferroni: the family holds at 97 %). With 95 %
    and 40 replications seed 13 missed the small center's abandonment by 3 standard errors;
    long runs (6 × 4,800 h, and an independent FCFS recursion) showed no bias, so the design,
    not the seed, was changed: 99 % per check and more replications where they are cheap."""
    load = per_hour * aht_s / HOUR_S
    est = simulate_ci(
        make_scenario,
        level=0.99,
        agents=agents,
        per_hour=per_hour,
        aht_s=aht_s,
        patience_s=patience_s,
        intervals=20,
        replications=replications,
        seed=13,
    )
    if patience_s is None:
        sl = float(erlang_c_service_level(agents, load, aht_s, THRESHOLD_S))
        asa = float(erlang_c_asa(agents, load, aht_s))
    else:
        measures = erlang_a(agents, load, aht_s, patience_s)
        sl, asa = float(measures.service_level(THRESHOLD_S)), float(measures.asa_s)
        abandonment = float(measures.abandonment)
        assert est["abandonment_rate"].contains(abandonment), (abandonment, est["abandonment_rate"])
    assert est["service_level"].contains(sl), (sl, est["service_level"])
    assert est["asa_s"].contains(asa), (asa, est["asa_s"])
