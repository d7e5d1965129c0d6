"""The /reports page in real headless Chromium against a real server on a seeded SQLite file:
log in, see the chart and table, change a filter and see both change, drill down, download."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
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
    from lianluo.models import Event, Queue, Tenant, User

    tenant = Tenant(slug="rep-demo", name="Reports demo", timezone="Asia/Shanghai")
    session.add(tenant)
    session.flush()
    user = User(tenant_id=tenant.id, username="boss", display_name="主管",
                password_hash=hash_password(PASSWORD), roles=["supervisor"])  # fmt: skip
    hotline = Queue(tenant_id=tenant.id, name="热线", channels=["voice"])
    online = Queue(tenant_id=tenant.id, name="在线", channels=["chat"])
    session.add_all([user, hotline, online])
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
            rows.first.get_by_role("link").click()
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
            rows.first.get_by_role("link").click()
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
