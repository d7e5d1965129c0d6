from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lianluo.domain.kb import postings
from lianluo.domain.kb.bm25 import CorpusStats, Posting, bm25_scores, weighted_length

# (doc, body_tf, title_tf, title_length, body_length)
entry = st.tuples(
    st.integers(1, 500), st.integers(0, 5), st.integers(0, 3), st.integers(1, 9), st.integers(5, 90)
).filter(lambda e: e[1] + e[2] > 0)
term_lists = st.dictionaries(
    st.sampled_from(["宽带", "套餐", "bill", "roam", "退款"]),
    st.lists(entry, min_size=1, max_size=30, unique_by=lambda e: e[0]),
    min_size=1,
)


class TestPackedLists:
    @given(st.lists(entry, max_size=40, unique_by=lambda e: e[0]), entry)
    def test_add_then_remove_leaves_the_others(self, entries: list, new: tuple) -> None:
        entries = [e for e in entries if e[0] != new[0]]
        start = postings.encode(postings.records(entries)) if entries else None
        grown = postings.add(start, postings.records([new]))
        assert postings.count(grown) == len(entries) + 1
        assert list(postings.decode(grown)["doc"]) == sorted([e[0] for e in entries] + [new[0]])
        shrunk = postings.remove(grown, new[0])
        assert sorted(postings.decode(shrunk).tolist()) == sorted(entries)

    def test_adding_a_document_again_replaces_its_record(self) -> None:
        data = postings.encode(postings.records([(1, 1, 0, 2, 10), (2, 3, 1, 2, 10)]))
        data = postings.add(data, postings.records([(2, 5, 0, 4, 20)]))
        assert postings.decode(data).tolist() == [(1, 1, 0, 2, 10), (2, 5, 0, 4, 20)]


@settings(deadline=None)
@given(term_lists, st.integers(500, 2000))
def test_vectorised_scores_equal_the_reference(lists: dict, documents: int) -> None:
    lengths: dict[str, float] = {}
    for entries in lists.values():
        for doc, _b, _t, title_length, body_length in entries:
            lengths[str(doc)] = weighted_length(title_length, body_length)
    # lengths of one document must agree across terms: keep the first seen
    fixed = {
        term: [(d, b, t, *_first(lists, d)) for d, b, t, _tl, _bl in entries]
        for term, entries in lists.items()
    }
    lengths = {str(d): weighted_length(tl, bl) for e in fixed.values() for d, _b, _t, tl, bl in e}
    average = sum(lengths.values()) / len(lengths)
    stats = CorpusStats(documents, average, {t: len(e) for t, e in fixed.items()})
    reference = bm25_scores(
        (Posting(str(d), t, b, ti) for t, e in fixed.items() for d, b, ti, _tl, _bl in e),
        lengths,
        stats,
    )
    docs, scores = postings.score(
        [[postings.records(e)] for e in fixed.values()], documents, average
    )
    assert {str(d): s for d, s in zip(docs.tolist(), scores.tolist(), strict=True)} == (
        pytest.approx(reference, rel=1e-12)
    )


def _first(lists: dict, doc: int) -> tuple[int, int]:
    for entries in lists.values():
        for d, _b, _t, title_length, body_length in entries:
            if d == doc:
                return title_length, body_length
    raise AssertionError


def test_top_keeps_the_best() -> None:
    scores = np.array([0.5, 3.0, 1.0, 2.0])
    assert sorted(postings.top(scores, 2).tolist()) == [1, 3]
    assert sorted(postings.top(scores, 10).tolist()) == [0, 1, 2, 3]


@given(term_lists)
def test_grouping_many_documents_equals_encoding_each_list(lists: dict) -> None:
    terms = sorted(lists)
    rows = [(k, *e) for k, t in enumerate(terms) for e in lists[t]]
    columns = [np.array(c, dtype=np.int64) for c in zip(*rows, strict=True)]
    grouped = postings.group(*columns)
    assert grouped == [postings.encode(postings.records(lists[t])) for t in terms]
