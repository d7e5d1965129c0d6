from __future__ import annotations

from datetime import timedelta
from enum import Enum
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Query, UploadFile, status
from fastapi.responses import Response
from pydantic import AwareDatetime

from lianluo.db.base import utcnow
from lianluo.deps import CurrentPrincipal, DbSession
from lianluo.domain.tickets.ownership import OwnershipModel
from lianluo.domain.tickets.sla import SlaState
from lianluo.domain.tickets.states import TicketStatus
from lianluo.paging import Page, PageParams, page_params
from lianluo.tenants.schemas import NO_NUL, IdPath
from lianluo.tickets import schemas as s
from lianluo.tickets.repository import TicketFilters
from lianluo.tickets.service import ticket_service

router = APIRouter(prefix="/api/v1")
Paging = Annotated[PageParams, Depends(page_params)]


def _id_query(description: str) -> Any:
    return Query(None, max_length=32, pattern=NO_NUL, description=description)


TAGS: list[str | Enum] = ["tickets"]


# ---- settings and categories -------------------------------------------------------------------


@router.get(
    "/tickets/settings",
    response_model=s.TicketSettingsOut,
    tags=TAGS,
    summary="Business calendar, SLA per priority, repeat-complaint window",
)
def get_settings(principal: CurrentPrincipal, session: DbSession) -> s.TicketSettingsOut:
    return ticket_service.get_settings(session, principal)


@router.put(
    "/tickets/settings",
    response_model=s.TicketSettingsOut,
    tags=TAGS,
    summary="Replace the ticket settings (tenant admins)",
)
def put_settings(
    body: s.TicketSettingsIn, principal: CurrentPrincipal, session: DbSession
) -> s.TicketSettingsOut:
    """Running tickets keep their SLA target; the new calendar applies from now on."""
    return ticket_service.put_settings(session, principal, body)


