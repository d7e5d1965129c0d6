"""Request dependencies: the database session (one transaction per request) and the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from lianluo.auth.principal import Principal
from lianluo.auth.ratelimit import LoginRateLimiter
from lianluo.auth.tokens import TokenCodec
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


def get_principal(request: Request, session: DbSession, ctx: Context) -> Principal:
    token = _token_from(request)
    if not token:
        raise Unauthorized("authentication required: send a bearer token or log in")
    claims = ctx.tokens.decode(token)
    if claims is None:
        raise Unauthorized("the token is invalid or has expired; log in again")
    row = session.execute(
        select(
            User.tenant_id,
            User.partner_id,
            User.roles,
            User.is_superuser,
            User.username,
            User.is_active,
            User.token_version,
        ).where(User.id == claims.user_id)
    ).one_or_none()
    if row is None or not row.is_active or row.token_version != claims.token_version:
        raise Unauthorized("the token is no longer valid; log in again")
    return Principal(
        user_id=claims.user_id,
        tenant_id=row.tenant_id,
        partner_id=row.partner_id,
        roles=frozenset(row.roles),
        is_superuser=row.is_superuser,
        username=row.username,
    )


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
