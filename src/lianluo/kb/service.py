"""Knowledge-base use cases: the article workflow (draft → review → published, archived), versions,
feedback, community submissions by super users, search and suggestions.

Who may do what: every staff role reads published articles, searches and votes; the tenant's own
agents, supervisors and admins write drafts and submit them; supervisors and admins publish,
send back and archive. Partner users read and search only. Admins make a customer a super
user and issue the key they submit community articles with; those arrive as drafts that staff
review before anyone may publish them.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from lianluo.ai.embedding import QUERY_CHARS, article_text, embedder
from lianluo.auth.principal import FLOOR_READERS, Principal
from lianluo.db.base import utcnow
from lianluo.domain.kb import query
from lianluo.domain.kb.query import Concept
from lianluo.domain.kb.rerank import RERANK_DEPTH, rerank
from lianluo.domain.kb.snippet import plain_text, snippet
from lianluo.domain.kb.synonyms import DEFAULT_GROUPS, DEFAULT_TABLE, SynonymTable, cached_table
from lianluo.domain.kb.tokenize import analyze, tokenize
from lianluo.domain.kb.vectors import SEMANTIC_FLOOR, fuse, to_bytes
from lianluo.errors import Conflict, Forbidden, NotFound, Unauthorized
from lianluo.events.service import event_service
from lianluo.kb.render import pieces_html, pieces_text
from lianluo.kb.repository import (
    article_repository,
    contributor_repository,
    conversation_repository,
    feedback_repository,
    search_index_repository,
)
from lianluo.kb.schemas import (
    ArticleIn,
    ArticleStatus,
    ArticleUpdate,
    CommunityIn,
    SearchHit,
    SearchMode,
    SynonymsIn,
    SynonymsOut,
)
from lianluo.models import Customer, KbArticle, KbArticleVersion, KbContributor, KbSynonyms, Role
from lianluo.tenants.service import apply_changes, require_tenant_admin

KB_READERS = FLOOR_READERS
KB_WRITERS = frozenset({Role.agent, Role.supervisor, Role.admin})
KB_PUBLISHERS = frozenset({Role.supervisor, Role.admin})

KEY_PREFIX = "kbk_"
SUGGEST_MAX_TERMS = 40
SEMANTIC_DEPTH = 50  # nearest articles by embedding fused with BM25's first RERANK_DEPTH
SUGGEST_MESSAGES = 30
# characters of a conversation's newest messages its embedding reads (`recent_text`)
SUGGEST_MEANING_CHARS = 120
PLAIN_TEXT_CACHE_VERSIONS = 20_000


class PlainTextCache:
    """An article version's body without markdown (`plain_text`), kept by version id: a
    version row is never changed (an edit adds one), so the text once made stays true. A
    search reads it for the 50 articles it re-ranks; stripping markdown each time was a tenth
    of a search's CPU. Least recently used versions go first beyond `capacity`."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._texts: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, version: KbArticleVersion) -> str:
        with self._lock:
            text = self._texts.get(version.id)
            if text is not None:
                self._texts.move_to_end(version.id)
                return text
        text = plain_text(version.body)
        with self._lock:
            self._texts[version.id] = text
            while len(self._texts) > self.capacity:
                self._texts.popitem(last=False)
        return text


plain_texts = PlainTextCache(PLAIN_TEXT_CACHE_VERSIONS)


def can_write(principal: Principal) -> bool:
    return principal.partner_id is None and principal.has_any(KB_WRITERS)


def can_publish(principal: Principal) -> bool:
    return principal.partner_id is None and principal.has_any(KB_PUBLISHERS)


def _require_writer(principal: Principal, action: str) -> None:
    principal.require(KB_WRITERS, action)
    if principal.partner_id is not None:
        raise Forbidden(f"{action} is for the tenant's own staff, not partner users")


def _require_publisher(principal: Principal, action: str) -> None:
    principal.require(KB_PUBLISHERS, action)
    if principal.partner_id is not None:
        raise Forbidden(f"{action} is for the tenant's own staff, not partner users")


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def is_live(article: KbArticle) -> bool:
    return article.published_version is not None and article.status != ArticleStatus.archived


@dataclass(frozen=True)
class IssuedKey:
    contributor: KbContributor
    key: str


