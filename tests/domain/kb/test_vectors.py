from __future__ import annotations

import numpy as np
import pytest

from lianluo.domain.kb.vectors import SHORTLIST, VectorIndex, from_bytes, fuse, to_bytes


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def index_of(vectors: np.ndarray, languages: list[str] | None = None) -> VectorIndex:
    n = len(vectors)
    return VectorIndex.empty(vectors.shape[1]).adding(
        list(range(1, n + 1)), [f"a{i:05d}" for i in range(n)], languages or ["zh"] * n, vectors
    )


class TestStorage:
    def test_a_stored_vector_comes_back_a_unit_vector_of_the_same_direction(self) -> None:
        v = unit(np.random.default_rng(1).standard_normal((1, 512)))[0]
        back = from_bytes(to_bytes(v))
        assert len(to_bytes(v)) == 1024
        assert np.linalg.norm(back) == pytest.approx(1.0, abs=1e-6)
        assert float(back @ v) > 0.9999


class TestNearest:
    @pytest.mark.parametrize("n", [200, SHORTLIST * 3])
    def test_the_nearest_are_those_of_highest_cosine(self, n: int) -> None:
        rng = np.random.default_rng(n)
        vectors = unit(rng.standard_normal((n, 128)))
        index = index_of(vectors)
        for probe in range(5):
            query = unit(vectors[probe : probe + 1] + 0.06 * rng.standard_normal((1, 128)))[0]
            exact = vectors @ query
            best = np.sort(exact)[::-1]
            found = index.nearest(query, 5)
            assert found[0][0] == f"a{probe:05d}"
            cosines = [c for _a, c in found]
            assert cosines == sorted(cosines, reverse=True)
            # int8 rows: each cosine within 0.01 of the exact one, so at worst near-ties swap
            for (article_id, cosine), kth in zip(found, best[:5], strict=True):
                assert cosine == pytest.approx(float(exact[int(article_id[1:])]), abs=0.01)
                assert cosine >= kth - 0.02

    def test_only_the_language_asked_for(self) -> None:
        vectors = unit(np.random.default_rng(3).standard_normal((40, 64)))
        index = index_of(vectors, ["zh", "en"] * 20)
        found = index.nearest(vectors[1], 10, language="zh")
        assert found
        assert all(int(a[1:]) % 2 == 0 for a, _c in found)

    def test_below_the_floor_nothing(self) -> None:
        vectors = unit(np.eye(64, dtype=np.float32)[:3])
        index = index_of(vectors)
        assert [a for a, _c in index.nearest(vectors[0], 5, floor=0.5)] == ["a00000"]

    def test_an_article_taken_out_is_not_found(self) -> None:
        vectors = unit(np.random.default_rng(4).standard_normal((10, 64)))
        index = index_of(vectors).without([1])  # doc_no 1 is a00000
        assert "a00000" not in [a for a, _c in index.nearest(vectors[0], 10)]
        assert len(index) == 9

    def test_dimensions_must_fit_the_sign_words(self) -> None:
        with pytest.raises(ValueError, match="multiple of 64"):
            VectorIndex.empty(100)


class TestFuse:
    def test_found_by_both_ranks_above_found_by_one(self) -> None:
        lexical = [("a", 9.0), ("b", 8.0), ("c", 7.0)]
        semantic = [("d", 0.9), ("c", 0.8)]
        fused = [a for a, _s in fuse(lexical, semantic)]
        assert fused[0] == "c"
        assert set(fused) == {"a", "b", "c", "d"}

    def test_equal_scores_go_by_article_id(self) -> None:
        assert [a for a, _s in fuse([("b", 1.0)], [("a", 0.5)])] == ["a", "b"]

    def test_one_ranking_alone_keeps_its_order(self) -> None:
        lexical = [("z", 3.0), ("y", 2.0), ("x", 1.0)]
        assert [a for a, _s in fuse(lexical, [])] == ["z", "y", "x"]
