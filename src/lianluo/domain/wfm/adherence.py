"""Schedule adherence: scheduled activities against the agent states actually logged.

Pure computation over two lists of time intervals per agent (seconds on any common clock); the
caller turns the event log's agent.state_changed events into `StateInterval`s.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Agent states (DESIGN.md: offline, available, busy, wrap_up, break:reason) that keep an agent
# in adherence with each scheduled activity. A state "break:lunch" matches "break:lunch" or
# "break".
DEFAULT_ADHERENT_STATES: Mapping[str, frozenset[str]] = {
    "work": frozenset({"available", "busy", "wrap_up"}),
    "break": frozenset({"break"}),
    "lunch": frozenset({"break"}),
    "meeting": frozenset({"break:meeting"}),
    "training": frozenset({"break:training"}),
    "off": frozenset({"offline"}),
}
WORK_STATES = DEFAULT_ADHERENT_STATES["work"]
OFF = "off"
OFFLINE = "offline"


@dataclass(frozen=True)
class ScheduledActivity:
    agent_id: str
    start_s: float
    end_s: float
    activity: str


@dataclass(frozen=True)
class StateInterval:
    agent_id: str
    start_s: float
    end_s: float
    state: str


@dataclass(frozen=True)
class Deviation:
    agent_id: str
    start_s: float
    end_s: float
    scheduled: str
    actual: str


@dataclass(frozen=True)
class AdherenceReport:
    """Totals for one agent or team over the window.

    adherence = in_adherence_s / scheduled_s over scheduled (non-off) time;
    conformance = worked_s / scheduled_work_s (time in work states over time scheduled to work).
    """

    scheduled_s: float
    in_adherence_s: float
    scheduled_work_s: float
    worked_s: float
    deviations: tuple[Deviation, ...]

    @property
    def adherence(self) -> float:
        return self.in_adherence_s / self.scheduled_s if self.scheduled_s > 0 else 1.0

    @property
    def conformance(self) -> float:
        return self.worked_s / self.scheduled_work_s if self.scheduled_work_s > 0 else 1.0


def _matches(state: str, allowed: frozenset[str]) -> bool:
    return state in allowed or state.split(":", 1)[0] in allowed


def _by_agent(
    items: Iterable[ScheduledActivity] | Iterable[StateInterval], kind: str
) -> dict[str, list[tuple[float, float, str]]]:
    grouped: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for item in items:
        if not item.end_s > item.start_s:
            raise ValueError(f"{kind} of {item.agent_id} must end after it starts: {item}")
        label = item.activity if isinstance(item, ScheduledActivity) else item.state
        grouped[item.agent_id].append((item.start_s, item.end_s, label))
    for agent_id, spans in grouped.items():
        spans.sort()
        for (_, end, _), (start, _, _) in zip(spans, spans[1:], strict=False):
            if start < end:
                raise ValueError(f"{kind} of {agent_id} overlap at {start}")
    return grouped


def _label_at(spans: list[tuple[float, float, str]], t: float, default: str) -> str:
    for start, end, label in spans:
        if start <= t < end:
            return label
        if start > t:
            break
    return default


def compute_adherence(
    schedule: Iterable[ScheduledActivity],
    states: Iterable[StateInterval],
    *,
    window_start_s: float,
    window_end_s: float,
    grace_s: float = 0.0,
    adherent_states: Mapping[str, frozenset[str]] = DEFAULT_ADHERENT_STATES,
) -> dict[str, AdherenceReport]:
    """Per-agent adherence and conformance over [window_start_s, window_end_s).

    Definitions after Cleveland, *Call Center Management on Fast Forward* (3rd ed., 2012),
    ch. 7: adherence is the share of scheduled time spent in the scheduled activity,
    conformance the time worked over the time scheduled to work. Time outside any scheduled
    activity counts as "off"; time outside any logged state as "offline". Out-of-adherence
    episodes shorter than `grace_s` are forgiven (the usual adherence threshold).
    """
    if not window_end_s > window_start_s:
        raise ValueError("window_end_s must be after window_start_s")
    if grace_s < 0:
        raise ValueError("grace_s must be >= 0")
    planned = _by_agent(schedule, "schedule")
    actual = _by_agent(states, "states")
    for spans in planned.values():
        for _, _, activity in spans:
            if activity not in adherent_states:
                raise ValueError(
                    f"unknown scheduled activity {activity!r}; known: {sorted(adherent_states)}"
                )
    reports = {}
    for agent_id in sorted(set(planned) | set(actual)):
        plan, log = planned.get(agent_id, []), actual.get(agent_id, [])
        cuts = {window_start_s, window_end_s}
        for start, end, _ in plan + log:
            cuts.update(t for t in (start, end) if window_start_s < t < window_end_s)
        points = sorted(cuts)
        scheduled_s = in_adherence_s = scheduled_work_s = worked_s = 0.0
        episodes: list[Deviation] = []
        for start, end in zip(points, points[1:], strict=False):
            length = end - start
            activity = _label_at(plan, start, OFF)
            state = _label_at(log, start, OFFLINE)
            if activity == "work":
                scheduled_work_s += length
                worked_s += length if _matches(state, WORK_STATES) else 0.0
            if activity == OFF:
                continue
            scheduled_s += length
            if _matches(state, adherent_states[activity]):
                in_adherence_s += length
                continue
            last = episodes[-1] if episodes else None
            if last and last.end_s == start and (last.scheduled, last.actual) == (activity, state):
                episodes[-1] = Deviation(agent_id, last.start_s, end, activity, state)
            else:
                episodes.append(Deviation(agent_id, start, end, activity, state))
        kept = tuple(d for d in episodes if d.end_s - d.start_s >= grace_s or grace_s == 0)
        forgiven = sum(d.end_s - d.start_s for d in episodes if d not in kept)
        reports[agent_id] = AdherenceReport(
            scheduled_s, in_adherence_s + forgiven, scheduled_work_s, worked_s, kept
        )
    return reports


def team_adherence(
    per_agent: Mapping[str, AdherenceReport], team_of: Mapping[str, str]
) -> dict[str, AdherenceReport]:
    """Time-weighted team totals (a team's adherence is Σ in-adherence / Σ scheduled)."""
    teams: dict[str, list[AdherenceReport]] = defaultdict(list)
    for agent_id, report in per_agent.items():
        if agent_id not in team_of:
            raise ValueError(f"agent {agent_id!r} has no team")
        teams[team_of[agent_id]].append(report)
    return {
        team: AdherenceReport(
            sum(r.scheduled_s for r in reports),
            sum(r.in_adherence_s for r in reports),
            sum(r.scheduled_work_s for r in reports),
            sum(r.worked_s for r in reports),
            tuple(d for r in reports for d in r.deviations),
        )
        for team, reports in sorted(teams.items())
    }