class ArticleService:
    # ---- reading ----------------------------------------------------------------------------

    def get(self, session: Session, principal: Principal, article_id: str) -> KbArticle:
        """Writers see every article; other readers only live (published) ones."""
        principal.require(KB_READERS, "reading the knowledge base")
        article = article_repository.get(session, principal.tenant_id, article_id)
        if article is None or (not can_write(principal) and not is_live(article)):
            raise NotFound.of("article", article_id)
        return article

    def published(
        self, session: Session, principal: Principal, article_id: str
    ) -> tuple[KbArticle, KbArticleVersion]:
        """The version readers see."""
        article = self.get(session, principal, article_id)
        found = article_repository.published_versions(session, principal.tenant_id, [article.id])
        if article.id not in found or not is_live(article):
            raise NotFound(f"article {article_id} has no published version")
        return found[article.id]

    def list(
        self,
        session: Session,
        principal: Principal,
        *,
        statuses: Sequence[str] | None,
        language: str | None,
        category: str | None,
        origin: str | None,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[KbArticle], int]:
        principal.require(KB_READERS, "listing articles")
        return article_repository.list(
            session,
            principal.tenant_id,
            statuses=statuses,
            language=language,
            category=category,
            origin=origin,
            live_only=not can_write(principal),
            offset=offset,
            limit=limit,
        )

    def versions(
        self, session: Session, principal: Principal, article_id: str, offset: int, limit: int
    ) -> tuple[Sequence[KbArticleVersion], int]:
        _require_writer(principal, "reading article versions")
        article = self.get(session, principal, article_id)
        return article_repository.versions(session, principal.tenant_id, article.id, offset, limit)

    def version(
        self, session: Session, principal: Principal, article_id: str, version: int
    ) -> KbArticleVersion:
        _require_writer(principal, "reading article versions")
        article = self.get(session, principal, article_id)
        row = article_repository.version(session, principal.tenant_id, article.id, version)
        if row is None:
            raise NotFound(f"article {article_id} has no version {version}")
        return row

    # ---- writing ----------------------------------------------------------------------------

    def create(self, session: Session, principal: Principal, data: ArticleIn) -> KbArticle:
        _require_writer(principal, "writing an article")
        article = KbArticle(
            tenant_id=principal.tenant_id,
            language=data.language.value,
            title=data.title,
            body=data.body,
            category=data.category,
            tags=list(data.tags),
            status=ArticleStatus.draft.value,
            origin="staff",
            author_user_id=principal.user_id,
            version=1,
        )
        session.add(article)
        session.flush()
        article_repository.add_version(session, article, "created")
        self._event(session, principal, "kb.article.created", article)
        session.flush()
        return article

    def update(
        self, session: Session, principal: Principal, article_id: str, data: ArticleUpdate
    ) -> KbArticle:
        """A new version; the article goes back to draft (its published version stays live)."""
        _require_writer(principal, "editing an article")
        article = self.get(session, principal, article_id)
        changes = data.model_dump(exclude_unset=True, exclude={"note"})
        if "language" in changes and changes["language"] is not None:
            changes["language"] = changes["language"].value
        apply_changes(article, changes)
        self._new_version(session, principal, article, data.note or "edited")
        return article

    def restore(
        self, session: Session, principal: Principal, article_id: str, version: int
    ) -> KbArticle:
        """Bring back an old version's text as a new version (a draft to review again)."""
        old = self.version(session, principal, article_id, version)
        article = self.get(session, principal, article_id)
        article.title, article.body = old.title, old.body
        article.language, article.category, article.tags = old.language, old.category, old.tags
        self._new_version(session, principal, article, f"restored version {version}")
        return article

    def _new_version(
        self, session: Session, principal: Principal, article: KbArticle, note: str
    ) -> None:
        article.version += 1
        article.author_user_id = principal.user_id
        article.author_customer_id = None
        article.status = ArticleStatus.draft.value
        article_repository.add_version(session, article, note)
        article.updated_at = utcnow()
        self._event(session, principal, "kb.article.edited", article)
        session.flush()

    def submit(self, session: Session, principal: Principal, article_id: str) -> KbArticle:
        _require_writer(principal, "submitting an article for review")
        article = self.get(session, principal, article_id)
        self._move(article, ArticleStatus.draft, ArticleStatus.review, "submit it for review")
        self._event(session, principal, "kb.article.submitted", article)
        return article

    def send_back(self, session: Session, principal: Principal, article_id: str) -> KbArticle:
        _require_publisher(principal, "sending an article back to its author")
        article = self.get(session, principal, article_id)
        self._move(article, ArticleStatus.review, ArticleStatus.draft, "send it back")
        self._event(session, principal, "kb.article.sent_back", article)
        return article

    def publish(self, session: Session, principal: Principal, article_id: str) -> KbArticle:
        """Only a reviewed article is published; its current version goes into the index."""
        _require_publisher(principal, "publishing an article")
        article = self.get(session, principal, article_id)
        self._move(article, ArticleStatus.review, ArticleStatus.published, "publish it")
        article.published_version = article.version
        article.published_at = utcnow()
        search_index_repository.replace(
            session,
            article.tenant_id,
            article.id,
            article.language,
            analyze(article.title, article.body, article.category, tuple(article.tags)),
            embed_article(article.title, article.body, article.category, article.tags),
        )
        self._event(session, principal, "kb.article.published", article)
        return article

    def archive(self, session: Session, principal: Principal, article_id: str) -> KbArticle:
        """Out of search and out of readers' sight; editing it again starts a new draft."""
        _require_publisher(principal, "archiving an article")
        article = self.get(session, principal, article_id)
        if article.status == ArticleStatus.archived:
            raise Conflict(f"article {article_id} is already archived")
        article.status = ArticleStatus.archived.value
        article.published_version = None
        search_index_repository.remove(session, article.id)
        self._event(session, principal, "kb.article.archived", article)
        return article

    def _move(
        self, article: KbArticle, source: ArticleStatus, target: ArticleStatus, action: str
    ) -> None:
        if article.status != source:
            raise Conflict(
                f"article {article.id} is {article.status}; only a {source.value} article can "
                f"{action} (draft → review → published)"
            )
        article.status = target.value
        article.updated_at = utcnow()

    def _event(self, session: Session, principal: Principal, type: str, article: KbArticle) -> None:
        event_service.append(
            session,
            principal.tenant_id,
            type,
            actor=principal,
            payload={
                "article_id": article.id,
                "version": article.version,
                "status": article.status,
            },
        )

    # ---- feedback ---------------------------------------------------------------------------

    def feedback(
        self, session: Session, principal: Principal, article_id: str, helpful: bool
    ) -> KbArticle:
        principal.require(KB_READERS, "rating an article")
        article = self.get(session, principal, article_id)
        if not is_live(article):
            raise Conflict(f"article {article_id} is not published; only live articles are rated")
        feedback_repository.vote(session, article.tenant_id, article.id, principal.user_id, helpful)
        article.helpful_count, article.not_helpful_count = feedback_repository.counts(
            session, article.id
        )
        event_service.append(
            session,
            principal.tenant_id,
            "kb.article.rated",
            actor=principal,
            payload={"article_id": article.id, "helpful": helpful},
        )
        session.flush()
        return article

    # ---- search -----------------------------------------------------------------------------

    def search(
        self,
        session: Session,
        principal: Principal,
        text: str,
        language: str | None,
        offset: int,
        limit: int,
        mode: SearchMode = SearchMode.hybrid,
    ) -> tuple[list[SearchHit], int, list[str]]:
        principal.require(KB_READERS, "searching the knowledge base")
        concepts = query.parse(text, self._synonyms(session, principal.tenant_id))
        hits, total = self._hits(session, principal, concepts, text, mode, language, offset, limit)
        return hits, total, query.all_terms(concepts)

    def suggest(
        self,
        session: Session,
        principal: Principal,
        text: str | None,
        conversation_id: str | None,
        language: str | None,
        limit: int,
        mode: SearchMode = SearchMode.hybrid,
    ) -> tuple[list[SearchHit], list[str]]:
        """Articles for the conversation on the agent's screen: its most frequent terms as a
        query (the last messages of a conversation, read within the caller's scope)."""
        principal.require(KB_READERS, "asking for article suggestions")
        if conversation_id is not None:
            found = conversation_repository.messages(
                session, principal, conversation_id, SUGGEST_MESSAGES
            )
            if found is None:
                raise NotFound.of("conversation", conversation_id)
            conversation, bodies = found
            event_service.audit(
                session,
                principal,
                "customer.conversation_read",
                customer_id=conversation.customer_id,
                payload={"conversation_id": conversation.id, "purpose": "kb.suggest"},
                read_only=True,
            )
            text = "\n".join([conversation.subject, *bodies])
            meaning = recent_text(conversation.subject, bodies)
        else:
            meaning = (text or "")[-QUERY_CHARS:]
        counts = Counter(tokenize(text or ""))
        concepts = query.of_terms(
            [t for t, _ in counts.most_common(SUGGEST_MAX_TERMS)],
            self._synonyms(session, principal.tenant_id),
        )
        hits, _total = self._hits(session, principal, concepts, meaning, mode, language, 0, limit)
        return hits, query.all_terms(concepts)

    def _synonyms(self, session: Session, tenant_id: str) -> SynonymTable:
        return synonym_service.table(session, tenant_id)

    def _hits(
        self,
        session: Session,
        principal: Principal,
        concepts: list[Concept],
        text: str,
        mode: SearchMode,
        language: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[SearchHit], int]:
        """A page of hits: BM25's first `RERANK_DEPTH` re-ordered by proximity and, in hybrid
        mode, fused with the `SEMANTIC_DEPTH` articles nearest the text's embedding; below
        them BM25 order goes on (less what the fused head holds)."""
        wanted = offset + limit
        hybrid = mode == SearchMode.hybrid and bool(text.strip())
        head = RERANK_DEPTH if offset < RERANK_DEPTH or hybrid else 0
        # beyond the fused head, BM25 order less what the head holds: up to SEMANTIC_DEPTH more
        extra = SEMANTIC_DEPTH if hybrid and wanted > head else 0
        candidates = search_index_repository.search(
            session, principal.tenant_id, concepts, language, max(wanted, head) + extra
        )
        ranked, total = candidates.ranked, candidates.total
        shown = article_repository.published_versions(
            session, principal.tenant_id, [a for a, _s in ranked[: max(wanted, head) + extra]]
        )
        if head:
            texts = {a: search_text(*shown[a]) for a, _s in ranked[:head] if a in shown}
            ranked = rerank(ranked, texts, concepts, candidates.weights)
        if hybrid:
            semantic = search_index_repository.nearest(
                session,
                principal.tenant_id,
                embedder.query(text),
                language,
                SEMANTIC_DEPTH,
                SEMANTIC_FLOOR,
            )
            fused = fuse(ranked[:head], semantic)
            in_head = {a for a, _s in fused}
            lexical = {a for a, _s in candidates.ranked}
            total += sum(1 for a in in_head if a not in lexical)
            ranked = fused + [hit for hit in ranked[head:] if hit[0] not in in_head]
            missing = [a for a, _s in ranked[offset:wanted] if a not in shown]
            shown |= article_repository.published_versions(session, principal.tenant_id, missing)
        terms = query.all_terms(concepts)
        hits: list[SearchHit] = []
        for article_id, score in ranked[offset:wanted]:
            if article_id not in shown:
                continue
            article, version = shown[article_id]
            pieces = snippet(plain_texts.of(version), terms)
            title_pieces = snippet(version.title, terms, width=200)
            hits.append(
                SearchHit(
                    article_id=article.id,
                    title=version.title,
                    title_html=pieces_html(title_pieces),
                    language=version.language,
                    category=version.category,
                    tags=list(version.tags),
                    score=round(score, 6),
                    snippet=pieces_text(pieces),
                    snippet_html=pieces_html(pieces),
                    helpful_count=article.helpful_count,
                    not_helpful_count=article.not_helpful_count,
                )
            )
        return hits, total


