"""Every query of the knowledge base, scoped by tenant. The search index (kb_documents,
kb_term_postings) is ours, so BM25 ranks the same on SQLite and PostgreSQL: the database keeps
one packed posting list per term and domain/kb/postings.py scores them."""

from __future__ import annotations

import secrets
import threading
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import and_, bindparam, case, delete, func, insert, null, select, update
from sqlalchemy.orm import Session
from threadpoolctl import ThreadpoolController

from lianluo.ai import embedding
from lianluo.auth.principal import Principal
from lianluo.customers.repository import partner_queue_ids
from lianluo.domain.kb import postings, vectors
from lianluo.domain.kb.bm25 import rank, weighted_length
from lianluo.domain.kb.query import Concept, all_terms
from lianluo.domain.kb.tokenize import Analyzed
from lianluo.domain.kb.vectors import VectorIndex
from lianluo.models import (
    Contact,
    Conversation,
    KbArticle,
    KbArticleVersion,
    KbContributor,
    KbDocument,
    KbFeedback,
    KbIndexHead,
    KbIndexStats,
    KbTermPostings,
    Message,
)

# Candidates taken by score beyond the page, so that equal scores cut at the boundary are
# still ordered by article id as `rank` orders them.
CANDIDATE_SLACK = 20
LOAD_CHUNK = 2000
POSTING_CACHE_BYTES = 256 * 1024 * 1024
TERM_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Candidates:
    """The best articles by BM25, best first (`bm25.rank` order), how many matched in all,
    and each query concept's weight (`bm25.concept_weights`)."""

    ranked: list[tuple[str, float]]
    total: int
    weights: list[float]


class ArticleRepository:
    def get(self, session: Session, tenant_id: str, article_id: str) -> KbArticle | None:
        return session.execute(
            select(KbArticle).where(KbArticle.id == article_id, KbArticle.tenant_id == tenant_id)
        ).scalar_one_or_none()

    def list(
        self,
        session: Session,
        tenant_id: str,
        *,
        statuses: Sequence[str] | None,
        language: str | None,
        category: str | None,
        origin: str | None,
        live_only: bool,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[KbArticle], int]:
        conditions: list[Any] = [KbArticle.tenant_id == tenant_id]
        if statuses:
            conditions.append(KbArticle.status.in_(list(statuses)))
        if live_only:
            conditions.append(KbArticle.published_version.is_not(None))
            conditions.append(KbArticle.status != "archived")
        if language:
            conditions.append(KbArticle.language == language)
        if category:
            conditions.append(KbArticle.category == category)
        if origin:
            conditions.append(KbArticle.origin == origin)
        total = session.execute(
            select(func.count()).select_from(KbArticle).where(*conditions)
        ).scalar_one()
        rows = session.execute(
            select(KbArticle)
            .where(*conditions)
            .order_by(KbArticle.updated_at.desc(), KbArticle.id)
            .offset(offset)
            .limit(limit)
        )
        return rows.scalars().all(), total

    def add_version(self, session: Session, article: KbArticle, note: str) -> KbArticleVersion:
        row = KbArticleVersion(
            tenant_id=article.tenant_id,
            article_id=article.id,
            version=article.version,
            language=article.language,
            title=article.title,
            body=article.body,
            category=article.category,
            tags=list(article.tags),
            author_user_id=article.author_user_id,
            author_customer_id=article.author_customer_id,
            note=note,
        )
        session.add(row)
        return row

    def version(
        self, session: Session, tenant_id: str, article_id: str, version: int
    ) -> KbArticleVersion | None:
        return session.execute(
            select(KbArticleVersion).where(
                KbArticleVersion.tenant_id == tenant_id,
                KbArticleVersion.article_id == article_id,
                KbArticleVersion.version == version,
            )
        ).scalar_one_or_none()

    def versions(
        self, session: Session, tenant_id: str, article_id: str, offset: int, limit: int
    ) -> tuple[Sequence[KbArticleVersion], int]:
        conditions = [
            KbArticleVersion.tenant_id == tenant_id,
            KbArticleVersion.article_id == article_id,
        ]
        total = session.execute(
            select(func.count()).select_from(KbArticleVersion).where(*conditions)
        ).scalar_one()
        rows = session.execute(
            select(KbArticleVersion)
            .where(*conditions)
            .order_by(KbArticleVersion.version.desc())
            .offset(offset)
            .limit(limit)
        )
        return rows.scalars().all(), total

    def published_versions(
        self, session: Session, tenant_id: str, article_ids: Sequence[str]
    ) -> dict[str, tuple[KbArticle, KbArticleVersion]]:
        if not article_ids:
            return {}
        rows = session.execute(
            select(KbArticle, KbArticleVersion)
            .join(
                KbArticleVersion,
                and_(
                    KbArticleVersion.article_id == KbArticle.id,
                    KbArticleVersion.version == KbArticle.published_version,
                ),
            )
            .where(KbArticle.id.in_(list(article_ids)))
        )
        # The tenant is checked on the rows, not in SQL: given tenant_id = ? beside id IN (…),
        # SQLite (no statistics) walks the tenant's whole (tenant_id, status) index, every
        # article of the tenant, instead of looking the ids up by primary key.
        return {a.id: (a, v) for a, v in rows.all() if a.tenant_id == tenant_id}


