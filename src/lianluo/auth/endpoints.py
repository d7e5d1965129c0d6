from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from lianluo.auth.schemas import LoginIn, MeOut, TokenOut
from lianluo.auth.service import auth_service
from lianluo.deps import SESSION_COOKIE, Context, CurrentPrincipal, DbSession

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/login", response_model=TokenOut)
def login(body: LoginIn, request: Request, session: DbSession, ctx: Context) -> TokenOut:
    token, claims = auth_service.login(
        session, ctx.tokens, ctx.login_limiter, body.username, body.password, client_key(request)
    )
    return TokenOut(access_token=token, expires_at=auth_service.expires_at(claims))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(principal: CurrentPrincipal, session: DbSession, response: Response) -> Response:
    auth_service.logout_everywhere(session, principal)
    response.status_code = status.HTTP_204_NO_CONTENT
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/me", response_model=MeOut)
def me(principal: CurrentPrincipal) -> MeOut:
    return MeOut(
        user_id=principal.user_id,
        username=principal.username,
        tenant_id=principal.tenant_id,
        partner_id=principal.partner_id,
        roles=sorted(principal.roles),
        is_superuser=principal.is_superuser,
    )
