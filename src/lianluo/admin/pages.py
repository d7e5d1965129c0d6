"""/admin/queues, /admin/skills, /admin/agents, /admin/users: a paged list and a create / edit
form per entity. The forms call the JSON admin API (which holds every rule) and show its
validation errors in plain words beside the field they name."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lianluo.agents.schemas import CareerLevel
from lianluo.auth.principal import PEOPLE_ADMINS
from lianluo.deps import Context, DbSession, get_principal
from lianluo.errors import Unauthorized
from lianluo.models.user import Role
from lianluo.queues.schemas import Channel, SelectionPolicy
from lianluo.web.pages import render

router = APIRouter(include_in_schema=False)

CHANNELS = [c.value for c in Channel]

# Columns of the list: [field of the API's answer, i18n key of its heading].
# Each field: name (the API's), label (an i18n key), kind, and options. "create_only" fields
# are sent on create and shown read-only when editing (the API does not change them).
ENTITIES: dict[str, dict[str, Any]] = {
    "queues": {
        "api": "/api/v1/queues",
        "title": "admin_queues",
        "columns": [
            ["name", "admin_name"],
            ["channels", "admin_channels"],
            ["priority", "admin_priority"],
            ["sl_target_s", "admin_sl_target_s"],
            ["is_active", "admin_is_active"],
        ],
        "fields": [
            {"name": "name", "label": "admin_name", "kind": "text", "required": True},
            {"name": "description", "label": "admin_description", "kind": "text"},
            {"name": "channels", "label": "admin_channels", "kind": "checks", "options": CHANNELS},
            {"name": "priority", "label": "admin_priority", "kind": "number", "default": 0},
            {"name": "required_skills", "label": "admin_required_skills", "kind": "skill_map"},
            {
                "name": "attribute_expr",
                "label": "admin_attribute_expr",
                "kind": "textarea",
                "hint": "admin_attribute_expr_hint",
            },
            {
                "name": "selection_policy",
                "label": "admin_selection_policy",
                "kind": "select",
                "options": [p.value for p in SelectionPolicy],
            },
            {"name": "sl_target_s", "label": "admin_sl_target_s", "kind": "number", "default": 20},
            {
                "name": "sl_target_ratio",
                "label": "admin_sl_target_ratio",
                "kind": "number",
                "step": "0.01",
                "default": 0.8,
            },
            {
                "name": "short_abandon_s",
                "label": "admin_short_abandon_s",
                "kind": "number",
                "default": 5,
            },
            {
                "name": "offer_timeout_s",
                "label": "admin_offer_timeout_s",
                "kind": "number",
                "default": 20,
            },
            {"name": "wrap_up_s", "label": "admin_wrap_up_s", "kind": "number", "default": 30},
            {
                "name": "callback_enabled",
                "label": "admin_callback_enabled",
                "kind": "checkbox",
                "default": True,
            },
            {"name": "is_active", "label": "admin_is_active", "kind": "checkbox", "default": True},
        ],
    },
    "skills": {
        "api": "/api/v1/skills",
        "title": "admin_skills",
        "columns": [["name", "admin_name"], ["description", "admin_description"]],
        "fields": [
            {"name": "name", "label": "admin_name", "kind": "text", "required": True},
            {"name": "description", "label": "admin_description", "kind": "text"},
        ],
    },
    "agents": {
        "api": "/api/v1/agents",
        "title": "admin_agents",
        "columns": [
            ["username", "username"],
            ["display_name", "admin_display_name"],
            ["team", "admin_team"],
            ["career_level", "admin_career_level"],
            ["skills", "admin_skills_levels"],
        ],
        "fields": [
            {
                "name": "user_id",
                "label": "admin_user",
                "kind": "user",
                "required": True,
                "create_only": True,
            },
            {"name": "skills", "label": "admin_skills_levels", "kind": "skill_list"},
            {
                "name": "capacity",
                "label": "admin_capacity",
                "kind": "capacity",
                "options": CHANNELS,
            },
            {"name": "team", "label": "admin_team", "kind": "text"},
            {
                "name": "career_level",
                "label": "admin_career_level",
                "kind": "select",
                "options": [c.value for c in CareerLevel],
                "default": "qualified",
            },
            {
                "name": "attributes",
                "label": "admin_attributes",
                "kind": "json",
                "hint": "admin_attributes_hint",
            },
        ],
    },
    "users": {
        "api": "/api/v1/users",
        "title": "admin_users",
        "columns": [
            ["username", "username"],
            ["display_name", "admin_display_name"],
            ["roles", "roles"],
            ["locale", "admin_locale"],
            ["is_active", "admin_is_active"],
        ],
        "fields": [
            {
                "name": "username",
                "label": "username",
                "kind": "text",
                "required": True,
                "create_only": True,
            },
            {
                "name": "password",
                "label": "password",
                "kind": "password",
                "required": True,
                "create_only": True,
            },
            {"name": "display_name", "label": "admin_display_name", "kind": "text"},
            {
                "name": "roles",
                "label": "roles",
                "kind": "checks",
                "options": [r.value for r in Role],
            },
            {
                "name": "locale",
                "label": "admin_locale",
                "kind": "select",
                "options": ["zh-CN", "en-US"],
                "default": "zh-CN",
            },
            {
                "name": "is_active",
                "label": "admin_is_active",
                "kind": "checkbox",
                "default": True,
                "edit_only": True,
            },
        ],
    },
}


def _page(entity: str, request: Request, session: DbSession, ctx: Context) -> Response:
    try:
        principal = get_principal(request, session, ctx)
    except Unauthorized:
        return RedirectResponse(f"/login?next=/admin/{entity}", status_code=303)
    if not principal.has_any(PEOPLE_ADMINS):
        return render(request, "forbidden.html", status_code=403, message_key="admin_forbidden")
    return render(
        request,
        "admin.html",
        entity=entity,
        spec=ENTITIES[entity],
        entities=list(ENTITIES),
        username=principal.username,
    )


@router.get("/admin", response_class=HTMLResponse)
def admin_home() -> Response:
    return RedirectResponse("/admin/queues", status_code=303)


@router.get("/admin/queues", response_class=HTMLResponse)
def admin_queues(request: Request, session: DbSession, ctx: Context) -> Response:
    return _page("queues", request, session, ctx)


@router.get("/admin/skills", response_class=HTMLResponse)
def admin_skills(request: Request, session: DbSession, ctx: Context) -> Response:
    return _page("skills", request, session, ctx)


@router.get("/admin/agents", response_class=HTMLResponse)
def admin_agents(request: Request, session: DbSession, ctx: Context) -> Response:
    return _page("agents", request, session, ctx)


@router.get("/admin/users", response_class=HTMLResponse)
def admin_users(request: Request, session: DbSession, ctx: Context) -> Response:
    return _page("users", request, session, ctx)
