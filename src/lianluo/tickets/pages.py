"""Back-office ticket pages: /tickets (list or board by status, filters, SLA colours) and
/tickets/{id} (notes, replies, attachments, call-backs, history). Actions go through the API
with the session cookie (static/tickets.js)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lianluo.auth.principal import CUSTOMER_READERS
from lianluo.deps import Context, DbSession, get_principal
from lianluo.domain.tickets.sla import SlaState
from lianluo.domain.tickets.states import ALLOWED, TicketStatus
from lianluo.errors import NotFound, Unauthorized
from lianluo.tickets import schemas as s
from lianluo.tickets.repository import TicketFilters, ticket_repository
from lianluo.tickets.service import SUPERVISORS, ticket_service
from lianluo.web.pages import render

router = APIRouter(include_in_schema=False)
BOARD_COLUMNS = [
    TicketStatus.new,
    TicketStatus.in_progress,
    TicketStatus.waiting_customer,
    TicketStatus.resolved,
    TicketStatus.closed,
]
PAGE_LIMIT = 200


def _to_login(request: Request) -> Response:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(here[:500], safe='')}", status_code=303)


def _tz(session: DbSession, tenant_id: str) -> ZoneInfo:
    return ZoneInfo(ticket_repository.tenant_timezone(session, tenant_id))


def _choice(value: str | None, allowed: list[str]) -> str | None:
    return value if value in allowed else None


@router.get("/tickets", response_class=HTMLResponse)
def tickets_page(request: Request, session: DbSession, ctx: Context) -> Response:
    try:
        principal = get_principal(request, session, ctx)
    except Unauthorized:
        return _to_login(request)
    if not principal.has_any(CUSTOMER_READERS):
        return render(request, "tickets_forbidden.html", status_code=403)
    params = request.query_params
    view = "board" if params.get("view") == "board" else "list"
    categories, _ = ticket_service.list_categories(session, principal, 0, 500)
    category_ids = [c.id for c in categories]
    status = _choice(params.get("status"), [str(x) for x in TicketStatus])
    tier_text = params.get("tier", "")
    chosen: dict[str, Any] = {
        "status": status,
        "priority": _choice(params.get("priority"), [str(p) for p in s.Priority]),
        "category_id": _choice(params.get("category_id"), category_ids),
        "sla": _choice(params.get("sla"), [str(x) for x in SlaState]),
        "tier": int(tier_text) if tier_text.isdigit() and int(tier_text) <= s.MAX_TIERS else None,
        "mine": params.get("mine") == "1",
        "q": (params.get("q") or "").replace("\x00", "")[:100],
    }
    # the board leaves merged duplicates out; the list shows whatever the filters ask
    board_statuses = [str(c) for c in BOARD_COLUMNS] if view == "board" else []
    filters = TicketFilters(
        status=[status] if status else board_statuses,
        priority=chosen["priority"],
        category_id=chosen["category_id"],
        tier=chosen["tier"],
        owner_id=principal.user_id if chosen["mine"] else None,
        q=chosen["q"] or None,
    )
    items, total = ticket_service.list(session, principal, filters, chosen["sla"], 0, PAGE_LIMIT)
    query = urlencode(
        {k: ("1" if v is True else v) for k, v in chosen.items() if v not in (None, "", False)}
    )
    columns = {str(c): [t for t in items if t.status == c] for c in BOARD_COLUMNS}
    return render(
        request,
        "tickets.html",
        view=view,
        items=items,
        total=total,
        columns=columns,
        chosen=chosen,
        query=query,
        categories=categories,
        statuses=[str(x) for x in TicketStatus],
        priorities=[str(p) for p in s.Priority],
        sla_states=[str(x) for x in SlaState],
        username=principal.username,
        tz=_tz(session, principal.tenant_id),
        names=ticket_repository.display_names(
            session, principal.tenant_id, [t.owner_id for t in items if t.owner_id]
        ),
    )


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_page(ticket_id: str, request: Request, session: DbSession, ctx: Context) -> Response:
    try:
        principal = get_principal(request, session, ctx)
    except Unauthorized:
        return _to_login(request)
    if not principal.has_any(CUSTOMER_READERS):
        return render(request, "tickets_forbidden.html", status_code=403)
    try:
        ticket = ticket_service.detail(session, principal, ticket_id[:64])
    except NotFound:
        return render(request, "tickets_forbidden.html", status_code=404, not_found=True)
    return render(
        request,
        "ticket_detail.html",
        ticket=ticket,
        next_statuses=sorted(str(x) for x in ALLOWED[ticket.status] if x != TicketStatus.merged),
        is_supervisor=principal.has_any(SUPERVISORS),
        me=principal.user_id,
        username=principal.username,
        tz=_tz(session, principal.tenant_id),
        names=ticket_repository.display_names(
            session,
            principal.tenant_id,
            [ticket.owner_id or "", *(e.author_id or "" for e in ticket.entries)],
        ),
    )
