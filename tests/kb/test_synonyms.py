"""A tenant's own synonym groups: edited by supervisors and admins, validated with clear
messages, searched beside the built-in groups at once, and only in that tenant."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianluo.models import Event
from tests.kb.test_api import headers, publish, search, write

PLAN = ("zh", "无忧卡办理说明", "业务办理", ["无忧卡"], "无忧卡每月含30G，可在营业厅办理。")


def put(client: Any, world: Any, groups: Any, who: str = "supervisor") -> Any:
    return client.put("/api/v1/kb/synonyms", json={"groups": groups}, headers=headers(world, who))


def test_a_tenant_word_finds_the_article_once_it_is_a_synonym(
    client: Any, world: Any, session: Session
) -> None:
    art = write(client, world, *PLAN)
    publish(client, world, art["id"])
    # the customers' own word for the plan: not in the article, so not found
    assert search(client, world, "畅享套装")["total"] == 0
    r = put(client, world, [["无忧卡", "畅享套装"], ["宽带", " 光纤 ", "光纤"]])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["groups"] == [["无忧卡", "畅享套装"], ["宽带", "光纤"]]  # trimmed, de-duplicated
    assert body["builtin_groups"] > 0
    hits = search(client, world, "畅享套装")["items"]
    assert [h["article_id"] for h in hits] == [art["id"]]
    # readers see the groups; the change is in the event log with its actor
    got = client.get("/api/v1/kb/synonyms", headers=headers(world, "agent")).json()
    assert got["groups"] == body["groups"]
    event = session.execute(select(Event).where(Event.type == "kb.synonyms_changed")).scalar_one()
    assert event.actor_id == world.a.users["supervisor"].id
    assert event.payload == {"groups_before": 0, "groups": 2}
    # emptied: the word no longer finds it
    assert put(client, world, []).status_code == 200
    assert search(client, world, "畅享套装")["total"] == 0


def test_only_the_tenant_that_set_them_uses_them(client: Any, world: Any) -> None:
    assert put(client, world, [["无忧卡", "畅享套装"]]).status_code == 200
    b_admin = world.headers(world.b.users["admin"])
    got = client.get("/api/v1/kb/synonyms", headers=b_admin).json()
    assert got["groups"] == []


def test_who_may_change_them(client: Any, world: Any) -> None:
    for who in ("agent", "qa", "p_admin"):
        r = put(client, world, [["宽带", "光纤"]], who=who)
        assert r.status_code == 403, (who, r.text)
    assert put(client, world, [["宽带", "光纤"]], who="admin").status_code == 200


def test_bad_groups_are_refused_with_what_is_wrong(client: Any, world: Any) -> None:
    cases = [
        ([["宽带"]], "at least 2"),
        ([["宽带", "宽带 "]], "group 1 needs two different members"),
        ([["宽带", "   "]], "group 1: a member is blank"),
        ([["宽带", "x" * 41]], "at most 40"),
        ("宽带,光纤", "list"),
    ]
    for groups, words in cases:
        r = put(client, world, groups)
        assert r.status_code == 422, (groups, r.text)
        assert words in r.text, (groups, r.text)
    assert client.get("/api/v1/kb/synonyms", headers=headers(world, "agent")).json()["groups"] == []
