from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from lianluo.queues.schemas import QueueIn
from tests.admin_helpers import (
    assert_error,
    assert_unauthenticated,
    events_of,
    field_names,
    make_skill,
)

MISSING = "0" * 32


def _queue(client: Any, headers: dict[str, str], **body: Any) -> Any:
    payload = {"name": "宽带报修", "channels": ["voice", "chat"], **body}
    return client.post("/api/v1/queues", json=payload, headers=headers)


class TestSkills:
    def test_admin_crud_and_rename_follows_into_queues(
        self, client: Any, world: Any, session: Any
    ) -> None:
        headers = world.headers(world.a.users["admin"])
        created = client.post(
            "/api/v1/skills", json={"name": "宽带", "description": "broadband"}, headers=headers
        )
        assert created.status_code == 201, created.text
        sid = created.json()["id"]
        queue = _queue(client, headers, required_skills={"宽带": 3, "billing": 1}).json()
        renamed = client.patch(f"/api/v1/skills/{sid}", json={"name": "broadband"}, headers=headers)
        assert renamed.json()["name"] == "broadband"
        after = client.get(f"/api/v1/queues/{queue['id']}", headers=headers).json()
        assert after["required_skills"] == {"broadband": 3, "billing": 1}
        [event] = events_of(session, world.a.tenant.id, "skill.updated")
        assert event.payload["queues"] == [queue["id"]]
        listed = client.get("/api/v1/skills", params={"q": "BROAD"}, headers=headers).json()
        assert [s["name"] for s in listed["items"]] == ["broadband"]

    def test_duplicate_name_is_409(self, client: Any, world: Any, session: Any) -> None:
        headers = world.headers(world.a.users["admin"])
        assert_error(
            client.post("/api/v1/skills", json={"name": "billing"}, headers=headers),
            409,
            "skill named 'billing' already exists",
        )
        other = make_skill(session, world.a, "english")
        assert_error(
            client.patch(f"/api/v1/skills/{other.id}", json={"name": "billing"}, headers=headers),
            409,
        )

    def test_bad_name_is_422(self, client: Any, world: Any) -> None:
        response = client.post(
            "/api/v1/skills",
            json={"name": "two words"},
            headers=world.headers(world.a.users["admin"]),
        )
        assert "body.name" in field_names(assert_error(response, 422))

    def test_skill_in_use_cannot_be_deleted(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["admin"])
        sid = world.a.skills["billing"].id
        assert_error(
            client.delete(f"/api/v1/skills/{sid}", headers=headers), 409, "general require it"
        )
        unused = client.post("/api/v1/skills", json={"name": "spare"}, headers=headers).json()
        assert client.delete(f"/api/v1/skills/{unused['id']}", headers=headers).status_code == 204

    def test_readers_and_writers(self, client: Any, world: Any) -> None:
        sid = world.a.skills["billing"].id
        for role in ("agent", "p_agent", "wfm"):
            headers = world.headers(world.a.users[role])
            assert client.get("/api/v1/skills", headers=headers).json()["total"] == 1
            assert client.get(f"/api/v1/skills/{sid}", headers=headers).status_code == 200
        for role in ("supervisor", "p_admin"):
            headers = world.headers(world.a.users[role])
            assert_error(client.post("/api/v1/skills", json={"name": "x"}, headers=headers), 403)
            assert_error(
                client.patch(f"/api/v1/skills/{sid}", json={"name": "x"}, headers=headers), 403
            )
            assert_error(client.delete(f"/api/v1/skills/{sid}", headers=headers), 403)

    def test_other_tenant_looks_like_a_missing_one(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["admin"])
        for sid in (world.b.skills["billing"].id, MISSING):
            url = f"/api/v1/skills/{sid}"
            assert_error(client.get(url, headers=headers), 404, f"skill {sid} not found")
            assert_error(client.patch(url, json={"name": "x"}, headers=headers), 404)
            assert_error(client.delete(url, headers=headers), 404)

    def test_unauthenticated(self, client: Any, world: Any) -> None:
        sid = world.a.skills["billing"].id
        assert_unauthenticated(client, "GET", "/api/v1/skills")
        assert_unauthenticated(client, "POST", "/api/v1/skills", json={"name": "x"})
        assert_unauthenticated(client, "GET", f"/api/v1/skills/{sid}")
        assert_unauthenticated(client, "PATCH", f"/api/v1/skills/{sid}", json={"name": "x"})
        assert_unauthenticated(client, "DELETE", f"/api/v1/skills/{sid}")


class TestQueueCreate:
    def test_full_queue(self, client: Any, world: Any, session: Any) -> None:
        headers = world.headers(world.a.users["admin"])
        target = world.a.queues["general"].id
        body = {
            "partner_id": world.a.partners["p"].id,
            "required_skills": {"billing": 4},
            "attribute_expr": 'language in ["zh", "yue"] and contact.region == region',
            "selection_policy": "best_proficiency",
            "sl_target_s": 30,
            "sl_target_ratio": 0.9,
            "relaxation": [
                {"after_s": 30, "action": "lower_levels", "by": 2},
                {"after_s": 60, "action": "drop_attributes"},
                {"after_s": 120, "action": "overflow", "to_queue": target},
            ],
            "business_hours": {"mon": [["08:00", "12:00"], ["13:00", "20:00"]]},
        }
        response = _queue(client, headers, **body)
        assert response.status_code == 201, response.text
        queue = response.json()
        queue["relaxation"] = [
            {k: v for k, v in step.items() if v is not None} for step in queue["relaxation"]
        ]
        for key, value in body.items():
            assert queue[key] == value, key
        [event] = events_of(session, world.a.tenant.id, "queue.created")
        assert (event.queue_id, event.partner_id) == (queue["id"], world.a.partners["p"].id)

    def test_duplicate_name_is_409(self, client: Any, world: Any) -> None:
        response = _queue(client, world.headers(world.a.users["admin"]), name="ta general")
        assert_error(response, 409, "queue named 'ta general' already exists")

    @pytest.mark.parametrize(
        ("body", "field", "says"),
        [
            ({"required_skills": {"billing": 11}}, "body.required_skills.billing", "less than"),
            ({"required_skills": {"billing": 0}}, "body.required_skills.billing", "greater"),
            ({"selection_policy": "random"}, "body.selection_policy", "longest_idle"),
            ({"sl_target_s": 0}, "body.sl_target_s", "greater than 0"),
            ({"sl_target_ratio": 1.5}, "body.sl_target_ratio", "less than or equal to 1"),
            ({"sl_target_ratio": 0}, "body.sl_target_ratio", "greater than 0"),
            ({"channels": ["fax"]}, "body.channels.0", "voice"),
            ({"channels": []}, "body.channels", "at least 1"),
            (
                {
                    "relaxation": [
                        {"after_s": 60, "action": "drop_attributes"},
                        {"after_s": 30, "action": "lower_levels", "by": 1},
                    ]
                },
                "body.relaxation",
                "after_s must increase",
            ),
            (
                {"relaxation": [{"after_s": 10, "action": "lower_levels"}]},
                "body.relaxation.0",
                "needs `by`",
            ),
            (
                {"relaxation": [{"after_s": 10, "action": "overflow"}]},
                "body.relaxation.0",
                "needs `to_queue`",
            ),
            (
                {"relaxation": [{"after_s": 10, "action": "shout"}]},
                "body.relaxation.0.action",
                "overflow",
            ),
            ({"business_hours": {"monday": []}}, "body.business_hours", "unknown day"),
            (
                {"business_hours": {"mon": [["20:00", "08:00"]]}},
                "body.business_hours",
                "ends before it starts",
            ),
        ],
    )
    def test_schema_errors_name_the_field(
        self, client: Any, world: Any, body: dict[str, Any], field: str, says: str
    ) -> None:
        response = _queue(client, world.headers(world.a.users["admin"]), **body)
        error = assert_error(response, 422, says)
        assert field in field_names(error), error

    def test_unknown_skill_is_422(self, client: Any, world: Any) -> None:
        response = _queue(
            client,
            world.headers(world.a.users["admin"]),
            required_skills={"billing": 2, "roaming": 3},
        )
        error = assert_error(response, 422, "unknown skill(s) roaming", "/api/v1/skills")
        assert field_names(error) == {"required_skills.roaming"}

    def test_other_tenants_ids_are_unknown(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["admin"])
        other_queue = world.b.queues["general"].id
        error = assert_error(
            _queue(
                client,
                headers,
                relaxation=[{"after_s": 5, "action": "overflow", "to_queue": other_queue}],
            ),
            422,
            "does not exist in this tenant",
        )
        assert field_names(error) == {"relaxation.0.to_queue"}
        error = assert_error(
            _queue(client, headers, partner_id=world.b.partners["p"].id),
            422,
            "not a partner of this tenant",
        )
        assert field_names(error) == {"partner_id"}

    @pytest.mark.parametrize(
        ("expression", "position"),
        [("language ==", 11), ('language in ["zh"', 17), ("agent.", 6), ("a == 1 b", 7)],
    )
    def test_bad_expression_reports_its_position(
        self, client: Any, world: Any, expression: str, position: int
    ) -> None:
        response = _queue(client, world.headers(world.a.users["admin"]), attribute_expr=expression)
        error = assert_error(response, 422, "attribute_expr", f"position {position}")
        [detail] = error["details"]
        assert detail["field"] == "attribute_expr"
        assert detail["position"] == position

    @pytest.mark.parametrize("role", ["supervisor", "p_admin", "agent"])
    def test_only_tenant_admins_create(self, client: Any, world: Any, role: str) -> None:
        assert_error(_queue(client, world.headers(world.a.users[role])), 403, "queue")

    def test_unauthenticated(self, client: Any, world: Any) -> None:
        assert_unauthenticated(client, "POST", "/api/v1/queues", json={"name": "x"})
        assert_unauthenticated(client, "GET", "/api/v1/queues")


