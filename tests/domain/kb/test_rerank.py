from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lianluo.domain.kb.query import Concept, parse
from lianluo.domain.kb.rerank import PROXIMITY_WINDOW, RERANK_DEPTH, proximity, rerank


def concept(*terms: str) -> Concept:
    return Concept(tuple((t, 1.0) for t in terms))


class TestProximity:
    def test_concepts_side_by_side_earn_more_than_far_apart(self) -> None:
        concepts = [concept("实名"), concept("通过")]
        near = proximity("实名认证不通过，请重拍", concepts, [2.0, 3.0])
        far = proximity("实名" + "。" * (PROXIMITY_WINDOW - 1) + "通过", concepts, [2.0, 3.0])
        assert near > far > 0

    def test_beyond_the_window_nothing(self) -> None:
        text = "实名" + "x" * (PROXIMITY_WINDOW + 1) + "通过"
        assert proximity(text, [concept("实名"), concept("通过")], [2.0, 3.0]) == 0.0

    def test_a_pair_weighs_as_its_weaker_concept(self) -> None:
        concepts = [concept("a1"), concept("b2")]
        assert proximity("a1 b2", concepts, [1.0, 5.0]) == proximity("a1 b2", concepts, [1.0, 9.0])

    def test_english_stems_match_their_words(self) -> None:
        concepts = parse("invoices bill")
        assert proximity("Your invoice for the bill", concepts, [1.0, 1.0]) > 0


class TestRerank:
    def test_only_the_head_moves_and_the_tail_keeps_its_order(self) -> None:
        ranked = [(f"d{i:03d}", 100.0 - i) for i in range(RERANK_DEPTH + 5)]
        last = ranked[RERANK_DEPTH - 1][0]
        texts = {last: "实名通过"}
        out = rerank(ranked, texts, [concept("实名"), concept("通过")], [50.0, 50.0])
        assert out[0][0] == last
        assert out[RERANK_DEPTH:] == ranked[RERANK_DEPTH:]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(min_value=0.01, max_value=50), min_size=1, max_size=70),
    st.lists(
        st.sampled_from(["实名 通过", "通过", "实名", "", "话费 实名"]), min_size=70, max_size=70
    ),
)
def test_rerank_keeps_every_document_and_never_lowers_a_score(
    scores: list[float], texts: list[str]
) -> None:
    ranked = sorted(((f"d{i:03d}", s) for i, s in enumerate(scores)), key=lambda x: (-x[1], x[0]))
    out = rerank(
        ranked,
        dict(zip((d for d, _ in ranked), texts, strict=False)),
        [concept("实名"), concept("通过")],
        [1.5, 2.5],
    )
    assert sorted(d for d, _ in out) == sorted(d for d, _ in ranked)
    before = dict(ranked)
    assert all(score >= before[d] for d, score in out)
    head = [s for _d, s in out[:RERANK_DEPTH]]
    assert head == sorted(head, reverse=True)
