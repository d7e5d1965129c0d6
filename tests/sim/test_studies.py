from typing import Any

import numpy as np
import pytest

from lianluo.domain.wfm.staffing import required_agents_for_contacts
from lianluo.sim.replications import Estimate
from lianluo.sim.report import fmt
from lianluo.sim.scenario import scenario_from_dict
from lianluo.sim.studies import (
    RunOptions,
    StudyError,
    ownership_study,
    staffing_study,
    tier_study,
)

FORECAST = [10, 20, 40, 60, 80, 80, 60, 40]  # contacts per half hour


def forecast_scenario(patience_s: float | None = 150.0) -> dict[str, Any]:
    queue: dict[str, Any] = {
        "name": "hotline",
        "arrivals": {"kind": "poisson", "per_interval": FORECAST},
        "handle_time": {"kind": "exponential", "mean_s": 240},
    }
    if patience_s is not None:
        queue["patience"] = {"kind": "exponential", "mean_s": patience_s}
    return {
        "intervals": len(FORECAST),
        "seed": 21,
        "replications": 4,
        "kpi": {"short_abandon_s": 0, "service_level_threshold_s": 20},
        "queues": [queue],
        "agents": [{"group": "front", "skills": {"hotline": 1}, "per_interval": [5]}],
    }


class TestStaffingStudy:
    def test_meets_target_and_reports_erlang(self) -> None:
        sc = scenario_from_dict(forecast_scenario())
        study = staffing_study(sc, target_sl=0.8, threshold_s=20)
        expected_c = required_agents_for_contacts(
            np.array(FORECAST, dtype=float), 240.0, 1800.0, target_sl=0.8, target_time_s=20.0
        ).scheduled_agents
        assert study.erlang_c_agents == [int(x) for x in expected_c]
        assert study.erlang_a_agents is not None
        assert study.converged
        assert all(e.mean is not None and e.mean >= 0.8 for e in study.sim_service_level)
        assert len(study.sim_agents) == len(FORECAST)
        # Busier intervals need more agents.
        assert study.sim_agents[4] > study.sim_agents[0]

    def test_rejects_scenarios_without_forecast(self) -> None:
        data = forecast_scenario()
        data["queues"][0]["arrivals"] = {"kind": "replay", "offsets_s": [1.0, 2.0]}
        with pytest.raises(StudyError, match="needs a Poisson forecast"):
            staffing_study(scenario_from_dict(data))

    def test_rejects_shift_schedules(self) -> None:
        data = forecast_scenario()
        del data["agents"][0]["per_interval"]
        data["agents"][0]["shifts"] = [{"start": "00:00", "end": "08:00", "count": 5}]
        with pytest.raises(StudyError, match="per_interval schedule"):
            staffing_study(scenario_from_dict(data))


def ticket_data() -> dict[str, Any]:
    return {
        "intervals": 12,
        "seed": 8,
        "replications": 3,
        "queues": [
            {
                "name": "complaints",
                "arrivals": {"kind": "poisson", "per_hour": 50},
                "handle_time": {"kind": "exponential", "mean_s": 300},
                "patience": {"kind": "exponential", "mean_s": 240},
                "tickets": {
                    "model": "tiered",
                    "escalate_p": 0.4,
                    "back_office_queue": "back",
                    "chase_p": 0.5,
                    "chase_mean_delay_s": 1800,
                    "followup_delay_s": 1800,
                },
            },
            {"name": "back", "handle_time": {"kind": "exponential", "mean_s": 600}},
        ],
        "agents": [
            {"group": "front", "skills": {"complaints": 1}, "per_interval": [8]},
            {"group": "back", "skills": {"back": 1}, "per_interval": [6]},
        ],
    }


class TestOwnershipStudy:
    def test_compares_both_models_on_the_same_traffic(self) -> None:
        study = ownership_study(scenario_from_dict(ticket_data()), size_staff=True)
        owner, tiered = study.results["first_contact"], study.results["tiered"]
        assert owner.summary.overall.offered_mean > 0
        assert owner.escalated_share.mean == 0.0
        assert tiered.escalated_share.mean is not None
        assert 0.25 < tiered.escalated_share.mean < 0.55
        assert owner.effectiveness.mean > tiered.effectiveness.mean  # type: ignore[operator]
        assert owner.back_office_agents_needed == 0
        assert tiered.back_office_agents_needed is not None
        assert tiered.back_office_agents_needed > 0
        assert owner.front_agents_needed is not None
        assert tiered.front_agents_needed is not None
        # Owners spend longer on each first call, so they need at least as many front agents.
        assert owner.front_agents_needed >= tiered.front_agents_needed

    def test_needs_tickets(self, make_scenario: Any) -> None:
        with pytest.raises(StudyError, match="needs a queue with tickets"):
            ownership_study(scenario_from_dict(make_scenario()))


class TestTierStudy:
    def test_vip_served_faster_and_standard_pays(self, make_scenario: Any) -> None:
        data = make_scenario(agents=9, per_hour=100, aht_s=300, patience_s=150, replications=4)
        study = tier_study(scenario_from_dict(data), shares=(0.0, 0.2, 0.6))
        first, *rest = study.points
        assert first.vip_service_level.mean is None  # no VIP contacts at share 0
        for p in rest:
            assert p.vip_service_level.mean > p.standard_service_level.mean  # type: ignore[operator]
        assert study.points[-1].standard_service_level.mean < first.standard_service_level.mean  # type: ignore[operator]
        assert study.replications == 4

    def test_rejects_bad_share(self, make_scenario: Any) -> None:
        with pytest.raises(StudyError, match="VIP share must be in"):
            tier_study(scenario_from_dict(make_scenario()), shares=(1.5,), options=RunOptions(1))


class TestFormat:
    def test_estimates(self) -> None:
        assert fmt(Estimate(None, None, None, 0)) == "—"
        assert fmt(Estimate(0.8123, 0.8, 0.8246, 5), percent=True) == "81.2 % ± 1.2"
        assert fmt(Estimate(42.0, None, None, 1)) == "42"
