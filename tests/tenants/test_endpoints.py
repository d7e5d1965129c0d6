from __future__ import annotations

from typing import Any

import pytest

from tests.admin_helpers import (
    assert_error,
    assert_unauthenticated,
    events_of,
    field_names,
    make_superuser,
)

MISSING = "0" * 32


class TestTenants:
    def test_superuser_creates_and_lists(self, client: Any, world: Any, session: Any) -> None:
        root = make_superuser(session, world)
        headers = world.headers(root)
        response = client.post(
            "/api/v1/tenants",
            json={
                "slug": "gd-10086",
                "name": "广东移动",
                "timezone": "Asia/Shanghai",
                "settings": {"repeat_complaint_days": 7},
            },
            headers=headers,
        )
        assert response.status_code == 201, response.text
        created = response.json()
        assert created["settings"] == {"repeat_complaint_days": 7}
        assert [e.type for e in events_of(session, created["id"], "tenant.created")] == [
            "tenant.created"
        ]
        listed = client.get("/api/v1/tenants", params={"page_size": 2}, headers=headers).json()
        assert listed["total"] == 3
        assert len(listed["items"]) == 2
        page2 = client.get(
            "/api/v1/tenants", params={"page_size": 2, "page": 2}, headers=headers
        ).json()
        slugs = {t["slug"] for t in listed["items"] + page2["items"]}
        assert slugs == {"gd-10086", "ta", "tb"}

    def test_duplicate_slug_is_409(self, client: Any, world: Any, session: Any) -> None:
        headers = world.headers(make_superuser(session, world))
        response = client.post(
            "/api/v1/tenants", json={"slug": "ta", "name": "again"}, headers=headers
        )
        assert_error(response, 409, "slug 'ta' already exists")

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"slug": "ok-slug", "name": "x", "timezone": "Mars/Olympus"}, "body.timezone"),
            ({"slug": "Bad Slug", "name": "x"}, "body.slug"),
            ({"slug": "ok-slug", "name": "  "}, "body.name"),
            ({"slug": "ok-slug", "name": "x", "settings": {"nope": 1}}, "body.settings.nope"),
            (
                {"slug": "ok-slug", "name": "x", "settings": {"repeat_complaint_days": 0}},
                "body.settings.repeat_complaint_days",
            ),
        ],
    )
    def test_invalid_body_is_422_naming_the_field(
        self, client: Any, world: Any, session: Any, body: dict[str, Any], field: str
    ) -> None:
        headers = world.headers(make_superuser(session, world))
        error = assert_error(client.post("/api/v1/tenants", json=body, headers=headers), 422)
        assert field in field_names(error)

    def test_unknown_time_zone_message_explains(self, client: Any, world: Any) -> None:
        response = client.patch(
            f"/api/v1/tenants/{world.a.tenant.id}",
            json={"timezone": "Asia/Beijing"},
            headers=world.headers(world.a.users["admin"]),
        )
        assert_error(response, 422, "unknown time zone 'Asia/Beijing'", "Asia/Shanghai")

    @pytest.mark.parametrize("role", ["admin", "supervisor", "agent"])
    def test_tenant_users_may_not_list_or_create(self, client: Any, world: Any, role: str) -> None:
        headers = world.headers(world.a.users[role])
        assert_error(client.get("/api/v1/tenants", headers=headers), 403, "superuser")
        response = client.post(
            "/api/v1/tenants", json={"slug": "new-one", "name": "x"}, headers=headers
        )
        assert_error(response, 403, "superuser")

    def test_unauthenticated(self, client: Any, world: Any) -> None:
        assert_unauthenticated(client, "GET", "/api/v1/tenants")
        assert_unauthenticated(client, "POST", "/api/v1/tenants", json={"slug": "x", "name": "y"})
        assert_unauthenticated(client, "GET", "/api/v1/tenants/current")
        assert_unauthenticated(client, "GET", f"/api/v1/tenants/{world.a.tenant.id}")
        assert_unauthenticated(
            client, "PATCH", f"/api/v1/tenants/{world.a.tenant.id}", json={"name": "x"}
        )

    @pytest.mark.parametrize("role", ["agent", "p_agent", "qa"])
    def test_current_for_every_user(self, client: Any, world: Any, role: str) -> None:
        response = client.get("/api/v1/tenants/current", headers=world.headers(world.a.users[role]))
        assert response.status_code == 200
        assert response.json()["id"] == world.a.tenant.id
        assert response.json()["slug"] == "ta"

    def test_other_tenant_looks_like_a_missing_one(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["admin"])
        for tenant_id in (world.b.tenant.id, MISSING):
            got = client.get(f"/api/v1/tenants/{tenant_id}", headers=headers)
            changed = client.patch(
                f"/api/v1/tenants/{tenant_id}", json={"name": "mine now"}, headers=headers
            )
            assert_error(got, 404, f"tenant {tenant_id} not found")
            assert_error(changed, 404, f"tenant {tenant_id} not found")
        assert (
            client.get(
                f"/api/v1/tenants/{world.b.tenant.id}",
                headers=world.headers(world.b.users["admin"]),
            ).json()["name"]
            == "Tenant tb"
        )

    def test_admin_updates_own_tenant_and_settings_merge(
        self, client: Any, world: Any, session: Any
    ) -> None:
        url = f"/api/v1/tenants/{world.a.tenant.id}"
        headers = world.headers(world.a.users["admin"])
        first = client.patch(
            url,
            json={"timezone": "Asia/Hong_Kong", "settings": {"repeat_complaint_days": 14}},
            headers=headers,
        )
        assert first.status_code == 200, first.text
        second = client.patch(url, json={"settings": {"fcr_window_days": 3}}, headers=headers)
        assert second.json()["settings"] == {"repeat_complaint_days": 14, "fcr_window_days": 3}
        assert second.json()["timezone"] == "Asia/Hong_Kong"
        removed = client.patch(
            url, json={"settings": {"repeat_complaint_days": None}}, headers=headers
        )
        assert removed.json()["settings"] == {"fcr_window_days": 3}
        updates = events_of(session, world.a.tenant.id, "tenant.updated")
        assert [e.payload["fields"] for e in updates] == [
            ["settings", "timezone"],
            ["settings"],
            ["settings"],
        ]

    def test_only_superusers_deactivate_tenants(
        self, client: Any, world: Any, session: Any
    ) -> None:
        url = f"/api/v1/tenants/{world.b.tenant.id}"
        own = f"/api/v1/tenants/{world.a.tenant.id}"
        admin = world.headers(world.a.users["admin"])
        assert_error(client.patch(own, json={"is_active": False}, headers=admin), 403, "superuser")
        root = world.headers(make_superuser(session, world))
        response = client.patch(url, json={"is_active": False}, headers=root)
        assert response.status_code == 200
        assert response.json()["is_active"] is False

    @pytest.mark.parametrize("role", ["supervisor", "p_admin"])
    def test_non_admins_may_not_change_the_tenant(self, client: Any, world: Any, role: str) -> None:
        response = client.patch(
            f"/api/v1/tenants/{world.a.tenant.id}",
            json={"name": "x"},
            headers=world.headers(world.a.users[role]),
        )
        assert_error(response, 403)

    def test_null_name_is_rejected(self, client: Any, world: Any) -> None:
        response = client.patch(
            f"/api/v1/tenants/{world.a.tenant.id}",
            json={"name": None},
            headers=world.headers(world.a.users["admin"]),
        )
        assert_error(response, 400, "name cannot be null")


