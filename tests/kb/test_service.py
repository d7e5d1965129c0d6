from __future__ import annotations

from lianluo.domain.kb.snippet import plain_text
from lianluo.kb.service import PlainTextCache
from lianluo.models import KbArticleVersion


def version(version_id: str, body: str) -> KbArticleVersion:
    return KbArticleVersion(id=version_id, body=body)


class TestPlainTextCache:
    def test_a_version_s_text_is_its_body_without_markdown(self) -> None:
        cache = PlainTextCache(4)
        body = "# 宽带\n\n**光猫** 红灯：[报修](https://x)"
        assert cache.of(version("v1", body)) == plain_text(body)

    def test_a_version_is_read_once_then_kept(self) -> None:
        cache = PlainTextCache(4)
        first = version("v1", "**one**")
        assert cache.of(first) == "one"
        first.body = "changed"  # a version row is never changed: the kept text is served
        assert cache.of(first) == "one"
        assert cache.of(version("v2", "two")) == "two"  # another version, its own text

    def test_the_least_recently_used_goes_beyond_capacity(self) -> None:
        cache = PlainTextCache(2)
        a, b, c = version("a", "A"), version("b", "B"), version("c", "C")
        cache.of(a)
        cache.of(b)
        cache.of(a)  # a is used again: b is now the oldest
        cache.of(c)
        a.body, b.body = "A2", "B2"
        assert cache.of(a) == "A"  # kept
        assert cache.of(b) == "B2"  # dropped, read again


class TestRecentText:
    def test_subject_then_the_latest_messages_that_fit(self) -> None:
        from lianluo.kb.service import recent_text

        bodies = ["a" * 50, "b" * 50, "c" * 50]
        assert recent_text("subject", bodies, 120) == "subject\n" + "b" * 50 + "\n" + "c" * 50
        assert recent_text("subject", bodies, 70) == "subject\n" + "c" * 50
        assert recent_text("subject", bodies, 1000) == "\n".join(["subject", *bodies])

    def test_a_long_last_message_keeps_its_end(self) -> None:
        from lianluo.kb.service import recent_text

        assert recent_text("s", ["x" * 10 + "y" * 20], 11) == "s\n" + "y" * 10
        assert recent_text("", [], 100) == ""
