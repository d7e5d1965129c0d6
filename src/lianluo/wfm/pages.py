"""The WFM page (/wfm) and plotly.js, served from the installed plotly package (no CDN)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.responses import FileResponse, PlainTextResponse
from starlette.routing import Route, Router

from lianluo.deps import Context, DbSession, get_principal
from lianluo.errors import Unauthorized
from lianluo.web.pages import render
from lianluo.wfm.repository import wfm_repository as repo
from lianluo.wfm.service import WFM_USERS

router = APIRouter(include_in_schema=False)


def plotly_js_path() -> Path:
    """plotly.min.js from the plotly package's package_data (the version pip installed)."""
    return Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))


def _plotly_js(_request: Request) -> Response:
    path = plotly_js_path()
    if not path.is_file():  # a broken install; say so instead of a bare 404
        return PlainTextResponse("plotly.min.js is missing from the plotly package", 404)
    return FileResponse(
        path,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=86400"},
    )


# Mounted at /static/vendor by app.py, ahead of /static.
vendor_files = Router(routes=[Route("/plotly.min.js", _plotly_js)])


@router.get("/wfm", response_class=HTMLResponse)
def wfm_page(request: Request, session: DbSession, ctx: Context) -> Response:
    try:
        principal = get_principal(request, session, ctx)
    except Unauthorized:
        return RedirectResponse("/login?next=/wfm", status_code=303)
    if not principal.has_any(WFM_USERS):
        return render(request, "wfm_forbidden.html", status_code=403)
    return render(
        request,
        "wfm.html",
        queues=repo.queues(session, principal),
        teams=repo.teams(session, principal),
        tz=repo.tenant_timezone(session, principal.tenant_id),
        username=principal.username,
    )
