"""/admin pages in real headless Chromium against a real server: validation errors of the
admin API shown beside their field, fixed and saved; an agent created with skills; paging;
a user created from the keyboard alone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from tests.live_server import BROWSER_MARKS, launch, login, seeded_sqlite, serve, test_settings

SCREENSHOT = Path("/tmp/admin-queues.png")

pytestmark = BROWSER_MARKS


def _seed(session: Session) -> None:
    from lianluo.models import Skill, Tenant
    from tests.factories import make_user

    tenant = Tenant(slug="admin-demo", name="Admin demo")
    session.add(tenant)
    session.flush()
    make_user(session, tenant, "root", ["admin"])
    make_user(session, tenant, "boss", ["supervisor"])
    zhang = make_user(session, tenant, "zhang", ["agent"])
    zhang.display_name = "张伟"
    session.add_all(Skill(tenant_id=tenant.id, name=f"skill-{k:02d}") for k in range(24))
    session.add(Skill(tenant_id=tenant.id, name="billing"))
    session.commit()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from lianluo.app import create_app

    url = seeded_sqlite(tmp_path_factory.mktemp("admin-browser"), _seed)
    with serve(create_app(test_settings(url))) as base:
        yield base


@pytest.fixture
def page(server: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            login(page, server, "root", "/admin/queues")
            yield page
            assert not errors, errors
        finally:
            browser.close()


@contextmanager
def _api(base: str) -> Iterator[httpx.Client]:
    from tests.factories import PASSWORD

    with httpx.Client(base_url=base, timeout=10) as client:
        r = client.post("/api/v1/auth/login", json={"username": "root", "password": PASSWORD})
        client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        yield client


def test_queue_with_a_bad_expression_then_fixed(server: str, page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    expect(page.get_by_role("heading", name=re.compile("系统管理"))).to_be_visible()
    page.get_by_label("名称", exact=True).fill("投诉热线")
    page.get_by_label("voice").check()
    page.get_by_label("属性匹配表达式").fill("agent.region == contact.region and")
    page.get_by_role("button", name="保存").click()

    error = page.locator("#e-attribute_expr")
    expect(error).to_contain_text("第 35 个字符处")
    expect(error).to_contain_text("expected a value")
    expect(page.get_by_label("属性匹配表达式")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#form-error")).to_have_text("请更正标出的字段")
    # the caret points under the end of the expression
    expect(error.locator(".caret")).to_have_text(re.compile(r" {34}\^$"))
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    page.get_by_label("属性匹配表达式").fill("agent.region == contact.region")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#form-status")).to_have_text("已保存: 投诉热线")
    expect(error).to_be_empty()
    expect(page.locator("#list tbody")).to_contain_text("投诉热线")
    with _api(server) as api:
        (queue,) = api.get("/api/v1/queues", params={"q": "投诉"}).json()["items"]
    assert queue["attribute_expr"] == "agent.region == contact.region"
    assert queue["channels"] == ["voice"]

    # no channel at all: the schema's rule, in plain words beside the channels
    page.get_by_role("button", name="新建").click()
    page.get_by_label("名称", exact=True).fill("空渠道")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#e-channels")).to_contain_text("太短或为空")

    # edit: the saved queue's target, out of range, then fixed
    page.get_by_role("button", name="编辑 投诉热线").click()
    page.get_by_label("服务水平目标比例（0–1）").fill("1.5")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#e-sl_target_ratio")).to_contain_text("超出允许范围")
    page.get_by_label("服务水平目标比例（0–1）").fill("0.9")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#form-status")).to_contain_text("已保存")
    expect(page.locator("#list tbody")).to_contain_text("投诉热线")


def test_agent_with_skills(server: str, page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.get_by_role("link", name="座席").click()
    expect(page).to_have_url(f"{server}/admin/agents")
    page.get_by_label("用户账号").select_option(label="张伟 (zhang)")
    page.get_by_role("button", name="添加技能").click()
    page.get_by_label("技能 1", exact=True).select_option("billing")
    page.get_by_label("等级 1", exact=True).fill("11")
    page.get_by_label("voice", exact=True).fill("1")
    page.get_by_label("chat", exact=True).fill("3")
    page.get_by_label("班组").fill("A组")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#e-skills")).to_contain_text("超出允许范围")

    page.get_by_label("等级 1", exact=True).fill("7")
    page.get_by_label("属性（JSON）").fill('{"languages": ["zh"')
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#e-attributes")).to_contain_text("不是有效的 JSON 对象")

    page.get_by_label("属性（JSON）").fill('{"languages": ["zh", "en"]}')
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#form-status")).to_contain_text("已保存")
    expect(page.locator("#list tbody")).to_contain_text("billing:7")
    with _api(server) as api:
        (agent,) = api.get("/api/v1/agents").json()["items"]
    assert agent["username"] == "zhang"
    assert [(s["name"], s["level"]) for s in agent["skills"]] == [("billing", 7)]
    assert agent["capacity"] == {"voice": 1, "chat": 3}
    assert agent["attributes"] == {"languages": ["zh", "en"]}
    assert agent["team"] == "A组"


def test_skills_list_pages(server: str, page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.goto(f"{server}/admin/skills")
    expect(page.locator("#page-info")).to_have_text(re.compile(r"第 1 / 2 页，共 2\d 条"))
    expect(page.locator("#list tbody tr")).to_have_count(20)
    page.get_by_role("button", name="下一页").click()
    expect(page.locator("#page-info")).to_have_text(re.compile(r"第 2 / 2 页"))
    assert 1 <= page.locator("#list tbody tr").count() <= 20
    page.get_by_label("搜索", exact=True).fill("billing")
    page.get_by_label("搜索", exact=True).press("Enter")
    expect(page.locator("#list tbody tr")).to_have_count(1)


def test_user_created_from_the_keyboard(server: str, page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.goto(f"{server}/admin/users?lang=en")
    expect(page.get_by_role("heading", name=re.compile("Administration"))).to_be_visible()
    page.get_by_label("Username").focus()
    page.keyboard.type("wang.fang")
    page.keyboard.press("Tab")  # password
    page.keyboard.type("short")
    page.keyboard.press("Tab")  # display name
    page.keyboard.type("王芳")
    page.keyboard.press("Tab")  # first role: agent
    page.keyboard.press("Space")
    page.keyboard.press("Enter")  # submits the form
    expect(page.locator("#e-password")).to_contain_text(re.compile("Too short|at least"))
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(" but now long enough")
    page.keyboard.press("Enter")
    expect(page.locator("#form-status")).to_have_text("Saved: wang.fang")
    expect(page.locator("#list tbody")).to_contain_text("wang.fang")
    page.screenshot(path=str(SCREENSHOT.with_name("admin-users-en.png")), full_page=True)


def test_forbidden_for_a_supervisor(server: str) -> None:
    from tests.factories import PASSWORD

    with httpx.Client(base_url=server, timeout=10) as client:
        r = client.post("/api/v1/auth/login", json={"username": "boss", "password": PASSWORD})
        token = r.json()["access_token"]
        page = client.get("/admin/queues", headers={"Authorization": f"Bearer {token}"})
        assert page.status_code == 403
        assert client.get("/admin/users").status_code == 303
