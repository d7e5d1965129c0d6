"""Hybrid search on every backend: a question in other words than its article's, which BM25
alone misses, is found by the article's sentence embedding; the embedding is stored with the
index, so it outlives the process's cache; only published articles of the tenant are found."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianluo.auth.principal import Principal
from lianluo.kb.repository import _index_lock_key, vector_cache
from lianluo.kb.schemas import ArticleIn, ArticleUpdate, Language, SearchMode
from lianluo.kb.service import article_service
from lianluo.models import KbDocument

ARTICLES = [
    ("zh", "宽带网速慢排查", "网速慢先网线直连测速，Wi-Fi慢多为路由器位置或2.4G干扰。"),
    ("zh", "国际漫游日本流量包", "赴日本可办理日套餐流量包，每天28元不限量，高速2GB。"),
    ("zh", "彩铃退订", "发送TDCL到10099退订彩铃，次月不再扣费。"),
    ("en", "Replacing a lost SIM", "Bring ID to a store to replace a lost SIM for free."),
    ("en", "Family plan members", "A family plan takes up to 8 members with free calls."),
]
# written for these tests; the first shares no word with its article
GAMING_LAG = "打游戏延迟特别高老是掉线"
STOLEN = "my phone was stolen and I need a new one with the same number"


def supervisor(world: Any, tenant: str = "a") -> Principal:
    side = getattr(world, tenant)
    user = side.users["supervisor"]
    return Principal(user.id, side.tenant.id, None, frozenset(["supervisor"]))


def write(session: Session, who: Principal, lang: str, title: str, body: str) -> str:
    art = article_service.create(
        session, who, ArticleIn(title=title, body=body, language=Language(lang))
    )
    return art.id


def publish(session: Session, who: Principal, article_id: str) -> None:
    article_service.submit(session, who, article_id)
    article_service.publish(session, who, article_id)


def _edit(title: str) -> ArticleUpdate:
    return ArticleUpdate(title=title, note="retitled")


def found(session: Session, who: Principal, text: str, mode: SearchMode) -> list[str]:
    hits, _total, _terms = article_service.search(session, who, text, None, 0, 5, mode)
    return [h.article_id for h in hits]


def seed(session: Session, who: Principal) -> dict[str, str]:
    ids = {}
    for lang, title, body in ARTICLES:
        ids[title] = write(session, who, lang, title, body)
        publish(session, who, ids[title])
    session.flush()
    return ids


class TestParaphrase:
    def test_found_by_meaning_where_words_miss(self, session: Session, world: Any) -> None:
        who = supervisor(world)
        ids = seed(session, who)
        assert ids["宽带网速慢排查"] not in found(session, who, GAMING_LAG, SearchMode.lexical)
        assert found(session, who, GAMING_LAG, SearchMode.hybrid)[0] == ids["宽带网速慢排查"]
        # BM25 finds this one too (lost ~ stolen is a built-in synonym); fused, it stays first
        assert found(session, who, STOLEN, SearchMode.hybrid)[0] == ids["Replacing a lost SIM"]

    def test_the_words_still_count(self, session: Session, world: Any) -> None:
        who = supervisor(world)
        ids = seed(session, who)
        assert found(session, who, "彩铃退订", SearchMode.hybrid)[0] == ids["彩铃退订"]
        hits, total, _ = article_service.search(session, who, "TDCL", None, 0, 5)
        assert hits[0].article_id == ids["彩铃退订"]
        assert total >= 1

    def test_a_query_about_nothing_here_finds_nothing(self, session: Session, world: Any) -> None:
        who = supervisor(world)
        seed(session, who)
        hits, total, _ = article_service.search(session, who, "火山喷发的原理", None, 0, 5)
        assert (hits, total) == ([], 0)


class TestOnlyWhatReadersMaySee:
    def test_a_draft_and_an_archived_article_are_not_found(
        self, session: Session, world: Any
    ) -> None:
        who = supervisor(world)
        draft = write(session, who, "zh", "宽带网速慢排查", ARTICLES[0][2])
        session.flush()
        assert draft not in found(session, who, GAMING_LAG, SearchMode.hybrid)
        publish(session, who, draft)
        assert found(session, who, GAMING_LAG, SearchMode.hybrid) == [draft]
        article_service.archive(session, who, draft)
        assert found(session, who, GAMING_LAG, SearchMode.hybrid) == []

    def test_another_tenant_s_articles_are_not_found(self, session: Session, world: Any) -> None:
        other = supervisor(world, "b")
        seed(session, other)
        who = supervisor(world)
        write(session, who, "zh", "积分兑换话费", "积分可在APP积分商城兑换话费。")
        assert found(session, who, GAMING_LAG, SearchMode.hybrid) == []
        assert found(session, who, STOLEN, SearchMode.hybrid) == []


class TestVectorsAreStored:
    def test_found_after_the_process_forgets_them(self, session: Session, world: Any) -> None:
        who = supervisor(world)
        ids = seed(session, who)
        stored = session.execute(
            select(KbDocument.embedding).where(KbDocument.article_id == ids["宽带网速慢排查"])
        ).scalar_one()
        assert stored is not None
        assert len(stored) == 1024
        vector_cache.clear()  # as a restart would
        assert found(session, who, GAMING_LAG, SearchMode.hybrid)[0] == ids["宽带网速慢排查"]

    def test_the_cache_follows_publishing_and_archiving(self, session: Session, world: Any) -> None:
        who = supervisor(world)
        tenant = who.tenant_id

        def committed() -> list[str]:
            # as another request would see the index: its own session holds no write lock
            session.info.pop(_index_lock_key(tenant), None)
            return sorted(str(a) for a in vector_cache.index(session, tenant).article_ids)

        ids = seed(session, who)
        assert committed() == sorted(ids.values())
        extra = write(session, who, "en", "Voicemail setup", "Dial 1310 to set up voicemail.")
        publish(session, who, extra)
        assert committed() == sorted([*ids.values(), extra])  # read incrementally
        article_service.archive(session, who, ids["彩铃退订"])
        left = sorted([*(v for k, v in ids.items() if k != "彩铃退订"), extra])
        assert committed() == left  # a document gone: reconciled
        # republished: a new document number for the same article
        article_service.update(session, who, extra, _edit("Voicemail greeting setup"))
        publish(session, who, extra)
        assert committed() == left
