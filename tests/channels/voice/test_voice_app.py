"""End to end with real peers: SIPp dials a number, walks the IVR with DTMF, is queued by the
routing engine and bridged to an agent phone (SIPp registered with digest auth, answering as a
UAS); audio both ways is checked in the recording with sox; a caller asks for a callback."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lianluo.auth.principal import Principal
from lianluo.channels.voice.app import DbVoicePlatform, NumberMap, VoiceApp, load_flows
from lianluo.channels.voice.prompts import PromptCache
from lianluo.events.service import BUS_KEY
from lianluo.models import Agent, Contact, Event, Leg, Queue, Tenant
from lianluo.routing.schemas import StateChangeIn
from lianluo.routing.service import routing_service
from lianluo.runtime.bus import EventBus
from lianluo.runtime.router import RoutingRuntime
from lianluo.voice.service import VoiceService
from tests.channels.voice.sipp_runner import SIPP, free_udp_port, needs_sipp, run_sipp, spawn
from tests.factories import make_customer, make_user

pytestmark = [needs_sipp, pytest.mark.timeout(120)]

FLOWS = Path(__file__).parent / "flows"


def sox_rms(path: Path, channel: int, start_s: float = 0.0) -> float:
    """RMS amplitude (0..1) of one channel of a WAV, as sox's `stat` reports it."""
    out = subprocess.run(
        ["sox", str(path), "-n", "remix", str(channel), "trim", str(start_s), "stat"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    for line in out.stderr.splitlines():
        if line.startswith("RMS     amplitude"):
            return float(line.split(":")[1])
    raise AssertionError(out.stderr)


class Center:
    def __init__(self, session: Session, sessions: sessionmaker[Session]) -> None:
        self.tenant = Tenant(slug="voice-center", name="Voice center")
        session.add(self.tenant)
        session.flush()
        self.admin = make_user(session, self.tenant, "voice-admin", ["admin"])
        agent_user = make_user(session, self.tenant, "voice-agent", ["agent"])
        self.queue = Queue(tenant_id=self.tenant.id, name="Voice Line", channels=["voice"])
        session.add(self.queue)
        self.agent = Agent(tenant_id=self.tenant.id, user_id=agent_user.id, capacity={"voice": 1})
        session.add(self.agent)
        self.customer = make_customer(
            session, self.tenant, "王贵宾", phone="+8613800138000", value_tier="gold"
        )
        session.commit()
        self.agent_principal = Principal(
            agent_user.id, self.tenant.id, None, frozenset({"agent"}), username="voice-agent"
        )
        self.principal = Principal(
            self.admin.id, self.tenant.id, None, frozenset({"admin"}), username="voice-admin"
        )
        self.router = RoutingRuntime(sessions)
        self.service = VoiceService(sessions, self.router)
        self.service.set_phone(self.tenant.id, self.agent.id, "1001", "lianluo", "s3cret")

    def agent_available(self) -> None:
        routing_service.change_state(
            self.router, self.agent_principal, None, StateChangeIn(state="available")
        )


@pytest.fixture
def center(session: Session, sessions: sessionmaker[Session]) -> Center:
    return Center(session, sessions)


async def start_app(
    center: Center,
    tmp_path: Path,
    gateway: tuple[str, int] | None = None,
    wake_on_events: bool = True,
) -> tuple[VoiceApp, DbVoicePlatform]:
    """The worker; `wake_on_events=False`: as with a desk in another process and no shared bus
    (the worker then learns of the desk's controls by its safety poll)."""
    platform = DbVoicePlatform(center.service, center.principal)
    await platform.refresh_phones()
    app = VoiceApp(
        platform,
        load_flows(FLOWS),
        NumberMap({"4008": "test_line"}),
        PromptCache(tmp_path / "prompts"),
        tmp_path / "recordings",
        announce_every_s=30,
        gateway=gateway,
    )
    bus = EventBus()
    center.service.sessions.configure(info={BUS_KEY: bus})
    if wake_on_events:
        bus.subscribe(app.on_event)  # waiting calls wake on routing events, as the worker runs
    await app.start()
    return app, platform


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
async def test_caller_walks_the_ivr_waits_and_talks_with_the_agent(
    center: Center, session: Session, tmp_path: Path
) -> None:
    center.agent_available()
    app, platform = await start_app(center, tmp_path)
    phone_port = free_udp_port()
    try:
        agent_phone = spawn(
            run_sipp("agent_answer.xml", None, local_port=phone_port, workdir=tmp_path)
        )
        await asyncio.sleep(0.5)
        registered = await run_sipp(
            "agent_register.xml",
            app.endpoint.port,
            workdir=tmp_path,
            extra=["-key", "user", "1001",
                   "-key", "phone_port", str(phone_port)],
        )  # fmt: skip
        assert registered.returncode == 0, registered.output
        assert app.registrar.lookup("1001") is not None
        caller = await run_sipp("caller_talks.xml", app.endpoint.port, workdir=tmp_path)
        assert caller.returncode == 0, caller.output
        agent = await agent_phone
        assert agent.returncode == 0, agent.output
        await asyncio.sleep(0.3)
    finally:
        await app.close()
        platform.close()

    (record,) = app.records.values()
    assert record.flow == "test_line"
    assert record.path is not None
    assert record.path[:5] == ["greet", "who", "tier", "vip", "menu"]  # the VIP branch
    assert record.digits == ["2"]
    assert record.outcome == "completed", record
    contact = session.execute(select(Contact).where(Contact.id == record.contact_id)).scalar_one()
    assert contact.channel == "voice"
    assert contact.customer_id == center.customer.id
    assert contact.state == "wrap_up"
    assert contact.agent_id == center.agent.id
    assert contact.priority == 5
    assert contact.context["recording"] == record.recording
    assert contact.context["ivr_path"][:4] == ["greet", "who", "tier", "vip"]
    leg = session.execute(select(Leg).where(Leg.contact_id == contact.id)).scalar_one()
    assert leg.answered_at is not None
    kinds = (
        session.execute(
            select(Event.type).where(Event.contact_id == contact.id).order_by(Event.occurred_at)
        )
        .scalars()
        .all()
    )
    assert kinds[0] == "contact.queued"
    assert "contact.answered" in kinds
    # the recording: left = what the caller said, right = what the caller heard, both audible;
    # the last seconds are the bridged talk, where the right side is the agent's voice
    wav = Path(record.recording)
    assert sox_rms(wav, 1) > 0.001
    assert sox_rms(wav, 2) > 0.01
    assert sox_rms(wav, 2, start_s=4.0) > 0.001


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
async def test_a_callback_keeps_the_place_and_is_honoured_agent_first(
    center: Center, session: Session, tmp_path: Path
) -> None:
    # no agent is available: the caller waits, hears their place, and asks to be called back;
    # then the agent comes: their phone rings first, then the customer's, and they talk
    customer_port, phone_port = free_udp_port(), free_udp_port()
    app, platform = await start_app(center, tmp_path, gateway=("127.0.0.1", customer_port))
    try:
        caller = await run_sipp("caller_callback.xml", app.endpoint.port, workdir=tmp_path)
        assert caller.returncode == 0, caller.output
        (record,) = app.records.values()
        assert record.outcome == "callback"
        assert record.announcements >= 1  # heard their place in line before pressing 1

        def read_contact() -> Contact:
            with center.service.sessions() as s:
                return s.execute(
                    select(Contact).where(Contact.id == record.contact_id)
                ).scalar_one()

        # the worker's thread is the one that uses the test's connection while the app runs
        contact = await platform._call(read_contact)
        assert contact.callback is True
        assert contact.state == "queued"  # kept its place

        agent_phone = spawn(
            run_sipp("agent_answer.xml", None, local_port=phone_port, workdir=tmp_path)
        )
        customer_phone = spawn(
            run_sipp("customer_answer.xml", None, local_port=customer_port, workdir=tmp_path)
        )
        await asyncio.sleep(0.5)
        registered = await run_sipp(
            "agent_register.xml", app.endpoint.port, workdir=tmp_path,
            extra=["-key", "user", "1001", "-key", "phone_port", str(phone_port)],
        )  # fmt: skip
        assert registered.returncode == 0, registered.output
        await platform._call(center.agent_available)  # the one thread that uses the connection
        agent, customer = await asyncio.gather(agent_phone, customer_phone)
        assert agent.returncode == 0, agent.output
        assert customer.returncode == 0, customer.output
        for _ in range(20):
            done = app.callback_records.get(contact.id)
            if done is not None and done.outcome == "completed":
                break
            await asyncio.sleep(0.2)
    finally:
        await app.close()
        platform.close()
    done = app.callback_records[contact.id]
    assert done.outcome == "completed"
    assert done.agent_id == center.agent.id
    session.expire_all()
    contact = session.execute(select(Contact).where(Contact.id == record.contact_id)).scalar_one()
    assert contact.state == "wrap_up"
    assert contact.agent_id == center.agent.id
    kinds = (
        session.execute(select(Event.type).where(Event.contact_id == contact.id)).scalars().all()
    )
    assert "contact.callback_requested" in kinds
    assert "contact.answered" in kinds
    assert "contact.abandoned" not in kinds
    # the agent leg's recording: the agent's voice (left) and what the agent heard (right)
    assert sox_rms(Path(done.recording), 1) > 0.001
    assert sox_rms(Path(done.recording), 2) > 0.001


def test_sipp_is_the_debian_build_with_pcap_play() -> None:
    assert SIPP is not None
    out = subprocess.run([SIPP, "-v"], capture_output=True, text=True, check=False)
    assert "PCAP" in out.stdout + out.stderr


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
async def test_the_desk_holds_resumes_and_hangs_up_a_call(
    center: Center, session: Session, tmp_path: Path
) -> None:
    """The agent's desk controls reach the SIP legs: hold is a re-INVITE with a=inactive to
    the phone (SIPp checks the SDP) while the caller hears music, resume is a=sendrecv, and
    hang up ends both legs and leaves the contact in wrap-up with the hold time on its leg."""
    from lianluo.voice.service import voice_desk_service

    center.agent_available()
    app, platform = await start_app(center, tmp_path)
    phone_port = free_udp_port()

    def control(action: str) -> None:
        voice_desk_service.control(
            center.service.sessions, center.router, center.agent_principal, contact_id, action
        )

    try:
        agent_phone = spawn(
            run_sipp("agent_hold.xml", None, local_port=phone_port, workdir=tmp_path)
        )
        await asyncio.sleep(0.5)
        registered = await run_sipp(
            "agent_register.xml", app.endpoint.port, workdir=tmp_path,
            extra=["-key", "user", "1001", "-key", "phone_port", str(phone_port)],
        )  # fmt: skip
        assert registered.returncode == 0, registered.output
        caller = spawn(
            run_sipp("caller_until_bye.xml", app.endpoint.port, workdir=tmp_path, timeout_s=60)
        )
        for _ in range(150):
            records = list(app.records.values())
            if records and records[0].outcome == "connected":
                break
            await asyncio.sleep(0.1)
        (record,) = app.records.values()
        assert record.outcome == "connected", record
        assert record.contact_id is not None
        contact_id = record.contact_id
        (caller_call,) = [c for c in app.endpoint.calls.values() if not c.outbound]
        await asyncio.sleep(0.5)
        await platform._call(control, "hold")
        for _ in range(50):
            if caller_call.leg.peer is None and caller_call.leg._frames is not None:
                break
            await asyncio.sleep(0.1)
        assert caller_call.leg.peer is None  # unbridged: the caller hears music on hold
        assert caller_call.leg._looping
        await asyncio.sleep(1.0)
        await platform._call(control, "resume")
        for _ in range(50):
            if caller_call.leg.peer is not None:
                break
            await asyncio.sleep(0.1)
        assert caller_call.leg.peer is not None  # bridged again
        await platform._call(control, "hangup")
        agent, caller_result = await asyncio.gather(agent_phone, caller)
        assert agent.returncode == 0, agent.output
        assert caller_result.returncode == 0, caller_result.output
        await asyncio.sleep(0.3)
    finally:
        await app.close()
        platform.close()
    assert record.outcome == "completed"
    session.expire_all()
    contact = session.execute(select(Contact).where(Contact.id == contact_id)).scalar_one()
    assert contact.state == "wrap_up"
    kinds = (
        session.execute(
            select(Event.type).where(Event.contact_id == contact_id).order_by(Event.occurred_at)
        )
        .scalars()
        .all()
    )
    assert kinds.index("contact.held") < kinds.index("contact.resumed")
    assert kinds.index("contact.resumed") < kinds.index("contact.completed")
    leg = session.execute(select(Leg).where(Leg.contact_id == contact_id)).scalar_one()
    assert leg.hold_s >= 0.9


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
@pytest.mark.parametrize(
    ("wake_on_events", "within_s"),
    [pytest.param(True, 0.9, id="bus"), pytest.param(False, 2.5, id="poll")],
)
async def test_the_desk_answers_a_ringing_call_and_the_phone_picks_up(
    center: Center, session: Session, tmp_path: Path, wake_on_events: bool, within_s: float
) -> None:
    """Answer from the desk: the agent's phone (SIPp, honouring Call-Info answer-after=0)
    rings and does not pick up by itself; the desk's answer cancels that ring and calls the
    phone again with the auto-answer request, which it answers at once; the caller and the
    agent then hear each other, and the desk hangs up. The worker hears the desk's answer on
    its bus, well inside its 1 s safety poll; without the bus, by the poll."""
    from lianluo.voice.service import voice_desk_service

    center.agent_available()
    app, platform = await start_app(center, tmp_path, wake_on_events=wake_on_events)
    phone_port = free_udp_port()
    loop = asyncio.get_running_loop()

    def control(action: str) -> None:
        voice_desk_service.control(
            center.service.sessions, center.router, center.agent_principal, contact_id, action
        )

    def agent_legs() -> list[Any]:
        return [c for c in app.endpoint.calls.values() if c.outbound]

    try:
        agent_phone = spawn(
            run_sipp("agent_auto_answer.xml", None, local_port=phone_port, calls=2,
                     workdir=tmp_path, timeout_s=60)
        )  # fmt: skip
        await asyncio.sleep(0.5)
        registered = await run_sipp(
            "agent_register.xml", app.endpoint.port, workdir=tmp_path,
            extra=["-key", "user", "1001", "-key", "phone_port", str(phone_port)],
        )  # fmt: skip
        assert registered.returncode == 0, registered.output
        caller_started = loop.time()
        caller = spawn(
            run_sipp("caller_talks_long.xml", app.endpoint.port, workdir=tmp_path, timeout_s=60)
        )
        for _ in range(150):
            if agent_legs():
                break
            await asyncio.sleep(0.1)
        (ringing,) = agent_legs()
        (record,) = app.records.values()
        assert record.contact_id is not None
        contact_id = record.contact_id
        await asyncio.sleep(0.5)
        assert not ringing.answered  # this phone does not pick up by itself
        assert record.outcome != "connected"

        clicked = loop.time()
        await platform._call(control, "answer")
        for _ in range(100):
            if record.outcome == "connected":
                break
            await asyncio.sleep(0.05)
        answered_after_s = loop.time() - clicked
        assert record.outcome == "connected", record
        assert ringing.ended.is_set()  # the ring was cancelled ...
        (agent_call,) = agent_legs()  # ... and the phone called again, and it answered
        assert agent_call is not ringing
        assert agent_call.answered
        assert answered_after_s < within_s, answered_after_s
        agent_call.record(tmp_path / "agent-leg.wav")  # what the phone heard and said
        # talk until the caller's second replay has begun, then the desk hangs up
        await asyncio.sleep(max(3.0, caller_started + 12.0 - loop.time()))
        await platform._call(control, "hangup")
        agent, caller_result = await asyncio.gather(agent_phone, caller)
        assert agent.returncode == 0, agent.output  # both calls: the cancelled and answered one
        assert caller_result.returncode == 0, caller_result.output
        await asyncio.sleep(0.3)
    finally:
        await app.close()
        platform.close()
    assert record.outcome == "completed"
    session.expire_all()
    contact = session.execute(select(Contact).where(Contact.id == contact_id)).scalar_one()
    assert contact.state == "wrap_up"
    assert contact.agent_id == center.agent.id
    kinds = (
        session.execute(select(Event.type).where(Event.contact_id == contact_id).order_by(Event.id))
        .scalars()
        .all()
    )
    assert kinds.index("contact.offered") < kinds.index("contact.answer_requested")
    assert kinds.index("contact.answer_requested") < kinds.index("contact.answered")
    assert "contact.rejected" not in kinds  # the cancelled ring was not a missed offer
    # both ways: the phone heard the caller (right: sent to it) and spoke (left: from it) ...
    agent_wav = tmp_path / "agent-leg.wav"
    assert sox_rms(agent_wav, 2) > 0.001
    assert sox_rms(agent_wav, 1) > 0.001
    # ... and the caller heard the agent once connected (right of the caller's recording)
    connected_at_s = clicked - caller_started + answered_after_s
    assert sox_rms(Path(record.recording), 2, start_s=connected_at_s + 0.5) > 0.001


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
async def test_a_blind_transfer_puts_the_caller_back_in_line_and_rings_the_next_agent(
    center: Center, session: Session, tmp_path: Path
) -> None:
    """The first agent's desk transfers the call to a second agent: the first phone gets a
    BYE, the caller hears music again, the second agent's phone rings and answers, and that
    agent's desk hangs up at the end."""
    from lianluo.voice.service import voice_desk_service

    second_user = make_user(session, center.tenant, "voice-agent-2", ["agent"])
    second = Agent(tenant_id=center.tenant.id, user_id=second_user.id, capacity={"voice": 1})
    session.add(second)
    session.commit()
    second_principal = Principal(
        second_user.id, center.tenant.id, None, frozenset({"agent"}), username="voice-agent-2"
    )
    center.service.set_phone(center.tenant.id, second.id, "1002", "lianluo", "s3cret")
    center.agent_available()
    app, platform = await start_app(center, tmp_path)
    ports = {"1001": free_udp_port(), "1002": free_udp_port()}
    register = tmp_path / "agent_register_1002.xml"
    register.write_text(
        (Path(__file__).parent / "sipp" / "agent_register.xml")
        .read_text()
        .replace("username=1001", "username=1002")
    )
    try:
        phones = {
            user: spawn(run_sipp("agent_answer.xml", None, local_port=port, workdir=tmp_path))
            for user, port in ports.items()
        }
        await asyncio.sleep(0.5)
        for user, scenario in (("1001", "agent_register.xml"), ("1002", str(register))):
            registered = await run_sipp(
                scenario, app.endpoint.port, workdir=tmp_path,
                extra=["-key", "user", user, "-key", "phone_port", str(ports[user])],
            )  # fmt: skip
            assert registered.returncode == 0, registered.output
        caller = spawn(
            run_sipp("caller_until_bye.xml", app.endpoint.port, workdir=tmp_path, timeout_s=60)
        )
        for _ in range(150):
            records = list(app.records.values())
            if records and records[0].outcome == "connected":
                break
            await asyncio.sleep(0.1)
        (record,) = app.records.values()
        assert record.agent_id == center.agent.id, record
        contact_id = record.contact_id
        assert contact_id is not None

        def second_ready() -> None:
            routing_service.change_state(
                center.router, second_principal, None, StateChangeIn(state="available")
            )

        def transfer() -> None:
            voice_desk_service.control(
                center.service.sessions, center.router, center.agent_principal, contact_id,
                "transfer", to_agent_id=second.id, note="宽带问题",
            )  # fmt: skip

        await platform._call(second_ready)
        await asyncio.sleep(0.5)
        await platform._call(transfer)
        first = await phones["1001"]  # the first phone gets its BYE
        assert first.returncode == 0, first.output
        for _ in range(150):
            if record.agent_id == second.id and record.outcome == "connected":
                break
            await asyncio.sleep(0.1)
        assert record.agent_id == second.id, record
        await asyncio.sleep(1.0)

        def hang_up() -> None:
            voice_desk_service.control(
                center.service.sessions, center.router, second_principal, contact_id, "hangup"
            )

        await platform._call(hang_up)
        second_phone, caller_result = await asyncio.gather(phones["1002"], caller)
        assert second_phone.returncode == 0, second_phone.output
        assert caller_result.returncode == 0, caller_result.output
        await asyncio.sleep(0.3)
    finally:
        await app.close()
        platform.close()
    session.expire_all()
    contact = session.execute(select(Contact).where(Contact.id == contact_id)).scalar_one()
    assert contact.state == "wrap_up"
    assert contact.agent_id == second.id
    legs = session.execute(select(Leg).where(Leg.contact_id == contact_id)).scalars().all()
    assert {(leg.agent_id, leg.end_reason) for leg in legs} == {
        (center.agent.id, "transferred"),
        (second.id, "completed"),
    }
    assert "contact.transferred" in _kinds(session, contact_id)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
async def test_a_consultation_then_transfer_bridges_the_caller_to_the_consulted_agent(
    center: Center, session: Session, tmp_path: Path
) -> None:
    """The first agent's desk consults a second agent: the caller holds with music while the
    second phone rings and answers and the two agents talk; the desk completes the transfer,
    the first phone gets a BYE, the caller is bridged to the second agent's call, whose desk
    hangs up at the end."""
    from lianluo.voice.service import voice_desk_service

    second_user = make_user(session, center.tenant, "voice-agent-2", ["agent"])
    second = Agent(tenant_id=center.tenant.id, user_id=second_user.id, capacity={"voice": 1})
    session.add(second)
    session.commit()
    second_principal = Principal(
        second_user.id, center.tenant.id, None, frozenset({"agent"}), username="voice-agent-2"
    )
    center.service.set_phone(center.tenant.id, second.id, "1002", "lianluo", "s3cret")
    center.agent_available()
    app, platform = await start_app(center, tmp_path)
    ports = {"1001": free_udp_port(), "1002": free_udp_port()}
    register = tmp_path / "agent_register_1002.xml"
    register.write_text(
        (Path(__file__).parent / "sipp" / "agent_register.xml")
        .read_text()
        .replace("username=1001", "username=1002")
    )
    try:
        phones = {
            user: spawn(run_sipp("agent_answer.xml", None, local_port=port, workdir=tmp_path))
            for user, port in ports.items()
        }
        await asyncio.sleep(0.5)
        for user, scenario in (("1001", "agent_register.xml"), ("1002", str(register))):
            registered = await run_sipp(
                scenario, app.endpoint.port, workdir=tmp_path,
                extra=["-key", "user", user, "-key", "phone_port", str(ports[user])],
            )  # fmt: skip
            assert registered.returncode == 0, registered.output
        caller = spawn(
            run_sipp("caller_until_bye.xml", app.endpoint.port, workdir=tmp_path, timeout_s=60)
        )
        for _ in range(150):
            records = list(app.records.values())
            if records and records[0].outcome == "connected":
                break
            await asyncio.sleep(0.1)
        (record,) = app.records.values()
        assert record.agent_id == center.agent.id, record
        contact_id = record.contact_id
        assert contact_id is not None

        def second_ready() -> None:
            routing_service.change_state(
                center.router, second_principal, None, StateChangeIn(state="available")
            )

        def desk(action: str, **kw: Any) -> None:
            voice_desk_service.control(
                center.service.sessions, center.router, center.agent_principal, contact_id,
                action, **kw,
            )  # fmt: skip

        (caller_call,) = [c for c in app.endpoint.calls.values() if not c.outbound]
        await platform._call(second_ready)
        await asyncio.sleep(0.5)
        await platform._call(partial(desk, "consult", to_agent_id=second.id))
        for _ in range(150):  # the second phone answered: the two agents are linked
            agent_legs = [c for c in app.endpoint.calls.values() if c.outbound]
            if len(agent_legs) == 2 and all(c.leg.peer is not None for c in agent_legs):
                break
            await asyncio.sleep(0.1)
        assert len(agent_legs) == 2
        assert all(c.leg.peer is not None for c in agent_legs)  # agent to agent
        assert caller_call.leg.peer is None  # the caller holds, with music
        assert caller_call.leg._looping
        await asyncio.sleep(0.5)
        await platform._call(partial(desk, "transfer"))  # to the consulted agent
        first = await phones["1001"]  # the first phone gets its BYE
        assert first.returncode == 0, first.output
        for _ in range(150):
            if record.agent_id == second.id and record.outcome == "connected":
                break
            await asyncio.sleep(0.1)
        assert record.agent_id == second.id, record
        await asyncio.sleep(1.0)

        def hang_up() -> None:
            voice_desk_service.control(
                center.service.sessions, center.router, second_principal, contact_id, "hangup"
            )

        await platform._call(hang_up)
        second_phone, caller_result = await asyncio.gather(phones["1002"], caller)
        assert second_phone.returncode == 0, second_phone.output
        assert caller_result.returncode == 0, caller_result.output
        await asyncio.sleep(0.3)
    finally:
        await app.close()
        platform.close()
    session.expire_all()
    contact = session.execute(select(Contact).where(Contact.id == contact_id)).scalar_one()
    assert contact.state == "wrap_up"
    assert contact.agent_id == second.id
    legs = session.execute(select(Leg).where(Leg.contact_id == contact_id)).scalars().all()
    assert {(leg.agent_id, leg.end_reason) for leg in legs} == {
        (center.agent.id, "transferred"),
        (second.id, "completed"),
    }
    assert "contact.transferred" in _kinds(session, contact_id)


def _kinds(session: Session, contact_id: str) -> list[str]:
    return list(session.execute(select(Event.type).where(Event.contact_id == contact_id)).scalars())