class FeedbackRepository:
    def vote(
        self, session: Session, tenant_id: str, article_id: str, user_id: str, helpful: bool
    ) -> None:
        existing = session.execute(
            select(KbFeedback).where(
                KbFeedback.article_id == article_id, KbFeedback.user_id == user_id
            )
        ).scalar_one_or_none()
        if existing is None:
            session.add(
                KbFeedback(
                    tenant_id=tenant_id, article_id=article_id, user_id=user_id, helpful=helpful
                )
            )
        else:
            existing.helpful = helpful
        session.flush()

    def counts(self, session: Session, article_id: str) -> tuple[int, int]:
        rows = session.execute(
            select(KbFeedback.helpful, func.count())
            .where(KbFeedback.article_id == article_id)
            .group_by(KbFeedback.helpful)
        ).all()
        by = {bool(helpful): n for helpful, n in rows}
        return by.get(True, 0), by.get(False, 0)


class ContributorRepository:
    def of_customer(
        self, session: Session, tenant_id: str, customer_id: str
    ) -> KbContributor | None:
        return session.execute(
            select(KbContributor).where(
                KbContributor.tenant_id == tenant_id, KbContributor.customer_id == customer_id
            )
        ).scalar_one_or_none()

    def by_key_hash(self, session: Session, key_hash: str) -> KbContributor | None:
        return session.execute(
            select(KbContributor).where(
                KbContributor.key_hash == key_hash, KbContributor.revoked_at.is_(None)
            )
        ).scalar_one_or_none()

    def list(
        self, session: Session, tenant_id: str, offset: int, limit: int
    ) -> tuple[Sequence[KbContributor], int]:
        condition = KbContributor.tenant_id == tenant_id
        total = session.execute(
            select(func.count()).select_from(KbContributor).where(condition)
        ).scalar_one()
        rows = session.execute(
            select(KbContributor)
            .where(condition)
            .order_by(KbContributor.created_at.desc(), KbContributor.id)
            .offset(offset)
            .limit(limit)
        )
        return rows.scalars().all(), total


class ConversationRepository:
    def messages(
        self, session: Session, principal: Principal, conversation_id: str, limit: int
    ) -> tuple[Conversation, list[str]] | None:
        """The last `limit` customer and agent messages of a conversation the caller may see:
        of the tenant, and for partner users one that passed through their queues."""
        condition = and_(
            Conversation.id == conversation_id, Conversation.tenant_id == principal.tenant_id
        )
        if principal.partner_id is not None:
            served = select(Contact.conversation_id).where(
                Contact.tenant_id == principal.tenant_id,
                Contact.queue_id.in_(partner_queue_ids(principal.partner_id)),
            )
            condition = and_(condition, Conversation.id.in_(served))
        conversation = session.execute(select(Conversation).where(condition)).scalar_one_or_none()
        if conversation is None:
            return None
        bodies = session.execute(
            select(Message.body)
            .where(
                Message.tenant_id == principal.tenant_id,
                Message.conversation_id == conversation_id,
                Message.sender_kind.in_(("customer", "agent")),
            )
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(limit)
        ).scalars()
        return conversation, list(reversed(list(bodies)))