class TestPartners:
    def test_admin_crud(self, client: Any, world: Any, session: Any) -> None:
        headers = world.headers(world.a.users["admin"])
        created = client.post(
            "/api/v1/partners", json={"code": "r", "name": "Partner R"}, headers=headers
        )
        assert created.status_code == 201, created.text
        pid = created.json()["id"]
        got = client.get(f"/api/v1/partners/{pid}", headers=headers)
        assert got.json()["name"] == "Partner R"
        patched = client.patch(
            f"/api/v1/partners/{pid}", json={"name": "R Ltd", "is_active": False}, headers=headers
        )
        assert patched.json()["name"] == "R Ltd"
        assert patched.json()["is_active"] is False
        listed = client.get("/api/v1/partners", params={"is_active": True}, headers=headers)
        assert {p["code"] for p in listed.json()["items"]} == {"p", "q"}
        assert client.delete(f"/api/v1/partners/{pid}", headers=headers).status_code == 204
        assert_error(client.get(f"/api/v1/partners/{pid}", headers=headers), 404)
        types = [
            e.type
            for e in events_of(session, world.a.tenant.id, "partner.created")
            + events_of(session, world.a.tenant.id, "partner.updated")
            + events_of(session, world.a.tenant.id, "partner.deleted")
        ]
        assert types == ["partner.created", "partner.updated", "partner.deleted"]

    def test_duplicate_code_is_409(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["admin"])
        response = client.post(
            "/api/v1/partners", json={"code": "p", "name": "dup"}, headers=headers
        )
        assert_error(response, 409, "code 'p' already exists")
        renamed = client.patch(
            f"/api/v1/partners/{world.a.partners['q'].id}", json={"code": "p"}, headers=headers
        )
        assert_error(renamed, 409, "code 'p' already exists")
        # Codes are unique per tenant only: tenant B may reuse "r" after A took it.
        assert (
            client.post(
                "/api/v1/partners", json={"code": "r", "name": "R"}, headers=headers
            ).status_code
            == 201
        )
        other = world.headers(world.b.users["admin"])
        assert (
            client.post(
                "/api/v1/partners", json={"code": "r", "name": "R"}, headers=other
            ).status_code
            == 201
        )

    def test_partner_in_use_cannot_be_deleted(self, client: Any, world: Any) -> None:
        response = client.delete(
            f"/api/v1/partners/{world.a.partners['p'].id}",
            headers=world.headers(world.a.users["admin"]),
        )
        error = assert_error(response, 409, "still referenced", "deactivate")
        assert {d["field"] for d in error["details"]} >= {"users", "queues", "agents"}

    def test_bad_code_is_422(self, client: Any, world: Any) -> None:
        response = client.post(
            "/api/v1/partners",
            json={"code": "has space", "name": "x"},
            headers=world.headers(world.a.users["admin"]),
        )
        assert "body.code" in field_names(assert_error(response, 422))

    def test_partner_admin_reads_only_its_own(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["p_admin"])
        own = world.a.partners["p"].id
        listed = client.get("/api/v1/partners", headers=headers).json()
        assert [p["id"] for p in listed["items"]] == [own]
        assert listed["total"] == 1
        assert client.get(f"/api/v1/partners/{own}", headers=headers).status_code == 200
        sibling = world.a.partners["q"].id
        assert_error(client.get(f"/api/v1/partners/{sibling}", headers=headers), 404)
        assert_error(
            client.patch(f"/api/v1/partners/{own}", json={"name": "x"}, headers=headers),
            403,
            "needs one of the roles: admin",
        )
        assert_error(
            client.post("/api/v1/partners", json={"code": "z", "name": "z"}, headers=headers), 403
        )

    @pytest.mark.parametrize("role", ["agent", "p_agent"])
    def test_agents_may_not_read_partners(self, client: Any, world: Any, role: str) -> None:
        headers = world.headers(world.a.users[role])
        assert_error(client.get("/api/v1/partners", headers=headers), 403, "listing partners")
        pid = world.a.partners["p"].id
        assert_error(client.get(f"/api/v1/partners/{pid}", headers=headers), 403)

    @pytest.mark.parametrize("role", ["supervisor", "wfm"])
    def test_tenant_readers_may_not_write(self, client: Any, world: Any, role: str) -> None:
        headers = world.headers(world.a.users[role])
        assert client.get("/api/v1/partners", headers=headers).json()["total"] == 2
        pid = world.a.partners["p"].id
        assert_error(client.delete(f"/api/v1/partners/{pid}", headers=headers), 403)

    def test_other_tenant_looks_like_a_missing_one(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["admin"])
        for pid in (world.b.partners["p"].id, MISSING):
            for method, kwargs in (("GET", {}), ("PATCH", {"json": {"name": "x"}}), ("DELETE", {})):
                response = client.request(
                    method, f"/api/v1/partners/{pid}", headers=headers, **kwargs
                )
                assert_error(response, 404, f"partner {pid} not found")

    def test_unauthenticated(self, client: Any, world: Any) -> None:
        pid = world.a.partners["p"].id
        assert_unauthenticated(client, "GET", "/api/v1/partners")
        assert_unauthenticated(client, "POST", "/api/v1/partners", json={"code": "x", "name": "y"})
        assert_unauthenticated(client, "GET", f"/api/v1/partners/{pid}")
        assert_unauthenticated(client, "PATCH", f"/api/v1/partners/{pid}", json={"name": "y"})
        assert_unauthenticated(client, "DELETE", f"/api/v1/partners/{pid}")


class TestNulCharacters:
    """PostgreSQL cannot store NUL; every admin route refuses it with a 422, on both backends."""

    def test_in_a_body_anywhere(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["admin"])
        response = client.post(
            "/api/v1/partners", json={"code": "ok", "name": "bad\x00name"}, headers=headers
        )
        assert_error(response, 422, "name contains a NUL character")
        nested = client.post(
            "/api/v1/queues",
            json={"name": "q", "channels": ["chat"], "business_hours": {"mon": [["08:00\x00"]]}},
            headers=headers,
        )
        assert_error(nested, 422, "business_hours.mon.0.0 contains a NUL character")

    def test_in_path_and_query(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["admin"])
        assert_error(client.get("/api/v1/agents/ab%00cd", headers=headers), 422)
        assert_error(client.get("/api/v1/users", params={"q": "a\x00"}, headers=headers), 422)
