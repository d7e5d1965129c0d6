"""Reports API: historical reports, exports, drill-down, scorecards, saved reports.

Reports: roles supervisor, admin, wfm and partner_admin (a partner admin sees only the
contacts of its partner's queues). Scorecards: also agents, their own only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from lianluo.db.base import utcnow
from lianluo.deps import Context, CurrentPrincipal, DbSession
from lianluo.paging import Page, PageParams, page_params
from lianluo.reports import export as exporter
from lianluo.reports.scheduler import saved_report_service
from lianluo.reports.schemas import (
    DrillPage,
    ExportFormat,
    Figure,
    GroupColumn,
    Outcome,
    ReportOut,
    ReportQuery,
    SavedReportIn,
    SavedReportOut,
    Scorecard,
)
from lianluo.reports.service import report_service

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

Report = Annotated[ReportQuery, Query()]


@router.get("/historical", response_model=ReportOut)
def historical(query: Report, principal: CurrentPrincipal, session: DbSession) -> ReportOut:
    """KPIs per bucket (15/30/60 min, day, week, month of the tenant's time zone) and group
    (queue, skill, agent, team, partner, channel, region). A contact counts in the bucket
    where it was queued; its skill is the one it required at the highest level, its team the
    answering agent's, its region the customer's."""
    return report_service.report(session, principal, query)


@router.get(
    "/historical/export",
    response_class=Response,
    responses={200: {"content": {m: {} for m in exporter.MEDIA_TYPES.values()}}},
)
def historical_export(
    query: Report,
    principal: CurrentPrincipal,
    session: DbSession,
    fmt: ExportFormat = Query("xlsx", alias="format", description="csv or xlsx"),
) -> Response:
    """The same report as a CSV or XLSX file (a last row holds the totals)."""
    report = report_service.report(session, principal, query)
    name = f"report-{report.since.date()}-{query.group_by}-{query.grain}.{fmt}"
    return Response(
        exporter.export(report, fmt),
        media_type=exporter.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/contacts", response_model=DrillPage)
def drill_down(
    principal: CurrentPrincipal,
    session: DbSession,
    since: datetime = Query(description="cell start (a report row's `start`), with time zone"),
    until: datetime = Query(description="cell end (a report row's `end`)"),
    queue_id: str | None = Query(None, max_length=64),
    agent_id: str | None = Query(None, max_length=64),
    partner_id: str | None = Query(None, max_length=64),
    channel: str | None = Query(None, max_length=16),
    skill: str | None = Query(None, max_length=100),
    team: str | None = Query(None, max_length=100),
    region: str | None = Query(None, max_length=100),
    outcome: Outcome = Query("all"),
    figure: Figure = Query(
        "offered",
        description="the KPI of the cell (a field of the report's kpis): only the contacts it "
        "counts (a ratio: its denominator, each marked in_numerator or not)",
    ),
    missing: GroupColumn | None = Query(
        None, description="only contacts without this label: the report row whose key is null"
    ),
    page: PageParams = Depends(page_params),
) -> DrillPage:
    """The contacts behind one figure of a report cell: queued in [since, until) with the
    cell's key, those the figure counts. An empty list says why in `message`."""
    return report_service.contacts(
        session,
        principal,
        since,
        until,
        page,
        queue_id=queue_id,
        agent_id=agent_id,
        partner_id=partner_id,
        channel=channel,
        skill=skill,
        team=team,
        region=region,
        outcome=outcome,
        figure=figure,
        missing=missing,
    )


@router.get("/agents/{agent_id}/scorecard", response_model=Scorecard)
def agent_scorecard(
    agent_id: str,
    principal: CurrentPrincipal,
    session: DbSession,
    date_from: date | None = Query(None, description="local date; default 6 days before date_to"),
    date_to: date | None = Query(None, description="local date, included; default today"),
) -> Scorecard:
    """Handled, AHT (talk/hold/ACW), FCR, CSAT, occupancy of one agent over local dates."""
    return report_service.scorecard(session, principal, agent_id, date_from, date_to)


@router.get("/me/scorecard", response_model=Scorecard)
def my_scorecard(
    principal: CurrentPrincipal,
    session: DbSession,
    date_from: date | None = Query(None, description="local date; default 6 days before date_to"),
    date_to: date | None = Query(None, description="local date, included; default today"),
) -> Scorecard:
    """The caller's own scorecard (agents)."""
    return report_service.scorecard(session, principal, None, date_from, date_to)


@router.get("/saved", response_model=Page[SavedReportOut])
def list_saved(
    principal: CurrentPrincipal, session: DbSession, page: PageParams = Depends(page_params)
) -> Page[SavedReportOut]:
    return saved_report_service.list(session, principal, page)


@router.post("/saved", response_model=SavedReportOut, status_code=201)
def create_saved(
    body: SavedReportIn, principal: CurrentPrincipal, session: DbSession
) -> SavedReportOut:
    """A report e-mailed to `recipients` every day, week or month (first run: now)."""
    return saved_report_service.create(session, principal, body, utcnow())


@router.delete("/saved/{report_id}", status_code=204)
def delete_saved(report_id: str, principal: CurrentPrincipal, session: DbSession) -> Response:
    saved_report_service.delete(session, principal, report_id)
    return Response(status_code=204)


@router.post("/saved/{report_id}/send", response_model=SavedReportOut)
def send_saved(
    report_id: str, principal: CurrentPrincipal, session: DbSession, ctx: Context
) -> SavedReportOut:
    """E-mail the report now (SMTP settings LIANLUO_SMTP_*); the schedule is unchanged."""
    return saved_report_service.send_now(session, principal, report_id, ctx.settings, utcnow())
