"""The reports page (/reports): filters, plotly charts, the table, drill-down, downloads."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lianluo.db.base import utcnow
from lianluo.deps import Context, DbSession, get_principal
from lianluo.errors import Unauthorized
from lianluo.reports.repository import report_repository as repo
from lianluo.reports.service import REPORT_READERS
from lianluo.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, session: DbSession, ctx: Context) -> Response:
    try:
        principal = get_principal(request, session, ctx)
    except Unauthorized:
        return RedirectResponse("/login?next=/reports", status_code=303)
    if not principal.has_any(REPORT_READERS):
        return render(request, "reports_forbidden.html", status_code=403)
    tz = repo.timezone(session, principal)
    today = utcnow().astimezone(ZoneInfo(tz)).date()
    queues = sorted(repo.queue_names(session, principal).items(), key=lambda q: q[1])
    agents = sorted(repo.agent_names(session, principal).items(), key=lambda a: a[1])
    partners = sorted(repo.partner_names(session, principal).items(), key=lambda p: p[1])
    return render(
        request,
        "reports.html",
        tz=tz,
        queues=queues,
        agents=agents,
        partners=partners,
        skills=repo.skill_names(session, principal),
        teams=sorted(set(repo.agent_teams(session, principal).values())),
        regions=repo.regions(session, principal),
        date_from=(today - timedelta(days=6)).isoformat(),
        date_to=today.isoformat(),
        today=today.isoformat(),
        username=principal.username,
    )
