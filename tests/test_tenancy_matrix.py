"""Tenancy matrix: no user of tenant A (or of partner P) reads or changes anything of tenant B
(or of partner Q), through any route of the app.

The routes come from the app itself. Every route must be described in ROUTES, and every path
parameter in PARAMS, or the test fails and names what is missing: a new route is covered the
day it is added. For each route and each caller:

- with the victim's ids in the path (or referenced in the body) the answer is 404, 403 (or 422
  for an unknown id in a body), never 2xx;
- the same request with the caller's own ids does not answer 404, so the refusal above is the
  tenancy rule at work and not a malformed request; and across the callers every such route
  reaches its row at least once (2xx or a business 409/400);
- lists, with every id filter set to the victim's ids or to none, never return a victim id;
- afterwards every victim row (and the victim's event log) is exactly as before.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import routing
from sqlalchemy import Table, select
from sqlalchemy.orm import Session
from starlette.staticfiles import StaticFiles

from lianluo.db.base import Base

Ids = dict[str, str]


@dataclass(frozen=True)
class Victim:
    """Whose rows the caller must not reach, and which ids stand for them."""

    ids: Ids
    tenant_id: str
    partner_id: str | None  # None: the whole tenant is the victim


# ---- how to fill each path parameter --------------------------------------------------------

# name -> (the victim's id, the caller's own id); scope "tenant" or "partner"
ParamFill = Callable[[Any, str], tuple[str, str]]


def _tenant_or_partner(
    tenant_victim: Callable[[Any], str],
    partner_victim: Callable[[Any], str],
    tenant_own: Callable[[Any], str],
    partner_own: Callable[[Any], str],
) -> ParamFill:
    def fill(w: Any, scope: str) -> tuple[str, str]:
        if scope == "tenant":
            return tenant_victim(w), tenant_own(w)
        return partner_victim(w), partner_own(w)

    return fill


PARAMS: dict[str, ParamFill] = {
    # a tenant belongs to no partner: partner users are tested against tenant B's
    "tenant_id": _tenant_or_partner(
        lambda w: w.b.tenant.id,
        lambda w: w.b.tenant.id,
        lambda w: w.a.tenant.id,
        lambda w: w.a.tenant.id,
    ),
    "partner_id": _tenant_or_partner(
        lambda w: w.b.partners["p"].id,
        lambda w: w.a.partners["q"].id,
        lambda w: w.a.partners["p"].id,
        lambda w: w.a.partners["p"].id,
    ),
    "user_id": _tenant_or_partner(
        lambda w: w.b.users["wfm"].id,
        lambda w: w.a.users["q_agent"].id,
        lambda w: w.a.users["wfm"].id,
        lambda w: w.a.users["p_agent"].id,
    ),
    # skills are the tenant's catalogue, shared by its partners
    "skill_id": _tenant_or_partner(
        lambda w: w.b.skills["billing"].id,
        lambda w: w.b.skills["billing"].id,
        lambda w: w.a.skills["billing"].id,
        lambda w: w.a.skills["billing"].id,
    ),
    "queue_id": _tenant_or_partner(
        lambda w: w.b.queues["general"].id,
        lambda w: w.a.queues["q"].id,
        lambda w: w.a.queues["general"].id,
        lambda w: w.a.queues["p"].id,
    ),
    "agent_id": _tenant_or_partner(
        lambda w: w.b.agents["general"].id,
        lambda w: w.a.agents["q"].id,
        lambda w: w.a.agents["general"].id,
        lambda w: w.a.agents["p"].id,
    ),
    "customer_id": _tenant_or_partner(
        lambda w: w.b.customers["general"].id,
        lambda w: w.a.customers["q"].id,
        lambda w: w.a.customers["general"].id,
        lambda w: w.a.customers["p"].id,
    ),
    # not a path parameter: a second customer, for merges (a customer merged into itself is a
    # 400 before any lookup)
    "second_customer_id": _tenant_or_partner(
        lambda w: w.b.customers["p"].id,
        lambda w: w.a.customers["general"].id,
        lambda w: w.a.customers["p"].id,
        lambda w: w.a.customers["p"].id,
    ),
    "contact_id": _tenant_or_partner(
        lambda w: w.b.contacts["general"].id,
        lambda w: w.a.contacts["q"].id,
        lambda w: w.a.contacts["general"].id,
        lambda w: w.a.contacts["p"].id,
    ),
    "report_id": _tenant_or_partner(
        lambda w: w.b.saved_reports["general"].id,
        lambda w: w.a.saved_reports["q"].id,
        lambda w: w.a.saved_reports["general"].id,
        lambda w: w.a.saved_reports["p"].id,
    ),
    # knowledge base: articles are the tenant's, read by its partners (like skills)
    "article_id": _tenant_or_partner(
        lambda w: w.b.articles["published"].id,
        lambda w: w.b.articles["published"].id,
        lambda w: w.a.articles["published"].id,
        lambda w: w.a.articles["published"].id,
    ),
    "version": _tenant_or_partner(lambda w: "1", lambda w: "1", lambda w: "1", lambda w: "1"),
    # a path parameter of the chat routes, and named in the body of kb suggestions
    "conversation_id": _tenant_or_partner(
        lambda w: w.b.contacts["general"].conversation_id,
        lambda w: w.a.contacts["q"].conversation_id,
        lambda w: w.a.contacts["general"].conversation_id,
        lambda w: w.a.contacts["p"].conversation_id,
    ),
    "actor_id": _tenant_or_partner(
        lambda w: w.b.users["admin"].id,
        lambda w: w.a.users["q_admin"].id,
        lambda w: w.a.users["admin"].id,
        lambda w: w.a.users["p_admin"].id,
    ),
    # tickets: categories are the tenant's catalogue, shared by its partners
    "category_id": _tenant_or_partner(
        lambda w: w.b.tickets["category:first"].id,
        lambda w: w.b.tickets["category:first"].id,
        lambda w: w.a.tickets["category:first"].id,
        lambda w: w.a.tickets["category:first"].id,
    ),
    "ticket_id": _tenant_or_partner(
        lambda w: w.b.tickets["general"].id,
        lambda w: w.a.tickets["q"].id,
        lambda w: w.a.tickets["general"].id,
        lambda w: w.a.tickets["p"].id,
    ),
    # not a path parameter: a duplicate of the same customer, for merges
    "second_ticket_id": _tenant_or_partner(
        lambda w: w.b.tickets["general2"].id,
        lambda w: w.a.tickets["q2"].id,
        lambda w: w.a.tickets["general2"].id,
        lambda w: w.a.tickets["p2"].id,
    ),
    "attachment_id": _tenant_or_partner(
        lambda w: w.b.tickets["attachment:general"].id,
        lambda w: w.a.tickets["attachment:q"].id,
        lambda w: w.a.tickets["attachment:general"].id,
        lambda w: w.a.tickets["attachment:p"].id,
    ),
    "followup_id": _tenant_or_partner(
        lambda w: w.b.tickets["followup:general"].id,
        lambda w: w.a.tickets["followup:q"].id,
        lambda w: w.a.tickets["followup:general"].id,
        lambda w: w.a.tickets["followup:p"].id,
    ),
}


# ---- how to call each route -----------------------------------------------------------------

Body = Callable[[Ids], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    body: Body | None = None  # a valid JSON body, built from the ids in use (victim or own)
    # For routes that take ids in the body: each entry names ids taken from the victim while
    # the rest (the path included) stay the caller's own. Every such request must be refused.
    crosses: tuple[tuple[str, ...], ...] = ()
    skip: str | None = None  # why the route cannot reach tenant data at all
    last: bool = False  # acts on the caller (logout): run after everything else


ROUTES: dict[tuple[str, str], Case] = {
    ("GET", "/healthz"): Case(),
    ("POST", "/api/v1/auth/login"): Case(skip="credentials only; reads no row by id"),
    ("POST", "/api/v1/auth/logout"): Case(last=True),
    ("GET", "/api/v1/auth/me"): Case(),
    ("GET", "/login"): Case(),
    ("POST", "/login"): Case(skip="credentials only; reads no row by id"),
    ("POST", "/logout"): Case(last=True),
    ("GET", "/"): Case(),
    # tenants and partners
    ("GET", "/api/v1/tenants"): Case(),
    ("POST", "/api/v1/tenants"): Case(skip="superusers only; the matrix callers are not"),
    ("GET", "/api/v1/tenants/current"): Case(),
    ("GET", "/api/v1/tenants/{tenant_id}"): Case(),
    ("PATCH", "/api/v1/tenants/{tenant_id}"): Case(body=lambda i: {"name": "taken over"}),
    ("GET", "/api/v1/partners"): Case(),
    ("POST", "/api/v1/partners"): Case(body=lambda i: {"code": "new-p", "name": "New"}),
    ("GET", "/api/v1/partners/{partner_id}"): Case(),
    ("PATCH", "/api/v1/partners/{partner_id}"): Case(body=lambda i: {"name": "taken over"}),
    ("DELETE", "/api/v1/partners/{partner_id}"): Case(),
    # users
    ("GET", "/api/v1/users"): Case(),
    ("POST", "/api/v1/users"): Case(
        body=lambda i: {
            "username": "matrix-new",
            "password": "long enough",
            "roles": ["agent"],
            "partner_id": i["partner_id"],
        },
        crosses=(("partner_id",),),
    ),
    ("GET", "/api/v1/users/{user_id}"): Case(),
    ("PATCH", "/api/v1/users/{user_id}"): Case(body=lambda i: {"display_name": "taken over"}),
    ("POST", "/api/v1/users/{user_id}/password"): Case(body=lambda i: {"password": "hijacked!"}),
    ("DELETE", "/api/v1/users/{user_id}"): Case(),
    # skills and queues
    ("GET", "/api/v1/skills"): Case(),
    ("POST", "/api/v1/skills"): Case(body=lambda i: {"name": "matrix"}),
    ("GET", "/api/v1/skills/{skill_id}"): Case(),
    ("PATCH", "/api/v1/skills/{skill_id}"): Case(body=lambda i: {"description": "taken over"}),
    ("DELETE", "/api/v1/skills/{skill_id}"): Case(),
    ("GET", "/api/v1/queues"): Case(),
    ("POST", "/api/v1/queues"): Case(
        body=lambda i: {
            "name": "matrix",
            "channels": ["chat"],
            "partner_id": i["partner_id"],
            "relaxation": [{"after_s": 30, "action": "overflow", "to_queue": i["queue_id"]}],
        },
        crosses=(("partner_id",), ("queue_id",)),
    ),
    ("GET", "/api/v1/queues/{queue_id}"): Case(),
    ("PATCH", "/api/v1/queues/{queue_id}"): Case(body=lambda i: {"priority": 99}),
    ("DELETE", "/api/v1/queues/{queue_id}"): Case(),
    # agents
    ("GET", "/api/v1/agents"): Case(),
    ("POST", "/api/v1/agents"): Case(
        body=lambda i: {"user_id": i["user_id"], "skills": [{"skill": i["skill_id"], "level": 2}]},
        crosses=(("user_id",), ("skill_id",)),
    ),
    ("GET", "/api/v1/agents/{agent_id}"): Case(),
    ("PATCH", "/api/v1/agents/{agent_id}"): Case(body=lambda i: {"team": "taken over"}),
    ("DELETE", "/api/v1/agents/{agent_id}"): Case(),
    # customers and events (the lead's modules)
    ("GET", "/api/v1/customers"): Case(),
    ("POST", "/api/v1/customers"): Case(body=lambda i: {"name": "Matrix Person"}),
    ("GET", "/api/v1/customers/{customer_id}"): Case(),
    ("PATCH", "/api/v1/customers/{customer_id}"): Case(body=lambda i: {"tags": ["taken"]}),
    ("POST", "/api/v1/customers/{customer_id}/identities"): Case(
        body=lambda i: {"kind": "email", "value": "matrix@example.org"}
    ),
    ("POST", "/api/v1/customers/{customer_id}/merge"): Case(
        body=lambda i: {"source_id": i["second_customer_id"]},
        crosses=(("second_customer_id",),),
    ),
    ("GET", "/api/v1/customers/{customer_id}/360"): Case(),
    ("GET", "/api/v1/events"): Case(),
    # contacts and live routing (the lead's modules)
    ("POST", "/api/v1/contacts"): Case(
        body=lambda i: {
            "customer_id": i["customer_id"],
            "queue_id": i["queue_id"],
            "channel": "chat",
        },
        crosses=(("customer_id",), ("queue_id",)),
    ),
    ("GET", "/api/v1/contacts/{contact_id}"): Case(),
    ("POST", "/api/v1/contacts/{contact_id}/accept"): Case(),
    ("POST", "/api/v1/contacts/{contact_id}/reject"): Case(),
    ("POST", "/api/v1/contacts/{contact_id}/complete"): Case(
        body=lambda i: {"disposition": "resolved"}
    ),
    ("POST", "/api/v1/contacts/{contact_id}/wrap-up"): Case(
        body=lambda i: {"disposition": "resolved"}
    ),
    ("POST", "/api/v1/contacts/{contact_id}/abandon"): Case(),
    ("POST", "/api/v1/contacts/{contact_id}/transfer"): Case(
        body=lambda i: {"to_queue_id": i["queue_id"], "to_agent_id": i["agent_id"]},
        crosses=(("queue_id",), ("agent_id",)),
    ),
    ("POST", "/api/v1/contacts/{contact_id}/callback"): Case(body=lambda i: {}),
    ("GET", "/api/v1/routing/queues"): Case(),
    ("GET", "/api/v1/routing/queues/{queue_id}"): Case(),
    ("GET", "/api/v1/routing/agents"): Case(),
    ("POST", "/api/v1/routing/agents/{agent_id}/state"): Case(
        body=lambda i: {"state": "available"}
    ),
    ("GET", "/api/v1/routing/me"): Case(),
    ("POST", "/api/v1/routing/me/state"): Case(body=lambda i: {"state": "available"}),
    ("GET", "/api/v1/routing/me/offers"): Case(),
    # workforce management
    ("POST", "/api/v1/wfm/staff"): Case(body=lambda i: {"contacts": 120, "aht_s": 240}),
    ("GET", "/api/v1/wfm/forecast"): Case(),
    ("POST", "/api/v1/wfm/schedule"): Case(
        body=lambda i: {
            "interval_min": 60,
            "required_agents": [1.0] * (7 * 24),
            "time_limit_s": 1,
        }
    ),
    ("POST", "/api/v1/wfm/adherence"): Case(
        body=lambda i: {
            "activities": [
                {
                    "agent_id": i["agent_id"],
                    "start": "2026-11-23T09:00:00+08:00",
                    "end": "2026-11-23T12:00:00+08:00",
                    "activity": "work",
                }
            ]
        },
        crosses=(("agent_id",),),
    ),
    ("PUT", "/api/v1/wfm/activities"): Case(
        body=lambda i: {
            "activities": [
                {
                    "agent_id": i["agent_id"],
                    "start": "2026-11-23T09:00:00+08:00",
                    "end": "2026-11-23T12:00:00+08:00",
                    "activity": "work",
                }
            ]
        },
        crosses=(("agent_id",),),
    ),
    ("GET", "/wfm"): Case(),
    # reports
    ("GET", "/api/v1/reports/historical"): Case(),
    ("GET", "/api/v1/reports/historical/export"): Case(),
    ("GET", "/api/v1/reports/contacts"): Case(),
    ("GET", "/api/v1/reports/agents/{agent_id}/scorecard"): Case(),
    ("GET", "/api/v1/reports/me/scorecard"): Case(),
    ("GET", "/api/v1/reports/saved"): Case(),
    # a saved report's filters name the caller's own queue, agent and partner
    ("POST", "/api/v1/reports/saved"): Case(
        body=lambda i: {
            "name": "weekly",
            "recipients": ["boss@example.com"],
            "queue_id": i["queue_id"],
            "agent_id": i["agent_id"],
            "partner_id": i["partner_id"],
        },
        crosses=(("queue_id",), ("agent_id",), ("partner_id",)),
    ),
    ("DELETE", "/api/v1/reports/saved/{report_id}"): Case(),
    ("POST", "/api/v1/reports/saved/{report_id}/send"): Case(),
    ("GET", "/reports"): Case(),
    # tickets
    ("GET", "/api/v1/tickets/settings"): Case(),
    ("PUT", "/api/v1/tickets/settings"): Case(body=lambda i: {"repeat_window_days": 7}),
    ("GET", "/api/v1/ticket-categories"): Case(),
    ("POST", "/api/v1/ticket-categories"): Case(
        body=lambda i: {
            "name": "matrix",
            "ownership_model": "tiered",
            "tiers": [{"name": "升级", "queue_id": i["queue_id"]}],
        },
        crosses=(("queue_id",),),
    ),
    ("GET", "/api/v1/ticket-categories/{category_id}"): Case(),
    ("PATCH", "/api/v1/ticket-categories/{category_id}"): Case(
        body=lambda i: {"name": "taken over"}
    ),
    ("GET", "/api/v1/tickets"): Case(),
    ("POST", "/api/v1/tickets"): Case(
        body=lambda i: {
            "category_id": i["category_id"],
            "subject": "matrix",
            "contact_id": i["contact_id"],
            "customer_id": i["customer_id"],
        },
        crosses=(("category_id",), ("contact_id",), ("customer_id",)),
    ),
    ("GET", "/api/v1/tickets/metrics"): Case(),
    ("POST", "/api/v1/tickets/sweep"): Case(),
    ("GET", "/api/v1/tickets/followups"): Case(),
    ("POST", "/api/v1/tickets/followups/{followup_id}/done"): Case(),
    ("GET", "/api/v1/tickets/{ticket_id}"): Case(),
    ("PATCH", "/api/v1/tickets/{ticket_id}"): Case(body=lambda i: {"priority": "urgent"}),
    ("POST", "/api/v1/tickets/{ticket_id}/status"): Case(
        body=lambda i: {"status": "waiting_customer"}
    ),
    ("POST", "/api/v1/tickets/{ticket_id}/assign"): Case(body=lambda i: {}),
    ("POST", "/api/v1/tickets/{ticket_id}/escalate"): Case(body=lambda i: {"reason": "x"}),
    ("POST", "/api/v1/tickets/{ticket_id}/entries"): Case(
        body=lambda i: {"kind": "note", "body": "taken over"}
    ),
    # multipart upload (its File field reads as a body): without a file it is a 400 once found
    ("POST", "/api/v1/tickets/{ticket_id}/attachments"): Case(body=lambda i: {}),
    ("GET", "/api/v1/tickets/{ticket_id}/attachments/{attachment_id}"): Case(),
    ("POST", "/api/v1/tickets/{ticket_id}/merge"): Case(
        body=lambda i: {"into_id": i["second_ticket_id"]},
        crosses=(("second_ticket_id",),),
    ),
    ("POST", "/api/v1/tickets/{ticket_id}/rating"): Case(body=lambda i: {"score": 5}),
    ("POST", "/api/v1/tickets/{ticket_id}/callback"): Case(body=lambda i: {}),
    ("GET", "/tickets"): Case(),
    ("GET", "/tickets/{ticket_id}"): Case(),
    ("GET", "/voice/phone"): Case(),  # voice: the agent's own phone panel
    # real-time wallboard (wall)
    ("GET", "/api/v1/realtime/wall"): Case(),
    ("GET", "/wall"): Case(),
    ("GET", "/admin"): Case(),
    ("GET", "/admin/queues"): Case(),
    ("GET", "/admin/skills"): Case(),
    ("GET", "/admin/agents"): Case(),
    ("GET", "/admin/users"): Case(),
    # chat widget and agent desk
    ("GET", "/api/v1/chat/widget-config"): Case(
        skip="public (the widget): names a tenant by slug and one of its chat queues"
    ),
    ("POST", "/api/v1/chat/sessions"): Case(
        skip="public (the pre-chat form): names a tenant by slug; tests/channels/chat"
    ),
    ("GET", "/api/v1/chat/desk"): Case(),
    ("GET", "/api/v1/chat/desk/setup"): Case(),
    ("GET", "/api/v1/voice/desk"): Case(),
    ("GET", "/api/v1/chat/conversations/{conversation_id}/messages"): Case(),
    ("GET", "/api/v1/chat/canned-replies"): Case(),
    ("POST", "/api/v1/chat/canned-replies"): Case(body=lambda i: {"title": "t", "body": "b"}),
    ("GET", "/widget.js"): Case(),
    ("GET", "/demo/chat"): Case(),
    ("GET", "/desk"): Case(),
    # knowledge base
    ("GET", "/api/v1/kb/search"): Case(),
    ("POST", "/api/v1/kb/suggest"): Case(
        body=lambda i: {"conversation_id": i["conversation_id"]},
        crosses=(("conversation_id",),),
    ),
    ("POST", "/api/v1/kb/render"): Case(body=lambda i: {"body": "# x"}),
    ("GET", "/api/v1/kb/articles"): Case(),
    ("POST", "/api/v1/kb/articles"): Case(
        body=lambda i: {"language": "en", "title": "Matrix", "body": "matrix body"}
    ),
    ("GET", "/api/v1/kb/articles/{article_id}"): Case(),
    ("PATCH", "/api/v1/kb/articles/{article_id}"): Case(body=lambda i: {"title": "taken over"}),
    ("POST", "/api/v1/kb/articles/{article_id}/submit"): Case(),
    ("POST", "/api/v1/kb/articles/{article_id}/publish"): Case(),
    ("POST", "/api/v1/kb/articles/{article_id}/send-back"): Case(),
    ("POST", "/api/v1/kb/articles/{article_id}/archive"): Case(),
    ("GET", "/api/v1/kb/articles/{article_id}/versions"): Case(),
    ("GET", "/api/v1/kb/articles/{article_id}/versions/{version}"): Case(),
    ("POST", "/api/v1/kb/articles/{article_id}/versions/{version}/restore"): Case(),
    ("POST", "/api/v1/kb/articles/{article_id}/feedback"): Case(body=lambda i: {"helpful": True}),
    ("GET", "/api/v1/kb/synonyms"): Case(),
    ("PUT", "/api/v1/kb/synonyms"): Case(body=lambda i: {"groups": [["宽带", "光纤"]]}),
    ("GET", "/api/v1/kb/contributors"): Case(),
    ("PUT", "/api/v1/kb/contributors/{customer_id}"): Case(),
    ("DELETE", "/api/v1/kb/contributors/{customer_id}"): Case(),
    ("POST", "/api/v1/kb/community"): Case(
        skip="authenticated by a contributor key, which names its tenant; no user token"
    ),
    ("GET", "/kb"): Case(),
    ("GET", "/kb/review"): Case(),
    ("GET", "/kb/synonyms"): Case(),
    ("GET", "/kb/new"): Case(),
    ("GET", "/kb/articles/{article_id}"): Case(),
    ("GET", "/kb/articles/{article_id}/edit"): Case(),
}

# WebSocket routes cannot be called like the others; each names the test of its tenancy.
WEBSOCKETS = {
    "/ws/wall": "tests/realtime/test_stream.py::TestSocket (partner scope, refused callers)",
    # a widget token names one conversation; /ws/desk serves the caller's own agent
    "/ws/chat": "tests/channels/chat (forged tokens, another tenant joining a chat)",
    "/ws/desk": "tests/channels/chat (forged tokens, another tenant joining a chat); voice call "
    "frames: tests/voice/test_desk_controls.py (another tenant's or agent's call refused)",
}

# Routes of the framework, not of Lianluo: they serve no tenant data (nor do static mounts).
FRAMEWORK_PATHS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


@dataclass(frozen=True)
class RouteInfo:
    method: str
    path: str
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]
    has_body: bool
    is_form: bool


def app_routes(app: Any) -> Iterator[RouteInfo | tuple[str, str]]:
    """Every route of the app; API routes with their parameters, others as (kind, path)."""
    contexts = (
        routing.iter_route_contexts(app.routes)
        if hasattr(routing, "iter_route_contexts")
        else iter(app.routes)
    )
    for ctx in contexts:
        route = getattr(ctx, "original_route", ctx)
        path = getattr(ctx, "path_format", None) or getattr(route, "path_format", "")
        if isinstance(getattr(route, "app", None), StaticFiles) or path.startswith("/static/"):
            continue  # files shipped with the package
        if not isinstance(route, routing.APIRoute):
            yield type(route).__name__, path
            continue
        body = route.body_field
        is_form = (
            body is not None and "form" in type(getattr(body, "field_info", None)).__name__.lower()
        )
        for method in sorted(getattr(ctx, "methods", None) or route.methods):
            yield RouteInfo(
                method=method,
                path=path,
                path_params=tuple(p.name for p in route.dependant.path_params),
                query_params=tuple(p.name for p in route.dependant.query_params)
                + tuple(p.name for dep in route.dependant.dependencies for p in dep.query_params),
                has_body=body is not None,
                is_form=is_form,
            )


# ---- snapshots of the victim's rows ---------------------------------------------------------


def _tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if "tenant_id" in t.c]


def victim_rows(session: Session, victim: Victim) -> dict[str, list[dict[str, Any]]]:
    """Every row that belongs to the victim, by table, in a stable order."""
    session.expire_all()
    tables = {t.name: t for t in Base.metadata.sorted_tables}
    rows: dict[str, list[dict[str, Any]]] = {}

    def grab(table: Table, *conditions: Any) -> None:
        query = select(table).where(*conditions)
        found = [dict(r) for r in session.execute(query).mappings()]
        rows.setdefault(table.name, []).extend(found)

    if victim.partner_id is None:
        grab(tables["tenants"], tables["tenants"].c.id == victim.tenant_id)
        for table in _tables():
            grab(table, table.c.tenant_id == victim.tenant_id)
    else:
        pid = victim.partner_id
        grab(tables["partners"], tables["partners"].c.id == pid)
        for table in _tables():
            if "partner_id" in table.c and table.name != "partners":
                grab(table, table.c.partner_id == pid)
        queues = select(tables["queues"].c.id).where(tables["queues"].c.partner_id == pid)
        contacts = tables["contacts"]
        grab(contacts, contacts.c.queue_id.in_(queues))
        served = select(contacts.c.customer_id).where(contacts.c.queue_id.in_(queues))
        conversations = select(contacts.c.conversation_id).where(contacts.c.queue_id.in_(queues))
        grab(tables["customers"], tables["customers"].c.id.in_(served))
        grab(tables["identities"], tables["identities"].c.customer_id.in_(served))
        grab(tables["conversations"], tables["conversations"].c.id.in_(conversations))
        grab(tables["messages"], tables["messages"].c.conversation_id.in_(conversations))
        agents = select(tables["agents"].c.id).where(tables["agents"].c.partner_id == pid)
        grab(tables["agent_skills"], tables["agent_skills"].c.agent_id.in_(agents))
    return {
        name: sorted(found, key=lambda r: json.dumps(r, default=str, sort_keys=True))
        for name, found in rows.items()
    }


def victim_ids(rows: dict[str, list[dict[str, Any]]]) -> set[str]:
    return {r["id"] for found in rows.values() for r in found if isinstance(r.get("id"), str)}


# ---- the matrix -----------------------------------------------------------------------------

CALLERS = {
    # caller key in world.a.users -> scope of the victim
    "admin": "tenant",
    "supervisor": "tenant",
    "agent": "tenant",
    "p_admin": "partner",
    "p_agent": "partner",
}


def _victim(world: Any, scope: str) -> Victim:
    ids = {name: fill(world, scope)[0] for name, fill in PARAMS.items()}
    if scope == "tenant":
        return Victim(ids, world.b.tenant.id, None)
    return Victim(ids, world.a.tenant.id, world.a.partners["q"].id)


def _own(world: Any, scope: str) -> Ids:
    return {name: fill(world, scope)[1] for name, fill in PARAMS.items()}


def _url(path: str, ids: Ids) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)


def _call(client: Any, route: RouteInfo, ids: Ids, headers: dict[str, str], body: Any) -> Any:
    kwargs: dict[str, Any] = {"headers": headers}
    if body is not None:
        kwargs["json"] = body
    return client.request(route.method, _url(route.path, ids), **kwargs)


def uncovered_routes(app: Any) -> list[str]:
    """What the matrix does not know how to call, one line per route."""
    missing: list[str] = []
    for route in app_routes(app):
        if isinstance(route, tuple):
            if route[1] not in FRAMEWORK_PATHS and route[1] not in WEBSOCKETS:
                missing.append(f"{route[0]} {route[1]}: not an API route; describe it")
            continue
        case = ROUTES.get((route.method, route.path))
        if case is None:
            missing.append(f"{route.method} {route.path}: add it to ROUTES")
            continue
        for name in route.path_params:
            if name not in PARAMS:
                missing.append(f"{route.method} {route.path}: path parameter {name} not in PARAMS")
        if route.has_body and not route.is_form and case.body is None and case.skip is None:
            missing.append(f"{route.method} {route.path}: takes a JSON body; give Case(body=...)")
    return missing


def test_every_route_is_described(app: Any) -> None:
    """A route without an entry here is a route whose tenancy nobody has checked."""
    missing = uncovered_routes(app)
    assert not missing, "routes not covered by the tenancy matrix:\n" + "\n".join(missing)


def test_a_route_added_later_is_reported(app: Any) -> None:
    from fastapi import APIRouter

    router = APIRouter(prefix="/api/v1/widgets")

    @router.get("/{widget_id}")
    def read_widget(widget_id: str) -> dict[str, str]:
        return {"id": widget_id}

    @router.post("/{widget_id}/gears/{gear_id}")
    def add_gear(widget_id: str, gear_id: str, body: dict[str, str]) -> dict[str, str]:
        return body

    app.include_router(router)
    assert uncovered_routes(app) == [
        "GET /api/v1/widgets/{widget_id}: add it to ROUTES",
        "POST /api/v1/widgets/{widget_id}/gears/{gear_id}: add it to ROUTES",
    ]
    ROUTES[("GET", "/api/v1/widgets/{widget_id}")] = Case()
    try:
        assert uncovered_routes(app)[0] == (
            "GET /api/v1/widgets/{widget_id}: path parameter widget_id not in PARAMS"
        )
    finally:
        del ROUTES[("GET", "/api/v1/widgets/{widget_id}")]


@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_no_caller_reaches_another_tenant_or_partner(
    client: Any, world: Any, session: Session, caller: str
) -> None:
    scope = CALLERS[caller]
    user = world.a.users[caller]
    headers = world.headers(user)
    victim = _victim(world, scope)
    own = _own(world, scope)
    before = victim_rows(session, victim)
    forbidden_ids = victim_ids(before)
    assert len(forbidden_ids) > 5, "the victim should own rows; the world changed?"

    routes = [r for r in app_routes(app=client.app) if isinstance(r, RouteInfo)]
    routes = [r for r in routes if (r.method, r.path) in ROUTES]
    order = {"GET": 0, "POST": 1, "PATCH": 1, "PUT": 1, "DELETE": 2}

    def sort_key(route: RouteInfo) -> tuple[int, int, str]:
        case = ROUTES[(route.method, route.path)]
        return (int(case.last), order.get(route.method, 1), route.path)

    problems: list[str] = []
    for route in sorted(routes, key=sort_key):
        case = ROUTES[(route.method, route.path)]
        if case.skip:
            continue
        label = f"{caller}: {route.method} {route.path}"
        for keys in case.crosses:
            # the caller's own ids in the path, the victim's where the body names them
            mixed = {**own, **{k: victim.ids[k] for k in keys}}
            refused = _call(client, route, own, headers, case.body and case.body(mixed))
            if refused.status_code < 300 or refused.status_code >= 500:
                problems.append(f"{label} naming the victim's {keys} -> {refused.status_code}")
        if route.path_params:
            # the victim's ids in the path: refused, and it must look like a missing row
            refused = _call(client, route, victim.ids, headers, case.body and case.body(victim.ids))
            if refused.status_code not in (403, 404):
                problems.append(f"{label} with the victim's id -> {refused.status_code}")
            control = _call(client, route, own, headers, case.body and case.body(own))
            if control.status_code == 404:
                problems.append(f"{label} with the caller's own id -> 404: {control.text[:200]}")
            if any(i in control.text for i in forbidden_ids):
                problems.append(f"{label} with the caller's own id returned the victim's ids")
            continue
        if route.method == "GET":
            fills = [{}, {q: victim.ids[q] for q in route.query_params if q in victim.ids}]
            for params in fills:
                response = client.get(route.path, params=params, headers=headers)
                if params and response.status_code >= 500:
                    problems.append(f"{label} {params} -> {response.status_code}")
                # an id the request itself sent may come back (a filter echoed); nothing else
                leaked = sorted(
                    i for i in forbidden_ids - set(params.values()) if i in response.text
                )
                if leaked:
                    problems.append(f"{label} {params} returned the victim's ids {leaked[:3]}")
        else:
            body = case.body(own) if case.body else None
            response = _call(client, route, own, headers, body)
            leaked = sorted(i for i in forbidden_ids if i in response.text)
            if leaked:
                problems.append(f"{label} returned the victim's ids {leaked[:3]}")

    after = victim_rows(session, victim)
    for table in sorted(set(before) | set(after)):
        if before.get(table) != after.get(table):
            problems.append(f"{caller} changed the victim's rows in {table}")
    assert not problems, "\n".join(problems)


def test_own_ids_reach_every_row(client: Any, world: Any) -> None:
    """The refusals above are the tenancy rule, not a broken request: with their own ids the
    callers get through (2xx) or meet a business rule (400/409) on every id route, at least
    one of them per route (only the offered agent may accept an offer, say)."""
    reached: dict[tuple[str, str], list[str]] = {}
    routes = [r for r in app_routes(client.app) if isinstance(r, RouteInfo) and r.path_params]
    routes = [r for r in routes if not ROUTES[(r.method, r.path)].skip]
    for deleting in (False, True):
        for caller, scope in sorted(CALLERS.items()):
            headers = world.headers(world.a.users[caller])
            own = _own(world, scope)
            for route in sorted(routes, key=lambda r: r.path):
                if (route.method == "DELETE") != deleting:
                    continue
                case = ROUTES[(route.method, route.path)]
                response = _call(client, route, own, headers, case.body and case.body(own))
                outcome = f"{caller} {response.status_code}"
                if response.status_code < 300 or response.status_code in (400, 409):
                    outcome += " reached"
                reached.setdefault((route.method, route.path), []).append(outcome)
    unreached = [
        f"{method} {path}: {', '.join(outcomes)}"
        for (method, path), outcomes in sorted(reached.items())
        if not any(o.endswith("reached") for o in outcomes)
    ]
    assert not unreached, "no caller reached these routes with its own ids:\n" + "\n".join(
        unreached
    )
