from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from lianluo.deps import CurrentPrincipal, DbSession
from lianluo.paging import Page, PageParams, page_params
from lianluo.tenants.schemas import (
    IdPath,
    PartnerIn,
    PartnerOut,
    PartnerUpdate,
    TenantIn,
    TenantOut,
    TenantUpdate,
)
from lianluo.tenants.service import partner_service, tenant_service

router = APIRouter(prefix="/api/v1")

Paging = Annotated[PageParams, Depends(page_params)]


@router.get("/tenants", response_model=Page[TenantOut], tags=["tenants"], summary="List tenants")
def list_tenants(
    principal: CurrentPrincipal, session: DbSession, paging: Paging
) -> Page[TenantOut]:
    """Platform superusers only."""
    rows, total = tenant_service.list(session, principal, paging.offset, paging.page_size)
    return Page(
        items=[TenantOut.model_validate(r) for r in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/tenants",
    response_model=TenantOut,
    status_code=status.HTTP_201_CREATED,
    tags=["tenants"],
    summary="Create a tenant",
)
def create_tenant(body: TenantIn, principal: CurrentPrincipal, session: DbSession) -> TenantOut:
    """Platform superusers only; the slug is unique (409 otherwise)."""
    return TenantOut.model_validate(tenant_service.create(session, principal, body))


@router.get(
    "/tenants/current",
    response_model=TenantOut,
    tags=["tenants"],
    summary="The caller's own tenant",
)
def current_tenant(principal: CurrentPrincipal, session: DbSession) -> TenantOut:
    return TenantOut.model_validate(tenant_service.current(session, principal))


@router.get(
    "/tenants/{tenant_id}", response_model=TenantOut, tags=["tenants"], summary="Read a tenant"
)
def get_tenant(tenant_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> TenantOut:
    """Superusers read any tenant; other users only their own (another tenant is 404)."""
    return TenantOut.model_validate(tenant_service.get(session, principal, tenant_id))


@router.patch(
    "/tenants/{tenant_id}", response_model=TenantOut, tags=["tenants"], summary="Change a tenant"
)
def update_tenant(
    tenant_id: IdPath, body: TenantUpdate, principal: CurrentPrincipal, session: DbSession
) -> TenantOut:
    """Name, time zone and settings: the tenant's admins or a superuser. `is_active`: superusers.
    Settings merge key by key; a key sent as null is removed."""
    return TenantOut.model_validate(tenant_service.update(session, principal, tenant_id, body))


@router.get(
    "/partners", response_model=Page[PartnerOut], tags=["partners"], summary="List partners"
)
def list_partners(
    principal: CurrentPrincipal,
    session: DbSession,
    paging: Paging,
    is_active: bool | None = Query(None, description="only active or only inactive partners"),
) -> Page[PartnerOut]:
    """A partner user sees only its own partner."""
    rows, total = partner_service.list(
        session, principal, is_active, paging.offset, paging.page_size
    )
    return Page(
        items=[PartnerOut.model_validate(r) for r in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/partners",
    response_model=PartnerOut,
    status_code=status.HTTP_201_CREATED,
    tags=["partners"],
    summary="Create a partner (outsourcing organisation)",
)
def create_partner(body: PartnerIn, principal: CurrentPrincipal, session: DbSession) -> PartnerOut:
    return PartnerOut.model_validate(partner_service.create(session, principal, body))


@router.get(
    "/partners/{partner_id}", response_model=PartnerOut, tags=["partners"], summary="Read a partner"
)
def get_partner(partner_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> PartnerOut:
    return PartnerOut.model_validate(partner_service.get(session, principal, partner_id))


@router.patch(
    "/partners/{partner_id}",
    response_model=PartnerOut,
    tags=["partners"],
    summary="Change a partner",
)
def update_partner(
    partner_id: IdPath, body: PartnerUpdate, principal: CurrentPrincipal, session: DbSession
) -> PartnerOut:
    return PartnerOut.model_validate(partner_service.update(session, principal, partner_id, body))


@router.delete(
    "/partners/{partner_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["partners"],
    summary="Delete an unused partner",
)
def delete_partner(partner_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> Response:
    """409 while users, queues, agents or customers still point at it: deactivate it instead."""
    partner_service.delete(session, principal, partner_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
