from typing import Any

import pytest


def single_queue(
    agents: int | list[int] = 10,
    per_hour: float = 100.0,
    aht_s: float = 300.0,
    patience_s: float | None = None,
    intervals: int = 8,
    seed: int = 1,
    replications: int = 5,
    **queue_extra: Any,
) -> dict[str, Any]:
    queue: dict[str, Any] = {
        "name": "general",
        "arrivals": {"kind": "poisson", "per_hour": per_hour},
        "handle_time": {"kind": "exponential", "mean_s": aht_s},
        **queue_extra,
    }
    if patience_s is not None:
        queue["patience"] = {"kind": "exponential", "mean_s": patience_s}
    return {
        "name": "single",
        "intervals": intervals,
        "seed": seed,
        "replications": replications,
        "kpi": {"short_abandon_s": 0},
        "queues": [queue],
        "agents": [
            {
                "group": "front",
                "skills": {"general": 5},
                "per_interval": agents if isinstance(agents, list) else [agents],
            }
        ],
    }


@pytest.fixture
def make_scenario() -> Any:
    """A factory of single-queue scenario dicts (M/M/n, or M/M/n+M with patience_s)."""
    return single_queue
