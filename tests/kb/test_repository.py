from __future__ import annotations

from lianluo.domain.kb import postings
from lianluo.kb.repository import PostingCache


def records(*docs: int) -> postings.Records:
    return postings.records([(d, 1, 0, 2, 10) for d in docs])


class TestPostingCache:
    def test_the_revisions_kept_are_named_by_term_in_any_language(self) -> None:
        cache = PostingCache(1 << 20)
        cache.put(("t1", "zh", "宽带", 11), records(1, 2))
        cache.put(("t1", "en", "宽带", 12), records(3))
        cache.put(("t1", "zh", "话费", 13), records(4))
        cache.put(("t2", "zh", "宽带", 14), records(5))  # another tenant's
        assert sorted(cache.revisions("t1", ["宽带"])) == [11, 12]
        assert cache.revisions("t1", ["漫游"]) == []
        (found,) = cache.get_many([("t1", "en", "宽带", 12)])
        assert found is not None
        assert list(found["doc"]) == [3]

    def test_a_list_dropped_for_space_is_no_longer_named(self) -> None:
        one = records(*range(1, 11))
        cache = PostingCache(2 * one.nbytes)
        cache.put(("t1", "zh", "a", 1), one)
        cache.put(("t1", "zh", "b", 2), records(*range(1, 11)))
        cache.get_many([("t1", "zh", "a", 1)])  # a used again: b is the oldest
        cache.put(("t1", "zh", "c", 3), records(*range(1, 11)))
        assert cache.revisions("t1", ["a", "b", "c"]) == [1, 3]
        assert cache.get_many([("t1", "zh", "b", 2)]) == [None]
