from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response, status

from lianluo.deps import CurrentPrincipal, DbSession
from lianluo.kb.render import markdown_html
from lianluo.kb.schemas import (
    ArticleIn,
    ArticleOut,
    ArticleStatus,
    ArticleUpdate,
    CommunityIn,
    ContributorKeyOut,
    ContributorOut,
    FeedbackIn,
    FeedbackOut,
    Language,
    Origin,
    RenderIn,
    RenderOut,
    SearchMode,
    SearchPage,
    SuggestIn,
    SuggestOut,
    SynonymsIn,
    SynonymsOut,
    VersionOut,
)
from lianluo.kb.service import article_service, can_write, contributor_service, synonym_service
from lianluo.models import KbArticle, KbContributor
from lianluo.paging import Page, PageParams, page_params
from lianluo.tenants.schemas import NO_NUL, IdPath

router = APIRouter(prefix="/api/v1/kb", tags=["knowledge base"])

Paging = Annotated[PageParams, Depends(page_params)]
VersionPath = Annotated[int, Path(ge=1, le=1_000_000, description="a version number")]


def article_out(article: KbArticle) -> ArticleOut:
    out = ArticleOut.model_validate(article)
    out.body_html = markdown_html(article.body)
    return out


def contributor_out(row: KbContributor) -> ContributorOut:
    return ContributorOut(
        id=row.id,
        customer_id=row.customer_id,
        key_prefix=row.key_prefix,
        active=row.revoked_at is None and row.key_hash is not None,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


@router.get("/search", response_model=SearchPage, summary="Search published articles")
def search(
    principal: CurrentPrincipal,
    session: DbSession,
    paging: Paging,
    q: str = Query(
        ..., min_length=1, max_length=500, pattern=NO_NUL, description="中文 or English"
    ),
    language: Language | None = Query(None, description="only articles in this language"),
    mode: SearchMode = Query(
        SearchMode.hybrid, description="hybrid: BM25 and meaning (embeddings); lexical: BM25"
    ),
) -> SearchPage:
    """BM25: Chinese is segmented with jieba, English lower-cased and stemmed; stop words
    dropped; title, category and tags weigh more than the body. Hybrid adds the articles
    nearest in meaning (a multilingual sentence embedding), fused by rank. Snippets mark the
    matches."""
    hits, total, terms = article_service.search(
        session,
        principal,
        q,
        language.value if language else None,
        paging.offset,
        paging.page_size,
        mode,
    )
    return SearchPage(
        items=hits, total=total, page=paging.page, page_size=paging.page_size, terms=terms
    )


@router.post("/suggest", response_model=SuggestOut, summary="Articles for a conversation")
def suggest(body: SuggestIn, principal: CurrentPrincipal, session: DbSession) -> SuggestOut:
    """Send the conversation text, or the id of a conversation to read its last messages (the
    read is audited). The best published articles come back with a score and a snippet."""
    hits, terms = article_service.suggest(
        session,
        principal,
        body.text,
        body.conversation_id,
        body.language.value if body.language else None,
        body.limit,
    )
    return SuggestOut(items=hits, terms=terms)


@router.post("/render", response_model=RenderOut, summary="Preview markdown as HTML")
def render_markdown(body: RenderIn, principal: CurrentPrincipal) -> RenderOut:
    """Raw HTML in the markdown is shown as text, never run."""
    del principal  # signed-in users only
    return RenderOut(html=markdown_html(body.body))


@router.get("/articles", response_model=Page[ArticleOut], summary="List articles")
def list_articles(
    principal: CurrentPrincipal,
    session: DbSession,
    paging: Paging,
    status_: list[ArticleStatus] | None = Query(None, alias="status"),
    language: Language | None = None,
    category: str | None = Query(None, max_length=100, pattern=NO_NUL),
    origin: Origin | None = None,
) -> Page[ArticleOut]:
    """Writers see every status; other users only published articles."""
    rows, total = article_service.list(
        session,
        principal,
        statuses=[s.value for s in status_] if status_ else None,
        language=language.value if language else None,
        category=category,
        origin=origin.value if origin else None,
        offset=paging.offset,
        limit=paging.page_size,
    )
    return Page(
        items=[article_out(r) for r in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/articles",
    response_model=ArticleOut,
    status_code=status.HTTP_201_CREATED,
    summary="Write a draft",
)
def create_article(body: ArticleIn, principal: CurrentPrincipal, session: DbSession) -> ArticleOut:
    return article_out(article_service.create(session, principal, body))


@router.get("/articles/{article_id}", response_model=ArticleOut, summary="Read an article")
def get_article(
    article_id: IdPath,
    principal: CurrentPrincipal,
    session: DbSession,
    published: bool = Query(False, description="the published version, not the working copy"),
) -> ArticleOut:
    """Writers get the working copy (the latest version) unless they ask for the published
    one; everybody else always reads the published version."""
    if published or not can_write(principal):
        article, version = article_service.published(session, principal, article_id)
        out = article_out(article)
        out.title, out.body, out.category = version.title, version.body, version.category
        out.language, out.tags, out.version = version.language, list(version.tags), version.version
        out.body_html = markdown_html(version.body)
        return out
    return article_out(article_service.get(session, principal, article_id))


@router.patch("/articles/{article_id}", response_model=ArticleOut, summary="Edit (a new version)")
def update_article(
    article_id: IdPath, body: ArticleUpdate, principal: CurrentPrincipal, session: DbSession
) -> ArticleOut:
    return article_out(article_service.update(session, principal, article_id, body))


@router.post(
    "/articles/{article_id}/submit", response_model=ArticleOut, summary="Submit for review"
)
def submit_article(
    article_id: IdPath, principal: CurrentPrincipal, session: DbSession
) -> ArticleOut:
    """draft → review; 409 from any other status."""
    return article_out(article_service.submit(session, principal, article_id))


@router.post(
    "/articles/{article_id}/publish", response_model=ArticleOut, summary="Publish (supervisors)"
)
def publish_article(
    article_id: IdPath, principal: CurrentPrincipal, session: DbSession
) -> ArticleOut:
    """review → published; the version goes into the search index."""
    return article_out(article_service.publish(session, principal, article_id))


@router.post(
    "/articles/{article_id}/send-back",
    response_model=ArticleOut,
    summary="Send back to draft (supervisors)",
)
def send_back_article(
    article_id: IdPath, principal: CurrentPrincipal, session: DbSession
) -> ArticleOut:
    return article_out(article_service.send_back(session, principal, article_id))


@router.post(
    "/articles/{article_id}/archive", response_model=ArticleOut, summary="Archive (supervisors)"
)
def archive_article(
    article_id: IdPath, principal: CurrentPrincipal, session: DbSession
) -> ArticleOut:
    return article_out(article_service.archive(session, principal, article_id))


@router.get(
    "/articles/{article_id}/versions", response_model=Page[VersionOut], summary="Version history"
)
def list_versions(
    article_id: IdPath, principal: CurrentPrincipal, session: DbSession, paging: Paging
) -> Page[VersionOut]:
    rows, total = article_service.versions(
        session, principal, article_id, paging.offset, paging.page_size
    )
    return Page(
        items=[VersionOut.model_validate(r) for r in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.get(
    "/articles/{article_id}/versions/{version}",
    response_model=VersionOut,
    summary="Read an old version",
)
def get_version(
    article_id: IdPath, version: VersionPath, principal: CurrentPrincipal, session: DbSession
) -> VersionOut:
    return VersionOut.model_validate(
        article_service.version(session, principal, article_id, version)
    )


@router.post(
    "/articles/{article_id}/versions/{version}/restore",
    response_model=ArticleOut,
    summary="Restore an old version (as a new draft version)",
)
def restore_version(
    article_id: IdPath, version: VersionPath, principal: CurrentPrincipal, session: DbSession
) -> ArticleOut:
    return article_out(article_service.restore(session, principal, article_id, version))


@router.post(
    "/articles/{article_id}/feedback", response_model=FeedbackOut, summary="Helpful or not"
)
def rate_article(
    article_id: IdPath, body: FeedbackIn, principal: CurrentPrincipal, session: DbSession
) -> FeedbackOut:
    """One vote per user; voting again replaces the vote."""
    article = article_service.feedback(session, principal, article_id, body.helpful)
    return FeedbackOut(
        article_id=article.id,
        helpful=body.helpful,
        helpful_count=article.helpful_count,
        not_helpful_count=article.not_helpful_count,
    )


@router.get("/synonyms", response_model=SynonymsOut, summary="The tenant's own synonym groups")
def get_synonyms(principal: CurrentPrincipal, session: DbSession) -> SynonymsOut:
    return synonym_service.get(session, principal)


@router.put(
    "/synonyms", response_model=SynonymsOut, summary="Replace the tenant's own synonym groups"
)
def put_synonyms(body: SynonymsIn, principal: CurrentPrincipal, session: DbSession) -> SynonymsOut:
    """Searched beside the built-in groups from the next search on (supervisors and admins)."""
    return synonym_service.put(session, principal, body)


@router.get("/contributors", response_model=Page[ContributorOut], summary="Super users (admins)")
def list_contributors(
    principal: CurrentPrincipal, session: DbSession, paging: Paging
) -> Page[ContributorOut]:
    rows, total = contributor_service.list(session, principal, paging.offset, paging.page_size)
    return Page(
        items=[contributor_out(r) for r in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.put(
    "/contributors/{customer_id}",
    response_model=ContributorKeyOut,
    summary="Make a customer a super user and issue their key",
)
def issue_contributor_key(
    customer_id: IdPath, principal: CurrentPrincipal, session: DbSession
) -> ContributorKeyOut:
    """The key is in this response only; a new call replaces it (the old one stops working)."""
    issued = contributor_service.issue(session, principal, customer_id)
    return ContributorKeyOut(**contributor_out(issued.contributor).model_dump(), key=issued.key)


@router.delete(
    "/contributors/{customer_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a super user's key",
)
def revoke_contributor_key(
    customer_id: IdPath, principal: CurrentPrincipal, session: DbSession
) -> Response:
    contributor_service.revoke(session, principal, customer_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/community",
    response_model=ArticleOut,
    status_code=status.HTTP_201_CREATED,
    summary="Submit a community article (super users, with their key)",
)
def submit_community_article(
    body: CommunityIn,
    session: DbSession,
    x_kb_key: str | None = Header(None, max_length=200, description="the contributor key"),
) -> ArticleOut:
    """Arrives as a draft; staff review it before it can be published."""
    return article_out(contributor_service.submit(session, x_kb_key, body))
