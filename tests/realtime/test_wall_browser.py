"""/wall in real headless Chromium against a real server: figures change without a reload as
contacts are created, answered and closed through the API."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path("/tmp/wall-page.png")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

EXPECT_TIMEOUT_MS = 20_000  # a shared, loaded machine: generous, and a failure still fails

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(session: Session) -> dict[str, str]:
    from lianluo.models import Agent, AgentSkill, Queue, Skill, Tenant
    from tests.factories import make_customer, make_user

    tenant = Tenant(slug="wall-demo", name="Wall demo", timezone="Asia/Shanghai")
    session.add(tenant)
    session.flush()
    make_user(session, tenant, "boss", ["supervisor"])
    agent_user = make_user(session, tenant, "li", ["agent"])
    agent_user.display_name = "李娜"
    skill = Skill(tenant_id=tenant.id, name="billing")
    queue = Queue(
        tenant_id=tenant.id, name="热线 10086", channels=["voice"], required_skills={"billing": 1}
    )
    other = Queue(tenant_id=tenant.id, name="VIP", channels=["voice"], sl_target_ratio=0.9)
    session.add_all([skill, queue, other])
    session.flush()
    agent = Agent(tenant_id=tenant.id, user_id=agent_user.id, team="A组", capacity={"voice": 1})
    session.add(agent)
    session.flush()
    session.add(AgentSkill(tenant_id=tenant.id, agent_id=agent.id, skill_id=skill.id, level=5))
    customer = make_customer(session, tenant, "王小明", phone="+8613800000001")
    session.commit()
    return {"queue": queue.id, "customer": customer.id, "agent": agent.id}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    import uvicorn

    from lianluo.app import create_app
    from lianluo.config import Settings
    from lianluo.db import migrate
    from lianluo.db.engine import make_engine, make_sessionmaker

    url = f"sqlite:///{tmp_path_factory.mktemp('wall-browser') / 'lianluo.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        ids = _seed(session)
    engine.dispose()
    settings = Settings(database_url=url, secret_key="browser-test-secret-" + "x" * 20)
    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", ids
    uv.should_exit = True
    thread.join(timeout=10)


def _api(base: str, username: str) -> httpx.Client:
    from tests.factories import PASSWORD

    client = httpx.Client(base_url=base, timeout=10)
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    r.raise_for_status()
    client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return client


def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json()


def test_wall_updates_without_reload(server: tuple[str, dict[str, str]]) -> None:
    from playwright.sync_api import expect, sync_playwright

    from tests.factories import PASSWORD

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    base, ids = server
    boss, agent = _api(base, "boss"), _api(base, "li")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            outside: list[str] = []
            page.on(
                "request",
                lambda r: (
                    None
                    if r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1"))
                    else outside.append(r.url)
                ),
            )
            page.goto(f"{base}/wall")
            expect(page).to_have_url(re.compile(r"/login\?next=/wall$"))
            page.get_by_label("用户名").fill("boss")
            page.get_by_label("密码").fill(PASSWORD)
            page.get_by_label("密码").press("Enter")
            expect(page).to_have_url(f"{base}/wall")
            expect(page.get_by_role("heading", name="实时监控大屏")).to_be_visible()
            expect(page.locator("#wall-status")).to_have_text("实时")

            tile = page.locator(f"[data-queue='{ids['queue']}']")
            waiting = tile.locator("strong[data-figure=waiting]")
            handled = tile.locator("[data-figure=handled] dd")
            expect(waiting).to_have_text("0")
            expect(handled).to_have_text("0")
            page.evaluate("window.__sameDocument = true")

            contact = {"customer_id": ids["customer"], "queue_id": ids["queue"], "channel": "voice"}
            first = _ok(boss.post("/api/v1/contacts", json=contact))
            _ok(boss.post("/api/v1/contacts", json=contact))
            expect(waiting).to_have_text("2")
            expect(tile.locator("[data-figure=offered] dd")).to_have_text("2")
            # the longest wait ticks in the browser between pushes
            longest = tile.locator("[data-figure=longest] dd")
            expect(longest).to_have_text(re.compile(r"^0:0[1-9]$"), timeout=5_000)

            # the agent logs in: the first contact is offered, accepted and closed
            _ok(agent.post("/api/v1/routing/me/state", json={"state": "available"}))
            expect(waiting).to_have_text("1")
            row = page.locator(f"tr[data-agent='{ids['agent']}']")
            expect(row).to_contain_text("voice")
            _ok(agent.post(f"/api/v1/contacts/{first['id']}/accept"))
            expect(row).to_contain_text("处理中")
            _ok(agent.post(f"/api/v1/contacts/{first['id']}/complete", json={"disposition": "ok"}))
            expect(handled).to_have_text("1")
            expect(tile.locator("[data-figure=answered] dd")).to_have_text("1")
            # the second contact now rings the agent
            expect(waiting).to_have_text("0")
            expect(page.locator("#agent-states [data-state=available] strong")).to_have_text(
                re.compile(r"^[01]$")
            )
            assert page.evaluate("window.__sameDocument") is True  # no reload happened

            expect(page.locator("#wall-chart svg.main-svg").first).to_be_visible(timeout=20_000)
            expect(page.locator("#wall-chart .barlayer .trace")).to_have_count(2)
            page.get_by_label("图表队列").select_option(ids["queue"])  # keyboard-usable control
            assert page.evaluate("document.documentElement.scrollWidth") <= 1366
            page.screenshot(path=str(SCREENSHOT), full_page=True)

            # a big TV: the same page, larger type, no horizontal scrolling
            page.set_viewport_size({"width": 3840, "height": 2160})
            page.goto(f"{base}/wall?lang=en")
            expect(page.get_by_role("heading", name="Supervisor wallboard")).to_be_visible()
            expect(
                page.locator(f"[data-queue='{ids['queue']}'] [data-figure=handled] dd")
            ).to_have_text("1")
            size = page.evaluate(
                "parseFloat(getComputedStyle(document.getElementById('wall')).fontSize)"
            )
            assert size >= 28
            assert page.evaluate("document.documentElement.scrollWidth") <= 3840
            page.screenshot(path=str(SCREENSHOT.with_name("wall-page-tv-en.png")))
            assert not errors, errors
            assert not outside, outside
        finally:
            browser.close()
            boss.close()
            agent.close()
