"""The knowledge-base API on SQLite and PostgreSQL: workflow, roles, versions, feedback,
community articles, search and suggestions."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lianluo.models import Event, KbContributor, KbDocument

ARTICLES = [
    (
        "zh",
        "套餐变更办理指南",
        "业务办理",
        ["套餐"],
        "客户可以通过营业厅、APP或拨打10086办理**套餐变更**。新套餐次月生效，当月按原套餐计费。",
    ),
    (
        "zh",
        "话费查询方法",
        "账单",
        ["话费"],
        "发送短信CXHF到10086即可查询当月话费余额，也可以在APP账单页查看详单。",
    ),
    (
        "zh",
        "宽带故障排查",
        "宽带",
        ["故障"],
        "宽带无法上网时，先重启光猫和路由器，检查光信号灯是否为红色；仍有故障请报修。",
    ),
    (
        "en",
        "International roaming",
        "Roaming",
        ["roaming"],
        "Turn on international roaming before travelling. Roaming charges depend on the "
        "destination; daily data passes are cheaper than pay-as-you-go.",
    ),
    (
        "en",
        "Refund of a double charge",
        "Billing",
        ["refund"],
        "If a customer was charged twice, open a refund request; refunds reach the original "
        "payment method within 7 working days.",
    ),
]


def headers(world: Any, who: str) -> dict[str, str]:
    return world.headers(world.a.users[who])


def write(
    client: Any,
    world: Any,
    lang: str,
    title: str,
    cat: str,
    tags: list[str],
    body: str,
    who: str = "agent",
) -> dict[str, Any]:
    r = client.post(
        "/api/v1/kb/articles",
        json={"language": lang, "title": title, "category": cat, "tags": tags, "body": body},
        headers=headers(world, who),
    )
    assert r.status_code == 201, r.text
    return r.json()


def publish(client: Any, world: Any, article_id: str) -> dict[str, Any]:
    r = client.post(f"/api/v1/kb/articles/{article_id}/submit", headers=headers(world, "agent"))
    assert r.status_code == 200, r.text
    r = client.post(
        f"/api/v1/kb/articles/{article_id}/publish", headers=headers(world, "supervisor")
    )
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def library(client: Any, world: Any) -> dict[str, str]:
    """The five articles, published in tenant A; their ids by title."""
    ids = {}
    for lang, title, cat, tags, body in ARTICLES:
        ids[title] = write(client, world, lang, title, cat, tags, body)["id"]
        publish(client, world, ids[title])
    return ids


def search(client: Any, world: Any, q: str, who: str = "agent", **params: Any) -> dict[str, Any]:
    r = client.get("/api/v1/kb/search", params={"q": q, **params}, headers=headers(world, who))
    assert r.status_code == 200, r.text
    return r.json()


class TestWorkflow:
    def test_agent_drafts_supervisor_publishes(self, client: Any, world: Any) -> None:
        art = write(client, world, *ARTICLES[0])
        assert art["status"] == "draft"
        assert art["version"] == 1
        assert "<strong>套餐变更</strong>" in art["body_html"]
        # agents cannot publish; nothing is published from draft
        r = client.post(f"/api/v1/kb/articles/{art['id']}/publish", headers=headers(world, "agent"))
        assert r.status_code == 403
        r = client.post(
            f"/api/v1/kb/articles/{art['id']}/publish", headers=headers(world, "supervisor")
        )
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "conflict"
        assert search(client, world, "套餐变更")["total"] == 0
        published = publish(client, world, art["id"])
        assert published["status"] == "published"
        assert published["published_version"] == 1
        assert search(client, world, "套餐变更")["items"][0]["article_id"] == art["id"]

    def test_edit_of_published_article_keeps_old_version_live(
        self, client: Any, world: Any, library: dict[str, str]
    ) -> None:
        aid = library["话费查询方法"]
        r = client.patch(
            f"/api/v1/kb/articles/{aid}",
            json={"body": "新版：拨打10086按1查询话费余额。", "note": "new IVR"},
            headers=headers(world, "agent"),
        )
        assert r.status_code == 200, r.text
        assert r.json()["version"] == 2
        assert r.json()["status"] == "draft"
        assert r.json()["published_version"] == 1
        # readers (qa is not a writer) still see version 1; search still finds the old text
        r = client.get(f"/api/v1/kb/articles/{aid}", headers=headers(world, "qa"))
        assert r.json()["version"] == 1
        assert "CXHF" in r.json()["body"]
        assert search(client, world, "CXHF")["total"] == 1
        publish(client, world, aid)
        assert search(client, world, "CXHF")["total"] == 0
        assert search(client, world, "按1查询")["items"][0]["article_id"] == aid

    def test_versions_listed_read_and_restored(
        self, client: Any, world: Any, library: dict[str, str]
    ) -> None:
        aid = library["宽带故障排查"]
        h = headers(world, "agent")
        client.patch(f"/api/v1/kb/articles/{aid}", json={"title": "宽带断网"}, headers=h)
        versions = client.get(f"/api/v1/kb/articles/{aid}/versions", headers=h).json()
        assert versions["total"] == 2
        assert [v["version"] for v in versions["items"]] == [2, 1]
        old = client.get(f"/api/v1/kb/articles/{aid}/versions/1", headers=h).json()
        assert old["title"] == "宽带故障排查"
        r = client.post(f"/api/v1/kb/articles/{aid}/versions/1/restore", headers=h)
        assert r.status_code == 200
        assert r.json()["version"] == 3
        assert r.json()["title"] == "宽带故障排查"
        assert client.get(f"/api/v1/kb/articles/{aid}/versions/9", headers=h).status_code == 404
        # readers outside the writers may not browse drafts' history
        r = client.get(f"/api/v1/kb/articles/{aid}/versions", headers=headers(world, "qa"))
        assert r.status_code == 403

    def test_archive_removes_from_search_and_readers(
        self, client: Any, world: Any, library: dict[str, str]
    ) -> None:
        aid = library["International roaming"]
        r = client.post(f"/api/v1/kb/articles/{aid}/archive", headers=headers(world, "supervisor"))
        assert r.status_code == 200
        assert search(client, world, "roaming")["total"] == 0
        assert (
            client.get(f"/api/v1/kb/articles/{aid}", headers=headers(world, "qa")).status_code
            == 404
        )

    def test_send_back(self, client: Any, world: Any) -> None:
        art = write(client, world, *ARTICLES[1])
        client.post(f"/api/v1/kb/articles/{art['id']}/submit", headers=headers(world, "agent"))
        r = client.post(
            f"/api/v1/kb/articles/{art['id']}/send-back", headers=headers(world, "admin")
        )
        assert r.json()["status"] == "draft"

    def test_partner_users_read_but_do_not_write(
        self, client: Any, world: Any, library: dict[str, str]
    ) -> None:
        h = headers(world, "p_agent")
        assert search(client, world, "宽带", who="p_agent")["total"] >= 1
        r = client.post(
            "/api/v1/kb/articles",
            json={"language": "zh", "title": "x", "body": "y"},
            headers=h,
        )
        assert r.status_code == 403

    def test_bad_input_is_422(self, client: Any, world: Any) -> None:
        h = headers(world, "agent")
        for body in (
            {"language": "fr", "title": "x", "body": "y"},
            {"language": "zh", "title": "  ", "body": "y"},
            {"language": "zh", "title": "x", "body": "y", "unknown": 1},
            {"language": "zh", "title": "x\x00", "body": "y"},
        ):
            r = client.post("/api/v1/kb/articles", json=body, headers=h)
            assert r.status_code == 422, body
            assert r.json()["error"]["code"] == "validation_error"

    def test_events_are_logged(
        self, client: Any, world: Any, session: Session, library: dict[str, str]
    ) -> None:
        types = set(
            session.execute(
                select(Event.type).where(Event.tenant_id == world.a.tenant.id)
            ).scalars()
        )
        assert {"kb.article.created", "kb.article.submitted", "kb.article.published"} <= types


class TestFeedback:
    def test_votes_count_once_per_user(
        self, client: Any, world: Any, library: dict[str, str]
    ) -> None:
        aid = library["话费查询方法"]
        url = f"/api/v1/kb/articles/{aid}/feedback"
        r = client.post(url, json={"helpful": True}, headers=headers(world, "agent"))
        assert (r.json()["helpful_count"], r.json()["not_helpful_count"]) == (1, 0)
        r = client.post(url, json={"helpful": True}, headers=headers(world, "agent"))
        assert (r.json()["helpful_count"], r.json()["not_helpful_count"]) == (1, 0)
        r = client.post(url, json={"helpful": False}, headers=headers(world, "qa"))
        assert (r.json()["helpful_count"], r.json()["not_helpful_count"]) == (1, 1)
        r = client.post(url, json={"helpful": False}, headers=headers(world, "agent"))
        assert (r.json()["helpful_count"], r.json()["not_helpful_count"]) == (0, 2)
        hit = search(client, world, "话费")["items"][0]
        assert hit["not_helpful_count"] == 2

    def test_drafts_are_not_rated(self, client: Any, world: Any) -> None:
        art = write(client, world, *ARTICLES[0])
        r = client.post(
            f"/api/v1/kb/articles/{art['id']}/feedback",
            json={"helpful": True},
            headers=headers(world, "agent"),
        )
        assert r.status_code == 409


class TestSearch:
    def test_chinese_queries_find_the_right_article_first(
        self, client: Any, world: Any, library: dict[str, str]
    ) -> None:
        for query, title in (
            ("我想换个套餐", "套餐变更办理指南"),
            ("怎么查话费余额", "话费查询方法"),
            ("家里宽带上不了网", "宽带故障排查"),
            ("光猫红灯", "宽带故障排查"),
        ):
            found = search(client, world, query)
            assert found["items"], query
            assert found["items"][0]["article_id"] == library[title], query

    def test_english_stemming_and_mixed_queries(
        self, client: Any, world: Any, library: dict[str, str]
    ) -> None:
        assert (
            search(client, world, "Refunded charges")["items"][0]["article_id"]
            == library["Refund of a double charge"]
        )
        top = search(client, world, "roaming 漫游 charges")["items"][0]
        assert top["article_id"] == library["International roaming"]
        assert "<mark>" in top["snippet_html"]
        assert "<mark>" in top["title_html"]

    def test_language_filter_paging_and_stop_words(
        self, client: Any, world: Any, library: dict[str, str]
    ) -> None:
        assert search(client, world, "10086 roaming", language="en")["total"] == 1
        both = search(client, world, "10086 roaming")
        assert both["total"] == 3
        page2 = search(client, world, "10086 roaming", page=2, page_size=2)
        assert len(page2["items"]) == 1
        ids = [i["article_id"] for i in both["items"]]
        assert page2["items"][0]["article_id"] == ids[2]
        empty = search(client, world, "的 了 吗 the")
        assert (empty["total"], empty["terms"]) == (0, [])

    def test_snippet_html_is_escaped(self, client: Any, world: Any) -> None:
        art = write(
            client, world, "en", "Script test", "", [], "<script>alert(1)</script> roaming tips"
        )
        publish(client, world, art["id"])
        hit = search(client, world, "roaming tips")["items"][0]
        assert "<script>" not in hit["snippet_html"]
        assert "&lt;script&gt;" in hit["snippet_html"]
        got = client.get(f"/api/v1/kb/articles/{art['id']}", headers=headers(world, "agent"))
        assert "<script>" not in got.json()["body_html"]

    def test_other_tenant_sees_nothing(
        self, client: Any, world: Any, library: dict[str, str]
    ) -> None:
        h = world.headers(world.b.users["agent"])
        r = client.get("/api/v1/kb/search", params={"q": "宽带"}, headers=h)
        assert r.json()["total"] == 0
        aid = library["宽带故障排查"]
        assert client.get(f"/api/v1/kb/articles/{aid}", headers=h).status_code == 404

    def test_index_holds_postings_of_published_versions_only(
        self, client: Any, world: Any, session: Session, library: dict[str, str]
    ) -> None:
        art = write(client, world, "zh", "草稿专用词汇", "", [], "草稿")
        indexed = session.execute(
            select(KbDocument.doc_no).where(KbDocument.article_id == art["id"])
        ).all()
        assert indexed == []
        r = client.get(
            "/api/v1/kb/search", params={"q": "草稿专用词汇"}, headers=headers(world, "agent")
        )
        assert r.json()["total"] == 0


def customer_says(session: Session, world: Any, contact: Any, bodies: list[str]) -> None:
    """Messages from the customer in the contact's conversation, in this order."""
    from lianluo.models import Message

    for body in bodies:
        session.add(
            Message(
                tenant_id=world.a.tenant.id,
                conversation_id=contact.conversation_id,
                contact_id=contact.id,
                sender_kind="customer",
                body=body,
            )
        )
        session.flush()
    session.commit()


