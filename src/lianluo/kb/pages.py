"""Knowledge-base pages: /kb (search and article view with feedback), the editor (/kb/new,
/kb/articles/{id}/edit) and the review queue (/kb/review). Reading is server-rendered; the
editor's buttons call the API (static/kb.js)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lianluo.auth.principal import Principal
from lianluo.deps import Context, DbSession, get_principal
from lianluo.errors import AppError, Forbidden, Unauthorized
from lianluo.kb.render import markdown_html
from lianluo.kb.schemas import Language
from lianluo.kb.service import article_service, can_publish, can_write, synonym_service
from lianluo.web.pages import render

router = APIRouter(include_in_schema=False)


def _principal(request: Request, session: DbSession, ctx: Context) -> Principal | None:
    try:
        return get_principal(request, session, ctx)
    except Unauthorized:
        return None


def _login(request: Request) -> Response:
    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)


def _refused(request: Request, exc: AppError) -> Response:
    key = "kb_forbidden" if isinstance(exc, Forbidden) else "kb_not_found"
    return render(request, "kb_message.html", status_code=exc.status_code, message_key=key)


@router.get("/kb", response_class=HTMLResponse)
def kb_home(
    request: Request,
    session: DbSession,
    ctx: Context,
    q: str = Query("", max_length=500),
    language: str = Query("", max_length=8, description="zh, en or empty for both"),
    page: int = Query(1, ge=1, le=1000),
) -> Response:
    principal = _principal(request, session, ctx)
    if principal is None:
        return _login(request)
    q = q.replace("\x00", "").strip()
    lang = language if language in {x.value for x in Language} else None
    page_size = 10
    try:
        if q:
            hits, total, terms = article_service.search(
                session, principal, q, lang, (page - 1) * page_size, page_size
            )
            recent = []
        else:
            hits, total, terms = [], 0, []
            recent, _ = article_service.list(
                session,
                principal,
                statuses=None,
                language=lang,
                category=None,
                origin=None,
                offset=0,
                limit=page_size,
            )
    except AppError as exc:
        return _refused(request, exc)
    return render(
        request,
        "kb_search.html",
        q=q,
        language=lang,
        hits=hits,
        total=total,
        terms=terms,
        page=page,
        pages=max(1, -(-total // page_size)),
        recent=recent,
        can_write=can_write(principal),
    )


@router.get("/kb/articles/{article_id}", response_class=HTMLResponse)
def kb_article(article_id: str, request: Request, session: DbSession, ctx: Context) -> Response:
    principal = _principal(request, session, ctx)
    if principal is None:
        return _login(request)
    try:
        article, version = article_service.published(session, principal, article_id)
    except AppError as exc:
        return _refused(request, exc)
    return render(
        request,
        "kb_article.html",
        article=article,
        version=version,
        body_html=markdown_html(version.body),
        can_write=can_write(principal),
    )


def _editor(request: Request, session: DbSession, ctx: Context, article_id: str | None) -> Response:
    principal = _principal(request, session, ctx)
    if principal is None:
        return _login(request)
    try:
        if not can_write(principal):
            raise Forbidden("editing the knowledge base")
        article = versions = None
        if article_id is not None:
            article = article_service.get(session, principal, article_id)
            versions, _ = article_service.versions(session, principal, article_id, 0, 50)
    except AppError as exc:
        return _refused(request, exc)
    return render(
        request,
        "kb_editor.html",
        article=article,
        versions=versions or [],
        can_publish=can_publish(principal),
    )


@router.get("/kb/new", response_class=HTMLResponse)
def kb_new(request: Request, session: DbSession, ctx: Context) -> Response:
    return _editor(request, session, ctx, None)


@router.get("/kb/articles/{article_id}/edit", response_class=HTMLResponse)
def kb_edit(article_id: str, request: Request, session: DbSession, ctx: Context) -> Response:
    return _editor(request, session, ctx, article_id)


@router.get("/kb/review", response_class=HTMLResponse)
def kb_review(request: Request, session: DbSession, ctx: Context) -> Response:
    principal = _principal(request, session, ctx)
    if principal is None:
        return _login(request)
    try:
        if not can_write(principal):
            raise Forbidden("reviewing articles")
        in_review, _ = article_service.list(
            session,
            principal,
            statuses=["review"],
            language=None,
            category=None,
            origin=None,
            offset=0,
            limit=100,
        )
        community, _ = article_service.list(
            session,
            principal,
            statuses=["draft"],
            language=None,
            category=None,
            origin="community",
            offset=0,
            limit=100,
        )
    except AppError as exc:
        return _refused(request, exc)
    return render(
        request,
        "kb_review.html",
        in_review=in_review,
        community=community,
        can_publish=can_publish(principal),
    )


@router.get("/kb/synonyms", response_class=HTMLResponse)
def kb_synonyms(request: Request, session: DbSession, ctx: Context) -> Response:
    principal = _principal(request, session, ctx)
    if principal is None:
        return _login(request)
    try:
        current = synonym_service.get(session, principal)
    except AppError as exc:
        return _refused(request, exc)
    return render(
        request,
        "kb_synonyms.html",
        groups_text="\n".join("、".join(group) for group in current.groups),
        builtin=current.builtin_groups,
        updated_at=current.updated_at,
        editable=can_publish(principal),
    )
