"""Highlight snippets: the window of an article's text with the most query terms, as pieces
marked matching or not (the caller escapes them for HTML)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from lianluo.domain.kb.tokenize import stem

Piece = tuple[str, bool]  # (text, is a match)

_MARKDOWN = re.compile(
    r"(```.*?```|`|\*\*|__|^#{1,6}\s*|^>\s*|^\s*[-*+]\s+|!\[|\]\([^)]*\)|\[)", re.M | re.S
)
_ASCII_WORD = re.compile(r"[a-z0-9]+")


def plain_text(markdown: str) -> str:
    """Markdown without its markup, whitespace collapsed: what a snippet is cut from."""
    return " ".join(_MARKDOWN.sub(" ", markdown).split())


def _matches(text: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    """Spans of `text` that match a term: Chinese terms as substrings, English words whose
    stem is a query term."""
    folded = unicodedata.normalize("NFKC", text).lower()
    if len(folded) != len(text):  # NFKC changed the length: offsets would not line up
        folded = text.lower()
    spans: list[tuple[int, int]] = []
    english = {t for t in terms if t.isascii()}
    for word in _ASCII_WORD.finditer(folded):
        if word.group() in english or stem(word.group()) in english:
            spans.append(word.span())
    for term in sorted((t for t in terms if not t.isascii()), key=len, reverse=True):
        start = folded.find(term)
        while start != -1:
            spans.append((start, start + len(term)))
            start = folded.find(term, start + len(term))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def snippet(text: str, terms: Sequence[str], width: int = 120) -> list[Piece]:
    """About `width` characters of `text` around the densest cluster of matches."""
    spans = _matches(text, terms)
    if not spans:
        cut = text[:width]
        return [(cut + ("…" if len(text) > width else ""), False)] if cut else []
    best_start, best_count = 0, -1
    for i, (s, _e) in enumerate(spans):
        count = sum(1 for s2, e2 in spans[i:] if e2 <= s + width)
        if count > best_count:
            best_start, best_count = s, count
    start = max(0, min(best_start - width // 4, len(text) - width))
    end = min(len(text), start + width)
    pieces: list[Piece] = []
    if start > 0:
        pieces.append(("…", False))
    position = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        if s > position:
            pieces.append((text[position:s], False))
        pieces.append((text[s:e], True))
        position = e
    if position < end:
        pieces.append((text[position:end], False))
    if end < len(text):
        pieces.append(("…", False))
    return pieces
