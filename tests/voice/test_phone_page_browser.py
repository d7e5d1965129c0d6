"""The agent's phone panel in headless Chromium: the agent clicks Ready, a SIPp caller walks
the IVR and is queued, the agent's phone (SIPp, registered with digest auth) rings and the
page pops the caller's 360 view; when the phone answers the page says so."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.channels.voice.sipp_runner import SCENARIOS, free_udp_port, sipp_args
from tests.live_server import BROWSER_MARKS, launch, serve

SCREENSHOT = Path("/tmp/voice-phone-page.png")
PASSWORD = "phone page password 1"
FLOWS = Path(__file__).parents[1] / "channels/voice/flows"

pytestmark = [
    *BROWSER_MARKS,
    pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp is not installed"),
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed"),
    pytest.mark.timeout(180),
]


def _seed(url: str) -> dict[str, str]:
    from lianluo.auth.passwords import hash_password
    from lianluo.db.engine import make_engine, make_sessionmaker
    from lianluo.models import Agent, Customer, Identity, Queue, Tenant, User
    from lianluo.voice.service import digest_ha1

    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        tenant = Tenant(slug="voice-demo", name="Voice demo")
        session.add(tenant)
        session.flush()
        service_user = User(
            tenant_id=tenant.id, username="ivr", display_name="IVR", password_hash="x",
            roles=["admin"],
        )  # fmt: skip
        agent_user = User(
            tenant_id=tenant.id, username="agent1", display_name="座席一",
            password_hash=hash_password(PASSWORD), roles=["agent"],
        )  # fmt: skip
        queue = Queue(tenant_id=tenant.id, name="Voice Line", channels=["voice"])
        session.add_all([service_user, agent_user, queue])
        session.flush()
        agent = Agent(tenant_id=tenant.id, user_id=agent_user.id, capacity={"voice": 1})
        customer = Customer(
            tenant_id=tenant.id, name="王贵宾", value_tier="gold", churn_risk=0.82,
            tags=["宽带", "VIP"], search_text="王贵宾 8613800138000",
        )  # fmt: skip
        # a second agent, who works from the desk (/desk) in the desk test
        desk_user = User(
            tenant_id=tenant.id, username="agent2", display_name="座席二",
            password_hash=hash_password(PASSWORD), roles=["agent"],
        )  # fmt: skip
        session.add(desk_user)
        session.flush()
        desk_agent = Agent(tenant_id=tenant.id, user_id=desk_user.id, capacity={"voice": 1})
        session.add_all([agent, customer, desk_agent])
        session.flush()
        session.add(
            Identity(
                tenant_id=tenant.id, customer_id=customer.id, kind="phone",
                value="+8613800138000",
            )
        )  # fmt: skip
        from lianluo.models import VoicePhone

        session.add(
            VoicePhone(
                tenant_id=tenant.id, agent_id=agent.id, sip_user="1001", realm="lianluo",
                ha1=digest_ha1("1001", "lianluo", "s3cret"),
            )
        )  # fmt: skip
        session.add(
            VoicePhone(
                tenant_id=tenant.id, agent_id=desk_agent.id, sip_user="1002", realm="lianluo",
                ha1=digest_ha1("1002", "lianluo", "s3cret"),
            )
        )  # fmt: skip
        session.commit()
        ids = {"tenant": tenant.id, "service_user": service_user.id}
    engine.dispose()
    return ids


@pytest.fixture(scope="module")
def center(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from lianluo.app import create_app
    from lianluo.config import Settings
    from lianluo.db import migrate

    work = tmp_path_factory.mktemp("voice-browser")
    url = f"sqlite:///{work / 'lianluo.db'}"
    migrate.upgrade(url)
    ids = _seed(url)
    settings = Settings(database_url=url, secret_key="voice-browser-secret-" + "x" * 20)
    with serve(create_app(settings), ws="auto") as base:
        voice = VoiceThread(url, ids, work)
        voice.start()
        yield {"base": base, "voice": voice, "work": work}
        voice.stop()


class VoiceThread:
    """The voice worker on its own event loop, as `lianluo voice serve` runs it."""

    def __init__(self, url: str, ids: dict[str, str], work: Path) -> None:
        self.url, self.ids, self.work = url, ids, work
        self.ready = threading.Event()
        self.port = 0
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self.ready.wait(60):
            raise RuntimeError("the voice worker did not start")

    def stop(self) -> None:
        assert self._loop is not None
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=20)

    async def _main(self) -> None:
        from lianluo.auth.principal import Principal
        from lianluo.channels.voice.app import DbVoicePlatform, NumberMap, VoiceApp, load_flows
        from lianluo.channels.voice.prompts import PromptCache
        from lianluo.db.engine import make_engine, make_sessionmaker
        from lianluo.runtime.router import RoutingRuntime
        from lianluo.voice.service import VoiceService

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        engine = make_engine(self.url)
        sessions = make_sessionmaker(engine)
        principal = Principal(
            self.ids["service_user"], self.ids["tenant"], None, frozenset({"admin"}), username="ivr"
        )
        platform = DbVoicePlatform(VoiceService(sessions, RoutingRuntime(sessions)), principal)
        await platform.refresh_phones()
        self.app = VoiceApp(
            platform, load_flows(FLOWS), NumberMap({"*": "test_line"}),
            PromptCache(self.work / "prompts"), self.work / "recordings",
        )  # fmt: skip
        await self.app.start()
        self.port = self.app.endpoint.port
        self.ready.set()
        await self._stop.wait()
        await self.app.close()
        platform.close()
        engine.dispose()


def test_the_phone_page_pops_the_caller(center: dict[str, Any]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, voice, work = center["base"], center["voice"], center["work"]
    phone_port = free_udp_port()
    agent_phone = subprocess.Popen(
        sipp_args("agent_ringing.xml", None, local_port=phone_port, timeout_s=90),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=work,
    )  # fmt: skip
    time.sleep(0.5)
    registered = subprocess.run(
        sipp_args(
            "agent_register.xml", voice.port, timeout_s=20,
            extra=["-key", "user", "1001", "-key", "phone_port", str(phone_port)],
        ),
        capture_output=True, text=True, cwd=work, check=False,
    )  # fmt: skip
    assert registered.returncode == 0, registered.stdout[-2000:]
    caller: subprocess.Popen[bytes] | None = None
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            outside: list[str] = []
            page.on("request", lambda r: None if r.url.startswith(base) else outside.append(r.url))

            page.goto(f"{base}/voice/phone")
            expect(page).to_have_url(re.compile(r"/login\?next=/voice/phone$"))
            page.get_by_label("用户名").fill("agent1")
            page.get_by_label("密码").fill(PASSWORD)
            page.get_by_label("密码").press("Enter")
            expect(page).to_have_url(f"{base}/voice/phone")
            expect(page.locator("#sip-user")).to_have_text("1001@lianluo")
            page.get_by_role("button", name="就绪").click()
            expect(page.locator("#agent-state")).to_have_text("available")
            expect(page.locator("#pop")).to_be_hidden()

            caller = subprocess.Popen(
                sipp_args("caller_talks.xml", voice.port, timeout_s=60),
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=work,
            )  # fmt: skip
            pop = page.locator("#pop")
            expect(pop).to_be_visible(timeout=15_000)
            expect(page.locator("#pop-state")).to_have_text("来电振铃")
            expect(page.locator("#pop-name")).to_have_text("王贵宾")
            expect(page.locator("#pop-caller")).to_have_text("13800138000")
            expect(page.locator("#pop-tier")).to_have_text("gold")
            expect(page.locator("#pop-churn")).to_have_text("82%")
            expect(page.locator("#pop-path")).to_contain_text("greet → who → tier → vip")
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            expect(page.locator("#pop-state")).to_have_text("通话中", timeout=15_000)
            assert page.evaluate("document.documentElement.scrollWidth") <= 1366
            assert not errors, errors
            assert not outside, outside
        finally:
            browser.close()
            if caller is not None:
                out, _ = caller.communicate(timeout=60)
                assert caller.returncode == 0, out.decode(errors="replace")[-2000:]
            agent_out, _ = agent_phone.communicate(timeout=60)
    assert agent_phone.returncode == 0, agent_out.decode(errors="replace")[-2000:]


def test_the_desk_pops_the_call_and_controls_it(center: dict[str, Any]) -> None:
    """The agent desk (/desk): while a real SIPp call rings the agent's registered phone the
    desk shows the caller's 360 view; on the call the agent holds (the phone gets a re-INVITE
    with a=inactive, checked by SIPp), resumes (a=sendrecv), hangs up (both SIP legs get a
    BYE) and saves the wrap-up, all from the desk's buttons."""
    from playwright.sync_api import expect, sync_playwright

    base, voice, work = center["base"], center["voice"], center["work"]
    phone_port = free_udp_port()
    agent_phone = subprocess.Popen(
        sipp_args("agent_hold.xml", None, local_port=phone_port, timeout_s=90),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=work,
    )  # fmt: skip
    time.sleep(0.5)
    # agent_register.xml authenticates as 1001: the same scenario, as the desk agent's phone
    register = work / "agent_register_1002.xml"
    register.write_text(
        (SCENARIOS / "agent_register.xml").read_text().replace("username=1001", "username=1002")
    )
    registered = subprocess.run(
        sipp_args(
            str(register), voice.port, timeout_s=20,
            extra=["-key", "user", "1002", "-key", "phone_port", str(phone_port)],
        ),
        capture_output=True, text=True, cwd=work, check=False,
    )  # fmt: skip
    assert registered.returncode == 0, registered.stdout[-2000:]
    caller: subprocess.Popen[bytes] | None = None
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{base}/desk")
            page.get_by_label("用户名").fill("agent2")
            page.get_by_label("密码").fill(PASSWORD)
            page.get_by_label("密码").press("Enter")
            expect(page).to_have_url(f"{base}/desk")
            page.locator("#state-select").select_option("available")
            page.locator("#state-form button[type=submit]").click()
            expect(page.locator("#my-state")).to_have_attribute("data-state", "available")
            expect(page.locator("#call")).to_be_hidden()

            caller = subprocess.Popen(
                sipp_args("caller_until_bye.xml", voice.port, timeout_s=80),
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=work,
            )  # fmt: skip
            # the screen pop, while the phone rings
            expect(page.locator("#call")).to_be_visible(timeout=15_000)
            expect(page.locator("#call-state")).to_have_text("来电振铃")
            expect(page.locator("#call-name")).to_have_text("王贵宾")
            expect(page.locator("#call-caller")).to_have_text("13800138000")
            expect(page.locator("#call-tier")).to_have_text("gold")
            expect(page.locator("#call-churn")).to_have_text("82%")
            expect(page.locator("#call-path")).to_contain_text("greet → who → tier → vip")
            expect(page.locator("#call-controls")).to_be_hidden()  # answered on the phone
            page.screenshot(path="/tmp/voice-desk-pop.png", full_page=True)
            # answered on the phone: the controls
            expect(page.locator("#call-state")).to_have_text("通话中", timeout=15_000)
            page.get_by_role("button", name="保持").click()
            expect(page.locator("#call-state")).to_have_text("保持中")
            time.sleep(1.5)  # the worker carries it out (its safety poll: another bus)
            page.get_by_role("button", name="恢复通话").click()
            expect(page.locator("#call-state")).to_have_text("通话中")
            time.sleep(1.5)
            page.get_by_role("button", name="挂断").click()
            expect(page.locator("#call-state")).to_have_text("话后处理")
            expect(page.locator("#call-wrap")).to_be_visible()
            page.locator("#call-wrap button[type=submit]").click()
            expect(page.locator("#call")).to_be_hidden(timeout=10_000)
            assert not errors, errors
        finally:
            browser.close()
            if caller is not None:
                out, _ = caller.communicate(timeout=60)
                assert caller.returncode == 0, out.decode(errors="replace")[-2000:]
            agent_out, _ = agent_phone.communicate(timeout=60)
    assert agent_phone.returncode == 0, agent_out.decode(errors="replace")[-2000:]
