"""Schemathesis against the app's own OpenAPI, as a tenant admin: no request the schema allows
may end in a 5xx, and every documented response must match its schema.

One test per operation, bounded: MAX_EXAMPLES examples, no shrinking, no example database,
derandomized so CI sees the same requests every run. Path ids are drawn half the time from the
rows of the test world, so updates and deletes reach real rows and not only 404s.

By hand, deeper and random: LIANLUO_FUZZ_EXAMPLES=200 LIANLUO_FUZZ_RANDOM=1, and
LIANLUO_FUZZ_PATHS=/api/v1/queues,/api/v1/agents to fuzz only some paths.
"""

from __future__ import annotations

import copy
import os
from functools import cache
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error, response_schema_conformance

MAX_EXAMPLES = int(os.environ.get("LIANLUO_FUZZ_EXAMPLES", "20"))
RANDOM = os.environ.get("LIANLUO_FUZZ_RANDOM") == "1"
ONLY_PATHS = tuple(p for p in os.environ.get("LIANLUO_FUZZ_PATHS", "").split(",") if p)

# The app maps every error, validation errors included, to one body (app.py); FastAPI's schema
# still documents its own {"detail": [...]} for 422. Validate against what the app really sends.
ERROR_BODY = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "array"},
            },
        }
    },
}

# Operations that would end the fuzzing session itself.
SKIPPED = {("POST", "/api/v1/auth/logout")}

# 5xx found in modules this file's author does not own, reported to their owners; they stay
# fuzzed and show as xfail (or xpass once fixed: then delete the line).
KNOWN_FAILURES: dict[tuple[str, str], str] = {}


@cache
def _document() -> dict[str, Any]:
    """The OpenAPI document of an app built without a database (only routes are read)."""
    from lianluo.app import create_app
    from lianluo.config import Settings

    app = create_app(Settings(database_url="sqlite://", secret_key="fuzz-" + "x" * 32))
    try:
        document = copy.deepcopy(app.openapi())
    finally:
        app.state.ctx.engine.dispose()
    document["components"]["schemas"]["HTTPValidationError"] = ERROR_BODY
    return document


def _operation_keys() -> list[Any]:
    keys = []
    for path, methods in _document()["paths"].items():
        if ONLY_PATHS and not path.startswith(ONLY_PATHS):
            continue
        for method in methods:
            key = (method.upper(), path)
            if key in SKIPPED:
                continue
            marks = []
            if key in KNOWN_FAILURES:
                marks.append(pytest.mark.xfail(reason=KNOWN_FAILURES[key], strict=False))
            keys.append(pytest.param(key, id=f"{key[0]} {key[1]}", marks=marks))
    return keys


def _real_ids(world: Any) -> dict[str, list[str]]:
    a = world.a
    return {
        "tenant_id": [a.tenant.id],
        "partner_id": [p.id for p in a.partners.values()],
        "user_id": [u.id for k, u in a.users.items() if k != "admin"],
        "skill_id": [s.id for s in a.skills.values()],
        "queue_id": [q.id for q in a.queues.values()],
        "agent_id": [x.id for x in a.agents.values()],
        "customer_id": [c.id for c in a.customers.values()],
        "contact_id": [c.id for c in a.contacts.values()],
        # tickets
        "ticket_id": [t.id for k, t in a.tickets.items() if ":" not in k],
        "category_id": [t.id for k, t in a.tickets.items() if k.startswith("category:")],
        "attachment_id": [t.id for k, t in a.tickets.items() if k.startswith("attachment:")],
        "followup_id": [t.id for k, t in a.tickets.items() if k.startswith("followup:")],
    }


def test_operations_are_found() -> None:
    assert len(_operation_keys()) > (0 if ONLY_PATHS else 30)


@pytest.mark.parametrize("key", _operation_keys())
def test_no_server_error_and_documented_responses(
    app: Any, world: Any, key: tuple[str, str]
) -> None:
    schema = schemathesis.openapi.from_dict(_document())
    schema.app = app
    method, path = key
    operation = schema[path][method]
    headers = world.headers(world.a.users["admin"])
    ids = _real_ids(world)

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not RANDOM,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(), data=st.data())
    def exercise(case: Any, data: Any) -> None:
        for name in list(case.path_parameters or {}):
            if name in ids and data.draw(st.booleans()):
                case.path_parameters[name] = data.draw(st.sampled_from(ids[name]))
        # a loaded CI machine can take more than the default 10 s; a hang still fails
        response = case.call(headers=headers, timeout=60)
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    exercise()