@dataclass(frozen=True, slots=True)
class IndexedDocument:
    """An article to put into the index in bulk (`SearchIndexRepository.load`)."""

    article_id: str
    language: str
    analyzed: Analyzed
    embedding: bytes | None = None  # `vectors.to_bytes`


class PostingCache:
    """Decoded posting lists kept in the process, keyed by their random revision: the search
    names the revisions it holds (`revisions`) and the database sends only the lists whose
    revision is another; any write, in any process, gives the row a new revision, and a
    rolled-back write's revision never comes back. Least recently used lists go first beyond
    `budget_bytes`."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = budget_bytes
        self._lists: OrderedDict[tuple[str, str, str, int], postings.Records] = OrderedDict()
        self._kept: dict[tuple[str, str], set[int]] = {}  # (tenant, term) → revisions kept
        self._bytes = 0
        self._lock = threading.Lock()

    def revisions(self, tenant_id: str, terms: Sequence[str]) -> list[int]:
        """The revisions kept of the lists of these terms (any language)."""
        with self._lock:
            return [r for t in terms for r in self._kept.get((tenant_id, t), ())]

    def get_many(self, keys: Sequence[tuple[str, str, str, int]]) -> list[postings.Records | None]:
        with self._lock:
            found = []
            for key in keys:
                records = self._lists.get(key)
                if records is not None:
                    self._lists.move_to_end(key)
                found.append(records)
            return found

    def put(self, key: tuple[str, str, str, int], records: postings.Records) -> None:
        with self._lock:
            if key in self._lists:
                return
            self._lists[key] = records
            self._kept.setdefault((key[0], key[2]), set()).add(key[3])
            self._bytes += records.nbytes
            while self._bytes > self.budget_bytes and len(self._lists) > 1:
                (tenant_id, _lang, term, revision), dropped = self._lists.popitem(last=False)
                self._bytes -= dropped.nbytes
                kept = self._kept[(tenant_id, term)]
                kept.discard(revision)
                if not kept:
                    del self._kept[(tenant_id, term)]


posting_cache = PostingCache(POSTING_CACHE_BYTES)


def _index_lock_key(tenant_id: str) -> tuple[str, str]:
    """The session holds the tenant's index-writer lock (has written to its index)."""
    return ("kb_index_locked", tenant_id)


@dataclass(frozen=True, slots=True)
class _TenantVectors:
    next_doc_no: int  # the tenant's index head when `index` was brought up to date
    documents: int  # how many articles its index held then
    known: frozenset[int]  # their document numbers, with or without a vector
    index: VectorIndex


