"""Second stage: the best BM25 candidates re-ordered by how close together the query's concepts
stand in each article's text.

BM25 sees bags of words: an article whose words are the query's but scattered over unrelated
paragraphs scores like one that says them in one sentence. The bonus is the term-proximity
addition of Rasolofo & Savoy, "Term Proximity Scoring for Keyword-Based Retrieval Systems"
(ECIR 2003): for every pair of query concepts found within `PROXIMITY_WINDOW` characters of each
other, min(w_a, w_b) / (1 + gap), with w the concepts' idf weights (`bm25.concept_weights`) and
the gap in characters (Chinese has no spaces to count words by), added to the BM25 score times
`PROXIMITY_WEIGHT`. Only the first `RERANK_DEPTH` candidates are read again: the bonus is never
negative, so everything below them stays in BM25 order and pages stay consistent.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence

from lianluo.domain.kb.bm25 import rank
from lianluo.domain.kb.query import Concept
from lianluo.domain.kb.tokenize import normalize

RERANK_DEPTH = 50
PROXIMITY_WINDOW = 10
PROXIMITY_WEIGHT = 1.0
MAX_OCCURRENCES = 200  # of one concept in one text, enough to find the closest pair

Span = tuple[int, int]


def _spans(text: str, terms: Sequence[str]) -> list[Span]:
    spans: list[Span] = []
    for term in terms:
        start = text.find(term)
        while start != -1 and len(spans) < MAX_OCCURRENCES:
            spans.append((start, start + len(term)))
            start = text.find(term, start + 1)
    spans.sort()
    return spans


def _gap(first: list[Span], second: list[Span]) -> int:
    """Characters between the closest occurrences of two concepts (0 when they touch or
    overlap), looking at the neighbours by start of each occurrence of the first."""
    best = -1
    starts = [s for s, _e in second]
    for s, e in first:
        i = bisect.bisect_left(starts, s)
        for j in (i - 1, i):
            if 0 <= j < len(second):
                s2, e2 = second[j]
                gap = max(s2 - e, s - e2, 0)
                if best < 0 or gap < best:
                    best = gap
        if best == 0:
            break
    return best


def proximity(text: str, concepts: Sequence[Concept], weights: Sequence[float]) -> float:
    """The proximity bonus of one article (its title, category, tags and plain body)."""
    folded = normalize(text)
    spans = [_spans(folded, c.typed) for c in concepts]
    bonus = 0.0
    for a in range(len(concepts)):
        if not spans[a]:
            continue
        for b in range(a + 1, len(concepts)):
            if not spans[b]:
                continue
            gap = _gap(spans[a], spans[b])
            if gap <= PROXIMITY_WINDOW:
                bonus += min(weights[a], weights[b]) / (1.0 + gap)
    return bonus


def rerank(
    ranked: Sequence[tuple[str, float]],
    texts: Mapping[str, str],
    concepts: Sequence[Concept],
    weights: Sequence[float],
) -> list[tuple[str, float]]:
    """`ranked` (best first, as `bm25.rank` orders) with its first `RERANK_DEPTH` entries
    scored again; `texts` holds their text (one missing is scored as it was)."""
    head = {
        document: score + PROXIMITY_WEIGHT * proximity(texts[document], concepts, weights)
        if document in texts
        else score
        for document, score in ranked[:RERANK_DEPTH]
    }
    return rank(head) + list(ranked[RERANK_DEPTH:])
