"""Search ranks exactly as the pure BM25 reference does, on every backend (so SQLite and
PostgreSQL rank alike): a seeded corpus of bilingual articles, many queries, scores compared."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest
from sqlalchemy.orm import Session

from lianluo.auth.principal import Principal
from lianluo.domain.kb.bm25 import (
    CorpusStats,
    Posting,
    bm25_scores,
    concept_weights,
    rank,
    weighted_length,
)
from lianluo.domain.kb.query import all_terms, parse
from lianluo.domain.kb.rerank import rerank
from lianluo.domain.kb.snippet import plain_text
from lianluo.domain.kb.tokenize import analyze
from lianluo.kb.schemas import ArticleIn, Language, SearchMode
from lianluo.kb.service import article_service

ZH = [
    "套餐",
    "变更",
    "话费",
    "查询",
    "宽带",
    "故障",
    "光猫",
    "漫游",
    "国际",
    "退款",
    "积分",
    "流量",
]
EN = ["plan", "bill", "roaming", "refund", "router", "data", "charges", "international", "sim"]
QUERIES = [
    "套餐变更",
    "宽带故障 光猫",
    "国际漫游 roaming charges",
    "refund 退款",
    "data 流量 plan",
    "话费",
    "sim",
    "积分 查询 bill",
]


def corpus(seed: int, size: int) -> list[tuple[str, str, str, str]]:
    rng = random.Random(seed)
    docs = []
    for i in range(size):
        lang = "zh" if i % 3 else "en"
        words = ZH if lang == "zh" else EN
        title = (" " if lang == "en" else "").join(rng.choices(words, k=rng.randint(1, 3)))
        body = (" " if lang == "en" else "，").join(
            rng.choices(words + ZH[:3], k=rng.randint(3, 40))
        )
        docs.append((lang, f"{title} {i}", rng.choice(["账单", "Billing", "宽带", ""]), body))
    return docs


def reference(docs: dict[str, tuple[str, str, str, str]], query: str, language: str | None):
    concepts = parse(query)
    terms = all_terms(concepts)
    analyzed = {
        aid: analyze(title, body, cat)
        for aid, (lang, title, cat, body) in docs.items()
        if language is None or lang == language
    }
    lengths = {aid: weighted_length(a.title_length, a.body_length) for aid, a in analyzed.items()}
    df = Counter(t for a in analyzed.values() for t in a.terms() if t in terms)
    df.update({t: 0 for t in terms if t not in df})
    stats = CorpusStats(len(analyzed), sum(lengths.values()) / len(lengths), dict(df))
    postings = [
        Posting(aid, t, a.body_tf.get(t, 0), a.title_tf.get(t, 0))
        for aid, a in analyzed.items()
        for t in a.terms()
        if t in terms
    ]
    ranked = rank(bm25_scores(postings, lengths, stats, concepts))
    texts = {
        aid: "\n".join([title, cat, "", plain_text(body)])
        for aid, (_lang, title, cat, body) in docs.items()
    }
    return rerank(ranked, texts, concepts, concept_weights(stats, concepts))


@pytest.mark.parametrize("seed", [1, 2])
def test_database_search_equals_the_reference(session: Session, world: Any, seed: int) -> None:
    user = world.a.users["supervisor"]
    principal = Principal(user.id, world.a.tenant.id, None, frozenset(["supervisor"]))
    docs = {}
    for lang, title, cat, body in corpus(seed, 80):
        art = article_service.create(
            session,
            principal,
            ArticleIn(title=title, body=body, language=Language(lang), category=cat),
        )
        article_service.submit(session, principal, art.id)
        article_service.publish(session, principal, art.id)
        docs[art.id] = (lang, title, cat, body)
    session.flush()
    for query in QUERIES:
        for language in (None, "zh", "en"):
            expected = reference(docs, query, language)
            hits, total, _terms = article_service.search(
                session, principal, query, language, 0, 20, SearchMode.lexical
            )
            assert total == len(expected), (query, language)
            assert [h.article_id for h in hits] == [aid for aid, _ in expected[:20]], query
            for hit, (_aid, score) in zip(hits, expected, strict=False):
                assert hit.score == pytest.approx(score, abs=1e-6)
            # page 2 continues page 1 exactly
            page2, _, _ = article_service.search(
                session, principal, query, language, 20, 20, SearchMode.lexical
            )
            assert [h.article_id for h in page2] == [aid for aid, _ in expected[20:40]]
