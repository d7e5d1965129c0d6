"""The knowledge-base pages in real headless Chromium against a real server on SQLite: search in
Chinese finds the right article first, feedback counts change, an agent writes and submits an
article that a supervisor publishes, and the desk widget (kb_suggest.js) renders suggestions."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path("/tmp/kb-page.png")
PASSWORD = "kb page password 1"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]

SEED_ARTICLES = [
    ("zh", "套餐变更办理指南", "业务办理", "可以通过APP或营业厅办理套餐变更，新套餐次月生效。"),
    ("zh", "话费查询方法", "账单", "发送短信CXHF到10086查询话费余额。"),
    ("zh", "宽带故障排查", "宽带", "宽带无法上网：先重启光猫和路由器，光信号灯红色请报修。"),
    ("zh", "宽带新装预约", "宽带", "新装宽带请预约上门时间，工程师会带光猫上门。"),
    ("en", "International roaming", "Roaming", "Turn on roaming before travelling abroad."),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(session: Session) -> None:
    from lianluo.auth.passwords import hash_password
    from lianluo.auth.principal import Principal
    from lianluo.kb.schemas import ArticleIn, Language
    from lianluo.kb.service import article_service
    from lianluo.models import Tenant, User

    tenant = Tenant(slug="kb-demo", name="KB demo")
    session.add(tenant)
    session.flush()
    users = {}
    for name, role in (("agent1", "agent"), ("super1", "supervisor")):
        users[role] = User(
            tenant_id=tenant.id,
            username=name,
            display_name=name,
            password_hash=hash_password(PASSWORD),
            roles=[role],
        )
        session.add(users[role])
    session.flush()
    boss = Principal(users["supervisor"].id, tenant.id, None, frozenset(["supervisor"]))
    for lang, title, category, body in SEED_ARTICLES:
        data = ArticleIn(title=title, body=body, language=Language(lang), category=category)
        article = article_service.create(session, boss, data)
        article_service.submit(session, boss, article.id)
        article_service.publish(session, boss, article.id)
    session.commit()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import uvicorn

    from lianluo.app import create_app
    from lianluo.config import Settings
    from lianluo.db import migrate
    from lianluo.db.engine import make_engine, make_sessionmaker

    url = f"sqlite:///{tmp_path_factory.mktemp('kb-browser') / 'lianluo.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        _seed(session)
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
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(timeout=10)


def _login(page: Any, server: str, username: str, next_path: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server}{next_path}")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("密码").press("Enter")
    expect(page).to_have_url(f"{server}{next_path}")


def test_kb_pages_in_chromium(server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            agent_context = browser.new_context(
                viewport={"width": 1366, "height": 768}, locale="zh-CN"
            )
            page = agent_context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            outside: list[str] = []
            page.on(
                "request", lambda r: None if r.url.startswith(server) else outside.append(r.url)
            )
            _login(page, server, "agent1", "/kb")

            # Search in Chinese: the broadband fault article comes first, matches highlighted.
            page.get_by_label("搜索知识库").fill("家里宽带上不了网怎么办")
            page.get_by_label("搜索知识库").press("Enter")
            hits = page.locator("#kb-hits li")
            expect(hits.first).to_contain_text("宽带故障排查")
            expect(hits.first.locator("mark").first).to_be_visible()
            assert hits.count() == 2  # 宽带新装预约 matches 宽带 too, ranked below

            # The article, and helpful feedback that changes the count.
            hits.first.locator("a").click()
            expect(page.get_by_role("heading", name="宽带故障排查")).to_be_visible()
            expect(page.locator("#helpful-count")).to_have_text("0")
            page.get_by_role("button", name=re.compile("有帮助")).click()
            expect(page.locator("#helpful-count")).to_have_text("1")
            page.get_by_role("button", name=re.compile("没帮助")).click()
            expect(page.locator("#helpful-count")).to_have_text("0")
            expect(page.locator("#not-helpful-count")).to_have_text("1")

            # The agent writes an article, previews it and submits it for review.
            page.goto(f"{server}/kb/new")
            page.get_by_label("标题").fill("携号转网办理条件")
            page.get_by_label("分类").fill("业务办理")
            page.get_by_label("正文（Markdown）").fill(
                "## 条件\n\n- 号码在网满**120天**\n- 无欠费\n\n携号转网请先发送短信CXXZ查询资格。"
            )
            page.get_by_role("button", name="预览").click()
            expect(page.locator("#kb-preview h2")).to_have_text("条件")
            expect(page.locator("#kb-preview strong")).to_have_text("120天")
            page.get_by_role("button", name="保存").click()
            expect(page).to_have_url(re.compile(r"/kb/articles/\w+/edit$"))
            edit_url = page.url
            expect(page.locator("#kb-status")).to_have_text("草稿")
            # an edit makes version 2
            page.get_by_label("修改说明").fill("补充条件")
            page.get_by_label("正文（Markdown）").fill(
                "## 条件\n\n- 号码在网满**120天**\n- 无欠费、无合约\n\n"
                "携号转网请先发送短信CXXZ查询资格。"
            )
            page.get_by_role("button", name="保存").click()
            expect(page.locator("#kb-version")).to_have_text("2")
            expect(page.locator("#kb-versions tbody tr")).to_have_count(2)
            assert page.get_by_role("button", name="发布").count() == 0  # agents do not publish
            page.get_by_role("button", name="提交审核").click()
            expect(page.locator("#kb-status")).to_have_text("待审核")

            # Not searchable before it is published.
            page.goto(f"{server}/kb?q=携号转网")
            expect(page.get_by_text("没有找到相关文章")).to_be_visible()

            # The supervisor finds it in the review queue and publishes it.
            boss_context = browser.new_context(
                viewport={"width": 1366, "height": 768}, locale="zh-CN"
            )
            boss = boss_context.new_page()
            boss.on("pageerror", lambda exc: errors.append(str(exc)))
            _login(boss, server, "super1", "/kb/review")
            queued = boss.locator("#kb-in-review tbody tr")
            expect(queued).to_have_count(1)
            queued.get_by_role("link", name="携号转网办理条件").click()
            expect(boss).to_have_url(edit_url)
            boss.get_by_role("button", name="发布").click()
            expect(boss.locator("#kb-status")).to_have_text("已发布")
            boss.screenshot(path=str(SCREENSHOT.with_name("kb-editor.png")), full_page=True)

            # Now the agent's search finds it first, with the text of version 2.
            page.goto(f"{server}/kb?q=携号转网 合约")
            expect(page.locator("#kb-hits li").first).to_contain_text("携号转网办理条件")
            page.locator("#kb-hits li a").first.click()
            expect(page.locator(".article-body")).to_contain_text("无欠费、无合约")

            # The tenant's own word for it: nothing until the supervisor makes it a synonym.
            page.goto(f"{server}/kb?q=转网")
            expect(page.locator("#kb-hits li").first).to_contain_text("携号转网办理条件")
            page.goto(f"{server}/kb?q=改投友商")
            expect(page.get_by_text("没有找到相关文章")).to_be_visible()
            page.goto(f"{server}/kb/synonyms")
            expect(page.get_by_text("只有主管和管理员可以修改同义词")).to_be_visible()
            boss.goto(f"{server}/kb/synonyms")
            words = boss.get_by_label("同义词", exact=True)
            words.fill("改投友商\n")  # a group of one: refused, in the API's words
            boss.get_by_role("button", name="保存").click()
            expect(boss.locator("#kb-synonyms-msg")).to_contain_text("at least 2")
            words.fill("携号转网, 改投友商\n\n宽带，光纤、 宽带")
            boss.get_by_role("button", name="保存").click()
            expect(boss.locator("#kb-synonyms-msg")).to_have_text("已保存")
            expect(words).to_have_value("携号转网、改投友商\n宽带、光纤")
            boss.reload()
            expect(boss.get_by_label("同义词", exact=True)).to_have_value(
                "携号转网、改投友商\n宽带、光纤"
            )
            page.goto(f"{server}/kb?q=改投友商")
            expect(page.locator("#kb-hits li").first).to_contain_text("携号转网办理条件")

            # The desk widget renders suggestions for a conversation's text.
            page.goto(f"{server}/kb")
            page.evaluate(
                """async () => {
                    const { renderSuggestions } = await import('/static/kb_suggest.js');
                    const box = document.createElement('div');
                    box.id = 'suggest-box';
                    document.body.append(box);
                    await renderSuggestions(box, '客户：我想查一下这个月的话费还剩多少');
                }"""
            )
            first = page.locator("#suggest-box li").first
            expect(first).to_contain_text("话费查询方法")
            expect(first.locator("mark").first).to_be_visible()

            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 1366
            page.screenshot(path=str(SCREENSHOT), full_page=True)

            # English UI.
            page.goto(f"{server}/kb?lang=en&q=roaming")
            expect(page.get_by_role("heading", name="Knowledge base")).to_be_visible()
            expect(page.locator("#kb-hits li").first).to_contain_text("International roaming")
            assert not errors, errors
            assert not outside, outside
        finally:
            browser.close()