def recent_text(subject: str, bodies: Sequence[str], limit: int = SUGGEST_MEANING_CHARS) -> str:
    """A conversation as its embedding reads it: the subject, then as many of the latest
    messages, whole, as fit in `limit` characters (the end of the last one if even it does
    not). The question of now is at the end of a conversation, and an embedding of all of
    it is an average in which the newest question drowns."""
    kept: list[str] = []
    room = limit - len(subject)
    for body in reversed(bodies):
        if len(body) > room:
            if not kept and room > 0:
                kept.append(body[-room:])
            break
        kept.append(body)
        room -= len(body) + 1
    return "\n".join([subject, *reversed(kept)]).strip()


def embed_article(title: str, body: str, category: str, tags: Sequence[str]) -> bytes:
    """The stored sentence embedding of an article's text (`vectors.to_bytes`)."""
    return to_bytes(embedder.embed([article_text(title, body, category, tags)])[0])


def search_text(article: KbArticle, version: KbArticleVersion) -> str:
    """What proximity reads of an article: the published version's title, category, tags and
    body without markdown."""
    return "\n".join(
        [version.title, version.category or "", " ".join(version.tags), plain_texts.of(version)]
    )


class ContributorService:
    """Super users (超级用户): customers who may submit community articles with a key."""

    def list(
        self, session: Session, principal: Principal, offset: int, limit: int
    ) -> tuple[Sequence[KbContributor], int]:
        require_tenant_admin(principal, "listing knowledge-base contributors")
        return contributor_repository.list(session, principal.tenant_id, offset, limit)

    def issue(self, session: Session, principal: Principal, customer_id: str) -> IssuedKey:
        """Make the customer a super user with a fresh key (a previous key stops working)."""
        require_tenant_admin(principal, "making a customer a knowledge-base contributor")
        customer = session.get(Customer, customer_id)
        if customer is None or customer.tenant_id != principal.tenant_id:
            raise NotFound.of("customer", customer_id)
        key = KEY_PREFIX + secrets.token_urlsafe(24)
        row = contributor_repository.of_customer(session, principal.tenant_id, customer_id)
        if row is None:
            row = KbContributor(tenant_id=principal.tenant_id, customer_id=customer_id)
            session.add(row)
        row.key_hash = key_hash(key)
        row.key_prefix = key[:10]
        row.issued_by = principal.user_id
        row.revoked_at = None
        session.flush()
        event_service.audit(
            session,
            principal,
            "customer.kb_contributor_key_issued",
            customer_id=customer_id,
            payload={"contributor_id": row.id, "key_prefix": row.key_prefix},
        )
        return IssuedKey(row, key)

    def revoke(self, session: Session, principal: Principal, customer_id: str) -> KbContributor:
        require_tenant_admin(principal, "revoking a contributor's key")
        row = contributor_repository.of_customer(session, principal.tenant_id, customer_id)
        if row is None or row.revoked_at is not None:
            raise NotFound(f"customer {customer_id} holds no contributor key")
        row.key_hash = None
        row.revoked_at = utcnow()
        session.flush()
        event_service.audit(
            session,
            principal,
            "customer.kb_contributor_key_revoked",
            customer_id=customer_id,
            payload={"contributor_id": row.id},
        )
        return row

    def submit(self, session: Session, key: str | None, data: CommunityIn) -> KbArticle:
        """A community article from the holder of a contributor key: a draft for staff review."""
        if not key or not key.startswith(KEY_PREFIX) or len(key) > 200:
            raise Unauthorized("send your contributor key in the X-KB-Key header")
        contributor = contributor_repository.by_key_hash(session, key_hash(key))
        if contributor is None:
            raise Unauthorized("this contributor key is unknown or was revoked")
        article = KbArticle(
            tenant_id=contributor.tenant_id,
            language=data.language.value,
            title=data.title,
            body=data.body,
            category=data.category,
            tags=list(data.tags),
            status=ArticleStatus.draft.value,
            origin="community",
            author_customer_id=contributor.customer_id,
            version=1,
        )
        session.add(article)
        session.flush()
        article_repository.add_version(session, article, "community submission")
        event_service.append(
            session,
            contributor.tenant_id,
            "kb.article.community_submitted",
            customer_id=contributor.customer_id,
            payload={"article_id": article.id, "contributor_id": contributor.id},
        )
        session.flush()
        return article


