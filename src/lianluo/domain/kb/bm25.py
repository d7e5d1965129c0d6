"""Okapi BM25 with a boosted title field (a one-length form of BM25F).

Robertson & Zaragoza, "The Probabilistic Relevance Framework: BM25 and Beyond" (2009):
score(D, Q) = Σ_t idf(t) · f·(k1 + 1) / (f + k1·(1 − b + b·|D|/avgdl)), eq. 3.15, with
f = tf_body + TITLE_BOOST·tf_title and |D| = body length + TITLE_BOOST·title length (the
weighted field frequencies of BM25F, §3.5.2). idf(t) = ln(1 + (N − df + 0.5)/(df + 0.5)), the
non-negative variant Lucene uses, so a very common term never pushes a score below zero.

A query is scored by concepts (`query.Concept`): a concept contributes the best weighted score
among its terms, score(D, Q) = Σ_c max_{t ∈ c} w_t · s(t, D), the dis-max of Lucene's
DisjunctionMaxQuery; a query of plain terms is one concept per term, which is the sum above.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from lianluo.domain.kb.query import Concept

K1 = 1.2
B = 0.75
TITLE_BOOST = 3.0


@dataclass(frozen=True, slots=True)
class Posting:
    """One term in one document."""

    document: str
    term: str
    body_tf: int
    title_tf: int


@dataclass(frozen=True, slots=True)
class CorpusStats:
    documents: int  # N
    average_length: float  # avgdl, of weighted lengths
    document_frequency: Mapping[str, int]  # df per query term


def weighted_length(title_length: int, body_length: int) -> float:
    return body_length + TITLE_BOOST * title_length


def idf(documents: int, document_frequency: int) -> float:
    df = min(max(document_frequency, 0), documents)
    return math.log(1.0 + (documents - df + 0.5) / (df + 0.5))


def term_score(idf_t: float, frequency: float, length: float, average_length: float) -> float:
    if frequency <= 0:
        return 0.0
    norm = K1 * (1.0 - B + B * length / average_length) if average_length > 0 else K1
    return idf_t * frequency * (K1 + 1.0) / (frequency + norm)


def bm25_scores(
    postings: Iterable[Posting],
    lengths: Mapping[str, float],
    stats: CorpusStats,
    concepts: Sequence[Concept] | None = None,
) -> dict[str, float]:
    """Score of every document that holds at least one query term (the postings given are
    those of the query terms); `lengths` are weighted lengths (`weighted_length`). Without
    `concepts`, every term of `stats.document_frequency` is a concept of its own."""
    if concepts is None:
        concepts = [Concept(((t, 1.0),)) for t in stats.document_frequency]
    idfs = {t: idf(stats.documents, df) for t, df in stats.document_frequency.items()}
    by_term: dict[str, dict[str, float]] = {}
    for p in postings:
        frequency = p.body_tf + TITLE_BOOST * p.title_tf
        by_term.setdefault(p.term, {})[p.document] = term_score(
            idfs.get(p.term, 0.0), frequency, lengths[p.document], stats.average_length
        )
    scores: dict[str, float] = {}
    for concept in concepts:
        best: dict[str, float] = {}
        for term, weight in concept.terms:
            for document, score in by_term.get(term, {}).items():
                best[document] = max(best.get(document, 0.0), weight * score)
        for document in scores.keys() | best.keys():
            scores[document] = scores.get(document, 0.0) + best.get(document, 0.0)
    return {d: s for d, s in scores.items() if s > 0}


def concept_weights(stats: CorpusStats, concepts: Sequence[Concept]) -> list[float]:
    """How much each concept says: the largest weighted idf among its terms found (0 when none
    is), what proximity weighs a pair of concepts by."""
    return [
        max(
            (
                w * idf(stats.documents, stats.document_frequency[t])
                for t, w in c.terms
                if stats.document_frequency.get(t, 0) > 0
            ),
            default=0.0,
        )
        for c in concepts
    ]


def rank(scores: Mapping[str, float], limit: int | None = None) -> list[tuple[str, float]]:
    """Best first; equal scores (to 1e-9, so float noise cannot reorder) by document id."""
    ordered = sorted(scores.items(), key=lambda item: (-round(item[1], 9), item[0]))
    return ordered if limit is None else ordered[:limit]
