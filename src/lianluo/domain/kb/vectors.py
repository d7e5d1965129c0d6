"""Semantic search: nearest articles by sentence-embedding cosine, and its fusion with BM25.

Lexical search misses a question that names the symptom in other words ("晚上看视频一直卡" for
"宽带网速慢排查"); a sentence embedding places both near each other. Each published article
has a unit vector (computed outside the domain, `lianluo.ai.embedding`); a tenant's vectors
are held in memory as a `VectorIndex` and searched by brute force in two steps: Hamming
distance between sign bits gives a shortlist (binary quantisation, 64 bytes an article), and
the shortlist is scored by the cosine of int8-quantised vectors (one byte a dimension, with a
scale per article). Both steps are numpy on the same stored vectors, so every backend ranks
alike.

`fuse` merges the BM25 order and the semantic order by reciprocal-rank fusion: Cormack,
Clarke & Büttcher, "Reciprocal Rank Fusion outperforms Condorcet and individual Rank Learning
Methods" (SIGIR 2009), score = sum of w / (k + rank) with k = 60.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SHORTLIST = 2000  # candidates by sign-bit distance, re-scored by cosine
RRF_K = 60
LEXICAL_WEIGHT = 1.0
SEMANTIC_WEIGHT = 1.0
# A semantic-only hit needs at least this cosine, so that a query about nothing in the knowledge
# base finds nothing. Calibrated on the model, not on queries: between the bench's labelled
# queries and the labelled articles they are not about, the cosine's median is 0.12 and its
# 95th percentile 0.3; between a query and its article, the median is 0.49.
SEMANTIC_FLOOR = 0.3

Floats = npt.NDArray[np.float32]


def to_bytes(vector: npt.ArrayLike) -> bytes:
    """A vector as stored: little-endian float16 (half the bytes, cosines agree to 1e-3)."""
    return np.asarray(vector, dtype="<f2").tobytes()


def from_bytes(data: bytes) -> Floats:
    vector = np.frombuffer(data, dtype="<f2").astype(np.float32)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


@dataclass(frozen=True, slots=True)
class VectorIndex:
    """A tenant's article vectors, immutable: an update makes a new index (`adding`,
    `without`), so a search keeps the one it started with."""

    dimensions: int
    doc_nos: npt.NDArray[np.int64]
    article_ids: npt.NDArray[np.object_]
    languages: npt.NDArray[np.object_]
    signs: npt.NDArray[np.uint64]  # (n, dimensions / 64): the sign bits
    rows: npt.NDArray[np.int8]  # (n, dimensions): vector / scale, rounded
    scales: Floats  # (n,)

    @classmethod
    def empty(cls, dimensions: int) -> VectorIndex:
        if dimensions % 64:
            raise ValueError(f"vector dimensions must be a multiple of 64, not {dimensions}")
        return cls(
            dimensions,
            np.empty(0, dtype=np.int64),
            np.empty(0, dtype=object),
            np.empty(0, dtype=object),
            np.empty((0, dimensions // 64), dtype=np.uint64),
            np.empty((0, dimensions), dtype=np.int8),
            np.empty(0, dtype=np.float32),
        )

    def __len__(self) -> int:
        return len(self.doc_nos)

    def adding(
        self,
        doc_nos: Sequence[int],
        article_ids: Sequence[str],
        languages: Sequence[str],
        vectors: Floats,
    ) -> VectorIndex:
        """This index with more articles (unit vectors, one row each)."""
        if not len(doc_nos):
            return self
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(doc_nos), self.dimensions)
        peak = np.abs(vectors).max(axis=1)
        scales = np.where(peak > 0, peak / 127, 1.0).astype(np.float32)
        rows = np.round(vectors / scales[:, None]).astype(np.int8)
        signs = np.packbits(vectors > 0, axis=1).view(np.uint64)
        return VectorIndex(
            self.dimensions,
            np.concatenate([self.doc_nos, np.asarray(doc_nos, dtype=np.int64)]),
            np.concatenate([self.article_ids, np.asarray(article_ids, dtype=object)]),
            np.concatenate([self.languages, np.asarray(languages, dtype=object)]),
            np.concatenate([self.signs, signs]),
            np.concatenate([self.rows, rows]),
            np.concatenate([self.scales, scales]),
        )

    def without(self, doc_nos: Sequence[int]) -> VectorIndex:
        """This index less the articles indexed under these document numbers."""
        keep = ~np.isin(self.doc_nos, np.asarray(doc_nos, dtype=np.int64))
        if keep.all():
            return self
        return VectorIndex(
            self.dimensions,
            self.doc_nos[keep],
            self.article_ids[keep],
            self.languages[keep],
            self.signs[keep],
            self.rows[keep],
            self.scales[keep],
        )

    def nearest(
        self, query: Floats, count: int, language: str | None = None, floor: float = -1.0
    ) -> list[tuple[str, float]]:
        """The `count` articles of highest cosine to the query (a unit vector), at least
        `floor`, best first; equal cosines by article id."""
        n = len(self)
        if n == 0 or count <= 0:
            return []
        query = np.asarray(query, dtype=np.float32).reshape(self.dimensions)
        allowed = np.ones(n, dtype=bool) if language is None else self.languages == language
        if n > SHORTLIST:
            bits = np.packbits(query > 0).view(np.uint64)
            distance = np.bitwise_count(self.signs ^ bits).sum(axis=1, dtype=np.int32)
            distance[~allowed] = self.dimensions + 1
            shortlist = np.argpartition(distance, SHORTLIST)[:SHORTLIST]
        else:
            shortlist = np.arange(n)
        shortlist = shortlist[allowed[shortlist]]
        cosines = (self.rows[shortlist].astype(np.float32) @ query) * self.scales[shortlist]
        above = np.flatnonzero(cosines >= floor)
        if len(above) > count:
            # the count-th best cosine, and every row that ties it (ties go by article id)
            kth = np.partition(cosines[above], len(above) - count)[len(above) - count]
            above = above[cosines[above] >= kth]
        found = [(str(self.article_ids[shortlist[i]]), round(float(cosines[i]), 6)) for i in above]
        found.sort(key=lambda hit: (-hit[1], hit[0]))
        return found[:count]


def fuse(
    lexical: Sequence[tuple[str, float]],
    semantic: Sequence[tuple[str, float]],
    k: int = RRF_K,
    lexical_weight: float = LEXICAL_WEIGHT,
    semantic_weight: float = SEMANTIC_WEIGHT,
) -> list[tuple[str, float]]:
    """Reciprocal-rank fusion of two rankings (best first) into one, best first; equal
    scores by article id."""
    scores: dict[str, float] = {}
    for ranking, weight in ((lexical, lexical_weight), (semantic, semantic_weight)):
        for rank, (article_id, _score) in enumerate(ranking, start=1):
            scores[article_id] = scores.get(article_id, 0.0) + weight / (k + rank)
    return sorted(((a, round(s, 9)) for a, s in scores.items()), key=lambda hit: (-hit[1], hit[0]))
