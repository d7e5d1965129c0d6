from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lianluo.domain.kb.tokenize import analyze, query_terms, stem, tokenize, words


class TestTokenize:
    def test_chinese_compounds_and_their_parts(self) -> None:
        terms = tokenize("国际漫游资费")
        assert "国际漫游" in terms
        assert "漫游" in terms

    def test_mixed_chinese_and_english(self) -> None:
        terms = tokenize("宽带故障 Broadband is DOWN again")
        assert {"宽带", "故障", "broadband", "down", "again"} <= set(terms)
        assert "is" not in terms

    def test_stop_words_and_punctuation_go(self) -> None:
        assert tokenize("的了吗？！，。 the and of") == []

    def test_full_width_letters_and_digits_match_ascii(self) -> None:
        assert tokenize("ＡＰＮ设置 ５Ｇ") == tokenize("apn设置 5g")

    def test_repeats_are_kept_for_term_frequency(self) -> None:
        assert tokenize("refund refund refunds").count("refund") == 3

    def test_query_terms_are_distinct_in_order(self) -> None:
        assert query_terms("话费 话费 bill bills") == ["话费", "bill"]


class TestStem:
    @pytest.mark.parametrize(
        ("words", "root"),
        [
            (("refund", "refunds", "refunded", "refunding"), "refund"),
            (("charge", "charges", "charged"), "charg"),
            (("roam", "roaming", "roams"), "roam"),
            (("plan", "plans", "planned"), "plan"),
            (("bill", "bills", "billing"), "bill"),
        ],
    )
    def test_forms_meet(self, words: tuple[str, ...], root: str) -> None:
        assert {stem(w) for w in words} == {root}

    def test_short_words_and_codes_are_kept(self) -> None:
        assert stem("sms") == "sms"
        assert stem("5g") == "5g"
        assert stem("address") == "address"


class TestAnalyze:
    def test_title_category_and_tags_form_the_title_field(self) -> None:
        a = analyze("套餐变更", "办理流程", category="业务办理", tags=("plan",))
        assert a.title_tf["套餐"] == 1
        assert a.title_tf["plan"] == 1
        assert a.body_tf["流程"] == 1
        assert a.title_length == sum(a.title_tf.values())
        assert a.body_length == sum(a.body_tf.values())


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_tokenize_never_fails_and_terms_are_bounded(text: str) -> None:
    for term in tokenize(text):
        assert term
        assert len(term) <= 64
        assert term == term.lower()


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=20))
def test_a_stem_is_never_longer_than_its_word(word: str) -> None:
    assert len(stem(word)) <= len(word)
    assert stem(word)


def test_single_characters_are_terms_only_where_jieba_cuts_them() -> None:
    assert tokenize("宽带无法上网") == ["宽带", "无法", "上网"]
    assert "包" in tokenize("流量包")
    assert tokenize("上网") == ["上网"]  # not 上 and 网 as well


def test_a_split_verb_object_word_is_put_back() -> None:
    assert "上网" in tokenize("家里宽带上不了网")
    assert "充值" in tokenize("手机充不了值")
    assert "上网" not in tokenize("上面不是网")  # only a potential complement splits a word


def test_a_hyphenated_word_is_indexed_in_parts_and_written_together() -> None:
    assert tokenize("slow Wi-Fi") == ["slow", "wi", "fi", "wifi"]
    for query in ("wifi", "Wi-Fi", "WIFI"):
        assert words(query) == ["wifi"]
    assert set(query_terms("e-mail")) <= set(tokenize("we e-mailed it"))
    # numbers and ranges are not one word written in pieces
    assert tokenize("10-20 5g-ready") == ["10", "20", "5g", "ready"]
    assert words("10-20") == ["10", "20"]
