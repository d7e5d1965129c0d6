from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from lianluo.auth.tokens import TokenClaims
from lianluo.customers import view360_pg
from lianluo.customers.schemas import (
    Customer360,
    CustomerIn,
    CustomerUpdate,
    CustomerWithIdentities,
    IdentityIn,
    IdentityOut,
    MergeIn,
)
from lianluo.customers.service import customer_service
from lianluo.db.engine import unit_of_work
from lianluo.deps import (
    AppContext,
    Context,
    CurrentPrincipal,
    DbSession,
    claims_of,
    load_principal,
)
from lianluo.paging import Page, PageParams, page_params

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])


@router.post("", response_model=CustomerWithIdentities, status_code=status.HTTP_201_CREATED)
def create_customer(
    body: CustomerIn, principal: CurrentPrincipal, session: DbSession
) -> CustomerWithIdentities:
    customer = customer_service.create(session, principal, body)
    return customer_service.present(session, customer)


@router.get("", response_model=Page[CustomerWithIdentities])
def search_customers(
    principal: CurrentPrincipal,
    session: DbSession,
    paging: Annotated[PageParams, Depends(page_params)],
    q: str | None = Query(
        None, max_length=200, description="name (中文 or English), phone digits or e-mail"
    ),
) -> Page[CustomerWithIdentities]:
    items, total = customer_service.search(session, principal, q, paging.offset, paging.page_size)
    return Page(items=items, total=total, page=paging.page, page_size=paging.page_size)


@router.get("/{customer_id}", response_model=CustomerWithIdentities)
def get_customer(
    customer_id: str, principal: CurrentPrincipal, session: DbSession
) -> CustomerWithIdentities:
    return customer_service.read(session, principal, customer_id)


@router.patch("/{customer_id}", response_model=CustomerWithIdentities)
def update_customer(
    customer_id: str, body: CustomerUpdate, principal: CurrentPrincipal, session: DbSession
) -> CustomerWithIdentities:
    customer = customer_service.update(session, principal, customer_id, body)
    return customer_service.present(session, customer)


@router.post(
    "/{customer_id}/identities", response_model=IdentityOut, status_code=status.HTTP_201_CREATED
)
def add_identity(
    customer_id: str, body: IdentityIn, principal: CurrentPrincipal, session: DbSession
) -> IdentityOut:
    return IdentityOut.model_validate(
        customer_service.add_identity(session, principal, customer_id, body)
    )


@router.post("/{customer_id}/merge", response_model=CustomerWithIdentities)
def merge_customers(
    customer_id: str, body: MergeIn, principal: CurrentPrincipal, session: DbSession
) -> CustomerWithIdentities:
    """Merge the customer `source_id` into this one, with all identities and history."""
    customer = customer_service.merge(session, principal, customer_id, body.source_id)
    return customer_service.present(session, customer)


@router.get("/{customer_id}/360", response_model=Customer360)
async def customer_360(
    request: Request,
    customer_id: str,
    ctx: Context,
    conversations: int = Query(20, ge=1, le=200, description="newest conversations to include"),
    messages_per_conversation: int = Query(50, ge=0, le=500),
) -> Response:
    """Profile, identities, value tier, tags and the timeline of conversations, contacts and
    messages, in one call."""
    # The agent desk's most frequent call, so it takes one thread-pool hop, not three: the
    # caller, the view, the audit and the commit run together (customers/view360_pg.py).
    claims = claims_of(request, ctx)
    connections = ctx.extras.get(view360_pg.VIEW_CONNECTIONS)
    bind = ctx.sessions.kw.get("bind")
    if connections is not None:  # a served app on PostgreSQL: from the event loop
        document = await view360_pg.view_360_async(
            connections, claims, customer_id, conversations, messages_per_conversation
        )
    elif isinstance(bind, Engine) and bind.dialect.name == "postgresql":
        # (Sessions bound to one connection instead, as tests' rolled-back transactions are,
        # take the session path: this one commits on its own pooled connection.)
        document = await run_in_threadpool(
            view360_pg.view_360_request,
            bind,
            claims,
            customer_id,
            conversations,
            messages_per_conversation,
        )
    else:
        document = await run_in_threadpool(
            _portable_360, ctx, claims, customer_id, conversations, messages_per_conversation
        )
    # Finished JSON (built by PostgreSQL, or by the validated model): no re-validation here.
    return Response(document, media_type="application/json")


def _portable_360(
    ctx: AppContext, claims: TokenClaims, customer_id: str, conversations: int, messages: int
) -> str:
    with unit_of_work(ctx.sessions) as session:
        principal = load_principal(session, claims)
        return customer_service.view_360_json(
            session, principal, customer_id, conversations, messages
        )
