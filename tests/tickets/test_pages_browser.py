"""The ticket pages in real headless Chromium against a real server on a seeded SQLite database:
list with filters and SLA colours, the board by status, the detail page's notes, replies,
status changes, attachments and call-backs, in Chinese and English."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from lianluo.db.base import utcnow

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path("/tmp/tickets-board.png")
PASSWORD = "tickets page password 1"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(session: Session) -> dict[str, str]:
    """A tenant open around the clock, an agent who owns four tickets: fresh (green), nearly
    due (amber), a month late (red) and waiting on the customer (paused), plus a resolved one."""
    from lianluo.auth.passwords import hash_password
    from lianluo.models import (
        Customer,
        Queue,
        Tenant,
        Ticket,
        TicketCategory,
        TicketSettings,
        User,
    )

    tenant = Tenant(slug="tickets-demo", name="Tickets demo", timezone="Asia/Shanghai")
    session.add(tenant)
    session.flush()
    agent = User(
        tenant_id=tenant.id,
        username="agent-li",
        display_name="李座席",
        password_hash=hash_password(PASSWORD),
        roles=["agent"],
    )
    queue = Queue(tenant_id=tenant.id, name="二线支撑", channels=["chat"])
    customer = Customer(tenant_id=tenant.id, name="王小明", search_text="王小明")
    # open around the clock, so business time is wall time whenever the test runs
    always = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    hours = TicketSettings(tenant_id=tenant.id, business_hours=always, repeat_window_days=30)
    session.add_all([agent, queue, customer, hours])
    session.flush()
    complaint = TicketCategory(
        tenant_id=tenant.id, name="账单投诉", ownership_model="first_contact", is_complaint=True
    )
    network = TicketCategory(
        tenant_id=tenant.id,
        name="宽带故障",
        ownership_model="tiered",
        tiers=[{"name": "升级", "queue_id": queue.id, "required_skills": {}}],
    )
    session.add_all([complaint, network])
    session.flush()
    now = utcnow()
    target = 8 * 3600

    def ticket(subject: str, category: Any, **extra: Any) -> Ticket:
        values: dict[str, Any] = dict(
            tenant_id=tenant.id,
            customer_id=customer.id,
            category_id=category.id,
            subject=subject,
            status="in_progress",
            priority="high",
            ownership_model=category.ownership_model,
            owner_id=agent.id,
            first_owner_id=agent.id,
            owners=[agent.id],
            created_by=agent.id,
            sla_target_s=target,
            sla_warn_before_s=3600,
            sla_started_at=now,
        )
        values.update(extra)
        row = Ticket(**values)
        session.add(row)
        session.flush()
        return row

    fresh = ticket("发票抬头错误", complaint)
    amber = ticket("话费多扣", complaint, sla_started_at=now - timedelta(hours=7, minutes=30))
    late = ticket("宽带反复断线", network, sla_started_at=now - timedelta(days=30))
    paused = ticket("等待客户提供照片", complaint, status="waiting_customer", sla_paused_since=now)
    done = ticket(
        "已解决的咨询", complaint, status="resolved", resolved_at=now, resolved_by=agent.id
    )
    session.commit()
    return {
        "fresh": fresh.id,
        "amber": amber.id,
        "late": late.id,
        "paused": paused.id,
        "done": done.id,
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    import uvicorn

    from lianluo.app import create_app
    from lianluo.config import Settings
    from lianluo.db import migrate
    from lianluo.db.engine import make_engine, make_sessionmaker

    url = f"sqlite:///{tmp_path_factory.mktemp('tickets-browser') / 'lianluo.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        ids = _seed(session)
    engine.dispose()
    settings = Settings(database_url=url, secret_key="browser-test-secret-" + "x" * 20)
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", ws="none"
    )
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


@pytest.fixture
def browser_page(server: tuple[str, dict[str, str]]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            outside: list[str] = []
            base = server[0]
            page.on("request", lambda r: None if r.url.startswith(base) else outside.append(r.url))
            yield page
            assert not errors, errors
            assert not outside, outside
        finally:
            browser.close()


def _login(page: Any, base: str, next_path: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base}{next_path}")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("用户名").fill("agent-li")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("密码").press("Enter")
    expect(page).to_have_url(f"{base}{next_path}")


def _background(locator: Any) -> str:
    return str(locator.evaluate("el => getComputedStyle(el).backgroundColor"))


def test_list_filters_and_sla_colours(
    server: tuple[str, dict[str, str]], browser_page: Any
) -> None:
    from playwright.sync_api import expect

    base, ids = server
    page = browser_page
    _login(page, base, "/tickets")
    expect(page.get_by_role("heading", name=re.compile("工单"))).to_be_visible()
    rows = page.locator("#ticket-table tbody tr")
    expect(rows).to_have_count(5)

    def badge(ticket_id: str) -> Any:
        return page.locator(f'tr[data-ticket="{ticket_id}"] .sla')

    expect(page.locator(f'tr[data-ticket="{ids["fresh"]}"]')).to_contain_text("李座席")
    expect(badge(ids["fresh"])).to_have_text("正常")
    expect(badge(ids["amber"])).to_have_text("即将超时")
    expect(badge(ids["late"])).to_have_text("已超时")
    expect(badge(ids["paused"])).to_have_text("暂停计时")
    assert _background(badge(ids["fresh"])) == "rgb(227, 244, 230)"  # green
    assert _background(badge(ids["amber"])) == "rgb(255, 241, 204)"  # amber
    assert _background(badge(ids["late"])) == "rgb(253, 226, 224)"  # red

    # filter by SLA from the keyboard: only the red one stays
    page.get_by_label("时限").select_option("breached")
    page.get_by_label("标题关键字").press("Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("宽带反复断线")
    expect(page).to_have_url(re.compile(r"sla=breached"))

    # filter by category
    page.goto(f"{base}/tickets")
    filters = page.get_by_role("form", name="筛选")
    filters.get_by_label("类别").select_option(label="宽带故障")
    filters.get_by_role("button", name="筛选").click()
    expect(rows).to_have_count(1)


def test_board_by_status(server: tuple[str, dict[str, str]], browser_page: Any) -> None:
    from playwright.sync_api import expect

    base, ids = server
    page = browser_page
    _login(page, base, "/tickets?view=board")
    board = page.locator("#board")
    in_progress = board.locator('section[data-status="in_progress"] article')
    expect(in_progress).to_have_count(3)
    expect(board.locator('section[data-status="waiting_customer"] article')).to_have_count(1)
    resolved = board.locator('section[data-status="resolved"] article')
    expect(resolved).to_have_count(1)
    expect(resolved.first).to_have_class(re.compile("sla-stopped"))
    late = board.locator(f'article[data-ticket="{ids["late"]}"]')
    expect(late).to_have_class(re.compile("sla-breached"))
    colour = late.evaluate("el => getComputedStyle(el).borderLeftColor")
    assert colour == "rgb(198, 40, 40)"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1366
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    # to the detail page from a card
    late.get_by_role("link").click()
    expect(page).to_have_url(f"{base}/tickets/{ids['late']}")


def test_detail_notes_replies_status_and_files(
    server: tuple[str, dict[str, str]], browser_page: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    base, ids = server
    page = browser_page
    tid = ids["fresh"]
    _login(page, base, f"/tickets/{tid}")
    expect(page.get_by_role("heading", name=re.compile("发票抬头错误"))).to_be_visible()
    expect(page.locator("#sla-badge")).to_have_text("正常")

    page.locator("#entry-body").fill("已联系财务核实")
    page.locator("#entry-kind").select_option("note")
    page.locator("#entry-submit").click()
    note = page.locator('#entries .entry[data-kind="note"]')
    expect(note).to_contain_text("已联系财务核实")
    expect(note).to_contain_text("李座席")

    page.locator("#entry-body").fill("您好，我们会在两个工作日内重开发票。")
    page.locator("#entry-kind").select_option("reply")
    page.locator("#entry-body").press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the add button, from the keyboard
    expect(page.locator('#entries .entry[data-kind="reply"]')).to_contain_text("重开发票")

    page.locator("#status-select").select_option("waiting_customer")
    page.locator("#status-submit").click()
    expect(page.locator("#status-text")).to_have_text("等待客户")
    expect(page.locator("#sla-badge")).to_have_text("暂停计时")

    upload = tmp_path / "发票.txt"
    upload.write_text("invoice 123", encoding="utf-8")
    page.locator("#upload-file").set_input_files(str(upload))
    page.get_by_role("button", name="上传").click()
    expect(page.locator("#attachments li")).to_contain_text("发票.txt")

    page.locator("#callback-hours").fill("3")
    page.get_by_role("button", name="稍后回电").click()
    expect(page.locator("#followups li")).to_have_count(1)
    history = page.locator("#history li")
    expect(history.last).to_contain_text("ticket.callback_scheduled")
    types = [li.get_attribute("data-type") for li in history.all()]
    assert types == [
        "ticket.note_added",
        "ticket.replied",
        "ticket.status_changed",
        "ticket.attachment_added",
        "ticket.callback_scheduled",
    ]

    # a refused move shows the API's message instead of reloading
    page.goto(f"{base}/tickets/{ids['done']}")
    expect(page.locator("#status-text")).to_have_text("已解决")


def test_english_and_errors(server: tuple[str, dict[str, str]], browser_page: Any) -> None:
    from playwright.sync_api import expect

    base, ids = server
    page = browser_page
    _login(page, base, "/tickets")
    page.goto(f"{base}/tickets?lang=en")
    expect(page.get_by_role("heading", name=re.compile("Tickets"))).to_be_visible()
    expect(page.locator(f'tr[data-ticket="{ids["late"]}"] .sla')).to_have_text("Breached")
    expect(page.get_by_role("link", name="Board")).to_be_visible()
    page.goto(f"{base}/tickets/{ids['late']}")
    expect(page.get_by_text("Tiered")).to_be_visible()
    page.goto(f"{base}/tickets/nope")
    expect(page.get_by_role("alert")).to_have_text("Ticket not found")


def test_new_ticket_by_hand_from_the_list(
    server: tuple[str, dict[str, str]], browser_page: Any
) -> None:
    """Runs last in this module: it adds a ticket the other tests do not count."""
    from playwright.sync_api import expect

    base, _ids = server
    page = browser_page
    _login(page, base, "/tickets")
    page.get_by_text("新建工单").first.click()
    form = page.locator("#new-ticket-form")
    form.get_by_label("客户（姓名、电话或邮箱）").fill("没有这个人")
    form.get_by_label("标题").fill("新装宽带一直没人上门")
    form.get_by_role("button", name="创建工单").click()
    expect(page.locator("#new-msg")).to_have_text("没有找到这位客户")
    expect(page).to_have_url(f"{base}/tickets")

    form.get_by_label("客户（姓名、电话或邮箱）").fill("王小明")
    form.get_by_label("类别").select_option(label="宽带故障")
    form.get_by_label("优先级").select_option("urgent")
    form.get_by_label("问题描述").fill("预约了三天，工程师没有来")
    form.get_by_label("客户（姓名、电话或邮箱）").press("Enter")  # from the keyboard
    expect(page).to_have_url(re.compile(rf"{re.escape(base)}/tickets/[0-9a-f]+$"))
    expect(page.get_by_role("heading", name=re.compile("新装宽带一直没人上门"))).to_be_visible()
    expect(page.locator("body")).to_contain_text("预约了三天，工程师没有来")
    expect(page.locator("#history li").first).to_have_attribute("data-type", "ticket.created")

    page.goto(f"{base}/tickets?priority=urgent")
    rows = page.locator("#ticket-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("新装宽带一直没人上门")
    expect(rows.first).to_contain_text("李座席")  # the creator owns it first (首问)
