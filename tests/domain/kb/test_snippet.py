from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lianluo.domain.kb.snippet import plain_text, snippet


def test_matches_are_marked_chinese_and_english() -> None:
    pieces = snippet("出国前请开通国际漫游服务。Roaming charges apply.", ["漫游", "roam"])
    marked = [text for text, hit in pieces if hit]
    assert marked == ["漫游", "Roaming"]


def test_window_moves_to_the_matches() -> None:
    text = "无关内容。" * 60 + "宽带故障请先重启光猫。" + "其他内容。" * 60
    pieces = snippet(text, ["宽带", "故障"], width=40)
    joined = "".join(t for t, _ in pieces)
    assert "宽带故障" in joined
    assert joined.startswith("…")
    assert joined.endswith("…")


def test_no_match_gives_the_beginning() -> None:
    assert snippet("abc", ["zzz"]) == [("abc", False)]


def test_markdown_markup_is_removed() -> None:
    assert plain_text("# 标题\n**粗体** and `code` [link](http://x)") == "标题 粗体 and code link"


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(st.characters(blacklist_characters="…"), max_size=300),
    st.lists(st.sampled_from(["漫游", "bill", "a", "套餐"]), max_size=3),
)
def test_snippet_is_a_window_of_the_text(text: str, terms: list[str]) -> None:
    pieces = snippet(text, terms, width=50)
    body = "".join(t for t, _ in pieces).strip("…")
    assert body in text
    assert len(body) <= 50
