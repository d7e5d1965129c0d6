from __future__ import annotations

from typing import Any

import pytest

from lianluo.models import Agent
from tests.admin_helpers import (
    assert_error,
    assert_unauthenticated,
    events_of,
    field_names,
    make_skill,
)
from tests.factories import make_user

MISSING = "0" * 32


def _fresh_user(session: Any, world: Any, name: str, partner: str | None = None) -> Any:
    tenant = world.a
    user = make_user(
        session,
        tenant.tenant,
        name,
        ["agent"],
        tenant.partners[partner] if partner else None,
    )
    session.commit()
    return user


class TestCreate:
    def test_admin_creates_with_skills_by_name_and_id(
        self, client: Any, world: Any, session: Any
    ) -> None:
        english = make_skill(session, world.a, "english")
        user = _fresh_user(session, world, "new-agent")
        response = client.post(
            "/api/v1/agents",
            json={
                "user_id": user.id,
                "skills": [{"skill": "billing", "level": 7}, {"skill": english.id, "level": 3}],
                "attributes": {"languages": ["zh", "en"], "region": "GD"},
                "capacity": {"voice": 1, "chat": 4},
                "team": "A班",
                "career_level": "new",
            },
            headers=world.headers(world.a.users["admin"]),
        )
        assert response.status_code == 201, response.text
        agent = response.json()
        assert agent["username"] == "new-agent"
        assert agent["partner_id"] is None
        assert [(s["name"], s["level"]) for s in agent["skills"]] == [
            ("billing", 7),
            ("english", 3),
        ]
        assert agent["capacity"] == {"voice": 1, "chat": 4}
        assert (agent["team"], agent["career_level"], agent["state"]) == ("A班", "new", "offline")
        [event] = events_of(session, world.a.tenant.id, "agent.created")
        assert event.agent_id == agent["id"]

    def test_agent_takes_its_users_partner(self, client: Any, world: Any, session: Any) -> None:
        user = _fresh_user(session, world, "p-new", partner="p")
        response = client.post(
            "/api/v1/agents",
            json={"user_id": user.id},
            headers=world.headers(world.a.users["p_admin"]),
        )
        assert response.status_code == 201, response.text
        assert response.json()["partner_id"] == world.a.partners["p"].id
        assert response.json()["career_level"] == "qualified"

    def test_user_elsewhere_is_422_like_a_missing_one(
        self, client: Any, world: Any, session: Any
    ) -> None:
        sibling = _fresh_user(session, world, "q-new", partner="q")
        partner_admin = world.headers(world.a.users["p_admin"])
        admin = world.headers(world.a.users["admin"])
        for headers, user_id in (
            (partner_admin, sibling.id),
            (admin, world.b.users["wfm"].id),
            (admin, MISSING),
        ):
            response = client.post("/api/v1/agents", json={"user_id": user_id}, headers=headers)
            error = assert_error(response, 422, f"user {user_id} not found in this tenant")
            assert field_names(error) == {"user_id"}

    def test_second_profile_for_a_user_is_409(self, client: Any, world: Any) -> None:
        response = client.post(
            "/api/v1/agents",
            json={"user_id": world.a.users["agent"].id},
            headers=world.headers(world.a.users["admin"]),
        )
        assert_error(response, 409, "already has an agent profile")

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"skills": [{"skill": "billing", "level": 11}]}, "body.skills.0.level"),
            ({"skills": [{"skill": "billing", "level": 0}]}, "body.skills.0.level"),
            ({"capacity": {"voice": -1}}, "body.capacity.voice"),
            ({"capacity": {"fax": 1}}, "body.capacity.fax.[key]"),
            ({"career_level": "chief"}, "body.career_level"),
            (
                {"skills": [{"skill": "billing", "level": 1}, {"skill": "billing", "level": 2}]},
                "body.skills",
            ),
        ],
    )
    def test_schema_errors_name_the_field(
        self, client: Any, world: Any, session: Any, body: dict[str, Any], field: str
    ) -> None:
        user = _fresh_user(session, world, "someone")
        response = client.post(
            "/api/v1/agents",
            json={"user_id": user.id, **body},
            headers=world.headers(world.a.users["admin"]),
        )
        assert field in field_names(assert_error(response, 422))

    def test_unknown_skill_is_422(self, client: Any, world: Any, session: Any) -> None:
        user = _fresh_user(session, world, "someone")
        response = client.post(
            "/api/v1/agents",
            json={
                "user_id": user.id,
                "skills": [
                    {"skill": "billing", "level": 2},
                    {"skill": "klingon", "level": 2},
                    {"skill": world.b.skills["billing"].id, "level": 2},
                ],
            },
            headers=world.headers(world.a.users["admin"]),
        )
        error = assert_error(response, 422, "unknown skill(s) 'klingon'", "/api/v1/skills")
        assert error["details"][0]["unknown"] == ["klingon", world.b.skills["billing"].id]

    @pytest.mark.parametrize("role", ["supervisor", "agent", "wfm"])
    def test_other_roles_may_not_create(
        self, client: Any, world: Any, session: Any, role: str
    ) -> None:
        user = _fresh_user(session, world, "someone")
        response = client.post(
            "/api/v1/agents", json={"user_id": user.id}, headers=world.headers(world.a.users[role])
        )
        assert_error(response, 403, "creating an agent")

    def test_unauthenticated(self, client: Any, world: Any) -> None:
        assert_unauthenticated(client, "POST", "/api/v1/agents", json={"user_id": "x"})
        assert_unauthenticated(client, "GET", "/api/v1/agents")


