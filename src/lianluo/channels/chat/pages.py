"""The widget script (/widget.js), its demo page (/demo/chat) and the agent desk (/desk)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from lianluo.deps import Context, DbSession, get_principal
from lianluo.errors import Unauthorized
from lianluo.models import Queue, Tenant
from lianluo.web.i18n import STRINGS, pick_language
from lianluo.web.pages import render

STATIC = Path(__file__).parent / "static"
router = APIRouter(include_in_schema=False)


@router.get("/widget.js")
def widget_js() -> Response:
    return FileResponse(
        STATIC / "widget.js",
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


@router.get("/demo/chat", response_class=HTMLResponse)
def demo_page(
    request: Request,
    session: DbSession,
    ctx: Context,
    tenant: str | None = Query(None, max_length=64),
    queue: str | None = Query(None, max_length=32),
) -> Response:
    """A page embedding the widget: ?tenant=<slug>&queue=<id>; without them, a signed-in
    user gets the first chat queue of its own tenant."""
    if not tenant or not queue:
        try:
            principal = get_principal(request, session, ctx)
        except Unauthorized:
            principal = None
        if principal is not None:
            rows = session.execute(
                select(Tenant.slug, Queue.id, Queue.channels)
                .join(Queue, Queue.tenant_id == Tenant.id)
                .where(Tenant.id == principal.tenant_id, Queue.is_active.is_(True))
                .order_by(Queue.created_at, Queue.id)
                .limit(200)
            ).all()
            first = next((r for r in rows if "chat" in r.channels), None)
            if first is not None:
                tenant, queue = first.slug, first.id
    return render(request, "chat_demo.html", tenant=tenant or "", queue=queue or "")


@router.get("/desk", response_class=HTMLResponse)
def desk_page(request: Request, session: DbSession, ctx: Context) -> Response:
    try:
        principal = get_principal(request, session, ctx)
    except Unauthorized:
        return RedirectResponse("/login?next=/desk", status_code=303)
    lang = pick_language(request)
    strings = {k: v[lang] for k, v in STRINGS.items() if k.startswith(("desk_", "chat_", "tk_"))}
    return render(request, "desk.html", username=principal.username, strings=strings)