class VectorCache:
    """Each tenant's article vectors, kept in the process (`VectorIndex`) and brought up to
    date from the database before a search: a publish takes a new document number and an
    archive lowers the tenant's document count, so while the index head and the count are
    as they were, nothing changed; otherwise the new rows are read (document numbers above
    the ones kept) and, if the count still differs, the numbers that left.

    What a session reads after writing to the tenant's index itself is not kept: it may be
    rolled back, and the document numbers it took would then be given to other articles."""

    def __init__(self, dimensions: int) -> None:
        self.dimensions = dimensions
        self._tenants: dict[str, _TenantVectors] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._tenants.clear()

    def index(self, session: Session, tenant_id: str) -> VectorIndex:
        head, documents = session.execute(
            select(
                select(KbIndexHead.next_doc_no)
                .where(KbIndexHead.tenant_id == tenant_id)
                .scalar_subquery(),
                select(func.coalesce(func.sum(KbIndexStats.documents), 0))
                .where(KbIndexStats.tenant_id == tenant_id)
                .scalar_subquery(),
            )
        ).one()
        head, documents = int(head or 0), int(documents)
        with self._lock:
            kept = self._tenants.get(tenant_id)
        if kept is not None and (kept.next_doc_no, kept.documents) == (head, documents):
            return kept.index
        fresh = self._update(session, tenant_id, kept, head, documents)
        if not session.info.get(_index_lock_key(tenant_id)):
            with self._lock:
                self._tenants[tenant_id] = fresh
        return fresh.index

    def _update(
        self,
        session: Session,
        tenant_id: str,
        kept: _TenantVectors | None,
        head: int,
        documents: int,
    ) -> _TenantVectors:
        index = kept.index if kept else VectorIndex.empty(self.dimensions)
        known = set(kept.known) if kept else set()
        since = kept.next_doc_no if kept else 0
        rows = self._rows(session, tenant_id, KbDocument.doc_no >= since)
        if len(known) + sum(1 for r in rows if r[0] not in known) != documents:
            present = set(
                session.execute(
                    select(KbDocument.doc_no).where(KbDocument.tenant_id == tenant_id)
                ).scalars()
            )
            gone = known - present
            index = index.without(sorted(gone))
            known -= gone
            missing = present - known - {r[0] for r in rows}
            if missing:
                rows += self._rows(session, tenant_id, KbDocument.doc_no.in_(sorted(missing)))
        added = [r for r in rows if r[0] not in known]
        known.update(r[0] for r in added)
        with_vector = [r for r in added if r[3] is not None and len(r[3]) == 2 * self.dimensions]
        if with_vector:
            index = index.adding(
                [r[0] for r in with_vector],
                [r[1] for r in with_vector],
                [r[2] for r in with_vector],
                np.stack([vectors.from_bytes(bytes(r[3])) for r in with_vector]),
            )
        return _TenantVectors(head, documents, frozenset(known), index)

    def _rows(self, session: Session, tenant_id: str, condition: Any) -> list[Any]:
        return list(
            session.execute(
                select(
                    KbDocument.doc_no,
                    KbDocument.article_id,
                    KbDocument.language,
                    KbDocument.embedding,
                )
                .where(KbDocument.tenant_id == tenant_id, condition)
                .order_by(KbDocument.doc_no)
            ).all()
        )


vector_cache = VectorCache(embedding.DIMENSIONS)
_blas = ThreadpoolController()  # finds the BLAS libraries once, not on every search


