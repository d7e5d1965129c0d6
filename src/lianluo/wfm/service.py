"""WFM use cases over the event log: staffing, forecast, weekly schedule and adherence.

All of them only read; none writes the event log. Time (`now`) is passed in by the endpoint.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from lianluo.auth.principal import Principal
from lianluo.domain.wfm import staffing
from lianluo.domain.wfm.adherence import (
    AdherenceReport,
    ScheduledActivity,
    StateInterval,
    compute_adherence,
    team_adherence,
)
from lianluo.errors import NotFound, Unprocessable
from lianluo.models.user import Role
from lianluo.wfm.forecast import (
    AHT_S,
    CONTACTS,
    ForecastResult,
    default_models,
    forecast,
    future_open_intervals,
    intervals_from_timestamps,
    light_models,
    open_intervals,
    seasons,
)
from lianluo.wfm.repository import StateChange
from lianluo.wfm.repository import wfm_repository as repo
from lianluo.wfm.schemas import (
    ActivityIn,
    AdherenceIn,
    AdherenceOut,
    AdherenceRow,
    BacktestScore,
    DeviationOut,
    ForecastOut,
    ForecastPoint,
    ForecastRequirement,
    PublishIn,
    PublishOut,
    ScheduleIn,
    ScheduleOut,
    StaffIn,
    StaffMany,
    StaffRow,
    StaffTargets,
    TourOut,
)

WFM_USERS = frozenset({Role.wfm, Role.supervisor, Role.admin})
FORECAST_INTERVALS_MIN = (15, 30, 60)
# How far before `since` adherence looks for the state an agent was already in.
STATE_LOOKBACK = timedelta(days=2)
MAX_ADHERENCE_WINDOW = timedelta(days=31)
# Agents taking the tours of an assigned schedule: weekly contract and tolerance (hours), wide
# enough for both default shift types (30 h and 40 h a week).
CONTRACT_HOURS = 35.0
CONTRACT_TOLERANCE_HOURS = 6.0


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _epoch_s(at: datetime) -> float:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


class WfmService:
    # -- staffing ------------------------------------------------------------------------------

    def staff(self, principal: Principal, body: StaffIn) -> StaffRow | StaffMany:
        principal.require(WFM_USERS, "WFM staffing")
        many = isinstance(body.contacts, list)
        contacts = body.contacts if isinstance(body.contacts, list) else [body.contacts]
        result = self._required(contacts, body.aht_s, body.interval_s, body)
        rows = []
        for i, value in enumerate(contacts):
            rows.append(
                StaffRow(
                    contacts=value,
                    load_erlangs=float(result.load_erlangs.reshape(-1)[i]),
                    agents=int(result.agents.reshape(-1)[i]),
                    scheduled_agents=int(result.scheduled_agents.reshape(-1)[i]),
                    service_level=float(result.service_level.reshape(-1)[i]),
                    asa=_finite(float(result.asa_s.reshape(-1)[i])),
                    probability_wait=float(result.probability_wait.reshape(-1)[i]),
                    occupancy=float(result.occupancy.reshape(-1)[i]),
                    abandonment=None
                    if result.abandonment is None
                    else float(result.abandonment.reshape(-1)[i]),
                )
            )
        return StaffMany(intervals=rows) if many else rows[0]

    def _required(
        self, contacts: Any, aht_s: Any, interval_s: float, targets: StaffTargets
    ) -> staffing.StaffingResult:
        try:
            return staffing.required_agents_for_contacts(
                np.asarray(contacts, dtype=float),
                np.asarray(aht_s, dtype=float),
                interval_s,
                **targets.as_kwargs(),
            )
        except ValueError as exc:
            raise Unprocessable(str(exc)) from exc

    # -- forecast ------------------------------------------------------------------------------

    def _check_queue(self, session: Session, principal: Principal, queue_id: str | None) -> None:
        if queue_id is not None and not repo.queue_in_scope(session, principal, queue_id):
            raise NotFound.of("queue", queue_id)

    def _history(
        self,
        session: Session,
        principal: Principal,
        queue_id: str | None,
        interval_min: int,
        history_weeks: int,
        now: datetime,
    ) -> tuple[pd.DataFrame, pd.DataFrame, str, int]:
        """Whole local days of history before today (open intervals), today so far (from local
        midnight), the time zone and the number of contacts read."""
        tz = repo.tenant_timezone(session, principal.tenant_id)
        today = now.astimezone(ZoneInfo(tz)).replace(hour=0, minute=0, second=0, microsecond=0)
        since = today - timedelta(weeks=history_weeks)
        times, handle_s = repo.arrivals(session, principal, since, now, queue_id)
        if not times:
            raise Unprocessable(
                f"no contact.queued events in the last {history_weeks} weeks"
                + (f" for queue {queue_id}" if queue_id else "")
                + ": nothing to forecast from"
            )
        series = intervals_from_timestamps(
            times, interval_min=interval_min, tz=tz, handle_time_s=handle_s
        )
        cut = pd.Timestamp(today)
        history = open_intervals(series.loc[series.index < cut])
        current = series.loc[(series.index >= cut) & (series.index <= pd.Timestamp(now))]
        return history, current, tz, len(times)

    def forecast(
        self,
        session: Session,
        principal: Principal,
        *,
        queue_id: str | None,
        interval_min: int,
        horizon_days: int,
        history_weeks: int,
        full_models: bool,
        now: datetime,
    ) -> ForecastOut:
        principal.require(WFM_USERS, "WFM forecasting")
        if interval_min not in FORECAST_INTERVALS_MIN:
            raise Unprocessable(f"interval_min must be 15, 30 or 60, got {interval_min}")
        self._check_queue(session, principal, queue_id)
        history, current, tz, n_contacts = self._history(
            session, principal, queue_id, interval_min, history_weeks, now
        )
        result = self._forecast(history, interval_min, horizon_days, full_models)
        midnight = pd.Timestamp(now).tz_convert(tz).normalize()
        recent = history.loc[history.index >= midnight - pd.Timedelta(days=horizon_days)]
        actual = pd.concat([recent, current])
        return ForecastOut(
            queue_id=queue_id,
            tz=tz,
            interval_min=interval_min,
            model=result.model,
            backtest_wape=result.backtest_wape,
            backtest=[
                BacktestScore(model=r.model, wape=r.wape, window_wapes=list(r.window_wapes))
                for r in result.backtest
            ],
            history_contacts=n_contacts,
            forecast=_points(result.intervals),
            actual=_points(actual),
        )

    def _forecast(
        self, history: pd.DataFrame, interval_min: int, horizon_days: int, full_models: bool
    ) -> ForecastResult:
        try:
            if len(history) == 0:
                raise ValueError("no open intervals before today")
            week = seasons(history).week
            n_windows = max(1, min(4, len(history) // week - 1))
            future = future_open_intervals(
                history.index, horizon_days=horizon_days, interval_min=interval_min
            )
            return forecast(
                history,
                future_index=future,
                models=default_models() if full_models else light_models(),
                n_windows=n_windows,
            )
        except ValueError as exc:  # IntervalError is a ValueError
            raise Unprocessable(f"cannot forecast: {exc}") from exc

    # -- schedule ------------------------------------------------------------------------------

    def schedule(
        self, session: Session, principal: Principal, body: ScheduleIn, now: datetime
    ) -> ScheduleOut:
        """Synchronous on purpose (runs in the threadpool): the solve is bounded by time_limit_s."""
        from lianluo.wfm import schedule as scheduling

        principal.require(WFM_USERS, "WFM scheduling")
        tz = repo.tenant_timezone(session, principal.tenant_id)
        zone = ZoneInfo(tz)
        week_start = body.week_start or _monday(now.astimezone(zone).date())
        per_day = 1440 // body.interval_min
        if body.required_agents is not None:
            required = np.asarray(body.required_agents, dtype=float)
        else:
            assert body.from_forecast is not None
            required = self._required_from_forecast(
                session, principal, body.from_forecast, body.interval_min, now
            )
        rules = scheduling.TourRules(days_on=body.days_on, start_step_min=body.start_step_min)
        try:
            result = scheduling.schedule_week(
                required, body.interval_min, rules=rules, time_limit_s=body.time_limit_s
            )
        except (ValueError, RuntimeError) as exc:
            raise Unprocessable(f"cannot schedule: {exc}") from exc
        hours = body.interval_min / 60
        first = datetime.combine(week_start, datetime.min.time())
        starts = [
            (first + timedelta(minutes=i * body.interval_min)).replace(tzinfo=zone)
            for i in range(7 * per_day)
        ]
        activities: list[ActivityIn] = []
        unassigned = 0
        if body.assign:
            agents = repo.agents(session, principal, body.team)
            if not agents:
                raise Unprocessable(
                    "no agents to assign tours to"
                    + (f" in team {body.team!r}" if body.team else "")
                )
            assignment = scheduling.assign_tours(
                result,
                [
                    scheduling.Agent(a.id, CONTRACT_HOURS, hours_tolerance=CONTRACT_TOLERANCE_HOURS)
                    for a in agents
                ],
            )
            unassigned = len(assignment.unassigned)
            for agent_id, tour in sorted(assignment.by_agent.items()):
                activities.extend(_tour_activities(agent_id, tour, first, zone))
        return ScheduleOut(
            interval_min=body.interval_min,
            week_start=week_start,
            tz=tz,
            agents=result.agents,
            paid_hours=result.paid_hours,
            lp_bound_hours=result.lp_bound_hours,
            gap=result.objective_gap,
            understaffed_agent_hours=float(result.under.sum()) * hours,
            overstaffed_agent_hours=float(result.over.sum()) * hours,
            status=result.solver_status,
            seconds=result.seconds,
            tours=[
                TourOut(
                    days=list(t.working_days),
                    start=f"{t.start_min // 60:02d}:{t.start_min % 60:02d}",
                    shift=t.shift.name,
                    break_offsets_min=list(t.break_starts_min),
                    paid_hours_per_week=t.paid_min_per_week / 60,
                    count=count,
                )
                for t, count in result.tours
            ],
            interval_starts=starts,
            required=result.required.tolist(),
            coverage=result.coverage.tolist(),
            under=result.under.tolist(),
            over=result.over.tolist(),
            activities=activities,
            unassigned_tours=unassigned,
        )

    def _required_from_forecast(
        self,
        session: Session,
        principal: Principal,
        spec: ForecastRequirement,
        interval_min: int,
        now: datetime,
    ) -> np.ndarray:
        """Agents per interval of a Monday-first week from the next seven days' forecast; an
        interval the forecast leaves closed needs nobody."""
        self._check_queue(session, principal, spec.queue_id)
        history, _, _, _ = self._history(
            session, principal, spec.queue_id, interval_min, spec.history_weeks, now
        )
        result = self._forecast(history, interval_min, 7, full_models=False)
        future = result.intervals
        contacts = future[CONTACTS].to_numpy(dtype=float)
        if spec.aht_s is not None:
            aht = np.full(contacts.shape, spec.aht_s)
        else:
            aht = future[AHT_S].to_numpy(dtype=float)
            known = aht[np.isfinite(aht) & (aht > 0)]
            if known.size == 0:
                raise Unprocessable("the history has no handle times: give from_forecast.aht_s")
            aht = np.where(np.isfinite(aht) & (aht > 0), aht, float(np.median(known)))
        agents = self._required(np.maximum(contacts, 0.0), aht, interval_min * 60.0, spec).agents
        per_day = 1440 // interval_min
        slots = (
            np.asarray(future.index.dayofweek) * per_day
            + (np.asarray(future.index.hour) * 60 + np.asarray(future.index.minute)) // interval_min
        )
        required = np.zeros(7 * per_day)
        np.maximum.at(required, slots, agents.reshape(-1).astype(float))
        return required

    # -- adherence -----------------------------------------------------------------------------

    def adherence(
        self,
        session: Session,
        principal: Principal,
        body: AdherenceIn,
        *,
        since: datetime | None,
        until: datetime | None,
        team: str | None,
        now: datetime,
    ) -> AdherenceOut:
        principal.require(WFM_USERS, "WFM adherence")
        until = _aware(until) if until else now
        since = _aware(since) if since else until - timedelta(days=1)
        if not until > since:
            raise Unprocessable("until must be after since")
        if until - since > MAX_ADHERENCE_WINDOW:
            raise Unprocessable(f"the window may span at most {MAX_ADHERENCE_WINDOW.days} days")
        in_scope = {a.id: a for a in repo.agents(session, principal, None)}
        unknown = sorted({a.agent_id for a in body.activities} - set(in_scope))
        if unknown:
            raise Unprocessable(
                f"unknown agent ids in activities: {', '.join(unknown[:5])}"
                + (" …" if len(unknown) > 5 else "")
            )
        plan = [
            ScheduledActivity(a.agent_id, _epoch_s(a.start), _epoch_s(a.end), a.activity)
            for a in body.activities
            if team is None or in_scope[a.agent_id].team == team
        ]
        planned_ids = sorted({p.agent_id for p in plan})
        changes = repo.state_changes(session, principal, planned_ids, since - STATE_LOOKBACK, until)
        states = _state_intervals(changes, until)
        try:
            per_agent = compute_adherence(
                plan,
                states,
                window_start_s=_epoch_s(since),
                window_end_s=_epoch_s(until),
                grace_s=body.grace_s,
            )
            teams = team_adherence(
                per_agent, {agent_id: in_scope[agent_id].team for agent_id in per_agent}
            )
        except ValueError as exc:
            raise Unprocessable(str(exc)) from exc
        zone = ZoneInfo(repo.tenant_timezone(session, principal.tenant_id))
        return AdherenceOut(
            since=since,
            until=until,
            agents=[
                _adherence_row(agent_id, in_scope[agent_id].label, in_scope[agent_id].team, r, zone)
                for agent_id, r in per_agent.items()
            ],
            teams=[_adherence_row(name, name, name, r, zone) for name, r in teams.items()],
        )

    # -- published schedules ---------------------------------------------------------------

    def publish(self, session: Session, principal: Principal, body: PublishIn) -> PublishOut:
        """Store the agents' scheduled activities (e.g. /schedule's with assign): per agent,
        they replace what was published between its first start and its last end."""
        principal.require(WFM_USERS, "publishing schedules")
        in_scope = {a.id for a in repo.agents(session, principal, None)}
        unknown = sorted({a.agent_id for a in body.activities} - in_scope)
        if unknown:
            raise Unprocessable(f"unknown agent ids in activities: {', '.join(unknown[:5])}")
        plan = [
            ScheduledActivity(a.agent_id, _epoch_s(a.start), _epoch_s(a.end), a.activity)
            for a in body.activities
        ]
        try:  # the same checks as adherence: known activities, no overlaps per agent
            compute_adherence(plan, [], window_start_s=0.0, window_end_s=1.0)
        except ValueError as exc:
            raise Unprocessable(str(exc)) from exc
        by_agent: dict[str, list[ActivityIn]] = defaultdict(list)
        for activity in body.activities:
            by_agent[activity.agent_id].append(activity)
        for agent_id, items in sorted(by_agent.items()):
            repo.replace_activities(
                session,
                principal.tenant_id,
                agent_id,
                min(a.start for a in items),
                max(a.end for a in items),
                [(a.start, a.end, a.activity) for a in items],
            )
        return PublishOut(agents=len(by_agent), activities=len(body.activities))

    def stored_adherence(
        self,
        session: Session,
        principal: Principal,
        agent_id: str,
        since: datetime,
        until: datetime,
    ) -> AdherenceReport | None:
        """Adherence of one agent over [since, until) to its published schedule, from its
        agent.state_changed events; None when nothing is published for it in the window."""
        stored = repo.activities(session, principal, [agent_id], since, until)
        if not stored or not until > since:
            return None
        plan = [
            ScheduledActivity(agent_id, _epoch_s(a.start_at), _epoch_s(a.end_at), a.activity)
            for a in stored
        ]
        changes = repo.state_changes(session, principal, [agent_id], since - STATE_LOOKBACK, until)
        reports = compute_adherence(
            plan,
            _state_intervals(changes, until),
            window_start_s=_epoch_s(since),
            window_end_s=_epoch_s(until),
        )
        report = reports.get(agent_id)
        return report if report is not None and report.scheduled_s > 0 else None


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _points(frame: pd.DataFrame) -> list[ForecastPoint]:
    contacts = frame[CONTACTS].to_numpy(dtype=float)
    aht = frame[AHT_S].to_numpy(dtype=float)
    return [
        ForecastPoint(
            start=start.to_pydatetime(),
            contacts=_finite(round(float(c), 3)),
            aht_s=_finite(round(float(h), 1)),
        )
        for start, c, h in zip(frame.index, contacts, aht, strict=True)
    ]


def _tour_activities(agent_id: str, tour: Any, first: datetime, zone: ZoneInfo) -> list[ActivityIn]:
    """One tour as work and break activities per working day (breaks of 30 min or more are
    lunch)."""
    out = []
    for day in tour.working_days:
        start = first + timedelta(days=day, minutes=tour.start_min)
        cuts = [(0, "work")]
        for offset, rule in zip(tour.break_starts_min, tour.shift.breaks, strict=True):
            cuts.append((offset, "lunch" if rule.length_min >= 30 else "break"))
            cuts.append((offset + rule.length_min, "work"))
        cuts.sort()
        bounds = [offset for offset, _ in cuts] + [tour.shift.length_min]
        for (offset, activity), end in zip(cuts, bounds[1:], strict=True):
            if end > offset:
                out.append(
                    ActivityIn(
                        agent_id=agent_id,
                        start=(start + timedelta(minutes=offset)).replace(tzinfo=zone),
                        end=(start + timedelta(minutes=end)).replace(tzinfo=zone),
                        activity=activity,
                    )
                )
    return out


def _state_name(payload: dict[str, Any]) -> str:
    """The logged state as adherence reads it: `break:lunch` for a break with a reason."""
    state = str(payload.get("to") or payload.get("state") or "offline")
    reason = str(payload.get("reason") or "")
    if state == "break" and reason:
        return f"break:{reason}"
    return state


def _state_intervals(changes: list[StateChange], until: datetime) -> list[StateInterval]:
    by_agent: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for change in changes:
        by_agent[change.agent_id].append((_epoch_s(change.at), _state_name(change.payload)))
    end_s = _epoch_s(until)
    intervals = []
    for agent_id, points in by_agent.items():
        for (start, state), (end, _) in zip(points, [*points[1:], (end_s, "")], strict=True):
            if end > start:
                intervals.append(StateInterval(agent_id, start, end, state))
    return intervals


def _adherence_row(
    name: str, label: str, team: str, report: AdherenceReport, zone: ZoneInfo
) -> AdherenceRow:
    return AdherenceRow(
        name=name,
        label=label,
        team=team,
        adherence=report.adherence,
        conformance=report.conformance,
        scheduled_s=report.scheduled_s,
        in_adherence_s=report.in_adherence_s,
        scheduled_work_s=report.scheduled_work_s,
        worked_s=report.worked_s,
        deviations=[
            DeviationOut(
                start=datetime.fromtimestamp(d.start_s, zone),
                end=datetime.fromtimestamp(d.end_s, zone),
                scheduled=d.scheduled,
                actual=d.actual,
            )
            for d in report.deviations
        ],
    )


wfm_service = WfmService()
