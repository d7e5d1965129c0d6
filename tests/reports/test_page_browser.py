"""The /reports page in real headless Chromium against a real server on a seeded SQLite file:
log in, see the chart and table, change a filter and see both change, drill down, download."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from tests.live_server import BROWSER_MARKS, launch, seeded_sqlite, serve, test_settings

PASSWORD = "reports page password 1"
TZ = ZoneInfo("Asia/Shanghai")

pytestmark = BROWSER_MARKS


def _seed(session: Session) -> None:
    """Two queues over the last three days: 热线 gets 4 voice calls an hour from 9 to 12
    (one in four abandoned), 在线 2 chats an hour."""
    from lianluo.auth.passwords import hash_password
    from lianluo.models import Agent, Customer, Event, Partner, Queue, Skill, Tenant, User

    tenant = Tenant(slug="rep-demo", name="Reports demo", timezone="Asia/Shanghai")
    session.add(tenant)
    session.flush()
    user = User(tenant_id=tenant.id, username="boss", display_name="主管",
                password_hash=hash_password(PASSWORD), roles=["supervisor"])  # fmt: skip
    hotline = Queue(tenant_id=tenant.id, name="热线", channels=["voice"])
    online = Queue(tenant_id=tenant.id, name="在线", channels=["chat"])
    session.add_all([user, hotline, online])
    # the other lists of the filters: a partner, a skill, a customer's region, an agent
    partner = Partner(tenant_id=tenant.id, code="jia", name="外包甲")
    session.add_all([partner, Skill(tenant_id=tenant.id, name="宽带")])
    session.add(Customer(tenant_id=tenant.id, name="张三", region="北京", search_text="张三"))
    session.flush()
    li = User(tenant_id=tenant.id, username="li", display_name="李雷", password_hash="x",
              roles=["agent"], partner_id=partner.id)  # fmt: skip
    session.add(li)
    session.flush()
    session.add(Agent(tenant_id=tenant.id, user_id=li.id, partner_id=partner.id, team="一组"))
    session.flush()
    today = datetime.now(TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    rows: list[dict[str, Any]] = []
    for back in (3, 2, 1):
        day = today - timedelta(days=back)
        for hour in range(9, 13):
            for queue, channel, n in ((hotline, "voice", 4), (online, "chat", 2)):
                for k in range(n):
                    at = (day + timedelta(hours=hour, minutes=10 * k)).astimezone(UTC)
                    cid = f"{channel}-{back}-{hour}-{k}"
                    common = {"tenant_id": tenant.id, "queue_id": queue.id, "contact_id": cid}
                    queued = {
                        "channel": channel,
                        "region": "广东" if channel == "voice" else "北京",
                    }
                    rows.append(common | {"type": "contact.queued", "occurred_at": at,
                                          "payload": queued})  # fmt: skip
                    if channel == "voice" and k == 3:
                        gone = at + timedelta(seconds=40)
                        rows.append(common | {"type": "contact.abandoned", "occurred_at": gone})
                        continue
                    answered = at + timedelta(seconds=8 + 4 * k)
                    rows.append(common | {"type": "contact.answered", "occurred_at": answered})
                    rows.append(common | {"type": "contact.ended",
                                          "occurred_at": answered + timedelta(minutes=3),
                                          "payload": {"talk_s": 150.0, "acw_s": 30.0}})  # fmt: skip
    session.execute(insert(Event), rows)
    session.commit()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from lianluo.app import create_app

    url = seeded_sqlite(tmp_path_factory.mktemp("reports-browser"), _seed)
    with serve(create_app(test_settings(url))) as base:
        yield base


def test_reports_page_in_chromium(server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            outside: list[str] = []
            page.on(
                "request", lambda r: None if r.url.startswith(server) else outside.append(r.url)
            )

            page.goto(f"{server}/reports")
            expect(page).to_have_url(re.compile(r"/login\?next=/reports$"))
            page.get_by_label("用户名").fill("boss")
            page.get_by_label("密码").fill(PASSWORD)
            page.get_by_label("密码").press("Enter")
            expect(page).to_have_url(f"{server}/reports")
            expect(page.get_by_role("heading", name=re.compile("报表"))).to_be_visible()

            # By queue and day: two bar traces (热线, 在线), 3 days x 2 queues + a total row.
            expect(page.locator("#volume-chart svg.main-svg").first).to_be_visible(timeout=30_000)
            expect(page.locator("#volume-chart .barlayer .trace")).to_have_count(2)
            rows = page.locator("#report-table tbody tr")
            expect(rows).to_have_count(7)
            total = page.locator("#report-table tbody tr.total")
            expect(total).to_contain_text("72")  # 3 days x 4 hours x (4 + 2)
            hotline = rows.filter(has_text="热线").first
            expect(hotline).to_contain_text("16")
            expect(hotline).to_contain_text("75.0%")  # connect rate: 12 of 16

            # Change a filter (channel: chat): the chart and the table follow.
            page.get_by_label("渠道").select_option("chat")
            expect(rows).to_have_count(4)
            expect(page.locator("#volume-chart .barlayer .trace")).to_have_count(1)
            expect(total).to_contain_text("24")

            # Hourly, grouped by nothing: 4 hours x 3 days.
            page.get_by_label("粒度").select_option("60min")
            page.get_by_label("分组").select_option("none")
            expect(rows).to_have_count(13)

            # Drill down from a cell: the contacts behind it.
            rows.first.get_by_role("link").first.click()
            contacts = page.locator("#contacts-table tbody tr")
            expect(contacts).to_have_count(2)
            expect(contacts.first).to_contain_text("chat")

            # The download links carry the filters.
            href = page.locator("#dl-xlsx").get_attribute("href") or ""
            assert "channel=chat" in href
            assert "format=xlsx" in href
            with page.expect_download() as download:
                page.locator("#dl-csv").click()
            assert download.value.suggested_filename.endswith(".csv")

            # Grouped by the customers' region (chats only): 北京, drill-down shows it.
            page.get_by_label("分组").select_option("region")
            expect(rows).to_have_count(13)
            expect(rows.first).to_contain_text("北京")
            rows.first.get_by_role("link").first.click()
            expect(contacts).to_have_count(2)
            expect(contacts.first).to_contain_text("北京")

            page.goto(f"{server}/reports?lang=en")
            expect(page.get_by_role("heading", name=re.compile("Reports"))).to_be_visible()
            expect(page.locator("#report-table thead")).to_contain_text("Service level")
            assert page.evaluate("document.documentElement.scrollWidth") <= 1366
            page.screenshot(path="/tmp/reports-page.png", full_page=True)
            assert not errors, errors
            assert not outside, outside
        finally:
            browser.close()


def _login(page: Any, server: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server}/login?next=/reports")
    page.get_by_label("用户名").fill("boss")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("密码").press("Enter")
    expect(page).to_have_url(f"{server}/reports")


def test_saved_report_reopens_with_its_filters(server: str) -> None:
    """Save a report with every filter of the page set, open the page afresh, open the saved
    report: every filter, the grouping, the grain and its date range come back, and the
    report is run with them. Then a "—" cell (CSAT, no ratings) drills to its contacts."""
    from playwright.sync_api import expect

    with sync_playwright_browser() as browser:
        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        _login(page, server)
        rows = page.locator("#report-table tbody tr")
        expect(rows).to_have_count(7)
        param = {"粒度": "grain", "分组": "group_by", "队列": "queue_id", "座席": "agent_id",
                 "外包商": "partner_id", "渠道": "channel", "技能组": "skill", "班组": "team",
                 "地区": "region"}  # fmt: skip
        options = {
            "粒度": "60min",
            "分组": "region",
            "队列": page.locator("#queue_id option", has_text="在线").get_attribute("value"),
            "座席": page.locator("#agent_id option", has_text="李雷").get_attribute("value"),
            "外包商": page.locator("#partner_id option", has_text="外包甲").get_attribute("value"),
            "渠道": "chat",
            "技能组": "宽带",
            "班组": "一组",
            "地区": "北京",
        }
        for label, value in options.items():
            assert value
            page.get_by_label(label, exact=True).select_option(value)
        page.get_by_label("名称", exact=True).fill("每周在线 weekly")
        page.get_by_label("收件人（逗号分隔）").fill("boss@example.com, ops@example.com")
        page.get_by_label("频率").select_option("weekly")
        page.get_by_role("button", name="保存当前筛选").click()
        saved = page.locator("#saved-list li", has_text="每周在线 weekly")
        expect(saved).to_have_count(1)
        expect(saved).to_contain_text("李雷")
        expect(page.locator("#saved-meta")).to_contain_text("已保存")

        # a second one: chats only, by day, no group
        page.get_by_label("粒度").select_option("day")
        page.get_by_label("分组").select_option("none")
        for label in ("队列", "座席", "外包商", "技能组", "班组", "地区"):
            page.get_by_label(label, exact=True).select_option("")
        page.get_by_label("名称", exact=True).fill("chats")
        page.get_by_role("button", name="保存当前筛选").click()
        expect(page.locator("#saved-list li", has_text="chats")).to_have_count(1)

        # afresh: the defaults, then the saved report brings every filter back
        page.goto(f"{server}/reports")
        expect(rows).to_have_count(7)
        expect(page.locator("#agent_id")).to_have_value("")
        saved.get_by_role("button", name="打开").click()
        for label, value in options.items():
            expect(page.get_by_label(label, exact=True)).to_have_value(value)
        today = page.locator("#rep").get_attribute("data-today") or ""
        last = datetime.fromisoformat(today) - timedelta(days=1)
        expect(page.locator("#date_to")).to_have_value(last.date().isoformat())
        first = (last - timedelta(days=6)).date().isoformat()
        expect(page.locator("#date_from")).to_have_value(first)
        # the report is run with them: the download link carries what the API was asked
        expect(page.locator("#dl-csv")).to_have_attribute("href", re.compile("region="))
        href = page.locator("#dl-csv").get_attribute("href") or ""
        asked = parse_qs(urlsplit(href).query)
        for label, value in options.items():
            assert asked[param[label]] == [value], (label, asked)
        expect(page.locator("#meta")).to_have_text(re.compile("没有数据"))  # no such contacts

        # the chats report: its figures are the filtered ones (24 of 72)
        page.locator("#saved-list li", has_text="chats").get_by_role("button", name="打开").click()
        expect(page.get_by_label("渠道", exact=True)).to_have_value("chat")
        expect(page.get_by_label("分组")).to_have_value("none")
        total = page.locator("#report-table tbody tr.total")
        expect(total).to_contain_text("24")
        expect(rows).to_have_count(4)

        # a "—" (CSAT without ratings) is a link; it shows the cell's contacts and says why
        csat = rows.first.locator('a[data-figure="csat"]')
        expect(csat).to_have_text("—")
        csat.click()
        contacts = page.locator("#contacts-table tbody tr")
        expect(contacts).to_have_count(8)  # 2 chats an hour, 4 hours
        expect(page.locator("#contacts-meta")).to_contain_text("没有数值")
        # a ratio's drill marks the contacts of its numerator: connect rate, all answered
        rows.first.locator('a[data-figure="connect_rate"]').click()
        expect(page.locator("#contacts-meta")).to_contain_text(": 8")
        expect(contacts.filter(has_text="✓")).to_have_count(8)

        # deleting one leaves the other
        page.locator("#saved-list li", has_text="chats").get_by_role("button", name="删除").click()
        expect(page.locator("#saved-list li")).to_have_count(1)
        assert not errors, errors


@contextmanager
def sync_playwright_browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            yield browser
        finally:
            browser.close()
