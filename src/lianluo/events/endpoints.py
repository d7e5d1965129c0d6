from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from lianluo.auth.principal import EVENT_READERS
from lianluo.deps import CurrentPrincipal, DbSession
from lianluo.errors import Unprocessable
from lianluo.events.repository import EventFilter, event_repository
from lianluo.events.schemas import EventOut
from lianluo.paging import Page, PageParams, page_params

router = APIRouter(prefix="/api/v1/events", tags=["events"])


@router.get("", response_model=Page[EventOut])
def list_events(
    principal: CurrentPrincipal,
    session: DbSession,
    paging: Annotated[PageParams, Depends(page_params)],
    type: str | None = Query(None, max_length=64, description="exact event type"),
    type_prefix: str | None = Query(None, max_length=64, description="e.g. 'contact.'"),
    since: datetime | None = Query(None, description="occurred at or after (ISO 8601)"),
    until: datetime | None = Query(None, description="occurred before (ISO 8601)"),
    customer_id: str | None = Query(None, max_length=32),
    contact_id: str | None = Query(None, max_length=32),
    queue_id: str | None = Query(None, max_length=32),
    agent_id: str | None = Query(None, max_length=32),
    actor_id: str | None = Query(None, max_length=32),
) -> Page[EventOut]:
    """The event log, newest first, with filters."""
    principal.require(EVENT_READERS, "reading the event log")
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise Unprocessable(f"{name} must carry a time zone offset, e.g. 2026-11-23T08:00:00Z")
    flt = EventFilter(
        type, type_prefix, since, until, customer_id, contact_id, queue_id, agent_id, actor_id
    )
    rows, total = event_repository.list(session, principal, flt, paging.offset, paging.page_size)
    return Page(
        items=[EventOut.model_validate(r) for r in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )
