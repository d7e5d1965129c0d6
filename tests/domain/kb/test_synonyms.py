from __future__ import annotations

from lianluo.domain.kb.synonyms import expand, expansions
from lianluo.domain.kb.tokenize import query_terms


def test_a_colloquial_word_brings_the_service_word() -> None:
    assert "固话" in expand(query_terms("搬家了座机怎么办"))


def test_query_terms_come_first_and_each_term_once() -> None:
    terms = expand(["座机", "固话"])
    assert terms[:2] == ["座机", "固话"]
    assert len(terms) == len(set(terms))


def test_english_members_are_stemmed_like_queries() -> None:
    table = expansions([("invoice", "receipts")])
    assert table[query_terms("invoices")[0]] == tuple(query_terms("receipt"))


def test_a_phrase_member_is_brought_in_but_does_not_trigger() -> None:
    table = expansions([("refund", "money back")])
    assert set(table["refund"]) == {"money", "back"}
    assert "money" not in table


def test_unknown_terms_are_left_alone() -> None:
    assert expand(["光猫"]) == ["光猫"]
