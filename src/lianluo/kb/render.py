"""Markdown to safe HTML (raw HTML in an article is shown as text, not run) and the HTML of
highlight snippets."""

from __future__ import annotations

from functools import cache
from html import escape

from markdown_it import MarkdownIt

from lianluo.domain.kb.snippet import Piece


@cache
def _markdown() -> MarkdownIt:
    # html=False escapes raw HTML; commonmark's validateLink refuses javascript: and data: links
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def markdown_html(body: str) -> str:
    return _markdown().render(body)


def pieces_html(pieces: list[Piece]) -> str:
    return "".join(f"<mark>{escape(t)}</mark>" if hit else escape(t) for t, hit in pieces)


def pieces_text(pieces: list[Piece]) -> str:
    return "".join(t for t, _ in pieces)
