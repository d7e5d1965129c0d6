"""Text to index terms, the same for articles and queries, Chinese and English mixed.

- NFKC first, so full-width letters and digits (ＡＰＮ, ５Ｇ) match their ASCII forms; lower case.
- Runs of Han characters go to jieba's search mode, which emits the words of a compound and the
  compound itself (国际漫游 → 国际, 漫游, 国际漫游): a query for either part finds it.
- Runs of Latin letters and digits are words; English words lose a plural or verb suffix by a
  few simple rules (`stem`), enough for refund/refunds/refunded to meet.
- Stop words (the, 的, 吗 …) and punctuation are dropped.

jieba's dictionary ships inside its package: it is read once, on first use, never downloaded.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Any

MAX_TERM_LENGTH = 64

_RUNS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+(?:'[a-z]+)?")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

ENGLISH_STOP_WORDS = frozenset(
    """a an and are as at be been but by can could did do does for from had has have how i if
    in into is it its me my no not of on or our please so than that the their them then there
    these they this to too us was we were what when where which who why will with would you
    your""".split()
)
CHINESE_STOP_WORDS = frozenset(
    """的 了 是 在 我 你 他 她 它 们 我们 你们 吗 呢 啊 吧 呀 哦 嗯 和 与 及 或 就 都 也
    还 又 把 被 让 给 对 从 向 这 那 这个 那个 什么 怎么 怎么办 怎样 如何 一下 一个 可以
    能 会 要 想 请 请问 您 您好 你好 谢谢 有 没有 没 不 很 太 更 最 之 其 而 着 过 地 得
    为 为什么 哪 哪里 个 些 下""".split()
)
STOP_WORDS = ENGLISH_STOP_WORDS | CHINESE_STOP_WORDS

_jieba_lock = threading.Lock()
_jieba: Any = None


def _segmenter() -> Any:
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                _jieba = tokenizer
    return _jieba


def stem(word: str) -> str:
    """A light English suffix stripper after Porter's step 1 (plurals, -ed, -ing), then a final
    e goes, so charge/charges/charged and refund/refunds/refunded meet. Words of three letters
    or fewer, and anything with a digit, are kept as they are."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, replacement in _SUFFIXES:
        if not word.endswith(suffix):
            continue
        if suffix == "s" and word.endswith(("ss", "us", "is")):
            break
        base = word[: len(word) - len(suffix)] + replacement
        if len(base) < 3:
            continue
        if suffix in ("ing", "ed") and base[-1] == base[-2] and base[-1] not in "lsz":
            base = base[:-1]  # stopped -> stop, but billing -> bill
        word = base
        break
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


_SUFFIXES = (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""))


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _han_terms(run: str, characters: bool) -> list[str]:
    """jieba's search mode (a word, preceded by its dictionary 2- and 3-grams), and with
    `characters` each word's single characters once."""
    segmenter = _segmenter()
    known = segmenter.FREQ
    out: list[str] = []
    for word in segmenter.cut(run, HMM=True):
        for n in (2, 3):
            if len(word) > n:
                out.extend(
                    gram
                    for gram in (word[i : i + n] for i in range(len(word) - n + 1))
                    if known.get(gram) and gram not in STOP_WORDS
                )
        if word not in STOP_WORDS:
            out.append(word[:MAX_TERM_LENGTH])
        if characters and len(word) > 1:
            out.extend(c for c in word if c not in STOP_WORDS)
    return out


def tokenize(text: str, characters: bool = False) -> list[str]:
    """Index terms of `text` in order, repeats kept (term frequencies count them).

    With `characters` (the document side), every Han word of two or more characters also
    yields its single characters: a query segmented as 上/不了/网 then still meets a document's
    上网 through 上 and 网, at the low weight BM25 gives such common terms. Queries stay words
    (single characters only where jieba cut them), so they do not scan the long posting lists
    of every character."""
    terms: list[str] = []
    for match in _RUNS.finditer(normalize(text)):
        run = match.group()
        if _HAN.match(run):
            terms.extend(_han_terms(run, characters))
        else:
            word = run.replace("'", "")
            if word in STOP_WORDS:
                continue
            terms.append(stem(word)[:MAX_TERM_LENGTH])
    return terms


@dataclass(frozen=True, slots=True)
class Analyzed:
    """What the index keeps of one article: term counts in the title field (title, category
    and tags) and in the body, and the two lengths."""

    title_tf: Counter[str]
    body_tf: Counter[str]
    title_length: int
    body_length: int

    def terms(self) -> set[str]:
        return set(self.title_tf) | set(self.body_tf)


def analyze(title: str, body: str, category: str = "", tags: tuple[str, ...] = ()) -> Analyzed:
    title_terms = tokenize(" ".join((title, category, *tags)), characters=True)
    body_terms = tokenize(body, characters=True)
    return Analyzed(Counter(title_terms), Counter(body_terms), len(title_terms), len(body_terms))


def query_terms(text: str) -> list[str]:
    """Distinct terms of a query, in first-seen order."""
    return list(dict.fromkeys(tokenize(text)))