def _synonyms_out(row: KbSynonyms | None) -> SynonymsOut:
    return SynonymsOut(
        groups=row.groups if row else [],
        updated_at=row.updated_at if row else None,
        builtin_groups=len(DEFAULT_GROUPS),
    )


class SynonymService:
    """A tenant's own synonym groups, searched beside the built-in ones: its product and plan
    names and the words its customers use for them. Staff who publish articles edit them;
    every search of the tenant uses them at once (the table is built once per distinct set of
    groups and kept, `cached_table`)."""

    def table(self, session: Session, tenant_id: str) -> SynonymTable:
        row = session.get(KbSynonyms, tenant_id)
        if row is None or not row.groups:
            return DEFAULT_TABLE
        return cached_table(tuple(tuple(group) for group in row.groups))

    def get(self, session: Session, principal: Principal) -> SynonymsOut:
        principal.require(KB_READERS, "reading the knowledge base's synonyms")
        return _synonyms_out(session.get(KbSynonyms, principal.tenant_id))

    def put(self, session: Session, principal: Principal, data: SynonymsIn) -> SynonymsOut:
        _require_publisher(principal, "changing the knowledge base's synonyms")
        row = session.get(KbSynonyms, principal.tenant_id)
        before = len(row.groups) if row else 0
        if row is None:
            row = KbSynonyms(tenant_id=principal.tenant_id)
            session.add(row)
        row.groups = data.groups
        row.updated_by = principal.user_id
        row.updated_at = utcnow()
        session.flush()
        event_service.append(
            session,
            principal.tenant_id,
            "kb.synonyms_changed",
            actor=principal,
            payload={"groups_before": before, "groups": len(data.groups)},
        )
        return _synonyms_out(row)


article_service = ArticleService()
contributor_service = ContributorService()
synonym_service = SynonymService()
