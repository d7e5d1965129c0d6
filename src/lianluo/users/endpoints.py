from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from lianluo.deps import CurrentPrincipal, DbSession
from lianluo.models.user import Role
from lianluo.paging import Page, PageParams, page_params
from lianluo.tenants.schemas import NO_NUL, IdPath
from lianluo.users.repository import UserFilter
from lianluo.users.schemas import PasswordChange, UserIn, UserOut, UserUpdate
from lianluo.users.service import user_service

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.get("", response_model=Page[UserOut], summary="List users")
def list_users(
    principal: CurrentPrincipal,
    session: DbSession,
    paging: Annotated[PageParams, Depends(page_params)],
    q: str | None = Query(
        None, pattern=NO_NUL, max_length=120, description="part of username or display name"
    ),
    role: Role | None = Query(None, description="only users holding this role"),
    partner_id: str | None = Query(None, pattern=NO_NUL, max_length=32),
    is_active: bool | None = Query(None),
) -> Page[UserOut]:
    """Admins see the tenant's users; partner admins their partner's."""
    flt = UserFilter(q, role.value if role else None, partner_id, is_active)
    rows, total = user_service.list(session, principal, flt, paging.offset, paging.page_size)
    return Page(
        items=[UserOut.model_validate(r) for r in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "", response_model=UserOut, status_code=status.HTTP_201_CREATED, summary="Create a user"
)
def create_user(body: UserIn, principal: CurrentPrincipal, session: DbSession) -> UserOut:
    """Usernames are unique across tenants (409). Partner admins create users of their own
    partner with the roles agent or partner_admin only."""
    return UserOut.model_validate(user_service.create(session, principal, body))


@router.get("/{user_id}", response_model=UserOut, summary="Read a user")
def get_user(user_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> UserOut:
    """Your own account, or one you administer."""
    return UserOut.model_validate(user_service.get(session, principal, user_id))


@router.patch("/{user_id}", response_model=UserOut, summary="Change a user")
def update_user(
    user_id: IdPath, body: UserUpdate, principal: CurrentPrincipal, session: DbSession
) -> UserOut:
    """Anyone may change their own display_name and locale. Disabling a user voids its tokens."""
    return UserOut.model_validate(user_service.update(session, principal, user_id, body))


@router.post(
    "/{user_id}/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change or reset a password",
)
def change_password(
    user_id: IdPath, body: PasswordChange, principal: CurrentPrincipal, session: DbSession
) -> Response:
    """Your own needs `current_password`; admins reset the users they manage. Every token the
    user held stops working (log in again)."""
    user_service.change_password(session, principal, user_id, body)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a user")
def delete_user(user_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> Response:
    """409 when the user has an agent profile: disable it (is_active=false) instead."""
    user_service.delete(session, principal, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
