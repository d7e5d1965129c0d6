"""Every query of the knowledge base, scoped by tenant. The search index (kb_documents,
kb_postings) is ours, so BM25 ranks the same on SQLite and PostgreSQL: SQL picks candidates
with the formula of domain/kb/bm25.py, which then scores them exactly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, and_, bindparam, case, delete, func, insert, select, update
from sqlalchemy.orm import Session

from lianluo.auth.principal import Principal
from lianluo.customers.repository import partner_queue_ids
from lianluo.domain.kb.bm25 import (
    K1,
    TITLE_BOOST,
    B,
    CorpusStats,
    Posting,
    bm25_scores,
    idf,
    rank,
    weighted_length,
)
from lianluo.domain.kb.tokenize import Analyzed
from lianluo.models import (
    Contact,
    Conversation,
    KbArticle,
    KbArticleVersion,
    KbContributor,
    KbDocument,
    KbFeedback,
    KbIndexStats,
    KbPosting,
    Message,
)

# SQL returns this many candidates beyond the page, so that float noise between backends at
# the boundary cannot change which documents the exact scoring sees.
CANDIDATE_SLACK = 20


@dataclass(frozen=True, slots=True)
class Ranked:
    article_id: str
    score: float


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
            .where(KbArticle.tenant_id == tenant_id, KbArticle.id.in_(list(article_ids)))
        )
        return {a.id: (a, v) for a, v in rows.all()}


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


class SearchIndexRepository:
    def replace(
        self, session: Session, tenant_id: str, article_id: str, language: str, doc: Analyzed
    ) -> None:
        """Index the published version of an article in place of what was indexed before."""
        self.remove(session, article_id)
        session.execute(
            insert(KbDocument).values(
                article_id=article_id,
                tenant_id=tenant_id,
                language=language,
                title_length=doc.title_length,
                body_length=doc.body_length,
            )
        )
        self._count(
            session, tenant_id, language, 1, weighted_length(doc.title_length, doc.body_length)
        )
        rows = [
            {
                "article_id": article_id,
                "term": term,
                "tenant_id": tenant_id,
                "body_tf": doc.body_tf.get(term, 0),
                "title_tf": doc.title_tf.get(term, 0),
            }
            for term in sorted(doc.terms())
        ]
        if rows:
            session.execute(insert(KbPosting), rows)

    def remove(self, session: Session, article_id: str) -> None:
        indexed = session.execute(
            select(KbDocument).where(KbDocument.article_id == article_id)
        ).scalar_one_or_none()
        if indexed is None:
            return
        length = weighted_length(indexed.title_length, indexed.body_length)
        self._count(session, indexed.tenant_id, indexed.language, -1, -length)
        session.execute(delete(KbPosting).where(KbPosting.article_id == article_id))
        session.execute(delete(KbDocument).where(KbDocument.article_id == article_id))
        session.expunge(indexed)

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

    def stats(self, session: Session, tenant_id: str, language: str | None) -> tuple[int, float]:
        """(N, sum of weighted lengths) of the tenant's index, or of one language's part."""
        query = select(
            func.coalesce(func.sum(KbIndexStats.documents), 0),
            func.coalesce(func.sum(KbIndexStats.total_length), 0.0),
        ).where(KbIndexStats.tenant_id == tenant_id)
        if language:
            query = query.where(KbIndexStats.language == language)
        documents, length = session.execute(query).one()
        return int(documents), float(length)

    def search(
        self,
        session: Session,
        tenant_id: str,
        terms: Sequence[str],
        language: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[Ranked], int]:
        """BM25 over the tenant's published articles: (the page of hits, how many match)."""
        if not terms:
            return [], 0
        doc_scope: list[Any] = [KbDocument.tenant_id == tenant_id]
        if language:
            doc_scope.append(KbDocument.language == language)
        documents, length_sum = self.stats(session, tenant_id, language)
        if documents <= 0:
            return [], 0
        average_length = length_sum / documents
        joined = and_(KbPosting.article_id == KbDocument.article_id, *doc_scope)
        df_query = select(KbPosting.term, func.count()).where(
            KbPosting.tenant_id == tenant_id, KbPosting.term.in_(list(terms))
        )
        if language:  # only then is the join needed: the index covers (tenant, term)
            df_query = df_query.join(KbDocument, joined)
        df_rows = session.execute(df_query.group_by(KbPosting.term)).all()
        document_frequency = {term: int(n) for term, n in df_rows}
        if not document_frequency:
            return [], 0
        stats = CorpusStats(documents, average_length, document_frequency)

        # Candidates: the same BM25 in SQL (floats bound as parameters, so no integer
        # division on either backend), then the exact score in Python.
        idf_of = case(
            *(
                (KbPosting.term == term, bindparam(f"idf_{i}", idf(documents, df), Float))
                for i, (term, df) in enumerate(sorted(document_frequency.items()))
            ),
            else_=0.0,
        )
        frequency = KbPosting.body_tf + bindparam("boost", TITLE_BOOST, Float) * KbPosting.title_tf
        norm = bindparam("k1_1_b", K1 * (1 - B), Float) + bindparam(
            "k1_b_avg", K1 * B / average_length, Float
        ) * (
            KbDocument.body_length
            + bindparam("boost2", TITLE_BOOST, Float) * KbDocument.title_length
        )
        score = func.sum(idf_of * frequency * (K1 + 1.0) / (frequency + norm)).label("score")
        candidates = session.execute(
            select(KbPosting.article_id, score, func.count().over().label("total"))
            .join(KbDocument, joined)
            .where(KbPosting.tenant_id == tenant_id, KbPosting.term.in_(list(document_frequency)))
            .group_by(KbPosting.article_id)
            .order_by(score.desc(), KbPosting.article_id)
            .limit(offset + limit + CANDIDATE_SLACK)
        ).all()
        if not candidates:
            return [], 0
        total = int(candidates[0].total)
        ids = [row.article_id for row in candidates]
        postings = session.execute(
            select(
                KbPosting.article_id,
                KbPosting.term,
                KbPosting.body_tf,
                KbPosting.title_tf,
                KbDocument.title_length,
                KbDocument.body_length,
            )
            .join(KbDocument, KbDocument.article_id == KbPosting.article_id)
            .where(KbPosting.article_id.in_(ids), KbPosting.term.in_(list(document_frequency)))
        ).all()
        lengths = {p.article_id: weighted_length(p.title_length, p.body_length) for p in postings}
        scores = bm25_scores(
            (Posting(p.article_id, p.term, p.body_tf, p.title_tf) for p in postings),
            lengths,
            stats,
        )
        ranked = rank(scores)[offset : offset + limit]
        return [Ranked(article_id, score) for article_id, score in ranked], total

    def indexed(self, session: Session, tenant_id: str) -> int:
        return session.execute(
            select(func.count()).select_from(KbDocument).where(KbDocument.tenant_id == tenant_id)
        ).scalar_one()


article_repository = ArticleRepository()
feedback_repository = FeedbackRepository()
contributor_repository = ContributorRepository()
conversation_repository = ConversationRepository()
search_index_repository = SearchIndexRepository()
