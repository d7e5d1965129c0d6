"""Request dependencies: the database session (one transaction per request) and the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from lianluo.auth.principal import Principal
from lianluo.auth.ratelimit import LoginRateLimiter
from lianluo.auth.tokens import TokenClaims, TokenCodec
from lianluo.config import Settings
from lianluo.errors import Unauthorized
from lianluo.models.user import User
from lianluo.runtime.bus import EventBus

SESSION_COOKIE = "lianluo_session"


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    tokens: TokenCodec
    login_limiter: LoginRateLimiter
    bus: EventBus
    extras: dict[str, Any]


async def get_context(request: Request) -> AppContext:
    return request.app.state.ctx


def _finish(session: Session, ok: bool) -> None:
    try:
        if ok:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """Commits when the endpoint returns, before the response is sent; rolls back on error.

    Async so that opening the session (no I/O: it connects on first use) costs no hop to the
    thread pool; commit and close, which do I/O, run there in one hop. Each hop costs a
    thread wake-up under the GIL, a sizeable share of a short request."""
    session = request.app.state.ctx.sessions()
    try:
        yield session
    except BaseException:
        await run_in_threadpool(_finish, session, False)
        raise
    await run_in_threadpool(_finish, session, True)


DbSession = Annotated[Session, Depends(get_session)]
Context = Annotated[AppContext, Depends(get_context)]


def _token_from(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("Authorization header must be 'Bearer <token>'")
        return token.strip()
    return request.cookies.get(SESSION_COOKIE)


# The caller's row, by id: what a token is checked against on every request. Plain SQL so that
# the fast paths (customers/view360_pg.py) send the same statement on a driver connection.
PRINCIPAL_SQL = (
    "SELECT tenant_id, partner_id, roles, is_superuser, username, is_active, token_version"
    " FROM users WHERE id = %s"
)
_PRINCIPAL_COLUMNS = (
    User.tenant_id,
    User.partner_id,
    User.roles,
    User.is_superuser,
    User.username,
    User.is_active,
    User.token_version,
)


def claims_of(request: Request, ctx: AppContext) -> TokenClaims:
    """The valid, unexpired token's claims, or 401 saying why not."""
    token = _token_from(request)
    if not token:
        raise Unauthorized("authentication required: send a bearer token or log in")
    claims = ctx.tokens.decode(token)
    if claims is None:
        raise Unauthorized("the token is invalid or has expired; log in again")
    return claims


def principal_from_row(claims: TokenClaims, row: Sequence[Any] | None) -> Principal:
    """The principal of a users row (PRINCIPAL_SQL's columns), or 401 when the user is gone,
    disabled, or has logged out everywhere since the token was issued."""
    if row is None:
        raise Unauthorized("the token is no longer valid; log in again")
    tenant_id, partner_id, roles, is_superuser, username, is_active, token_version = row
    if not is_active or token_version != claims.token_version:
        raise Unauthorized("the token is no longer valid; log in again")
    return Principal(
        user_id=claims.user_id,
        tenant_id=tenant_id,
        partner_id=partner_id,
        roles=frozenset(roles),
        is_superuser=is_superuser,
        username=username,
    )


def load_principal(session: Session, claims: TokenClaims) -> Principal:
    query = select(*_PRINCIPAL_COLUMNS).where(User.id == claims.user_id)
    row = session.execute(query).one_or_none()
    return principal_from_row(claims, row)


def get_principal(request: Request, session: DbSession, ctx: Context) -> Principal:
    return load_principal(session, claims_of(request, ctx))


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
