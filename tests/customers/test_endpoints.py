from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lianluo.models import Event, Identity


def _create(client: Any, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/customers", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


class TestCreate:
    def test_creates_with_normalised_identities(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["agent"])
        body = _create(
            client,
            headers,
            name="李娜",
            phones=["138 0013 8000"],
            emails=["Li.Na@Example.com"],
            value_tier="gold",
        )
        assert body["name"] == "李娜"
        assert body["value_tier"] == "gold"
        values = sorted(i["value"] for i in body["identities"])
        assert values == ["+8613800138000", "li.na@example.com"]

    def test_duplicate_phone_is_a_conflict(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["agent"])
        _create(client, headers, name="A", phones=["13900000001"])
        response = client.post(
            "/api/v1/customers",
            json={"name": "B", "phones": ["+86 139 0000 0001"]},
            headers=headers,
        )
        assert response.status_code == 409
        assert "already belongs" in response.json()["error"]["message"]

    def test_bad_input_is_422_with_field(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["agent"])
        response = client.post(
            "/api/v1/customers", json={"name": "", "emails": ["not-an-email"]}, headers=headers
        )
        assert response.status_code == 422
        fields = {d["field"] for d in response.json()["error"]["details"]}
        assert {"body.name", "body.emails.0"} <= fields

    def test_without_token_is_401(self, client: Any) -> None:
        response = client.post("/api/v1/customers", json={"name": "x"})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"

    def test_wfm_role_may_not_create(self, client: Any, world: Any) -> None:
        response = client.post(
            "/api/v1/customers", json={"name": "x"}, headers=world.headers(world.a.users["wfm"])
        )
        assert response.status_code == 403


class TestSearch:
    def test_by_chinese_name_phone_and_email(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["agent"])
        _create(client, headers, name="张伟", phones=["13712345678"], emails=["zw@corp.cn"])
        _create(client, headers, name="John Smith", emails=["john@corp.com"])
        for query, expected in [
            ("张", {"张伟"}),
            ("john", {"John Smith"}),
            ("1371234", {"张伟"}),
            ("+86 137 1234 5678", {"张伟"}),
            ("ZW@corp.cn", {"张伟"}),
        ]:
            response = client.get("/api/v1/customers", params={"q": query}, headers=headers)
            assert response.status_code == 200
            names = {c["name"] for c in response.json()["items"]}
            assert names == expected, query

    def test_paging(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["admin"])
        for i in range(5):
            _create(client, headers, name=f"Paging Person {i}")
        first = client.get(
            "/api/v1/customers", params={"q": "paging", "page_size": 2}, headers=headers
        ).json()
        third = client.get(
            "/api/v1/customers", params={"q": "paging", "page_size": 2, "page": 3}, headers=headers
        ).json()
        assert first["total"] == 5
        assert len(first["items"]) == 2
        assert len(third["items"]) == 1

    def test_like_wildcards_are_literal(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["agent"])
        response = client.get("/api/v1/customers", params={"q": "%"}, headers=headers)
        assert response.json()["total"] == 0


class TestUpdateAndMerge:
    def test_update_writes_audit_event(self, client: Any, world: Any, session: Any) -> None:
        customer = world.a.customers["general"]
        user = world.a.users["agent"]
        response = client.patch(
            f"/api/v1/customers/{customer.id}",
            json={"value_tier": "vip", "tags": ["5G"]},
            headers=world.headers(user),
        )
        assert response.status_code == 200
        assert response.json()["value_tier"] == "vip"
        audit = (
            session.execute(select(Event).where(Event.type == "audit.customer.updated"))
            .scalars()
            .all()
        )
        assert [(e.actor_id, e.customer_id) for e in audit] == [(user.id, customer.id)]
        assert audit[0].payload == {"fields": ["tags", "value_tier"]}

    def test_merge_moves_identities_and_history(
        self, client: Any, world: Any, session: Any
    ) -> None:
        headers = world.headers(world.a.users["agent"])
        target = _create(
            client, headers, name="王小明", phones=["13311112222"], value_tier="silver"
        )
        source = world.a.customers["general"]
        response = client.post(
            f"/api/v1/customers/{target['id']}/merge",
            json={"source_id": source.id},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        merged = response.json()
        assert len(merged["identities"]) == 3
        view = client.get(f"/api/v1/customers/{target['id']}/360", headers=headers).json()
        assert view["contacts_total"] == 1
        assert view["timeline"][0]["messages"][0]["body"] == "你好"
        old = client.get(f"/api/v1/customers/{source.id}", headers=headers).json()
        assert old["merged_into_id"] == target["id"]
        owners = set(
            session.execute(
                select(Identity.customer_id).where(Identity.customer_id == source.id)
            ).scalars()
        )
        assert owners == set()
        again = client.post(
            f"/api/v1/customers/{target['id']}/merge",
            json={"source_id": source.id},
            headers=headers,
        )
        assert again.status_code == 409

    def test_merge_into_itself_is_400(self, client: Any, world: Any) -> None:
        cid = world.a.customers["general"].id
        response = client.post(
            f"/api/v1/customers/{cid}/merge",
            json={"source_id": cid},
            headers=world.headers(world.a.users["agent"]),
        )
        assert response.status_code == 400


class TestView360:
    def test_profile_identities_and_timeline(self, client: Any, world: Any) -> None:
        customer = world.a.customers["general"]
        response = client.get(
            f"/api/v1/customers/{customer.id}/360", headers=world.headers(world.a.users["agent"])
        )
        assert response.status_code == 200
        view = response.json()
        assert view["customer"]["name"] == "王小明"
        assert {i["kind"] for i in view["identities"]} == {"phone", "email"}
        assert view["contacts_total"] == 1
        conversation = view["timeline"][0]
        assert conversation["contacts"][0]["channel"] == "chat"
        assert [m["sender_kind"] for m in conversation["messages"]] == ["customer", "agent"]

    def test_message_limit_keeps_the_newest(self, client: Any, world: Any) -> None:
        customer = world.a.customers["general"]
        response = client.get(
            f"/api/v1/customers/{customer.id}/360",
            params={"messages_per_conversation": 1},
            headers=world.headers(world.a.users["agent"]),
        )
        assert [m["sender_kind"] for m in response.json()["timeline"][0]["messages"]] == ["agent"]

    def test_partner_sees_only_its_queue_customers(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["p_agent"])
        own = client.get(f"/api/v1/customers/{world.a.customers['p'].id}/360", headers=headers)
        other = client.get(f"/api/v1/customers/{world.a.customers['q'].id}/360", headers=headers)
        general = client.get(
            f"/api/v1/customers/{world.a.customers['general'].id}", headers=headers
        )
        assert own.status_code == 200
        assert other.status_code == 404
        assert general.status_code == 404
        listed = client.get("/api/v1/customers", headers=headers).json()
        assert {c["id"] for c in listed["items"]} == {world.a.customers["p"].id}