class TestRead:
    def test_supervisor_sees_the_tenant(self, client: Any, world: Any) -> None:
        listed = client.get(
            "/api/v1/agents", headers=world.headers(world.a.users["supervisor"])
        ).json()
        assert {a["id"] for a in listed["items"]} == {a.id for a in world.a.agents.values()}

    def test_partner_users_see_their_partner(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["p_admin"])
        listed = client.get("/api/v1/agents", headers=headers).json()
        assert [a["id"] for a in listed["items"]] == [world.a.agents["p"].id]
        for other in ("q", "general"):
            aid = world.a.agents[other].id
            assert_error(client.get(f"/api/v1/agents/{aid}", headers=headers), 404)

    def test_an_agent_sees_itself_only(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["agent"])
        own = world.a.agents["general"].id
        listed = client.get("/api/v1/agents", headers=headers).json()
        assert [a["id"] for a in listed["items"]] == [own]
        assert client.get(f"/api/v1/agents/{own}", headers=headers).status_code == 200
        other = world.a.agents["p"].id
        assert_error(client.get(f"/api/v1/agents/{other}", headers=headers), 403, "own profile")

    def test_filters_and_paging(self, client: Any, world: Any) -> None:
        admin = world.headers(world.a.users["admin"])
        client.patch(
            f"/api/v1/agents/{world.a.agents['p'].id}",
            json={"team": "night", "skills": [{"skill": "billing", "level": 5}]},
            headers=admin,
        )
        by_team = client.get("/api/v1/agents", params={"team": "night"}, headers=admin).json()
        by_skill = client.get("/api/v1/agents", params={"skill": "billing"}, headers=admin).json()
        by_name = client.get("/api/v1/agents", params={"q": "Q-AGENT"}, headers=admin).json()
        assert [a["id"] for a in by_team["items"]] == [world.a.agents["p"].id]
        assert [a["id"] for a in by_skill["items"]] == [world.a.agents["p"].id]
        assert [a["id"] for a in by_name["items"]] == [world.a.agents["q"].id]
        page = client.get("/api/v1/agents", params={"page_size": 2, "page": 2}, headers=admin)
        assert (page.json()["total"], len(page.json()["items"])) == (3, 1)

    def test_a_user_without_floor_roles_is_403(self, client: Any, world: Any, session: Any) -> None:
        nobody = make_user(session, world.a.tenant, "no-roles", [])
        session.commit()
        headers = world.headers(nobody)
        assert_error(client.get("/api/v1/agents", headers=headers), 403, "listing agents")
        aid = world.a.agents["general"].id
        assert_error(client.get(f"/api/v1/agents/{aid}", headers=headers), 403)

    def test_other_tenant_looks_like_a_missing_one(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["admin"])
        for aid in (world.b.agents["general"].id, MISSING):
            url = f"/api/v1/agents/{aid}"
            assert_error(client.get(url, headers=headers), 404, f"agent {aid} not found")
            assert_error(client.patch(url, json={"team": "x"}, headers=headers), 404)
            assert_error(client.delete(url, headers=headers), 404)

    def test_unauthenticated(self, client: Any, world: Any) -> None:
        aid = world.a.agents["general"].id
        assert_unauthenticated(client, "GET", f"/api/v1/agents/{aid}")
        assert_unauthenticated(client, "PATCH", f"/api/v1/agents/{aid}", json={"team": "x"})
        assert_unauthenticated(client, "DELETE", f"/api/v1/agents/{aid}")


