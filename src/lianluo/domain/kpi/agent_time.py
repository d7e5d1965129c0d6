"""Staffed time of an agent from its state changes, for occupancy (占用率)."""

from __future__ import annotations

from collections.abc import Iterable

STAFFED_STATES = frozenset({"available", "busy", "wrap_up"})


def staffed_time_s(
    changes: Iterable[tuple[float, str]],
    since_s: float,
    until_s: float,
    state_at_since: str = "offline",
) -> float:
    """Seconds in [since_s, until_s) the agent spent logged in and not on a break.

    `changes` are (epoch time, new state) in time order; a state like "break:lunch" or
    "offline" is not staffed. Routed work is load, not a state (domain/routing), so the time
    spent handling contacts is inside the staffed time: occupancy is then
    handling / staffed = handling / (available + handling) of DESIGN.md's table.
    """
    total = 0.0
    state = state_at_since
    at = since_s
    for moment, new_state in changes:
        if moment >= until_s:
            break
        if moment > at:
            if state in STAFFED_STATES:
                total += moment - at
            at = moment
        state = new_state
    if until_s > at and state in STAFFED_STATES:
        total += until_s - at
    return total
