"""The supervisor wallboard page (/wall): figures pushed over /ws/wall, charts by plotly.js
served from the installed package (/static/vendor/plotly.min.js)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lianluo.deps import Context, DbSession, get_principal
from lianluo.errors import Unauthorized
from lianluo.realtime.service import WALL_READERS
from lianluo.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/wall", response_class=HTMLResponse)
def wall_page(request: Request, session: DbSession, ctx: Context) -> Response:
    try:
        principal = get_principal(request, session, ctx)
    except Unauthorized:
        return RedirectResponse("/login?next=/wall", status_code=303)
    if not principal.has_any(WALL_READERS):
        return render(request, "forbidden.html", status_code=403, message_key="wall_forbidden")
    return render(request, "wall.html", username=principal.username)
