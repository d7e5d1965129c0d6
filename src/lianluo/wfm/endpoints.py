"""WFM API: staffing, forecast from the event log, weekly schedule and adherence.

Roles wfm, supervisor and admin. The endpoints are plain `def`: FastAPI runs them in its
threadpool, so a schedule solve of a few seconds does not block the event loop (it is kept
synchronous for now; its solver time is bounded by time_limit_s).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query

from lianluo.db.base import utcnow
from lianluo.deps import CurrentPrincipal, DbSession
from lianluo.wfm.schemas import (
    AdherenceIn,
    AdherenceOut,
    ForecastOut,
    PublishIn,
    PublishOut,
    ScheduleIn,
    ScheduleOut,
    StaffIn,
    StaffMany,
    StaffRow,
)
from lianluo.wfm.service import wfm_service

router = APIRouter(prefix="/api/v1/wfm", tags=["wfm"])


@router.post("/staff", response_model=StaffRow | StaffMany)
def staff(body: StaffIn, principal: CurrentPrincipal) -> StaffRow | StaffMany:
    """Required agents per interval with Erlang C, or Erlang A when patience_s is given; the
    same inputs and outputs as `lianluo wfm staff --json` (one row for one number of contacts,
    `{"intervals": [...]}` for a list)."""
    return wfm_service.staff(principal, body)


@router.get("/forecast", response_model=ForecastOut)
def forecast(
    principal: CurrentPrincipal,
    session: DbSession,
    queue_id: str | None = Query(None, max_length=64, description="one queue; default all"),
    interval_min: int = Query(30, description="interval length in minutes: 15, 30 or 60"),
    horizon_days: int = Query(7, ge=1, le=28, description="days to forecast from today"),
    history_weeks: int = Query(8, ge=2, le=26, description="weeks of history to read"),
    models: Literal["light", "full"] = Query(
        "light", description="light: seasonal naive and weekday profile; full: + MSTL, AutoETS"
    ),
) -> ForecastOut:
    """Contacts per interval from the tenant's contact.queued events (whole days before today),
    with the model chosen by rolling-origin backtest and its WAPE, and the actual counts of the
    last `horizon_days` days and today so far."""
    return wfm_service.forecast(
        session,
        principal,
        queue_id=queue_id,
        interval_min=interval_min,
        horizon_days=horizon_days,
        history_weeks=history_weeks,
        full_models=models == "full",
        now=utcnow(),
    )


@router.post("/schedule", response_model=ScheduleOut)
def schedule(body: ScheduleIn, principal: CurrentPrincipal, session: DbSession) -> ScheduleOut:
    """Weekly tours covering the required agents per interval (given, or computed from the
    forecast and the targets); with `assign`, the tours go to the tenant's agents and their
    activities come back, ready for /adherence. Synchronous: takes up to time_limit_s."""
    return wfm_service.schedule(session, principal, body, utcnow())


@router.post("/adherence", response_model=AdherenceOut)
def adherence(
    body: AdherenceIn,
    principal: CurrentPrincipal,
    session: DbSession,
    since: datetime | None = Query(None, description="window start; default until − 1 day"),
    until: datetime | None = Query(None, description="window end; default now"),
    team: str | None = Query(None, max_length=100, description="only agents of this team"),
) -> AdherenceOut:
    """Scheduled activities (in the body) against the agent states logged as
    agent.state_changed events, per agent and per team."""
    return wfm_service.adherence(
        session, principal, body, since=since, until=until, team=team, now=utcnow()
    )


@router.put("/activities", response_model=PublishOut)
def publish_activities(
    body: PublishIn, principal: CurrentPrincipal, session: DbSession
) -> PublishOut:
    """Publish scheduled activities (work, break, lunch, meeting, training, off) of agents:
    per agent they replace what was published between its first start and its last end. Agent
    scorecards compute schedule adherence against them."""
    return wfm_service.publish(session, principal, body)
