"""Text to index terms, the same for articles and queries, Chinese and English mixed.

- NFKC first, so full-width letters and digits (ＡＰＮ, ５Ｇ) match their ASCII forms; lower case.
- Runs of Han characters go to jieba's search mode (jieba-rs, the Rust port of jieba with the
  same dictionary, about ten times faster), which emits the dictionary words inside a compound
  and the compound itself (国际漫游 → 国际, 漫游, 国际漫游): a query for either part finds it.
  Single characters are terms only where jieba cuts them as words (包 in 流量包): the index no
  longer holds every character of every word, which made its posting lists five times longer.
- Runs of Latin letters and digits are words; English words lose a plural or verb suffix by a
  few simple rules (`stem`), enough for refund/refunds/refunded to meet.
- A hyphenated run of letters (wi-fi, e-mail, top-up) is its parts in the index and also the
  parts written together, which is what a query of it asks for: wifi, wi-fi and "wi fi" meet.
- Stop words (the, 的, 吗 …) and punctuation are dropped.

jieba's dictionary ships inside the package: it is read once, on first use, never downloaded.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

MAX_TERM_LENGTH = 64

_RUNS = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+(?:'[a-z]+)?(?:-[a-z0-9]+(?:'[a-z]+)?)*"
)
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

# Words that carry the asking, not the need, in what customers type: dropped from queries only
# (an article that says 一直 or "need" is no better an answer for it).
QUERY_STOP_WORDS = frozenset(
    """一直 总是 老是 突然 特别 非常 真的 已经 到底 怎么回事 怎么弄 怎么搞 能不能 可不可以
    是不是 有没有 一下 想要 需要 还 去 用 刚 了 等 get want need how do does can cant dont
    doesnt isnt wont im""".split()
)

_jieba_lock = threading.Lock()
_cut_for_search: Callable[[str, bool], list[str]] | None = None


def _segmenter() -> Callable[[str, bool], list[str]]:
    global _cut_for_search
    if _cut_for_search is None:
        with _jieba_lock:
            if _cut_for_search is None:
                import rjieba

                rjieba.cut_for_search("预热", True)  # loads the dictionary once
                _cut_for_search = rjieba.cut_for_search
    return _cut_for_search


@functools.lru_cache(maxsize=65536)
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


# 上不了网, 充不了值, 打不通: a potential complement splits a verb-object word (离合词) into
# single characters; the word is put back as a term, so such text meets 上网, 充值 ….
SEPARABLE_INFIXES = frozenset("不 得 不了 得了 不到 不通 不上 不进 没".split())


def _separable(words: list[str]) -> list[str]:
    found: list[str] = []
    for i in range(len(words) - 2):
        first, infix, second = words[i], words[i + 1], words[i + 2]
        if len(first) == 1 and len(second) == 1 and infix in SEPARABLE_INFIXES:
            if _has_word(first + second):
                found.append(first + second)
    return found


def _join_separable(words: list[str]) -> list[str]:
    """上, 不了, 网 → 上网: the separated verb-object word as the one word it means."""
    joined: list[str] = []
    i = 0
    while i < len(words):
        if (
            i + 2 < len(words)
            and len(words[i]) == 1
            and len(words[i + 2]) == 1
            and words[i + 1] in SEPARABLE_INFIXES
            and _has_word(words[i] + words[i + 2])
        ):
            joined.append(words[i] + words[i + 2])
            i += 3
        else:
            joined.append(words[i])
            i += 1
    return joined


def is_chinese(word: str) -> bool:
    """Whether `word` starts with a Han character (a word of `words` is all Han or none)."""
    return bool(_HAN.match(word))


def _has_word(word: str) -> bool:
    import rjieba

    return bool(rjieba.has_word(word))


def words(text: str) -> list[str]:
    """The words of `text` as a reader splits it, stop words kept: jieba's precise cut (the
    longest dictionary or HMM word) for Chinese, stems for Latin runs. A word's index terms are
    `word_terms(word)`."""
    _segmenter()  # the dictionary, loaded once
    found: list[str] = []
    for match in _RUNS.finditer(normalize(text)):
        run = match.group()
        if _HAN.match(run):
            found.extend(w[:MAX_TERM_LENGTH] for w in _join_separable(_precise(run)))
            continue
        parts = run.replace("'", "").split("-")
        if len(parts) > 1 and not _joinable(parts):
            found.extend(stem(p)[:MAX_TERM_LENGTH] for p in parts)
        else:
            found.append(stem("".join(parts))[:MAX_TERM_LENGTH])
    return found


def _joinable(parts: list[str]) -> bool:
    """Whether a hyphenated run is one word written in pieces (wi-fi, e-mail), not numbers
    or a range (5g-2024, 10-20)."""
    return all(p.isalpha() for p in parts)


def _precise(run: str) -> list[str]:
    import rjieba

    return list(rjieba.cut(run, True))


@functools.lru_cache(maxsize=65536)
def word_terms(word: str) -> tuple[str, ...]:
    """The index terms one word of `words` yields, the word itself last: search mode adds the
    dictionary words inside a compound (国际漫游 → 国际, 漫游, 国际漫游)."""
    if not _HAN.match(word):
        return () if word in STOP_WORDS else (word,)
    terms = [t for t in _segmenter()(word, True) if t not in STOP_WORDS]
    return tuple(dict.fromkeys(terms))


def dictionary_pieces(word: str) -> tuple[str, ...]:
    """A Chinese word jieba's HMM made up (能加, 想装个: not in its dictionary) cut into the
    dictionary words it is made of (能, 加 / 想, 装, 个); other words give nothing."""
    import rjieba

    if len(word) < 2 or not _HAN.match(word) or rjieba.has_word(word):
        return ()
    return tuple(p for p in rjieba.cut(word, False) if p != word)


def tokenize(text: str) -> list[str]:
    """Index terms of `text` in order, repeats kept (term frequencies count them)."""
    cut = _segmenter()
    terms: list[str] = []
    for match in _RUNS.finditer(normalize(text)):
        run = match.group()
        if _HAN.match(run):
            words = cut(run, True)
            terms.extend(w[:MAX_TERM_LENGTH] for w in words if w not in STOP_WORDS)
            terms.extend(_separable(words))
            continue
        parts = run.replace("'", "").split("-")
        terms.extend(stem(p)[:MAX_TERM_LENGTH] for p in parts if p not in STOP_WORDS)
        if len(parts) > 1 and _joinable(parts):
            terms.append(stem("".join(parts))[:MAX_TERM_LENGTH])
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
    title_terms = tokenize(" ".join((title, category, *tags)))
    body_terms = tokenize(body)
    return Analyzed(Counter(title_terms), Counter(body_terms), len(title_terms), len(body_terms))


def query_terms(text: str) -> list[str]:
    """Distinct terms of a query, in first-seen order."""
    return list(dict.fromkeys(tokenize(text)))
