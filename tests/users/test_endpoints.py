from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lianluo.auth.passwords import MIN_PASSWORD_LENGTH, verify_password
from lianluo.errors import Conflict, Unprocessable
from lianluo.models import Role, User
from lianluo.users.service import check_roles, create_user
from tests.admin_helpers import (
    assert_error,
    assert_unauthenticated,
    events_of,
    field_names,
    make_superuser,
)
from tests.factories import PASSWORD

MISSING = "0" * 32
NEW_PASSWORD = "new secret 123"


def _new_user(client: Any, headers: dict[str, str], **body: Any) -> Any:
    payload = {"username": "li.lei", "password": "abcdefgh", "roles": ["agent"], **body}
    return client.post("/api/v1/users", json=payload, headers=headers)


def _login(client: Any, username: str, password: str) -> Any:
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


class TestCreate:
    def test_admin_creates_a_user_who_can_log_in(
        self, client: Any, world: Any, session: Any
    ) -> None:
        response = _new_user(
            client,
            world.headers(world.a.users["admin"]),
            display_name="李雷",
            roles=["supervisor", "agent", "agent"],
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["roles"] == ["agent", "supervisor"]
        assert body["display_name"] == "李雷"
        assert "password" not in response.text
        assert "password_hash" not in body
        assert _login(client, "li.lei", "abcdefgh").status_code == 200
        [event] = events_of(session, world.a.tenant.id, "user.created")
        assert event.payload["user_id"] == body["id"]
        assert "abcdefgh" not in str(event.payload)

    def test_usernames_are_unique_across_tenants(self, client: Any, world: Any) -> None:
        response = _new_user(
            client, world.headers(world.b.users["admin"]), username="TA-AGENT", roles=["agent"]
        )
        assert_error(response, 409, "username 'TA-AGENT' is already taken")

    def test_short_password_unknown_role_and_bad_name_are_422(
        self, client: Any, world: Any
    ) -> None:
        headers = world.headers(world.a.users["admin"])
        error = assert_error(
            _new_user(
                client,
                headers,
                username="-bad",
                password="x" * (MIN_PASSWORD_LENGTH - 1),
                roles=["boss"],
            ),
            422,
        )
        assert {"body.username", "body.password", "body.roles.0"} <= field_names(error)

    def test_role_and_partner_must_fit(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["admin"])
        partner = world.a.partners["p"].id
        assert_error(
            _new_user(client, headers, roles=["admin"], partner_id=partner),
            422,
            "cannot hold the admin role",
        )
        assert_error(_new_user(client, headers, roles=["partner_admin"]), 422, "needs a partner_id")
        other_tenant = world.b.partners["p"].id
        assert_error(
            _new_user(client, headers, partner_id=other_tenant),
            422,
            "is not a partner of this tenant",
        )

    def test_partner_admin_creates_in_own_partner_only(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["p_admin"])
        created = _new_user(client, headers)
        assert created.status_code == 201, created.text
        assert created.json()["partner_id"] == world.a.partners["p"].id
        assert_error(
            _new_user(client, headers, username="x1", partner_id=world.a.partners["q"].id),
            403,
            "own partner",
        )
        for roles in (["admin"], ["supervisor"], ["agent", "qa"]):
            assert_error(
                _new_user(client, headers, username="x2", roles=roles),
                403,
                "may grant only the roles agent, partner_admin",
            )

    @pytest.mark.parametrize("role", ["agent", "supervisor", "qa", "wfm"])
    def test_other_roles_may_not_create(self, client: Any, world: Any, role: str) -> None:
        response = _new_user(client, world.headers(world.a.users[role]))
        assert_error(response, 403, "creating a user needs one of the roles")

    def test_unauthenticated(self, client: Any, world: Any) -> None:
        assert_unauthenticated(
            client, "POST", "/api/v1/users", json={"username": "u", "password": "p", "roles": []}
        )
        assert_unauthenticated(client, "GET", "/api/v1/users")


class TestReadAndList:
    def test_admin_lists_with_filters_and_paging(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["admin"])
        everyone = client.get("/api/v1/users", params={"page_size": 200}, headers=headers).json()
        assert everyone["total"] == len(world.a.users)
        assert {u["username"] for u in everyone["items"]} == {
            u.username for u in world.a.users.values()
        }
        agents = client.get("/api/v1/users", params={"role": "agent"}, headers=headers).json()
        assert {u["username"] for u in agents["items"]} == {"ta-agent", "ta-p-agent", "ta-q-agent"}
        found = client.get("/api/v1/users", params={"q": "P-AD"}, headers=headers).json()
        assert [u["username"] for u in found["items"]] == ["ta-p-admin"]
        page = client.get("/api/v1/users", params={"page_size": 3, "page": 2}, headers=headers)
        assert len(page.json()["items"]) == 3
        assert_error(client.get("/api/v1/users", params={"role": "king"}, headers=headers), 422)

    def test_partner_admin_sees_its_partner_only(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["p_admin"])
        listed = client.get("/api/v1/users", headers=headers).json()
        assert {u["username"] for u in listed["items"]} == {"ta-p-admin", "ta-p-agent"}
        sibling = world.a.users["q_agent"].id
        tenant_user = world.a.users["agent"].id
        for uid in (sibling, tenant_user):
            assert_error(client.get(f"/api/v1/users/{uid}", headers=headers), 404)

    def test_everyone_reads_their_own_account(self, client: Any, world: Any) -> None:
        me = world.a.users["qa"]
        response = client.get(f"/api/v1/users/{me.id}", headers=world.headers(me))
        assert response.status_code == 200
        assert response.json()["username"] == "ta-qa"
        other = world.a.users["agent"].id
        assert_error(client.get(f"/api/v1/users/{other}", headers=world.headers(me)), 403)

    def test_other_tenant_looks_like_a_missing_one(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["admin"])
        for uid in (world.b.users["agent"].id, MISSING):
            assert_error(client.get(f"/api/v1/users/{uid}", headers=headers), 404, f"user {uid}")
            assert_error(
                client.patch(f"/api/v1/users/{uid}", json={"locale": "en-US"}, headers=headers),
                404,
                f"user {uid}",
            )
            assert_error(
                client.post(
                    f"/api/v1/users/{uid}/password",
                    json={"password": NEW_PASSWORD},
                    headers=headers,
                ),
                404,
                f"user {uid}",
            )
            assert_error(client.delete(f"/api/v1/users/{uid}", headers=headers), 404, f"user {uid}")

    def test_unauthenticated(self, client: Any, world: Any) -> None:
        uid = world.a.users["agent"].id
        assert_unauthenticated(client, "GET", f"/api/v1/users/{uid}")
        assert_unauthenticated(client, "PATCH", f"/api/v1/users/{uid}", json={"locale": "en-US"})
        assert_unauthenticated(
            client, "POST", f"/api/v1/users/{uid}/password", json={"password": NEW_PASSWORD}
        )
        assert_unauthenticated(client, "DELETE", f"/api/v1/users/{uid}")


class TestUpdate:
    def test_disabling_voids_tokens(self, client: Any, world: Any, session: Any) -> None:
        target = world.a.users["qa"]
        old_headers = world.headers(target)
        assert client.get("/api/v1/auth/me", headers=old_headers).status_code == 200
        response = client.patch(
            f"/api/v1/users/{target.id}",
            json={"is_active": False},
            headers=world.headers(world.a.users["admin"]),
        )
        assert response.status_code == 200
        assert response.json()["is_active"] is False
        assert_error(client.get("/api/v1/auth/me", headers=old_headers), 401)
        assert_error(_login(client, "ta-qa", PASSWORD), 401, "disabled")
        [event] = events_of(session, world.a.tenant.id, "user.updated")
        assert event.payload["fields"] == ["is_active"]

    def test_role_change_applies_to_the_next_request(self, client: Any, world: Any) -> None:
        target = world.a.users["wfm"]
        headers = world.headers(target)
        assert_error(client.get("/api/v1/customers", headers=headers), 403)
        client.patch(
            f"/api/v1/users/{target.id}",
            json={"roles": ["wfm", "agent"]},
            headers=world.headers(world.a.users["admin"]),
        )
        assert client.get("/api/v1/customers", headers=headers).status_code == 200

    def test_self_service_is_limited_to_name_and_locale(self, client: Any, world: Any) -> None:
        me = world.a.users["agent"]
        headers = world.headers(me)
        ok = client.patch(
            f"/api/v1/users/{me.id}",
            json={"display_name": "小王", "locale": "en-US"},
            headers=headers,
        )
        assert ok.json()["display_name"] == "小王"
        assert_error(
            client.patch(f"/api/v1/users/{me.id}", json={"roles": ["admin"]}, headers=headers),
            403,
        )

    def test_admin_cannot_lock_itself_out(self, client: Any, world: Any) -> None:
        me = world.a.users["admin"]
        headers = world.headers(me)
        url = f"/api/v1/users/{me.id}"
        assert_error(client.patch(url, json={"is_active": False}, headers=headers), 409, "own")
        assert_error(client.patch(url, json={"roles": ["agent"]}, headers=headers), 409, "admin")
        assert_error(client.delete(url, headers=headers), 409, "your own account")

    def test_partner_admin_limits(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["p_admin"])
        agent = world.a.users["p_agent"].id
        promoted = client.patch(
            f"/api/v1/users/{agent}", json={"roles": ["partner_admin"]}, headers=headers
        )
        assert promoted.status_code == 200
        assert_error(
            client.patch(f"/api/v1/users/{agent}", json={"roles": ["qa"]}, headers=headers), 403
        )
        assert_error(
            client.patch(
                f"/api/v1/users/{agent}",
                json={"partner_id": world.a.partners["q"].id},
                headers=headers,
            ),
            403,
            "another partner",
        )

    def test_moving_a_user_with_an_agent_profile_is_409(self, client: Any, world: Any) -> None:
        response = client.patch(
            f"/api/v1/users/{world.a.users['p_agent'].id}",
            json={"partner_id": world.a.partners["q"].id},
            headers=world.headers(world.a.users["admin"]),
        )
        assert_error(response, 409, "agent profile")

    @pytest.mark.parametrize("field", ["display_name", "roles", "locale", "is_active"])
    def test_null_for_a_required_field_is_400(self, client: Any, world: Any, field: str) -> None:
        response = client.patch(
            f"/api/v1/users/{world.a.users['qa'].id}",
            json={field: None},
            headers=world.headers(world.a.users["admin"]),
        )
        assert_error(response, 400, f"{field} cannot be null")

    def test_only_superusers_manage_superusers(self, client: Any, world: Any, session: Any) -> None:
        root = make_superuser(session, world)
        response = client.patch(
            f"/api/v1/users/{root.id}",
            json={"is_active": False},
            headers=world.headers(world.a.users["admin"]),
        )
        assert_error(response, 403, "superuser")


class TestPassword:
    def test_admin_reset_voids_old_tokens(self, client: Any, world: Any, session: Any) -> None:
        target = world.a.users["agent"]
        old = world.headers(target)
        response = client.post(
            f"/api/v1/users/{target.id}/password",
            json={"password": NEW_PASSWORD},
            headers=world.headers(world.a.users["admin"]),
        )
        assert response.status_code == 204
        assert_error(client.get("/api/v1/auth/me", headers=old), 401)
        assert _login(client, "ta-agent", PASSWORD).status_code == 401
        assert _login(client, "ta-agent", NEW_PASSWORD).status_code == 200
        [event] = events_of(session, world.a.tenant.id, "user.password_changed")
        assert event.payload == {"user_id": target.id, "by_self": False}

    def test_own_change_needs_the_current_password(self, client: Any, world: Any) -> None:
        me = world.a.users["supervisor"]
        url = f"/api/v1/users/{me.id}/password"
        headers = world.headers(me)
        assert_error(client.post(url, json={"password": NEW_PASSWORD}, headers=headers), 403)
        assert_error(
            client.post(
                url,
                json={"password": NEW_PASSWORD, "current_password": "wrong!!!"},
                headers=headers,
            ),
            403,
            "current_password",
        )
        ok = client.post(
            url, json={"password": NEW_PASSWORD, "current_password": PASSWORD}, headers=headers
        )
        assert ok.status_code == 204
        assert _login(client, me.username, NEW_PASSWORD).status_code == 200

    def test_short_password_is_422(self, client: Any, world: Any) -> None:
        response = client.post(
            f"/api/v1/users/{world.a.users['agent'].id}/password",
            json={"password": "short"},
            headers=world.headers(world.a.users["admin"]),
        )
        assert "body.password" in field_names(assert_error(response, 422))

    def test_agent_may_not_reset_others(self, client: Any, world: Any) -> None:
        response = client.post(
            f"/api/v1/users/{world.a.users['qa'].id}/password",
            json={"password": NEW_PASSWORD},
            headers=world.headers(world.a.users["agent"]),
        )
        assert_error(response, 403)


class TestDelete:
    def test_admin_deletes_an_unused_user(self, client: Any, world: Any, session: Any) -> None:
        headers = world.headers(world.a.users["admin"])
        uid = world.a.users["wfm"].id
        assert client.delete(f"/api/v1/users/{uid}", headers=headers).status_code == 204
        assert_error(client.get(f"/api/v1/users/{uid}", headers=headers), 404)
        assert [
            e.payload["user_id"] for e in events_of(session, world.a.tenant.id, "user.deleted")
        ] == [uid]

    def test_user_with_agent_profile_is_409(self, client: Any, world: Any) -> None:
        response = client.delete(
            f"/api/v1/users/{world.a.users['agent'].id}",
            headers=world.headers(world.a.users["admin"]),
        )
        assert_error(response, 409, "agent profile", "is_active=false")

    def test_user_still_referenced_is_409_and_kept(
        self, client: Any, world: Any, session: Any
    ) -> None:
        """Found by the schemathesis run once tickets arrived: the database's refusal (a
        foreign key) was a 500. It is a 409 that says what to do, and the user stays."""
        from lianluo.db.base import utcnow
        from lianluo.models import Ticket, TicketCategory

        a = world.a
        qa = a.users["qa"]
        category = TicketCategory(tenant_id=a.tenant.id, name="引用测试")
        session.add(category)
        session.flush()
        session.add(
            Ticket(
                tenant_id=a.tenant.id,
                customer_id=a.customers["general"].id,
                category_id=category.id,
                subject="referenced",
                ownership_model="first_contact",
                created_by=qa.id,
                sla_started_at=utcnow(),
            )
        )
        session.flush()
        headers = world.headers(a.users["admin"])
        response = client.delete(f"/api/v1/users/{qa.id}", headers=headers)
        assert_error(response, 409, "still referenced", "is_active=false")
        assert client.get(f"/api/v1/users/{qa.id}", headers=headers).status_code == 200
        assert events_of(session, a.tenant.id, "user.deleted") == []

    def test_supervisor_may_not_delete(self, client: Any, world: Any) -> None:
        response = client.delete(
            f"/api/v1/users/{world.a.users['wfm'].id}",
            headers=world.headers(world.a.users["supervisor"]),
        )
        assert_error(response, 403)


class TestCreateUserFunction:
    """The service function `lianluo users create` calls."""

    def test_creates_with_hash_and_event(self, session: Any, world: Any) -> None:
        user = create_user(
            session, world.a.tenant.id, "ops", "longenough", ["admin"], is_superuser=True
        )
        assert isinstance(user, User)
        assert user.display_name == "ops"
        assert user.is_superuser
        assert verify_password(user.password_hash, "longenough")
        assert len(events_of(session, world.a.tenant.id, "user.created")) == 1

    def test_errors(self, session: Any, world: Any) -> None:
        with pytest.raises(Conflict, match="already taken"):
            create_user(session, world.a.tenant.id, "ta-admin", "longenough", ["agent"])
        with pytest.raises(Unprocessable, match="at least"):
            create_user(session, world.a.tenant.id, "fresh", "short", ["agent"])
        with pytest.raises(Unprocessable, match="unknown role"):
            create_user(session, world.a.tenant.id, "fresh", "longenough", ["root"])
        with pytest.raises(Unprocessable, match="not a partner of this tenant"):
            create_user(
                session,
                world.a.tenant.id,
                "fresh",
                "longenough",
                ["agent"],
                partner_id=world.b.partners["p"].id,
            )


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    roles=st.lists(st.sampled_from([r.value for r in Role] + ["root", ""]), max_size=4),
    partner=st.sampled_from([None, "some-partner"]),
)
def test_check_roles_accepts_exactly_the_consistent_sets(
    roles: list[str], partner: str | None
) -> None:
    known = {r.value for r in Role}
    valid = (
        bool(roles)
        and set(roles) <= known
        and not (partner and "admin" in roles)
        and not (partner is None and "partner_admin" in roles)
    )
    try:
        result = check_roles(roles, partner)
    except Unprocessable:
        assert not valid
    else:
        assert valid
        assert result == sorted(set(roles))
