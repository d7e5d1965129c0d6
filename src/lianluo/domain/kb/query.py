"""A query as a list of concepts: what the customer asked about, one concept per word (or per
synonym phrase), each holding the index terms that express it with their weights.

Scoring takes, for every concept, its best-matching term (`bm25.bm25_scores`), not the sum of
all of them, so a concept counts once however many ways it is said: 国际漫游 no longer scores
three times over (国际, 漫游, 国际漫游), nor does a word with six synonyms outweigh the rest of
the query. This is the dis-max of Lucene's DisjunctionMaxQuery, one clause per query word.

- The words are jieba's precise cut (HMM on, like the index); a word yields the terms the index
  holds for it: itself at weight 1, the parts of a compound at `COMPOUND_PART_WEIGHT`.
- Where the HMM made up a word the dictionary lacks (能加 in 家庭网能加几个人, a made-up word
  no article holds), its dictionary pieces (能, 加) join the concept at weight 1.
- A run of words that is a synonym-group member (one word or several: 不想用, "cut off") brings
  the other members' terms at `SYNONYM_WEIGHT`; a compound's parts bring their synonyms too,
  weighted as parts (出国前 → 出国 → 国际漫游).
- Two single Han characters side by side (副, 卡 in 给家人办张副卡) are often one word that
  jieba's HMM cuts one way inside an article's title (副卡办理) and another inside a query: the
  pair joins the concept of each character as a term of full weight, so an article holding
  the word meets both.
- Stop words of the index and `QUERY_STOP_WORDS` (how, need, 一直 …) make no concept, unless
  together they are a synonym phrase (不想要 → 取消, 退订): the phrase's concept then holds
  only the synonyms' terms.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lianluo.domain.kb.synonyms import (
    COMPOUND_PART_WEIGHT,
    DEFAULT_TABLE,
    SynonymTable,
    longest_phrase,
    weighted_terms,
)
from lianluo.domain.kb.tokenize import (
    QUERY_STOP_WORDS,
    STOP_WORDS,
    dictionary_pieces,
    is_chinese,
    words,
)

MAX_CONCEPTS = 40


@dataclass(frozen=True, slots=True)
class Concept:
    """Index terms that say one thing of the query, with their weights (1 for the words the
    customer typed), heaviest first."""

    terms: tuple[tuple[str, float], ...]

    @property
    def typed(self) -> tuple[str, ...]:
        """The terms of full weight: what proximity looks for in an article's text."""
        return tuple(t for t, w in self.terms if w >= 1.0)


def _stopped(word: str) -> bool:
    return word in STOP_WORDS or word in QUERY_STOP_WORDS


def _concept(found: dict[str, float]) -> Concept:
    ordered = sorted(found.items(), key=lambda item: -item[1])
    return Concept(tuple(ordered))


def _merge(into: dict[str, float], terms: Iterable[tuple[str, float]], factor: float) -> None:
    for term, weight in terms:
        if not _stopped(term):
            into[term] = max(into.get(term, 0.0), weight * factor)


def _single_han(word: str) -> bool:
    return len(word) == 1 and is_chinese(word) and not _stopped(word)


def _joined_pairs(sequence: Sequence[str]) -> list[list[str]]:
    """For each word, the two-character words it forms with a single-character neighbour."""
    pairs: list[list[str]] = [[] for _ in sequence]
    for i in range(len(sequence) - 1):
        if _single_han(sequence[i]) and _single_han(sequence[i + 1]):
            joined = sequence[i] + sequence[i + 1]
            pairs[i].append(joined)
            pairs[i + 1].append(joined)
    return pairs


def parse(text: str, table: SynonymTable = DEFAULT_TABLE) -> list[Concept]:
    """The concepts of a query typed by a person, in the order of its words."""
    sequence = words(text)
    pairs = _joined_pairs(sequence)
    longest = longest_phrase(table)
    concepts: list[Concept] = []
    i = 0
    while i < len(sequence) and len(concepts) < MAX_CONCEPTS:
        length, brought = 1, table.get((sequence[i],))
        for n in range(min(longest, len(sequence) - i), 1, -1):
            if tuple(sequence[i : i + n]) in table:
                length, brought = n, table[tuple(sequence[i : i + n])]
                break
        found: dict[str, float] = {}
        for at, word in enumerate(sequence[i : i + length], start=i):
            if _stopped(word):
                continue
            _merge(found, weighted_terms(word).items(), 1.0)
            _merge(found, [(joined, 1.0) for joined in pairs[at]], 1.0)
            for piece in dictionary_pieces(word):
                _merge(found, [(piece, 1.0)], 1.0)
                _merge(found, table.get((piece,), {}).items(), 1.0)
            for part in weighted_terms(word):
                if part != word:
                    _merge(found, table.get((part,), {}).items(), COMPOUND_PART_WEIGHT)
        if brought and (found or length > 1):
            # a phrase member of stop words alone (不想要: 不, 想要) still says something
            _merge(found, brought.items(), 1.0)
        if found:
            concepts.append(_concept(found))
        i += length
    return concepts


def of_terms(terms: Sequence[str], table: SynonymTable = DEFAULT_TABLE) -> list[Concept]:
    """Concepts of index terms already chosen (the commonest terms of a conversation): each
    term one concept, with its synonyms."""
    concepts = []
    for term in dict.fromkeys(terms):
        if _stopped(term):
            continue
        found = {term: 1.0}
        _merge(found, table.get((term,), {}).items(), 1.0)
        concepts.append(_concept(found))
    return concepts[:MAX_CONCEPTS]


def all_terms(concepts: Sequence[Concept]) -> list[str]:
    """Every term of the concepts, once, the typed ones first (what a snippet highlights)."""
    typed = [t for c in concepts for t in c.typed]
    rest = [t for c in concepts for t, _w in c.terms]
    return list(dict.fromkeys([*typed, *rest]))
