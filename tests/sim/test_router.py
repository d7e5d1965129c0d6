from typing import Any

import numpy as np
import pytest

from lianluo.domain import routing as rt
from lianluo.sim.engine import simulate
from lianluo.sim.router import (
    EngineRouter,
    QueueSpec,
    RoutingUnavailableError,
    make_router,
)
from lianluo.sim.scenario import scenario_from_dict

SPECS = [QueueSpec("general", "voice", 0.0, 10.0), QueueSpec("billing", "voice", 1.0, 10.0)]


class TestMakeRouter:
    def test_drives_the_production_engine(self) -> None:
        router = make_router(SPECS)
        assert isinstance(router, EngineRouter)
        assert type(router.engine) is rt.RoutingEngine
        assert router.engine.queue("billing").priority == 1.0
        assert router.engine.queue("billing").tier_weight == 10.0

    def test_scan_reference(self) -> None:
        router = make_router(SPECS, {"engine": "scan"})
        assert isinstance(router, EngineRouter)
        assert type(router.engine) is rt.ScanRouter

    @pytest.mark.parametrize(
        ("routing", "message"),
        [
            ({"engin": "scan"}, "unknown key"),
            ({"engine": "fast"}, "must be 'indexed' or 'scan'"),
            ({"queues": {"nope": {}}}, "unknown queue 'nope'"),
            ({"queues": {"general": {"colour": 1}}}, r"routing.queues.general: unknown option"),
            ({"queues": {"general": {"policy": "random"}}}, "routing"),
        ],
    )
    def test_bad_routing_section(self, routing: dict[str, Any], message: str) -> None:
        with pytest.raises(RoutingUnavailableError, match=message):
            make_router(SPECS, routing)


class TestDecisions:
    def test_vip_goes_first_and_policy_applies(self) -> None:
        router = make_router(SPECS, {"queues": {"general": {"policy": "best_proficiency"}}})
        router.add_agent(0, {"general": 2}, 0.0)
        router.add_agent(1, {"general": 9}, 0.0)
        router.enqueue(0, "general", 1.0)
        router.enqueue(1, "general", 2.0, vip=True)
        assert router.dispatch(2.0) == []  # nobody available yet
        router.agent_available(0, 3.0)
        router.agent_available(1, 3.0)
        assignments = router.dispatch(3.0)
        # The VIP contact goes first, to the most proficient agent.
        assert [(a.contact, a.agent) for a in assignments] == [(1, 1), (0, 0)]
        router.release(1, 1, 10.0)
        assert router.dispatch(10.0) == []

    def test_indexed_and_scan_make_the_same_day(self) -> None:
        data: dict[str, Any] = {
            "intervals": 6,
            "seed": 5,
            "queues": [
                {
                    "name": "general",
                    "arrivals": {"kind": "poisson", "per_hour": 90},
                    "handle_time": {"kind": "lognormal", "mean_s": 240, "cv": 0.8},
                    "patience": {"kind": "exponential", "mean_s": 150},
                    "vip_share": 0.2,
                    "callback": {"probability": 0.3},
                    "transfer": {"probability": 0.1, "to": "billing"},
                },
                {
                    "name": "billing",
                    "arrivals": {"kind": "poisson", "per_hour": 30},
                    "handle_time": {"kind": "exponential", "mean_s": 300},
                    "patience": {"kind": "exponential", "mean_s": 200},
                    "priority": 1,
                },
            ],
            "agents": [
                {"group": "g", "skills": {"general": 5}, "per_interval": [4, 6, 6, 5]},
                {"group": "b", "skills": {"billing": 7}, "per_interval": [2]},
                {"group": "x", "skills": {"general": 3, "billing": 3}, "per_interval": [2]},
            ],
        }
        indexed = simulate(scenario_from_dict(data))
        scan = simulate(scenario_from_dict({**data, "routing": {"engine": "scan"}}))
        np.testing.assert_array_equal(indexed.outcomes.answered_at, scan.outcomes.answered_at)
        np.testing.assert_array_equal(indexed.outcomes.abandoned_at, scan.outcomes.abandoned_at)
        assert indexed.outcomes.answered.sum() > 0
        assert indexed.outcomes.abandoned.sum() > 0