@router.get(
    "/ticket-categories",
    response_model=Page[s.CategoryOut],
    tags=TAGS,
    summary="List ticket categories",
)
def list_categories(
    principal: CurrentPrincipal, session: DbSession, paging: Paging
) -> Page[s.CategoryOut]:
    rows, total = ticket_service.list_categories(
        session, principal, paging.offset, paging.page_size
    )
    return Page(
        items=[s.CategoryOut.model_validate(r) for r in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/ticket-categories",
    response_model=s.CategoryOut,
    status_code=status.HTTP_201_CREATED,
    tags=TAGS,
    summary="Create a category with its ownership model (首问负责 or tiered)",
)
def create_category(
    body: s.CategoryIn, principal: CurrentPrincipal, session: DbSession
) -> s.CategoryOut:
    return s.CategoryOut.model_validate(ticket_service.create_category(session, principal, body))


@router.get(
    "/ticket-categories/{category_id}",
    response_model=s.CategoryOut,
    tags=TAGS,
    summary="Read a ticket category",
)
def get_category(
    category_id: IdPath, principal: CurrentPrincipal, session: DbSession
) -> s.CategoryOut:
    return s.CategoryOut.model_validate(
        ticket_service.get_category(session, principal, category_id)
    )


@router.patch(
    "/ticket-categories/{category_id}",
    response_model=s.CategoryOut,
    tags=TAGS,
    summary="Rename, (de)activate or change the tiers of a category",
)
def update_category(
    category_id: IdPath, body: s.CategoryUpdate, principal: CurrentPrincipal, session: DbSession
) -> s.CategoryOut:
    """The ownership model of a category is fixed: create another category to change it."""
    return s.CategoryOut.model_validate(
        ticket_service.update_category(session, principal, category_id, body)
    )


# ---- tickets --------------------------------------------------------------------------------


@router.get("/tickets", response_model=Page[s.TicketOut], tags=TAGS, summary="List tickets")
def list_tickets(
    principal: CurrentPrincipal,
    session: DbSession,
    paging: Paging,
    status_: list[TicketStatus] | None = Query(None, alias="status"),
    priority: s.Priority | None = None,
    category_id: str | None = _id_query("a ticket category"),
    customer_id: str | None = _id_query("a customer"),
    owner_id: str | None = _id_query("a user owning tickets"),
    queue_id: str | None = _id_query("the queue of the ticket's tier"),
    tier: int | None = Query(None, ge=0, le=s.MAX_TIERS),
    ownership_model: OwnershipModel | None = None,
    open: bool = Query(False, description="only new, in_progress and waiting_customer"),
    unassigned: bool = Query(False, description="only tickets nobody owns (a tier's queue)"),
    mine: bool = Query(False, description="only tickets the caller owns"),
    repeat_complaint: bool | None = None,
    over_the_head: bool | None = None,
    sla: SlaState | None = Query(None, description="ok, warning, breached or paused"),
    q: str | None = Query(None, max_length=100, pattern=NO_NUL, description="part of the subject"),
) -> Page[s.TicketOut]:
    """Newest first. "Open tickets of customer X" for the agent desktop:
    `?customer_id=X&open=true`."""
    filters = TicketFilters(
        status=[str(x) for x in status_ or []],
        priority=str(priority) if priority else None,
        category_id=category_id,
        customer_id=customer_id,
        owner_id=principal.user_id if mine else owner_id,
        queue_id=queue_id,
        tier=tier,
        ownership_model=str(ownership_model) if ownership_model else None,
        open_only=open,
        unassigned=unassigned,
        repeat_complaint=repeat_complaint,
        over_the_head=over_the_head,
        q=q,
    )
    items, total = ticket_service.list(
        session, principal, filters, str(sla) if sla else None, paging.offset, paging.page_size
    )
    return Page(items=items, total=total, page=paging.page, page_size=paging.page_size)


@router.post(
    "/tickets",
    response_model=s.TicketOut,
    status_code=status.HTTP_201_CREATED,
    tags=TAGS,
    summary="File a ticket from a contact or by hand",
)
def create_ticket(body: s.TicketIn, principal: CurrentPrincipal, session: DbSession) -> s.TicketOut:
    """The caller becomes its first owner (首问). Complaint categories flag repeat complaints
    (same customer and category, open or within the tenant's window); `over_the_head` or a
    source such as `regulator` flags 越级投诉."""
    ticket = ticket_service.create(session, principal, body)
    return ticket_service.present(session, [ticket], principal.tenant_id)[0]


@router.get(
    "/tickets/metrics",
    response_model=s.MetricsOut,
    tags=TAGS,
    summary="Per ownership model: 效能, duration, re-opens, repeat complaints, follow-up staff",
)
def ticket_metrics(
    principal: CurrentPrincipal,
    session: DbSession,
    since: AwareDatetime | None = Query(None, description="default: 30 days before until"),
    until: AwareDatetime | None = Query(None, description="default: now"),
) -> s.MetricsOut:
    """Tickets filed in [since, until), merged duplicates left out."""
    end = until or utcnow()
    start = since or end - timedelta(days=30)
    return ticket_service.metrics(session, principal, start, end)


@router.post(
    "/tickets/sweep",
    response_model=s.SweepOut,
    tags=TAGS,
    summary="Run the SLA sweep for the tenant now (the server runs it every minute)",
)
def sweep(principal: CurrentPrincipal, session: DbSession) -> s.SweepOut:
    return ticket_service.sweep_by_hand(session, principal)


@router.get(
    "/tickets/followups",
    response_model=Page[s.FollowUpOut],
    tags=TAGS,
    summary="Promised call-backs, soonest first",
)
def list_followups(
    principal: CurrentPrincipal,
    session: DbSession,
    paging: Paging,
    mine: bool = Query(True, description="only the caller's call-backs"),
    pending: bool = Query(True, description="only call-backs not done yet"),
    due_before: AwareDatetime | None = None,
) -> Page[s.FollowUpOut]:
    rows, total = ticket_service.list_followups(
        session, principal, mine, pending, due_before, paging.offset, paging.page_size
    )
    return Page(
        items=[s.FollowUpOut.model_validate(r) for r in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/tickets/followups/{followup_id}/done",
    response_model=s.FollowUpOut,
    tags=TAGS,
    summary="Mark a call-back as made",
)
def complete_followup(
    followup_id: IdPath, principal: CurrentPrincipal, session: DbSession
) -> s.FollowUpOut:
    return s.FollowUpOut.model_validate(
        ticket_service.complete_followup(session, principal, followup_id)
    )


@router.get(
    "/tickets/{ticket_id}",
    response_model=s.TicketDetail,
    tags=TAGS,
    summary="A ticket with its notes, replies, attachments, call-backs and history",
)
def get_ticket(
    ticket_id: IdPath, principal: CurrentPrincipal, session: DbSession
) -> s.TicketDetail:
    return ticket_service.detail(session, principal, ticket_id)


def _out(session: DbSession, principal: CurrentPrincipal, ticket: object) -> s.TicketOut:
    return ticket_service.present(session, [ticket], principal.tenant_id)[0]  # type: ignore[list-item]


@router.patch(
    "/tickets/{ticket_id}", response_model=s.TicketOut, tags=TAGS, summary="Change a ticket"
)
def update_ticket(
    ticket_id: IdPath, body: s.TicketUpdate, principal: CurrentPrincipal, session: DbSession
) -> s.TicketOut:
    """A new priority applies its SLA target to the time already counted."""
    return _out(session, principal, ticket_service.update(session, principal, ticket_id, body))


@router.post(
    "/tickets/{ticket_id}/status",
    response_model=s.TicketOut,
    tags=TAGS,
    summary="Move a ticket through its statuses (re-open included)",
)
def change_status(
    ticket_id: IdPath, body: s.StatusIn, principal: CurrentPrincipal, session: DbSession
) -> s.TicketOut:
    """409 names the allowed next statuses. waiting_customer stops the SLA clock; re-opening a
    resolved or closed ticket counts a re-open and starts a fresh clock."""
    return _out(
        session, principal, ticket_service.change_status(session, principal, ticket_id, body)
    )


@router.post(
    "/tickets/{ticket_id}/assign",
    response_model=s.TicketOut,
    tags=TAGS,
    summary="Take a ticket or give it to someone",
)
def assign(
    ticket_id: IdPath, body: s.AssignIn, principal: CurrentPrincipal, session: DbSession
) -> s.TicketOut:
    """首问负责: the owner keeps the ticket; only supervisors move it. Tiered: an agent holding
    the tier's skills may take it."""
    return _out(session, principal, ticket_service.assign(session, principal, ticket_id, body))


@router.post(
    "/tickets/{ticket_id}/escalate",
    response_model=s.TicketOut,
    tags=TAGS,
    summary="Escalate: next tier (tiered) or supervisor alert (首问负责)",
)
def escalate(
    ticket_id: IdPath, body: s.EscalateIn, principal: CurrentPrincipal, session: DbSession
) -> s.TicketOut:
    return _out(
        session, principal, ticket_service.escalate_by_hand(session, principal, ticket_id, body)
    )


@router.post(
    "/tickets/{ticket_id}/entries",
    response_model=s.EntryOut,
    status_code=status.HTTP_201_CREATED,
    tags=TAGS,
    summary="Add an internal note or a reply to the customer",
)
def add_entry(
    ticket_id: IdPath, body: s.EntryIn, principal: CurrentPrincipal, session: DbSession
) -> s.EntryOut:
    return s.EntryOut.model_validate(ticket_service.add_entry(session, principal, ticket_id, body))


@router.post(
    "/tickets/{ticket_id}/attachments",
    response_model=s.AttachmentOut,
    status_code=status.HTTP_201_CREATED,
    tags=TAGS,
    summary="Attach a file (multipart field `file`, at most 5 MiB)",
)
async def add_attachment(
    ticket_id: IdPath,
    principal: CurrentPrincipal,
    session: DbSession,
    file: UploadFile | None = File(None),
) -> s.AttachmentOut:
    data = None
    if file is not None:
        data = await file.read(s.MAX_ATTACHMENT_BYTES + 1)
    attachment = ticket_service.add_attachment(
        session,
        principal,
        ticket_id,
        file.filename if file else None,
        file.content_type if file else None,
        data,
    )
    return s.AttachmentOut.model_validate(attachment)


@router.get(
    "/tickets/{ticket_id}/attachments/{attachment_id}",
    tags=TAGS,
    summary="Download an attachment",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def read_attachment(
    ticket_id: IdPath, attachment_id: IdPath, principal: CurrentPrincipal, session: DbSession
) -> Response:
    attachment = ticket_service.read_attachment(session, principal, ticket_id, attachment_id)
    return Response(
        attachment.data,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(attachment.filename)}",
            "X-Content-Type-Options": "nosniff",
            "X-Original-Content-Type": attachment.content_type,
        },
    )


@router.post(
    "/tickets/{ticket_id}/merge",
    response_model=s.TicketOut,
    tags=TAGS,
    summary="Merge this duplicate into another ticket of the same customer",
)
def merge(
    ticket_id: IdPath, body: s.MergeIn, principal: CurrentPrincipal, session: DbSession
) -> s.TicketOut:
    """Returns the surviving ticket."""
    return _out(session, principal, ticket_service.merge(session, principal, ticket_id, body))


@router.post(
    "/tickets/{ticket_id}/rating",
    response_model=s.TicketOut,
    tags=TAGS,
    summary="Record the customer's satisfaction (CSAT 1-5) once resolved",
)
def rate(
    ticket_id: IdPath, body: s.RatingIn, principal: CurrentPrincipal, session: DbSession
) -> s.TicketOut:
    return _out(session, principal, ticket_service.rate(session, principal, ticket_id, body))


@router.post(
    "/tickets/{ticket_id}/callback",
    response_model=s.FollowUpOut,
    status_code=status.HTTP_201_CREATED,
    tags=TAGS,
    summary='"We will find out and call you back": a call-back for the owner',
)
def schedule_callback(
    ticket_id: IdPath, body: s.CallbackIn, principal: CurrentPrincipal, session: DbSession
) -> s.FollowUpOut:
    return s.FollowUpOut.model_validate(
        ticket_service.schedule_callback(session, principal, ticket_id, body)
    )