class TestQueueReadUpdateDelete:
    def test_partner_users_see_only_served_queues(self, client: Any, world: Any) -> None:
        for role in ("p_admin", "p_agent"):
            headers = world.headers(world.a.users[role])
            listed = client.get("/api/v1/queues", headers=headers).json()
            assert [q["id"] for q in listed["items"]] == [world.a.queues["p"].id]
            for other in ("q", "general"):
                qid = world.a.queues[other].id
                assert_error(client.get(f"/api/v1/queues/{qid}", headers=headers), 404)

    def test_tenant_reader_lists_with_filters(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["supervisor"])
        every = client.get("/api/v1/queues", headers=headers).json()
        assert every["total"] == 3
        voice = client.get("/api/v1/queues", params={"channel": "voice"}, headers=headers).json()
        assert [q["name"] for q in voice["items"]] == ["ta general"]
        paged = client.get(
            "/api/v1/queues", params={"page_size": 1, "page": 3}, headers=headers
        ).json()
        assert (paged["total"], len(paged["items"])) == (3, 1)

    def test_patch_validates_like_create(self, client: Any, world: Any, session: Any) -> None:
        headers = world.headers(world.a.users["admin"])
        qid = world.a.queues["general"].id
        url = f"/api/v1/queues/{qid}"
        ok = client.patch(url, json={"priority": 5, "sl_target_s": 15}, headers=headers)
        assert (ok.json()["priority"], ok.json()["sl_target_s"]) == (5, 15)
        assert ok.json()["required_skills"] == {"billing": 1}
        assert_error(
            client.patch(
                url,
                json={"relaxation": [{"after_s": 5, "action": "overflow", "to_queue": qid}]},
                headers=headers,
            ),
            422,
            "cannot overflow into itself",
        )
        assert_error(client.patch(url, json={"name": "ta p queue"}, headers=headers), 409)
        assert_error(client.patch(url, json={"channels": None}, headers=headers), 422, "null")
        assert_error(
            client.patch(url, json={"attribute_expr": "(("}, headers=headers), 422, "position"
        )
        cleared = client.patch(url, json={"partner_id": None}, headers=headers)
        assert cleared.status_code == 200
        events = events_of(session, world.a.tenant.id, "queue.updated")
        assert [e.payload["fields"] for e in events] == [
            ["priority", "sl_target_s"],
            ["partner_id"],
        ]

    def test_delete_rules(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["admin"])
        used = world.a.queues["general"].id
        assert_error(client.delete(f"/api/v1/queues/{used}", headers=headers), 409, "deactivate")
        spare = _queue(client, headers, name="spare").json()["id"]
        _queue(
            client,
            headers,
            name="feeder",
            relaxation=[{"after_s": 5, "action": "overflow", "to_queue": spare}],
        )
        assert_error(
            client.delete(f"/api/v1/queues/{spare}", headers=headers), 409, "overflow target"
        )
        lonely = _queue(client, headers, name="lonely").json()["id"]
        assert client.delete(f"/api/v1/queues/{lonely}", headers=headers).status_code == 204
        assert_error(client.get(f"/api/v1/queues/{lonely}", headers=headers), 404)

    def test_other_tenant_looks_like_a_missing_one(self, client: Any, world: Any) -> None:
        headers = world.headers(world.a.users["admin"])
        for qid in (world.b.queues["general"].id, MISSING):
            url = f"/api/v1/queues/{qid}"
            assert_error(client.get(url, headers=headers), 404, f"queue {qid} not found")
            assert_error(client.patch(url, json={"priority": 1}, headers=headers), 404)
            assert_error(client.delete(url, headers=headers), 404)

    def test_roles(self, client: Any, world: Any) -> None:
        qid = world.a.queues["general"].id
        for role in ("supervisor", "qa"):
            headers = world.headers(world.a.users[role])
            assert client.get(f"/api/v1/queues/{qid}", headers=headers).status_code == 200
            assert_error(
                client.patch(f"/api/v1/queues/{qid}", json={"priority": 1}, headers=headers), 403
            )
            assert_error(client.delete(f"/api/v1/queues/{qid}", headers=headers), 403)

    def test_unauthenticated(self, client: Any, world: Any) -> None:
        qid = world.a.queues["general"].id
        assert_unauthenticated(client, "GET", f"/api/v1/queues/{qid}")
        assert_unauthenticated(client, "PATCH", f"/api/v1/queues/{qid}", json={"priority": 1})
        assert_unauthenticated(client, "DELETE", f"/api/v1/queues/{qid}")


_step = st.fixed_dictionaries(
    {
        "after_s": st.integers(-5, 200),
        "action": st.sampled_from(["lower_levels", "drop_attributes", "overflow"]),
    },
    optional={"by": st.integers(0, 10), "to_queue": st.just("q1")},
)


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(_step, max_size=5))
def test_relaxation_accepted_iff_well_formed(steps: list[dict[str, Any]]) -> None:
    """The schema accepts a relaxation list exactly when every step fits its action and the
    waiting times strictly increase."""

    def fits(step: dict[str, Any]) -> bool:
        by, to = step.get("by"), step.get("to_queue")
        if not 0 < step["after_s"] <= 86_400:
            return False
        if step["action"] == "lower_levels":
            return by is not None and 1 <= by <= 9 and to is None
        if step["action"] == "overflow":
            return to is not None and by is None
        return by is None and to is None

    expected = all(fits(s) for s in steps) and all(
        b["after_s"] > a["after_s"] for a, b in zip(steps, steps[1:], strict=False)
    )
    try:
        QueueIn(name="q", channels=["chat"], relaxation=steps)
    except ValidationError:
        assert not expected
    else:
        assert expected
