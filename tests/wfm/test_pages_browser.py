"""The /wfm page in real headless Chromium against a real server on a seeded SQLite database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from lianluo.domain.wfm import staffing
from tests.live_server import BROWSER_MARKS, launch, seeded_sqlite, serve, test_settings

SCREENSHOT = Path("/tmp/wfm-page.png")
PASSWORD = "wfm page password 1"
TZ = ZoneInfo("Asia/Shanghai")

pytestmark = BROWSER_MARKS


def _seed(session: Session) -> None:
    """A tenant with a WFM user, two teams of agents, three weeks of day-time contacts and
    today's logged agent states."""
    from lianluo.auth.passwords import hash_password
    from lianluo.models import Agent, Event, Queue, Tenant, User

    tenant = Tenant(slug="wfm-demo", name="WFM demo", timezone="Asia/Shanghai")
    session.add(tenant)
    session.flush()
    user = User(
        tenant_id=tenant.id,
        username="planner",
        display_name="排班员",
        password_hash=hash_password(PASSWORD),
        roles=["wfm"],
    )
    queue = Queue(tenant_id=tenant.id, name="热线 10086", channels=["voice"])
    session.add_all([user, queue])
    session.flush()
    agents = []
    for k in range(6):
        agent_user = User(
            tenant_id=tenant.id,
            username=f"agent{k}",
            display_name=f"座席{k}",
            password_hash="x",
            roles=["agent"],
        )
        session.add(agent_user)
        session.flush()
        agent = Agent(tenant_id=tenant.id, user_id=agent_user.id, team="A组" if k < 3 else "B组")
        session.add(agent)
        agents.append(agent)
    session.flush()
    today = datetime.now(TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    rows: list[dict[str, Any]] = []
    for back in range(21, 0, -1):
        day = today - timedelta(days=back)
        for hour in range(8, 20):
            n = 3 + (hour % 5) + (3 if day.weekday() < 5 else 0)
            for k in range(n):
                at = (day + timedelta(hours=hour, minutes=60 * k / n)).astimezone(UTC)
                cid = f"{back}-{hour}-{k}"
                common = {"tenant_id": tenant.id, "queue_id": queue.id, "contact_id": cid}
                rows.append(common | {"type": "contact.queued", "occurred_at": at, "payload": {}})
                rows.append(
                    common
                    | {
                        "type": "contact.ended",
                        "occurred_at": at + timedelta(minutes=4),
                        "payload": {"talk_s": 180.0, "acw_s": 30.0},
                    }
                )
    week_start = today - timedelta(days=today.weekday())
    for agent in agents:
        for back in range((today - week_start).days + 1):
            day = today - timedelta(days=back)
            for hour, state, reason in ((9, "available", "login"), (13, "break", "lunch")):
                at = (day + timedelta(hours=hour)).astimezone(UTC)
                if at < datetime.now(UTC):
                    rows.append(
                        {
                            "tenant_id": tenant.id,
                            "type": "agent.state_changed",
                            "occurred_at": at,
                            "agent_id": agent.id,
                            "payload": {"from": "", "to": state, "reason": reason},
                        }
                    )
    session.execute(insert(Event), rows)
    session.commit()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from lianluo.app import create_app

    url = seeded_sqlite(tmp_path_factory.mktemp("wfm-browser"), _seed)
    with serve(create_app(test_settings(url))) as base:
        yield base


def test_wfm_page_in_chromium(server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            outside: list[str] = []
            page.on(
                "request",
                lambda r: None if r.url.startswith(server) else outside.append(r.url),
            )

            page.goto(f"{server}/wfm")
            expect(page).to_have_url(re.compile(r"/login\?next=/wfm$"))
            page.get_by_label("用户名").fill("planner")
            page.get_by_label("密码").fill(PASSWORD)
            page.get_by_label("密码").press("Enter")  # keyboard submit
            expect(page).to_have_url(f"{server}/wfm")
            expect(page.get_by_role("heading", name=re.compile("排班管理"))).to_be_visible()

            # Both plotly charts render (an svg per chart, with their two traces each).
            for chart in ("#forecast-chart", "#schedule-chart"):
                expect(page.locator(f"{chart} svg.main-svg").first).to_be_visible(timeout=30_000)
                expect(page.locator(f"{chart} .scatterlayer .trace")).to_have_count(2)
            expect(page.locator("#forecast-meta")).to_contain_text("WAPE")
            expect(page.locator("#schedule-meta")).to_contain_text(re.compile(r"座席数: \d+"))

            # The staffing calculator, filled and submitted from the keyboard.
            page.get_by_label("每时段来话量").fill("150")
            page.get_by_label("平均处理时长（秒）").fill("300")
            page.get_by_label("平均处理时长（秒）").press("Enter")
            agents = page.locator("#staff-agents")
            expect(agents).to_have_text(re.compile(r"^\d+$"))
            expected = staffing.required_agents_for_contacts(
                np.array([150.0]), 300.0, 1800.0, target_sl=0.8, target_time_s=20.0
            )
            assert int(agents.inner_text()) == int(expected.agents[0])

            # Adherence of the assigned schedule against the logged states.
            page.get_by_role("button", name="计算遵守率").click()
            rows = page.locator("#adherence-table tbody tr")
            expect(rows.first).to_be_visible(timeout=15_000)
            assert rows.count() >= 2  # at least one team total and one agent
            expect(rows.first).to_contain_text("%")

            # Fits 1366 wide: no horizontal scrolling.
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 1366
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            assert not errors, errors
            assert not outside, outside  # nothing fetched from the internet

            # English as well.
            page.goto(f"{server}/wfm?lang=en")
            expect(
                page.get_by_role("heading", name=re.compile("Workforce management"))
            ).to_be_visible()
            for chart in ("#forecast-chart", "#schedule-chart"):
                expect(page.locator(f"{chart} .scatterlayer .trace")).to_have_count(
                    2, timeout=30_000
                )
            expect(page.get_by_label("Contacts per interval")).to_be_visible()
            page.screenshot(path=str(SCREENSHOT.with_name("wfm-page-en.png")), full_page=True)
        finally:
            browser.close()