class TestSuggest:
    def test_from_text(self, client: Any, world: Any, library: dict[str, str]) -> None:
        r = client.post(
            "/api/v1/kb/suggest",
            json={"text": "客户：你好，我家宽带从昨天开始就上不了网，光猫一直闪红灯。", "limit": 3},
            headers=headers(world, "agent"),
        )
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert items[0]["article_id"] == library["宽带故障排查"]
        assert items[0]["score"] > 0
        assert items[0]["snippet"]

    def test_from_a_conversation_is_scoped_and_audited(
        self, client: Any, world: Any, session: Session, library: dict[str, str]
    ) -> None:
        contact = world.a.contacts["general"]
        customer_says(session, world, contact, ["I was charged twice this month, I want a refund"])
        r = client.post(
            "/api/v1/kb/suggest",
            json={"conversation_id": contact.conversation_id},
            headers=headers(world, "agent"),
        )
        assert r.status_code == 200, r.text
        assert r.json()["items"][0]["article_id"] == library["Refund of a double charge"]
        audits = (
            session.execute(select(Event).where(Event.type == "audit.customer.conversation_read"))
            .scalars()
            .all()
        )
        assert [a.customer_id for a in audits] == [contact.customer_id]
        # a partner agent may not read the tenant's own queue's conversation
        r = client.post(
            "/api/v1/kb/suggest",
            json={"conversation_id": contact.conversation_id},
            headers=headers(world, "p_agent"),
        )
        assert r.status_code == 404
        # nor another tenant's
        r = client.post(
            "/api/v1/kb/suggest",
            json={"conversation_id": world.b.contacts["general"].conversation_id},
            headers=headers(world, "agent"),
        )
        assert r.status_code == 404

    def test_from_a_conversation_reads_its_latest_question_by_meaning(
        self, client: Any, world: Any, session: Session, library: dict[str, str]
    ) -> None:
        """A long conversation: the embedding reads the newest messages, where the customer's
        question of now is, not the first ones."""
        contact = world.a.contacts["general"]
        earlier = [
            "I am travelling to Japan next week for a conference and will stay a month.",
            "What do calls and data cost there, and do I have to switch anything on before?",
            "My colleague paid a lot last year for using maps abroad, I want to avoid that.",
            "Is there a daily pass, and does it also work in Korea for the last two days?",
            "Also I will take my tablet with its own SIM card, the same question for that one.",
        ]
        customer_says(session, world, contact, [*earlier, "另外家里打游戏延迟特别高，老是掉线"])
        r = client.post(
            "/api/v1/kb/suggest",
            json={"conversation_id": contact.conversation_id, "limit": 5},
            headers=headers(world, "agent"),
        )
        assert r.status_code == 200, r.text
        found = [item["article_id"] for item in r.json()["items"]]
        assert library["International roaming"] in found  # the words of the conversation
        assert library["宽带故障排查"] in found  # the meaning of its last message

    def test_text_or_conversation_not_both(self, client: Any, world: Any) -> None:
        r = client.post(
            "/api/v1/kb/suggest",
            json={"text": "x", "conversation_id": "y"},
            headers=headers(world, "agent"),
        )
        assert r.status_code == 422


