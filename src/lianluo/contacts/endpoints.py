from __future__ import annotations

from fastapi import APIRouter, status

from lianluo.contacts.schemas import (
    CallbackIn,
    CompleteIn,
    ContactIn,
    ContactOut,
    TransferIn,
    WrapUpIn,
)
from lianluo.contacts.service import contact_service
from lianluo.deps import Context, CurrentPrincipal, DbSession
from lianluo.runtime.router import RoutingRuntime, runtime_of

router = APIRouter(prefix="/api/v1/contacts", tags=["contacts"])


def _runtime(ctx: Context, session: DbSession) -> RoutingRuntime:
    # End the request's own transaction first: on SQLite it holds the write lock (BEGIN
    # IMMEDIATE) that the router's transaction needs.
    session.commit()
    return runtime_of(ctx)


def _read(session: DbSession, principal: CurrentPrincipal, contact_id: str) -> ContactOut:
    session.expire_all()  # the router committed in its own session
    return ContactOut.model_validate(contact_service.get(session, principal, contact_id))


@router.post("", response_model=ContactOut, status_code=status.HTTP_201_CREATED)
def create_contact(
    body: ContactIn, principal: CurrentPrincipal, session: DbSession, ctx: Context
) -> ContactOut:
    """An inbound contact for a customer in a queue: conversation, contact, contact.queued;
    routed at once if an agent is free."""
    contact_id = contact_service.create(_runtime(ctx, session), principal, body)
    return _read(session, principal, contact_id)


@router.get("/{contact_id}", response_model=ContactOut)
def get_contact(contact_id: str, principal: CurrentPrincipal, session: DbSession) -> ContactOut:
    return _read(session, principal, contact_id)


@router.post("/{contact_id}/accept", response_model=ContactOut)
def accept(
    contact_id: str, principal: CurrentPrincipal, session: DbSession, ctx: Context
) -> ContactOut:
    contact_service.accept(_runtime(ctx, session), principal, contact_id)
    return _read(session, principal, contact_id)


@router.post("/{contact_id}/reject", response_model=ContactOut)
def reject(
    contact_id: str, principal: CurrentPrincipal, session: DbSession, ctx: Context
) -> ContactOut:
    """The contact returns to its place; the agent goes on break ("rejected") by policy."""
    contact_service.reject(_runtime(ctx, session), principal, contact_id)
    return _read(session, principal, contact_id)


@router.post("/{contact_id}/complete", response_model=ContactOut)
def complete(
    contact_id: str,
    body: CompleteIn,
    principal: CurrentPrincipal,
    session: DbSession,
    ctx: Context,
) -> ContactOut:
    contact_service.complete(_runtime(ctx, session), principal, contact_id, body)
    return _read(session, principal, contact_id)


@router.post("/{contact_id}/wrap-up", response_model=ContactOut)
def wrap_up(
    contact_id: str,
    body: WrapUpIn,
    principal: CurrentPrincipal,
    session: DbSession,
    ctx: Context,
) -> ContactOut:
    contact_service.wrap_up(_runtime(ctx, session), principal, contact_id, body)
    return _read(session, principal, contact_id)


@router.post("/{contact_id}/abandon", response_model=ContactOut)
def abandon(
    contact_id: str, principal: CurrentPrincipal, session: DbSession, ctx: Context
) -> ContactOut:
    """The customer hung up or the contact was cancelled before being answered."""
    contact_service.abandon(_runtime(ctx, session), principal, contact_id)
    return _read(session, principal, contact_id)


@router.post("/{contact_id}/transfer", response_model=ContactOut)
def transfer(
    contact_id: str,
    body: TransferIn,
    principal: CurrentPrincipal,
    session: DbSession,
    ctx: Context,
) -> ContactOut:
    contact_service.transfer(_runtime(ctx, session), principal, contact_id, body)
    return _read(session, principal, contact_id)


@router.post("/{contact_id}/callback", response_model=ContactOut)
def callback(
    contact_id: str,
    body: CallbackIn,
    principal: CurrentPrincipal,
    session: DbSession,
    ctx: Context,
) -> ContactOut:
    contact_service.callback(_runtime(ctx, session), principal, contact_id, body)
    return _read(session, principal, contact_id)
