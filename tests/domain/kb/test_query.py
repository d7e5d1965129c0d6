from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lianluo.domain.kb.query import Concept, all_terms, of_terms, parse
from lianluo.domain.kb.synonyms import COMPOUND_PART_WEIGHT, SYNONYM_WEIGHT, synonym_table
from lianluo.domain.kb.tokenize import QUERY_STOP_WORDS, STOP_WORDS


def weights(concept: Concept) -> dict[str, float]:
    return dict(concept.terms)


class TestParse:
    def test_a_compound_is_one_concept_its_parts_weigh_less(self) -> None:
        (concept,) = parse("国际漫游")
        found = weights(concept)
        assert found["国际漫游"] == 1.0
        assert found["国际"] == found["漫游"] == COMPOUND_PART_WEIGHT
        assert concept.typed == ("国际漫游",)

    def test_asking_words_make_no_concept(self) -> None:
        assert [c.typed for c in parse("网速一直特别慢怎么回事")] == [("网速",), ("慢",)]
        assert [c.typed for c in parse("how do I get an invoice")] == [("invoic",)]

    def test_synonyms_join_the_concept_of_the_word_at_less_weight(self) -> None:
        (concept,) = parse("座机")
        assert weights(concept)["座机"] == 1.0
        assert weights(concept)["固话"] == SYNONYM_WEIGHT

    def test_a_phrase_member_is_found_across_the_words_jieba_cut(self) -> None:
        table = synonym_table([("不想用", "解约")])
        concepts = parse("合约机不想用了", table)
        assert any("解约" in weights(c) for c in concepts)
        assert not any("解约" in weights(c) for c in parse("合约机不想", table))

    def test_an_english_phrase_member_is_found(self) -> None:
        (concept,) = parse("cut off", synonym_table([("cut off", "suspend")]))
        assert weights(concept)["suspend"] == SYNONYM_WEIGHT

    def test_a_word_the_hmm_made_up_brings_its_dictionary_pieces(self) -> None:
        concepts = parse("家庭网能加几个人")
        joined = [c for c in concepts if "能加" in weights(c)]
        assert joined
        assert weights(joined[0])["加"] == 1.0

    def test_a_compound_part_brings_its_synonyms(self) -> None:
        (concept, *_rest) = parse("出国前")
        assert "国际漫游" in weights(concept)

    def test_a_separated_verb_object_word_is_one_concept(self) -> None:
        concepts = parse("宽带上不了网")
        assert [c.typed for c in concepts] == [("宽带",), ("上网",)]
        assert "流量" in weights(concepts[1])  # and brings its synonyms

    def test_two_single_characters_side_by_side_also_look_for_their_pair(self) -> None:
        concepts = parse("给家人办张副卡")
        with_pair = [c for c in concepts if "副卡" in weights(c)]
        assert [c.typed for c in with_pair] == [("副", "副卡"), ("卡", "副卡")]
        assert weights(with_pair[0])["副卡"] == 1.0
        assert not any("家人办" in weights(c) for c in concepts)  # only single characters pair

    def test_a_synonym_phrase_of_stop_words_makes_a_concept_of_its_synonyms(self) -> None:
        table = synonym_table([("不想要", "退订")])
        concepts = parse("不想要彩铃了", table)
        assert weights(concepts[0]) == {"退订": SYNONYM_WEIGHT}
        assert concepts[0].typed == ()
        assert [c.typed for c in parse("不想要彩铃了", synonym_table([]))] == [("彩铃", "彩", "铃")]

    def test_of_terms_makes_one_concept_per_term(self) -> None:
        concepts = of_terms(["座机", "宽带", "座机"])
        assert [c.typed for c in concepts] == [("座机",), ("宽带",)]


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="话费宽带国际漫游座机怎么一直的 abcrefundsinvoice我想要查询", max_size=30))
def test_concepts_hold_only_index_terms_never_stop_words_and_weights_in_range(text: str) -> None:
    concepts = parse(text)
    for concept in concepts:
        assert concept.terms, "a concept is never empty"
        assert [w for _t, w in concept.terms] == sorted(
            (w for _t, w in concept.terms), reverse=True
        )
        for term, weight in concept.terms:
            assert 0 < weight <= 1.0
            assert term not in STOP_WORDS
            assert term not in QUERY_STOP_WORDS
    typed = [t for c in concepts for t in c.typed]
    assert all_terms(concepts)[: len(set(typed))] == list(dict.fromkeys(typed))