class SearchIndexRepository:
    """The inverted index: one row of packed postings per (tenant, term, language)."""

    def replace(
        self,
        session: Session,
        tenant_id: str,
        article_id: str,
        language: str,
        doc: Analyzed,
        embedding: bytes | None = None,
    ) -> None:
        """Index the published version of an article in place of what was indexed before."""
        self._lock(session, tenant_id)
        self.remove(session, article_id)
        doc_no = self._next_doc_numbers(session, tenant_id, 1)
        terms = sorted(doc.terms())
        session.execute(
            insert(KbDocument).values(
                article_id=article_id,
                tenant_id=tenant_id,
                language=language,
                doc_no=doc_no,
                title_length=doc.title_length,
                body_length=doc.body_length,
                terms="\n".join(terms),
                embedding=embedding,
            )
        )
        self._count(
            session, tenant_id, language, 1, weighted_length(doc.title_length, doc.body_length)
        )
        if not terms:
            return
        existing = self._lists(session, tenant_id, language, terms)
        inserts, updates = [], []
        for term in terms:
            record = postings.records(
                [
                    (
                        doc_no,
                        doc.body_tf.get(term, 0),
                        doc.title_tf.get(term, 0),
                        doc.title_length,
                        doc.body_length,
                    )
                ]
            )
            data = postings.add(existing.get(term), record)
            row = {"b_term": term, "b_documents": postings.count(data), "b_postings": data}
            (updates if term in existing else inserts).append(row)
        self._write(session, tenant_id, language, inserts, updates)

    def remove(self, session: Session, article_id: str) -> None:
        indexed = session.execute(
            select(KbDocument).where(KbDocument.article_id == article_id)
        ).scalar_one_or_none()
        if indexed is None:
            return
        tenant_id, language, doc_no = indexed.tenant_id, indexed.language, indexed.doc_no
        self._lock(session, tenant_id)
        length = weighted_length(indexed.title_length, indexed.body_length)
        self._count(session, tenant_id, language, -1, -length)
        terms = [t for t in indexed.terms.split("\n") if t]
        session.execute(delete(KbDocument).where(KbDocument.article_id == article_id))
        session.expunge(indexed)
        existing = self._lists(session, tenant_id, language, terms)
        updates, emptied = [], []
        for term, data in existing.items():
            left = postings.remove(data, doc_no)
            if left:
                updates.append(
                    {"b_term": term, "b_documents": postings.count(left), "b_postings": left}
                )
            else:
                emptied.append(term)
        self._write(session, tenant_id, language, [], updates)
        if emptied:
            session.execute(
                delete(KbTermPostings).where(
                    KbTermPostings.tenant_id == tenant_id,
                    KbTermPostings.language == language,
                    KbTermPostings.term.in_(emptied),
                )
            )

    def load(self, session: Session, tenant_id: str, documents: Sequence[IndexedDocument]) -> None:
        """Index many articles at once into a tenant's empty index (seeding, re-indexing):
        each posting list is written once instead of once per article."""
        self._lock(session, tenant_id)
        first = self._next_doc_numbers(session, tenant_id, len(documents))
        keys: dict[tuple[str, str], int] = {}
        columns = [array("q") for _ in range(6)]  # key, doc, body, title, tl, bl
        key_of, doc_of, body_of, title_of, tl_of, bl_of = columns
        rows, lengths = [], {}
        for doc_no, document in enumerate(documents, start=first):
            doc, language = document.analyzed, document.language
            terms = sorted(doc.terms())
            rows.append(
                {
                    "article_id": document.article_id,
                    "tenant_id": tenant_id,
                    "language": language,
                    "doc_no": doc_no,
                    "title_length": doc.title_length,
                    "body_length": doc.body_length,
                    "terms": "\n".join(terms),
                    "embedding": document.embedding,
                }
            )
            n, total = lengths.get(language, (0, 0.0))
            lengths[language] = (n + 1, total + weighted_length(doc.title_length, doc.body_length))
            key_of.extend(keys.setdefault((language, t), len(keys)) for t in terms)
            doc_of.extend(repeat(doc_no, len(terms)))
            body_of.extend(doc.body_tf.get(t, 0) for t in terms)
            title_of.extend(doc.title_tf.get(t, 0) for t in terms)
            tl_of.extend(repeat(doc.title_length, len(terms)))
            bl_of.extend(repeat(doc.body_length, len(terms)))
        for start in range(0, len(rows), LOAD_CHUNK):
            session.execute(insert(KbDocument), rows[start : start + LOAD_CHUNK])
        for language, (n, total) in sorted(lengths.items()):
            self._count(session, tenant_id, language, n, total)
        batch: list[dict[str, Any]] = []
        for (language, term), data in zip(
            keys, postings.group(*(np.frombuffer(c, dtype=np.int64) for c in columns)), strict=True
        ):
            batch.append(
                {
                    "tenant_id": tenant_id,
                    "term": term,
                    "language": language,
                    "documents": postings.count(data),
                    "revision": secrets.randbits(62),
                    "postings": data,
                }
            )
            if len(batch) == LOAD_CHUNK:
                session.execute(insert(KbTermPostings), batch)
                batch = []
        if batch:
            session.execute(insert(KbTermPostings), batch)

    def _lock(self, session: Session, tenant_id: str) -> None:
        """Take the tenant's index-writer lock (its head row), creating the row if needed."""
        key = _index_lock_key(tenant_id)
        if session.info.get(key):
            return
        head = session.execute(
            select(KbIndexHead.tenant_id)
            .where(KbIndexHead.tenant_id == tenant_id)
            .with_for_update()
        ).scalar_one_or_none()
        if head is None:
            session.execute(insert(KbIndexHead).values(tenant_id=tenant_id, next_doc_no=1))
            session.execute(
                select(KbIndexHead.tenant_id)
                .where(KbIndexHead.tenant_id == tenant_id)
                .with_for_update()
            )
        session.info[key] = True

    def _next_doc_numbers(self, session: Session, tenant_id: str, count: int) -> int:
        first = session.execute(
            select(KbIndexHead.next_doc_no).where(KbIndexHead.tenant_id == tenant_id)
        ).scalar_one()
        session.execute(
            update(KbIndexHead)
            .where(KbIndexHead.tenant_id == tenant_id)
            .values(next_doc_no=first + count)
        )
        return int(first)

    def _lists(
        self, session: Session, tenant_id: str, language: str, terms: Sequence[str]
    ) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for start in range(0, len(terms), TERM_CHUNK):
            rows = session.execute(
                select(KbTermPostings.term, KbTermPostings.postings).where(
                    KbTermPostings.tenant_id == tenant_id,
                    KbTermPostings.language == language,
                    KbTermPostings.term.in_(list(terms[start : start + TERM_CHUNK])),
                )
            )
            found.update({term: bytes(data) for term, data in rows})
        return found

    def _write(
        self,
        session: Session,
        tenant_id: str,
        language: str,
        inserts: list[dict[str, Any]],
        updates: list[dict[str, Any]],
    ) -> None:
        if inserts:
            session.execute(
                insert(KbTermPostings),
                [
                    {
                        "tenant_id": tenant_id,
                        "language": language,
                        "term": row["b_term"],
                        "documents": row["b_documents"],
                        "revision": secrets.randbits(62),
                        "postings": row["b_postings"],
                    }
                    for row in inserts
                ],
            )
        if updates:
            table = KbTermPostings.__table__
            session.execute(
                update(table)
                .where(
                    table.c.tenant_id == tenant_id,
                    table.c.language == language,
                    table.c.term == bindparam("b_term"),
                )
                .values(
                    documents=bindparam("b_documents"),
                    revision=bindparam("b_revision"),
                    postings=bindparam("b_postings"),
                ),
                [row | {"b_revision": secrets.randbits(62)} for row in updates],
            )

    def _count(
        self, session: Session, tenant_id: str, language: str, documents: int, length: float
    ) -> None:
        changed = session.execute(
            update(KbIndexStats)
            .where(KbIndexStats.tenant_id == tenant_id, KbIndexStats.language == language)
            .values(
                documents=KbIndexStats.documents + documents,
                total_length=KbIndexStats.total_length + length,
            )
        )
        if changed.rowcount == 0:  # type: ignore[attr-defined]
            session.execute(
                insert(KbIndexStats).values(
                    tenant_id=tenant_id, language=language, documents=documents, total_length=length
                )
            )

    def search(
        self,
        session: Session,
        tenant_id: str,
        concepts: Sequence[Concept],
        language: str | None,
        count: int,
    ) -> Candidates:
        """BM25 over the tenant's published articles: the `count` best."""
        terms = all_terms(concepts)
        nothing = Candidates([], 0, [0.0] * len(concepts))
        if not terms:
            return nothing
        scope = [KbTermPostings.tenant_id == tenant_id, KbTermPostings.term.in_(terms)]
        counted = [KbIndexStats.tenant_id == tenant_id]
        if language:
            scope.append(KbTermPostings.language == language)
            counted.append(KbIndexStats.language == language)
        # One round trip: the lists of the query's terms, each sent only when its revision is
        # not one this process keeps decoded, and the corpus statistics as uncorrelated scalar
        # subqueries (computed once); without a matching term there is nothing to score.
        kept = posting_cache.revisions(tenant_id, terms)
        current = session.execute(
            select(
                KbTermPostings.term,
                KbTermPostings.language,
                KbTermPostings.revision,
                case((KbTermPostings.revision.in_(kept), null()), else_=KbTermPostings.postings),
                select(func.coalesce(func.sum(KbIndexStats.documents), 0))
                .where(*counted)
                .scalar_subquery(),
                select(func.coalesce(func.sum(KbIndexStats.total_length), 0.0))
                .where(*counted)
                .scalar_subquery(),
            )
            .where(*scope)
            .order_by(KbTermPostings.language)
        ).all()
        if not current:
            return nothing
        documents, length_sum = int(current[0][4]), float(current[0][5])
        if documents <= 0:
            return nothing
        keys = [(tenant_id, lang, term, int(revision)) for term, lang, revision, *_ in current]
        decoded = posting_cache.get_many(keys)
        for i, (key, row) in enumerate(zip(keys, current, strict=True)):
            if row[3] is not None:
                decoded[i] = postings.decode(bytes(row[3]))
                posting_cache.put(key, decoded[i])
        # a list kept when the statement was sent but dropped since is fetched again
        missing = sorted(
            {key[2] for key, found in zip(keys, decoded, strict=True) if found is None}
        )
        if missing:
            fetched = session.execute(
                select(
                    KbTermPostings.term,
                    KbTermPostings.language,
                    KbTermPostings.revision,
                    KbTermPostings.postings,
                ).where(*scope, KbTermPostings.term.in_(missing))
            ).all()
            # A list rewritten by a commit between the two reads is taken as the second read
            # found it (the newer one); a list deleted meanwhile drops out of the search.
            newest: dict[tuple[str, str], postings.Records] = {}
            for term, lang, revision, data in fetched:
                records = postings.decode(bytes(data))
                posting_cache.put((tenant_id, lang, term, int(revision)), records)
                newest[(term, lang)] = records
            decoded = [
                found if found is not None else newest.get((key[2], key[1]))
                for key, found in zip(keys, decoded, strict=True)
            ]
        by_term: dict[str, list[postings.Records]] = {}
        for key, records in zip(keys, decoded, strict=True):
            if records is not None:
                by_term.setdefault(key[2], []).append(records)
        if not by_term:
            return nothing
        doc_nos, scores, weights = postings.score_concepts(
            [[(by_term.get(t, []), w) for t, w in c.terms] for c in concepts],
            documents,
            length_sum / documents,
        )
        chosen = postings.top(scores, count + CANDIDATE_SLACK)
        candidates = {int(doc_nos[i]): float(scores[i]) for i in chosen}
        articles = session.execute(
            select(KbDocument.doc_no, KbDocument.article_id).where(
                KbDocument.tenant_id == tenant_id, KbDocument.doc_no.in_(list(candidates))
            )
        ).all()
        ranked = rank({article_id: candidates[doc_no] for doc_no, article_id in articles})
        return Candidates(ranked[:count], len(doc_nos), weights)

    def nearest(
        self,
        session: Session,
        tenant_id: str,
        query: npt.NDArray[np.float32],
        language: str | None,
        count: int,
        floor: float,
    ) -> list[tuple[str, float]]:
        """The tenant's published articles nearest the query vector (`VectorIndex.nearest`)."""
        index = vector_cache.index(session, tenant_id)
        # one BLAS thread: the product is small, and on busy cores threads that spin waiting
        # for each other made it twenty times slower
        with _blas.limit(limits=1, user_api="blas"):
            return index.nearest(query, count, language, floor)

    def indexed(self, session: Session, tenant_id: str) -> int:
        return session.execute(
            select(func.count()).select_from(KbDocument).where(KbDocument.tenant_id == tenant_id)
        ).scalar_one()


article_repository = ArticleRepository()
feedback_repository = FeedbackRepository()
contributor_repository = ContributorRepository()
conversation_repository = ConversationRepository()
search_index_repository = SearchIndexRepository()