class TestUpdateDelete:
    def test_skills_replace_and_state_is_untouched(
        self, client: Any, world: Any, session: Any
    ) -> None:
        make_skill(session, world.a, "english")
        headers = world.headers(world.a.users["admin"])
        aid = world.a.agents["general"].id
        url = f"/api/v1/agents/{aid}"
        first = client.patch(
            url,
            json={
                "skills": [{"skill": "billing", "level": 3}, {"skill": "english", "level": 6}],
                "capacity": {"chat": 2},
            },
            headers=headers,
        )
        assert first.status_code == 200, first.text
        second = client.patch(
            url,
            json={"skills": [{"skill": "billing", "level": 9}], "career_level": "excellent"},
            headers=headers,
        )
        body = second.json()
        assert [(s["name"], s["level"]) for s in body["skills"]] == [("billing", 9)]
        assert body["capacity"] == {"chat": 2}
        assert body["career_level"] == "excellent"
        assert body["state"] == "offline"
        events = events_of(session, world.a.tenant.id, "agent.updated")
        assert [e.payload["fields"] for e in events] == [
            ["capacity", "skills"],
            ["career_level", "skills"],
        ]

    def test_state_is_not_a_field(self, client: Any, world: Any) -> None:
        response = client.patch(
            f"/api/v1/agents/{world.a.agents['general'].id}",
            json={"state": "available"},
            headers=world.headers(world.a.users["admin"]),
        )
        assert "body.state" in field_names(assert_error(response, 422))

    def test_partner_admin_changes_only_its_agents(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["p_admin"])
        own = world.a.agents["p"].id
        assert (
            client.patch(f"/api/v1/agents/{own}", json={"team": "P1"}, headers=headers).json()[
                "team"
            ]
            == "P1"
        )
        other = world.a.agents["q"].id
        assert_error(
            client.patch(f"/api/v1/agents/{other}", json={"team": "x"}, headers=headers), 404
        )

    def test_supervisor_may_not_change(self, client: Any, world: Any) -> None:
        response = client.patch(
            f"/api/v1/agents/{world.a.agents['general'].id}",
            json={"team": "x"},
            headers=world.headers(world.a.users["supervisor"]),
        )
        assert_error(response, 403, "changing an agent")

    def test_null_is_400(self, client: Any, world: Any) -> None:
        response = client.patch(
            f"/api/v1/agents/{world.a.agents['general'].id}",
            json={"team": None},
            headers=world.headers(world.a.users["admin"]),
        )
        assert_error(response, 400, "team cannot be null")

    def test_delete_guards_and_success(self, client: Any, world: Any, session: Any) -> None:
        headers = world.headers(world.a.users["admin"])
        user = _fresh_user(session, world, "short-lived")
        aid = client.post(
            "/api/v1/agents",
            json={"user_id": user.id, "skills": [{"skill": "billing", "level": 2}]},
            headers=headers,
        ).json()["id"]
        session.get(Agent, aid).state = "available"
        session.commit()
        assert_error(client.delete(f"/api/v1/agents/{aid}", headers=headers), 409, "offline")
        session.get(Agent, aid).state = "offline"
        session.commit()
        assert client.delete(f"/api/v1/agents/{aid}", headers=headers).status_code == 204
        assert_error(client.get(f"/api/v1/agents/{aid}", headers=headers), 404)
        assert len(events_of(session, world.a.tenant.id, "agent.deleted")) == 1

    def test_agent_with_history_is_409(self, client: Any, world: Any, session: Any) -> None:
        contact = world.a.contacts["general"]
        contact.agent_id = world.a.agents["general"].id
        session.commit()
        response = client.delete(
            f"/api/v1/agents/{world.a.agents['general'].id}",
            headers=world.headers(world.a.users["admin"]),
        )
        assert_error(response, 409, "handled 1 contact", "is_active=false")
