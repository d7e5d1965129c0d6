from __future__ import annotations

from lianluo.domain.kb.synonyms import DEFAULT_TABLE, SYNONYM_WEIGHT, synonym_table
from lianluo.domain.kb.tokenize import query_terms, words


def test_a_colloquial_word_brings_the_service_word_at_less_weight() -> None:
    assert DEFAULT_TABLE[("座机",)]["固话"] == SYNONYM_WEIGHT


def test_english_members_are_stemmed_like_queries() -> None:
    table = synonym_table([("invoice", "receipts")])
    assert set(table[tuple(words("invoices"))]) == set(query_terms("receipt"))


def test_a_phrase_member_is_keyed_by_its_words_and_brings_each_of_them() -> None:
    table = synonym_table([("refund", "money back")])
    assert set(table[("refund",)]) == {"money", "back"}
    assert ("money", "back") in table
    assert ("money",) not in table


def test_a_chinese_phrase_jieba_cuts_in_two_is_a_key_of_its_words() -> None:
    table = synonym_table([("不想用", "解约")])
    assert tuple(words("不想用")) in table
    assert len(words("不想用")) > 1


def test_a_member_never_brings_itself() -> None:
    for phrase, brought in DEFAULT_TABLE.items():
        assert not set(phrase) & {t for t, w in brought.items() if w >= SYNONYM_WEIGHT}
