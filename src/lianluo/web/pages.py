"""Server-rendered pages: login with a secure session cookie, and the home page."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from lianluo.auth.endpoints import client_key
from lianluo.auth.service import auth_service
from lianluo.deps import SESSION_COOKIE, Context, DbSession, get_principal
from lianluo.errors import AppError, TooManyRequests, Unauthorized
from lianluo.web.i18n import pick_language, translator

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
static_files = StaticFiles(directory=HERE / "static")

router = APIRouter(include_in_schema=False)


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    lang = pick_language(request)
    response = templates.TemplateResponse(
        request, name, {"lang": lang, "t": translator(lang), **context}, status_code=status_code
    )
    if request.query_params.get("lang") == lang:
        response.set_cookie("lianluo_lang", lang, max_age=365 * 86400, samesite="lax")
    return response


def _safe_next(url: str | None) -> str:
    """Only same-site relative paths, so the login form cannot redirect elsewhere."""
    if not url:
        return "/"
    parsed = urlparse(url)
    if parsed.scheme or parsed.netloc or not url.startswith("/") or url.startswith("//"):
        return "/"
    return url


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "login.html", next_url=_safe_next(next), error=None, username="")


@router.post("/login")
def login_submit(
    request: Request,
    session: DbSession,
    ctx: Context,
    username: str = Form(..., max_length=120),
    password: str = Form(..., max_length=256),
    next: str = Form("/"),
) -> Response:
    t = translator(pick_language(request))
    try:
        token, claims = auth_service.login(
            session, ctx.tokens, ctx.login_limiter, username, password, client_key(request)
        )
    except (Unauthorized, TooManyRequests) as exc:
        message = t("too_many") if isinstance(exc, TooManyRequests) else t("login_failed")
        return render(
            request,
            "login.html",
            status_code=exc.status_code,
            error=message,
            username=username,
            next_url=_safe_next(next),
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=ctx.tokens.ttl_s,
        httponly=True,
        secure=ctx.settings.cookie_secure,
        samesite="lax",
    )
    return response


@router.post("/logout")
def logout_submit(request: Request, session: DbSession, ctx: Context) -> Response:
    try:
        principal = get_principal(request, session, ctx)
        auth_service.logout_everywhere(session, principal)
    except AppError:
        pass
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: DbSession, ctx: Context) -> Response:
    try:
        principal = get_principal(request, session, ctx)
    except Unauthorized:
        return RedirectResponse("/login", status_code=303)
    me = {"username": principal.username, "roles": sorted(principal.roles)}
    return render(request, "home.html", me=me)
