"""The acceptance of the chat widget and the agent desk, in real headless Chromium against a
real server (uvicorn with WebSockets, the router loop running) on SQLite: a customer on a
phone-sized page writes, an agent is offered the chat, accepts and answers, a reload on
either side loses and repeats nothing, a transfer reaches a second agent with the history,
wrap-up records the disposition and the customer rates the chat."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path("/tmp")
PASSWORD = "chat desk password 1"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(240),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(ctx: Any) -> dict[str, str]:
    from lianluo.auth.passwords import hash_password
    from lianluo.db.base import new_id, utcnow
    from lianluo.kb.demo import seed_kb_articles
    from lianluo.models import (
        Agent,
        CannedReply,
        Customer,
        Identity,
        Queue,
        Tenant,
        Ticket,
        TicketCategory,
        User,
    )

    with ctx.sessions() as session:
        tenant = Tenant(slug="chat-demo", name="Chat demo", timezone="Asia/Shanghai")
        session.add(tenant)
        session.flush()
        queue = Queue(tenant_id=tenant.id, name="在线客服", channels=["chat"], offer_timeout_s=60)
        session.add(queue)
        session.add(CannedReply(tenant_id=tenant.id, title="问候", body="您好，很高兴为您服务"))
        session.flush()
        ids = {"tenant": tenant.slug, "queue": queue.id}
        # a known customer (found by the pre-chat form's phone) with an open ticket, a resolved
        # one and a churn score: the desk shows the open ticket and the risk beside the chat
        known = Customer(
            tenant_id=tenant.id, name="张三", search_text="张三 8613800138000", churn_risk=0.72
        )
        session.add(known)
        session.flush()
        ids["known"] = known.id
        session.add(
            Identity(
                tenant_id=tenant.id, customer_id=known.id, kind="phone", value="+8613800138000"
            )
        )
        category = TicketCategory(tenant_id=tenant.id, name="宽带故障")
        session.add(category)
        session.flush()
        # the demo knowledge base, indexed: the desk suggests from what the customer writes
        seed_kb_articles(session, tenant.id, None, utcnow(), lambda when: new_id())
        for subject, status in (("宽带经常掉线", "in_progress"), ("上月话费疑问", "closed")):
            session.add(
                Ticket(
                    tenant_id=tenant.id,
                    customer_id=known.id,
                    category_id=category.id,
                    subject=subject,
                    status=status,
                    ownership_model="first_contact",
                    repeat_complaint=status == "in_progress",
                    sla_started_at=utcnow(),
                )
            )
        for name, display in (("alice", "李娜"), ("bob", "王强")):
            user = User(
                tenant_id=tenant.id,
                username=name,
                display_name=display,
                password_hash=hash_password(PASSWORD),
                roles=["agent"],
            )
            session.add(user)
            session.flush()
            agent = Agent(tenant_id=tenant.id, user_id=user.id, capacity={"chat": 3})
            session.add(agent)
            session.flush()
            ids[name] = agent.id
        session.commit()
    return ids


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any, dict[str, str]]]:
    import uvicorn

    from lianluo.app import build_context, create_app
    from lianluo.config import Settings
    from lianluo.db import migrate

    url = f"sqlite:///{tmp_path_factory.mktemp('chat-browser') / 'lianluo.db'}"
    migrate.upgrade(url)
    ctx = build_context(Settings(database_url=url, secret_key="chat-browser-" + "x" * 24))
    ids = _seed(ctx)
    ctx.extras["router_loop"] = True
    ctx.extras["chat_queue_update_s"] = 2.0
    port = _free_port()
    config = uvicorn.Config(
        create_app(context=ctx), host="127.0.0.1", port=port, log_level="warning"
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", ctx, ids
    uv.should_exit = True
    thread.join(timeout=10)
    ctx.engine.dispose()


def _login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/desk")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("密码").press("Enter")
    page.wait_for_url(f"{base}/desk")


def _available(page: Any) -> None:
    from playwright.sync_api import expect

    page.get_by_label("状态", exact=True).select_option("available")
    page.get_by_role("button", name="切换").click()
    expect(page.locator("#my-state")).to_have_attribute("data-state", "available")


def test_customer_and_agents_in_chromium(server: tuple[str, Any, dict[str, str]]) -> None:
    from playwright.sync_api import expect, sync_playwright

    from lianluo.models import ChatSession, Contact, Message, Ticket

    base, ctx, ids = server
    errors: list[str] = []
    outside: list[str] = []
    console: list[str] = []

    def watch(page: Any) -> Any:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: console.append(m.text))
        page.on(
            "request",
            lambda r: (
                None
                if r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1"))
                else outside.append(r.url)
            ),
        )
        return page

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            desk_ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
            alice = watch(desk_ctx.new_page())
            _login(alice, base, "alice")
            expect(alice.get_by_role("heading", name=re.compile("座席工作台"))).to_be_visible()
            _available(alice)

            phone = browser.new_context(
                viewport={"width": 375, "height": 667},
                is_mobile=True,
                has_touch=True,
                locale="zh-CN",
            )
            customer = watch(phone.new_page())
            customer.goto(f"{base}/demo/chat?tenant={ids['tenant']}&queue={ids['queue']}")
            customer.get_by_role("button", name="咨询客服").click()
            customer.get_by_label("姓名").fill("张三")
            customer.get_by_label("手机号").fill("13800138000")
            customer.get_by_label("手机号").press("Enter")  # the pre-chat form, by keyboard
            box = customer.get_by_label("输入消息")
            expect(box).to_be_visible()
            box.fill("你好，我家宽带断了")
            box.press("Enter")
            log = customer.locator("#llw-log li")
            try:
                expect(log).to_have_count(1)
            except AssertionError:
                customer.screenshot(path=str(SHOTS / "chat-widget-failed.png"))
                raise AssertionError(f"{errors} {console}") from None
            expect(customer.locator("#llw-log li.llw-pending")).to_have_count(0)
            customer.screenshot(path=str(SHOTS / "chat-widget.png"))

            # the agent is offered the chat, with a countdown, and accepts it
            offer = alice.locator("#offers li")
            expect(offer).to_have_count(1, timeout=15_000)
            expect(offer.locator(".countdown")).to_contain_text("秒后超时")
            offer.get_by_role("button", name="接受").click()
            expect(alice.locator("#messages li")).to_have_count(1)
            expect(alice.locator("#messages li").first).to_have_text("你好，我家宽带断了")
            expect(alice.locator("#customer-profile")).to_contain_text("张三")
            expect(alice.locator("#customer-identities")).to_contain_text("+8613800138000")
            for reserved in ("#desk-tickets", "#desk-kb", "#desk-insights"):
                expect(alice.locator(reserved)).to_be_visible()
            # the known customer's open ticket (not the closed one) and churn risk
            expect(alice.locator("#desk-tickets li")).to_have_count(1)
            expect(alice.locator("#desk-tickets")).to_contain_text("宽带经常掉线")
            expect(alice.locator("#desk-tickets")).to_contain_text("重复投诉")
            # a new ticket from this chat: a blank subject is refused with the API's words and
            # files nothing; a real one joins the open tickets at once
            alice.locator("#desk-tickets summary").filter(has_text="新建工单").click()
            form = alice.locator("#desk-new-ticket-form")
            expect(form.get_by_label("类别")).to_contain_text("宽带故障")
            form.get_by_label("标题").fill("   ")
            form.get_by_role("button", name="创建工单").click()
            expect(form.locator(".desk-new-ticket-msg.error")).to_contain_text("subject")
            expect(alice.locator("#desk-tickets li")).to_have_count(1)
            form.get_by_label("标题").fill("宽带断网需上门检修")
            form.get_by_label("优先级").select_option("high")
            form.get_by_label("问题描述").fill("光猫红灯，客户在家")
            form.get_by_role("button", name="创建工单").click()
            expect(alice.locator("#desk-tickets li")).to_have_count(2)
            expect(alice.locator("#desk-tickets")).to_contain_text("宽带断网需上门检修")
            expect(alice.locator("#desk-tickets p.ok")).to_contain_text("已创建工单")
            expect(alice.locator("#desk-insights .churn-high")).to_contain_text("72%")
            # knowledge-base suggestions from the conversation: the broadband article first
            first_suggestion = alice.locator("#desk-kb ol.kb-suggestions li").first
            expect(first_suggestion).to_contain_text("宽带故障排查", timeout=15_000)
            expect(customer.locator("#llw-status")).to_contain_text("客服已接入", timeout=15_000)

            # typing shows on the other side; canned reply, sent by keyboard
            box.press_sequentially("请")
            expect(alice.locator("#typing")).to_have_text("客户正在输入…")
            alice.get_by_label("常用语").select_option(label="问候")
            alice.get_by_label("回复客户").press("Enter")
            expect(log).to_have_count(2)
            expect(log.nth(1)).to_have_text(re.compile("您好，很高兴为您服务"))
            box.fill("请帮我看看")
            box.press("Enter")
            expect(alice.locator("#messages li")).to_have_count(3)
            alice.screenshot(path=str(SHOTS / "chat-desk.png"))
            width = alice.evaluate("document.documentElement.scrollWidth")
            assert width <= 1366

            # a reload on either side loses nothing and repeats nothing
            customer.reload()
            customer.get_by_role("dialog").wait_for()
            expect(customer.locator("#llw-log li")).to_have_count(3)
            alice.reload()
            alice.locator("#chats button").first.click()
            expect(alice.locator("#messages li")).to_have_count(3)
            expect(alice.locator("#messages li").nth(0)).to_have_text("你好，我家宽带断了")

            # transfer to bob with a note; bob sees the history
            bob = watch(desk_ctx.new_page())
            bob_ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
            bob.close()
            bob = watch(bob_ctx.new_page())
            _login(bob, base, "bob")
            _available(bob)
            alice.get_by_label("转给座席", exact=True).select_option(ids["bob"])
            alice.get_by_label("转接备注").fill("宽带故障，已核实身份")
            alice.get_by_role("button", name="确认转接").click()
            expect(alice.locator("#chats button")).to_have_count(0)
            bob_offer = bob.locator("#offers li")
            expect(bob_offer).to_contain_text("宽带故障，已核实身份", timeout=15_000)
            bob_offer.get_by_role("button", name="接受").click()
            expect(bob.locator("#messages li")).to_have_count(3)
            expect(bob.locator("#transfer-info")).to_contain_text("宽带故障")
            bob.get_by_label("回复客户").fill("我来帮您处理")
            bob.get_by_label("回复客户").press("Enter")
            expect(log).to_have_count(4)

            # alice takes a break (with a reason); a second chat reaches bob, who now holds
            # two: a message in the other one shows as an unread badge
            alice.get_by_label("状态", exact=True).select_option("break")
            alice.get_by_label("原因").select_option("lunch")
            alice.get_by_role("button", name="切换").click()
            expect(alice.locator("#my-state")).to_have_text("小休 (lunch)")
            phone2 = browser.new_context(
                viewport={"width": 375, "height": 667}, is_mobile=True, locale="zh-CN"
            )
            second = watch(phone2.new_page())
            second.goto(f"{base}/demo/chat?tenant={ids['tenant']}&queue={ids['queue']}")
            second.get_by_role("button", name="咨询客服").click()
            second.get_by_label("姓名").fill("李四")
            second.get_by_label("电子邮箱").fill("lisi@example.com")
            second.get_by_role("button", name="开始咨询").click()
            second.get_by_label("输入消息").fill("还有我")
            second.get_by_label("输入消息").press("Enter")
            bob.locator("#offers li").get_by_role("button", name="接受").click(timeout=15_000)
            expect(bob.locator("#chats button")).to_have_count(2)
            expect(bob.locator("#messages li")).to_have_count(1)  # the new chat is shown
            box.fill("还在吗")
            box.press("Enter")
            first_chat = bob.locator("#chats button", has_text="张三")
            expect(first_chat.locator(".badge")).to_have_text("1")
            first_chat.click()
            expect(first_chat.locator(".badge")).to_have_count(0)
            expect(bob.locator("#messages li")).to_have_count(5)

            # wrap-up with a disposition; the customer rates the chat
            bob.get_by_role("button", name="结束会话").click()
            expect(bob.locator("#wrap-form")).to_be_visible()
            bob.get_by_label("处理结果", exact=True).select_option("resolved")
            bob.get_by_label("备注", exact=True).fill("重启光猫后恢复")
            bob.get_by_role("button", name="完成").click()
            expect(bob.locator("#chats button")).to_have_count(1)
            expect(customer.locator("#llw-status")).to_contain_text("对话已结束", timeout=15_000)
            customer.get_by_label("4 星").check()
            customer.get_by_role("button", name="提交评价").click()
            expect(customer.locator("#llw-tools")).to_contain_text("感谢您的评价")
            expect(customer.locator("#llw-typing")).to_have_text("")
            customer.screenshot(path=str(SHOTS / "chat-widget-rated.png"))
            assert not errors, errors
            assert not outside, outside
        finally:
            browser.close()

    with ctx.sessions() as session:
        chat = session.execute(
            select(ChatSession).order_by(ChatSession.created_at).limit(1)
        ).scalar_one()
        contact = session.get(Contact, chat.contact_id)
        assert (contact.state, contact.disposition, contact.notes) == (
            "ended",
            "resolved",
            "重启光猫后恢复",
        )
        assert contact.agent_id == ids["bob"]
        assert chat.rating == 4
        bodies = (
            session.execute(
                select(Message.body).where(Message.conversation_id == chat.conversation_id)
            )
            .scalars()
            .all()
        )
        assert len(bodies) == 5 == len(set(bodies))
        filed = session.execute(
            select(Ticket).where(Ticket.subject.like("宽带断网%"))
        ).scalar_one()  # the blank one never reached the database
        assert filed.customer_id == ids["known"]
        assert filed.priority == "high"
        assert session.get(Contact, filed.contact_id).conversation_id == chat.conversation_id