class TestCommunity:
    def test_super_user_submits_staff_review_then_publish(
        self, client: Any, world: Any, session: Session
    ) -> None:
        customer = world.a.customers["general"]
        r = client.put(
            f"/api/v1/kb/contributors/{customer.id}", headers=headers(world, "supervisor")
        )
        assert r.status_code == 403
        r = client.put(f"/api/v1/kb/contributors/{customer.id}", headers=headers(world, "admin"))
        assert r.status_code == 200, r.text
        key = r.json()["key"]
        assert key.startswith("kbk_")
        stored = session.execute(select(KbContributor)).scalar_one()
        assert key not in (stored.key_hash, stored.key_prefix)
        body = {
            "language": "zh",
            "title": "双卡手机设置流量卡",
            "body": "在设置-移动网络里选择默认数据卡。",
        }
        r = client.post("/api/v1/kb/community", json=body, headers={"X-KB-Key": key})
        assert r.status_code == 201, r.text
        art = r.json()
        assert (art["status"], art["origin"]) == ("draft", "community")
        assert art["author_customer_id"] == customer.id
        # not searchable until staff review and publish it
        assert search(client, world, "流量卡")["total"] == 0
        queue = client.get(
            "/api/v1/kb/articles",
            params={"origin": "community", "status": "draft"},
            headers=headers(world, "agent"),
        ).json()
        assert [a["id"] for a in queue["items"]] == [art["id"]]
        publish(client, world, art["id"])
        assert search(client, world, "流量卡")["items"][0]["article_id"] == art["id"]

    def test_revoked_or_unknown_keys_are_refused(self, client: Any, world: Any) -> None:
        customer = world.a.customers["general"]
        key = client.put(
            f"/api/v1/kb/contributors/{customer.id}", headers=headers(world, "admin")
        ).json()["key"]
        body = {"language": "en", "title": "t", "body": "b"}
        assert client.post("/api/v1/kb/community", json=body).status_code == 401
        r = client.post("/api/v1/kb/community", json=body, headers={"X-KB-Key": "kbk_nope"})
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "unauthorized"
        listed = client.get("/api/v1/kb/contributors", headers=headers(world, "admin")).json()
        assert listed["items"][0]["active"] is True
        assert "key" not in listed["items"][0]
        r = client.delete(f"/api/v1/kb/contributors/{customer.id}", headers=headers(world, "admin"))
        assert r.status_code == 204
        r = client.post("/api/v1/kb/community", json=body, headers={"X-KB-Key": key})
        assert r.status_code == 401
        # a re-issued key works, the old one stays dead
        new_key = client.put(
            f"/api/v1/kb/contributors/{customer.id}", headers=headers(world, "admin")
        ).json()["key"]
        assert (
            client.post("/api/v1/kb/community", json=body, headers={"X-KB-Key": key}).status_code
            == 401
        )
        r = client.post("/api/v1/kb/community", json=body, headers={"X-KB-Key": new_key})
        assert r.status_code == 201

    def test_other_tenants_customer_cannot_be_made_contributor(
        self, client: Any, world: Any
    ) -> None:
        r = client.put(
            f"/api/v1/kb/contributors/{world.b.customers['general'].id}",
            headers=headers(world, "admin"),
        )
        assert r.status_code == 404


def test_render_preview(client: Any, world: Any) -> None:
    r = client.post(
        "/api/v1/kb/render",
        json={"body": "# 标题\n\n[x](javascript:alert(1)) <b>raw</b>"},
        headers=headers(world, "agent"),
    )
    html = r.json()["html"]
    assert "<h1>标题</h1>" in html
    assert 'href="javascript' not in html
    assert "<b>" not in html
