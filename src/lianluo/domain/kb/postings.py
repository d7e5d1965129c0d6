"""Posting lists kept compactly, one per term, and BM25 scored over them with numpy.

A posting list is the bytes of a numpy record array, one record per document that holds the
term: the document's number, the term's frequency in the body and in the title field, and the
document's two lengths (a document number is never reused for other text, so its lengths stay
true). Reading a term's list is one row and one `frombuffer`; scoring a query is a few vector
operations however many documents match, so a search costs the same on SQLite and PostgreSQL
and ranks alike on both: the database only stores bytes.

The score is `bm25.term_score`, the best of each query concept's terms summed over the
concepts, computed in the same order of floating-point operations, so it equals the reference
(`bm25.bm25_scores`) to the last bits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from lianluo.domain.kb.bm25 import K1, TITLE_BOOST, B, idf

RECORD = np.dtype(
    [
        ("doc", "<i4"),
        ("body_tf", "<i4"),
        ("title_tf", "<i4"),
        ("title_length", "<i4"),
        ("body_length", "<i4"),
    ]
)

Records = npt.NDArray[np.void]


def encode(records: Records) -> bytes:
    """Bytes to store, records ordered by document number."""
    return np.sort(records, order="doc").tobytes()


def decode(data: bytes) -> Records:
    return np.frombuffer(data, dtype=RECORD)


def records(rows: Iterable[tuple[int, int, int, int, int]]) -> Records:
    """(doc, body_tf, title_tf, title_length, body_length) tuples as records."""
    return np.array(list(rows), dtype=RECORD)


def group(
    keys: npt.NDArray[np.int64],
    doc: npt.NDArray[np.int64],
    body_tf: npt.NDArray[np.int64],
    title_tf: npt.NDArray[np.int64],
    title_length: npt.NDArray[np.int64],
    body_length: npt.NDArray[np.int64],
) -> list[bytes]:
    """Posting lists of many documents at once: column `keys` numbers the lists 0..n-1 (every
    number present); returns the encoded list of each number, in order."""
    table = np.empty(len(keys), dtype=RECORD)
    for name, column in zip(
        RECORD.names or (), (doc, body_tf, title_tf, title_length, body_length), strict=True
    ):
        table[name] = column
    order = np.lexsort((doc, keys))
    table, keys = table[order], keys[order]
    bounds = np.flatnonzero(np.diff(keys)) + 1
    return [part.tobytes() for part in np.split(table, bounds)] if len(table) else []


def add(data: bytes | None, new: Records) -> bytes:
    """A posting list with `new` records added (a document appears once: an older record of
    the same document is replaced)."""
    if data is None:
        return encode(new)
    old = decode(data)
    kept = old[~np.isin(old["doc"], new["doc"])]
    return encode(np.concatenate([kept, new]))


def remove(data: bytes, doc: int) -> bytes:
    old = decode(data)
    return old[old["doc"] != doc].tobytes()


def count(data: bytes) -> int:
    return len(data) // RECORD.itemsize


def score(
    lists: Sequence[Sequence[Records]], documents: int, average_length: float
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """BM25 of every document in the lists: `lists[i]` holds the posting lists of the i-th
    query term (one per language part of the index), each term a concept of its own. Returns
    document numbers (ascending) and their scores."""
    docs, scores, _weights = score_concepts(
        [[(parts, 1.0)] for parts in lists], documents, average_length
    )
    return docs, scores


def score_concepts(
    concepts: Sequence[Sequence[tuple[Sequence[Records], float]]],
    documents: int,
    average_length: float,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], list[float]]:
    """BM25 by concepts (`bm25.bm25_scores`): `concepts[i]` holds, for each term of the i-th
    concept, its posting lists (one per language part of the index) and its weight. Returns
    document numbers (ascending), their scores, and each concept's weight
    (`bm25.concept_weights`)."""
    terms: list[tuple[int, float, float, Records]] = []  # concept, weight, idf, postings
    for number, concept in enumerate(concepts):
        for parts, weight in concept:
            present = [p for p in parts if len(p)]
            if not present:
                continue
            postings = np.concatenate(present) if len(present) > 1 else present[0]
            terms.append((number, weight, idf(documents, len(postings)), postings))
    weights = [0.0] * len(concepts)
    for number, weight, idf_t, _postings in terms:
        weights[number] = max(weights[number], weight * idf_t)
    if not terms:
        return np.empty(0, np.int64), np.empty(0, np.float64), weights
    # Scores are kept in arrays indexed by document number (numbers are dense, from 1): no
    # sort or search to find a posting's slot. Per concept the best term wins, then concepts
    # add up in query order, as the reference does (every term scores above zero, so the
    # documents matched are exactly those with a positive total).
    size = 1 + max(int(p["doc"].max()) for *_rest, p in terms)
    totals = np.zeros(size)
    best = np.zeros(size)
    current = terms[0][0]
    for number, weight, idf_t, postings in terms:
        if number != current:
            totals += best
            best[:] = 0.0
            current = number
        frequency = postings["body_tf"] + TITLE_BOOST * postings["title_tf"]
        length = postings["body_length"] + TITLE_BOOST * postings["title_length"]
        if average_length > 0:
            norm = K1 * (1.0 - B + B * length / average_length)
        else:
            norm = np.full(len(postings), K1)
        contribution = weight * (idf_t * frequency * (K1 + 1.0) / (frequency + norm))
        at = postings["doc"]
        best[at] = np.maximum(best[at], contribution)
    totals += best
    matched = np.flatnonzero(totals > 0)
    return matched.astype(np.int64), totals[matched], weights


def top(scores: npt.NDArray[np.float64], k: int) -> npt.NDArray[np.int64]:
    """Indices of the k best scores (unordered; ties at the boundary broken arbitrarily, which
    is why callers ask for some slack beyond the page)."""
    if k >= len(scores):
        return np.arange(len(scores))
    return np.argpartition(-scores, k)[:k]
