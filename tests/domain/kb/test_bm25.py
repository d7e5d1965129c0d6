from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lianluo.domain.kb.bm25 import (
    TITLE_BOOST,
    CorpusStats,
    Posting,
    bm25_scores,
    idf,
    rank,
    weighted_length,
)

VOCAB = ["套餐", "变更", "话费", "宽带", "roam", "refund", "bill", "故障"]


def score_all(
    docs: dict[str, list[str]], query: list[str], titles: dict[str, list[str]] | None = None
) -> dict[str, float]:
    """Score documents given as token lists, the way the repository does."""
    titles = titles or {}
    postings = []
    lengths = {}
    df: Counter[str] = Counter()
    for doc, tokens in docs.items():
        body, title = Counter(tokens), Counter(titles.get(doc, []))
        lengths[doc] = weighted_length(len(titles.get(doc, [])), len(tokens))
        for term in set(body) | set(title):
            if term in query:
                df[term] += 1
                postings.append(Posting(doc, term, body[term], title[term]))
    average = sum(lengths.values()) / len(lengths)
    stats = CorpusStats(len(docs), average, {t: df[t] for t in query})
    return bm25_scores(postings, lengths, stats)


class TestIdf:
    def test_rarer_terms_weigh_more(self) -> None:
        assert idf(1000, 1) > idf(1000, 10) > idf(1000, 999)

    def test_never_negative(self) -> None:
        assert idf(10, 10) > 0


class TestScores:
    def test_more_occurrences_rank_higher(self) -> None:
        s = score_all({"a": ["套餐", "x", "y"], "b": ["套餐", "套餐", "y"]}, ["套餐"])
        assert s["b"] > s["a"]

    def test_shorter_document_ranks_higher_at_equal_tf(self) -> None:
        s = score_all({"a": ["套餐"] + ["x"] * 20, "b": ["套餐", "x"]}, ["套餐"])
        assert s["b"] > s["a"]

    def test_title_match_outweighs_body_match(self) -> None:
        s = score_all(
            {"a": ["套餐", "x"], "b": ["x", "y"]}, ["套餐"], titles={"a": ["z"], "b": ["套餐"]}
        )
        assert s["b"] > s["a"]
        assert TITLE_BOOST > 1

    def test_documents_without_query_terms_are_not_scored(self) -> None:
        s = score_all({"a": ["套餐"], "b": ["话费"]}, ["套餐"])
        assert set(s) == {"a"}

    def test_rank_breaks_ties_by_id(self) -> None:
        assert rank({"b": 1.0, "a": 1.0, "c": 2.0}) == [("c", 2.0), ("a", 1.0), ("b", 1.0)]


docs_strategy = st.dictionaries(
    st.sampled_from(["d1", "d2", "d3", "d4"]),
    st.lists(st.sampled_from(VOCAB + ["x", "y", "z"]), min_size=1, max_size=15),
    min_size=2,
    max_size=4,
)
query_strategy = st.lists(st.sampled_from(VOCAB), min_size=1, max_size=3, unique=True)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs_strategy, query_strategy, st.data())
def test_a_matching_term_in_place_of_another_never_lowers_relative_score(
    docs: dict[str, list[str]], query: list[str], data: st.DataObject
) -> None:
    """Replace one non-query token of document A by a query term: A's score does not fall
    relative to any other document B (its length is unchanged; other documents can only lose
    through the term's lower idf)."""
    names = sorted(docs)
    a = data.draw(st.sampled_from(names))
    others = [i for i, tok in enumerate(docs[a]) if tok not in query]
    if not others:
        return
    position = data.draw(st.sampled_from(others))
    term = data.draw(st.sampled_from(query))
    before = score_all(docs, query)
    changed = {**docs, a: [*docs[a][:position], term, *docs[a][position + 1 :]]}
    after = score_all(changed, query)
    for b in names:
        if b == a:
            continue
        assert (
            after.get(a, 0.0) - after.get(b, 0.0) >= before.get(a, 0.0) - before.get(b, 0.0) - 1e-9
        )


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs_strategy, query_strategy)
def test_single_term_query_more_occurrences_never_lower_the_score(
    docs: dict[str, list[str]], query: list[str]
) -> None:
    term = query[0]
    name = sorted(docs)[0]
    before = score_all(docs, [term]).get(name, 0.0)
    after = score_all({**docs, name: [*docs[name], term]}, [term]).get(name, 0.0)
    assert after >= before - 1e-12


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs_strategy, query_strategy)
def test_scores_are_non_negative_and_query_order_free(
    docs: dict[str, list[str]], query: list[str]
) -> None:
    forward = score_all(docs, query)
    backward = score_all(docs, list(reversed(query)))
    assert all(v >= 0 for v in forward.values())
    assert forward.keys() == backward.keys()
    for k in forward:
        assert forward[k] == pytest.approx(backward[k])
