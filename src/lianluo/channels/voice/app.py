"""The voice channel: dialled number → flow → queue → agent phone, on one SIP endpoint.

This adapter holds no business rules: the flow interpreter (domain/flows) decides what the
caller hears, the contact service and the routing engine decide who answers, and this module
turns their commands into SIP and RTP and the caller's actions into their events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml

from lianluo.auth.principal import Principal
from lianluo.channels.voice.media import CallEnded, Prompt
from lianluo.channels.voice.prompts import PromptCache
from lianluo.channels.voice.server import Call, Registrar, SipEndpoint, normal_priority
from lianluo.domain import flows as fl
from lianluo.voice.service import Offer, Talking, VoiceService

log = logging.getLogger(__name__)

T = TypeVar("T")
FLOWS_DIR = Path(__file__).parent / "flows"

TEXTS = {
    "position": {
        "zh": "您前面还有{n}位客户在等待。如需回电并保留排队位置，请按一。",
        "en": "There are {n} callers ahead of you. "
        "To be called back and keep your place, press one.",
    },
    "next": {
        "zh": "您是下一位，请稍候。如需回电，请按一。",
        "en": "You are next in line. To be called back, press one.",
    },
    "callback": {
        "zh": "已为您预约回电，我们会保留您的排队位置，再见。",
        "en": "We will call you back and keep your place in line. Goodbye.",
    },
    "connecting": {"zh": "正在为您接通。", "en": "Connecting you now."},
}


class NumberMap:
    """Unified number access (统一号码接入): dialled number or prefix → flow name; the longest
    match wins and "*" is the fallback."""

    def __init__(self, numbers: dict[str, str]) -> None:
        self.numbers = {str(k): str(v) for k, v in numbers.items()}

    @classmethod
    def load(cls, path: Path) -> NumberMap:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        numbers = raw.get("numbers") if isinstance(raw, dict) else None
        if not isinstance(numbers, dict):
            raise fl.FlowError([f"{path.name}: numbers: a mapping of number -> flow"])
        return cls(numbers)

    def flow_for(self, dialled: str) -> str | None:
        for length in range(len(dialled), 0, -1):
            name = self.numbers.get(dialled[:length])
            if name is not None:
                return name
        return self.numbers.get("*")


def load_flows(directory: Path) -> dict[str, fl.Flow]:
    """Every *.yaml flow of a directory (numbers.yaml aside), compiled; errors name the file."""
    out: dict[str, fl.Flow] = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name == "numbers.yaml":
            continue
        try:
            flow = fl.compile_flow(yaml.safe_load(path.read_text(encoding="utf-8")))
        except fl.FlowError as exc:
            raise fl.FlowError([f"{path.name}: {p}" for p in exc.problems]) from None
        out[flow.name] = flow
    return out


class VoicePlatform(Protocol):
    """What the channel needs of the platform (the database-backed one, or a fake)."""

    async def lookup(self, caller: str) -> dict[str, Any] | None: ...

    async def enqueue(self, caller: str, command: fl.Enqueue, context: dict[str, Any]) -> str: ...

    async def request_callback(self, contact_id: str) -> None: ...

    async def waiting(self, contact_id: str) -> tuple[str, int, Offer | None]: ...

    async def answered(self, contact_id: str, agent_id: str, recording: str) -> None: ...

    async def not_answered(self, contact_id: str, agent_id: str) -> None: ...

    async def caller_left(self, contact_id: str) -> None: ...

    async def callbacks_offered(self) -> list[tuple[Offer, str]]: ...

    async def talking(self, contact_id: str) -> Talking: ...

    async def consult_failed(self, contact_id: str, reason: str) -> None: ...

    async def answer_requested(self, contact_id: str, agent_id: str) -> bool: ...

    def ha1_of(self, sip_user: str) -> str | None: ...


class DbVoicePlatform:
    """The platform through `VoiceService`, on one worker thread (SQLAlchemy sessions are
    synchronous; one thread keeps a test's single connection safe)."""

    def __init__(self, service: VoiceService, principal: Principal) -> None:
        self.service = service
        self.principal = principal
        self.tenant_id = principal.tenant_id
        self._pool = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="voice-db", initializer=normal_priority
        )
        self._ha1: dict[str, str] = {}

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, partial(fn, *args))

    async def refresh_phones(self) -> None:
        self._ha1 = await self._call(self.service.phone_secrets, self.tenant_id)

    def ha1_of(self, sip_user: str) -> str | None:
        return self._ha1.get(sip_user)

    async def lookup(self, caller: str) -> dict[str, Any] | None:
        return await self._call(self.service.lookup, self.principal, caller)

    async def enqueue(self, caller: str, command: fl.Enqueue, context: dict[str, Any]) -> str:
        return await self._call(
            self.service.enqueue, self.principal, caller, command.queue, command.skills,
            command.attributes, command.priority, context,
        )  # fmt: skip

    async def request_callback(self, contact_id: str) -> None:
        await self._call(self.service.request_callback, self.principal, contact_id)

    async def waiting(self, contact_id: str) -> tuple[str, int, Offer | None]:
        return await self._call(self.service.waiting, self.principal, contact_id)

    async def answered(self, contact_id: str, agent_id: str, recording: str) -> None:
        await self._call(self.service.answered, self.tenant_id, contact_id, agent_id, recording)

    async def not_answered(self, contact_id: str, agent_id: str) -> None:
        await self._call(self.service.not_answered, self.tenant_id, contact_id, agent_id)

    async def caller_left(self, contact_id: str) -> None:
        await self._call(self.service.caller_left, self.principal, contact_id)

    async def callbacks_offered(self) -> list[tuple[Offer, str]]:
        return await self._call(self.service.callbacks_offered, self.principal)

    async def talking(self, contact_id: str) -> Talking:
        return await self._call(self.service.talking, self.principal, contact_id)

    async def consult_failed(self, contact_id: str, reason: str) -> None:
        await self._call(self.service.consult_failed, self.principal, contact_id, reason)

    async def answer_requested(self, contact_id: str, agent_id: str) -> bool:
        return await self._call(self.service.answer_requested, self.tenant_id, contact_id, agent_id)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


@dataclass
class CallRecord:
    """What happened on one inbound call, for logs and tests."""

    call_id: str
    dialled: str
    flow: str = ""
    path: list[str] | None = None
    digits: list[str] | None = None
    contact_id: str | None = None
    outcome: str = ""
    agent_id: str | None = None
    recording: str = ""
    announcements: int = 0


class VoiceApp:
    def __init__(
        self,
        platform: VoicePlatform,
        flows: dict[str, fl.Flow],
        numbers: NumberMap,
        prompts: PromptCache,
        recordings: Path,
        host: str = "127.0.0.1",
        realm: str = "lianluo",
        announce_every_s: float = 20.0,
        poll_s: float = 1.0,
        ring_timeout_s: float = 20.0,
        agent_proxy: tuple[str, int] | None = None,
        gateway: tuple[str, int] | None = None,
    ) -> None:
        self.platform = platform
        self.flows = flows
        self.numbers = numbers
        self.prompts = prompts
        self.recordings = recordings
        self.announce_every_s = announce_every_s
        # Waiting calls wake on routing events (`on_event`, subscribed to the event bus of the
        # process that routes); `poll_s` is only the safety net for routing done elsewhere
        # (another process without a shared bus) or an event lost
        self.poll_s = poll_s
        self._wakeups: dict[str, asyncio.Event] = {}
        self._dialer_wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.ring_timeout_s = ring_timeout_s
        # with several workers, phones register at a proxy (deploy/kamailio) and are called
        # through it; alone, this endpoint is their registrar
        self.agent_proxy = agent_proxy
        self.realm = realm
        # where outbound calls to customers go (a carrier trunk or an SBC); None: no callbacks
        self.gateway = gateway
        self._callbacks_running: set[str] = set()
        self._dialer: asyncio.Task[None] | None = None
        self.callback_records: dict[str, CallRecord] = {}
        self.registrar = Registrar(realm, platform.ha1_of)
        self.endpoint = SipEndpoint(self.on_call, host=host, registrar=self.registrar)
        self.records: dict[str, CallRecord] = {}

    def on_event(self, event: dict[str, Any]) -> None:
        """EventBus subscriber (any thread): a routing change of a contact wakes its call."""
        contact_id = event.get("contact_id")
        loop = self._loop
        if not contact_id or loop is None or not str(event.get("type", "")).startswith("contact."):
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed
            loop.call_soon_threadsafe(self._wake, str(contact_id))

    def _wake(self, contact_id: str) -> None:
        wakeup = self._wakeups.get(contact_id)
        if wakeup is not None:
            wakeup.set()
        self._dialer_wake.set()

    async def start(self, port: int = 0) -> None:
        self._loop = asyncio.get_running_loop()
        for flow in self.flows.values():  # synthesise every prompt before the first call
            for name, texts in flow.prompts.items():
                for language, text in texts.items():
                    await self.prompts.speak(text, language, name)
        await self.prompts.music()
        await self.endpoint.start(port)
        if self.gateway is not None:
            self._dialer = asyncio.ensure_future(self._callback_dialer())

    async def close(self) -> None:
        if self._dialer is not None:
            self._dialer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._dialer
        await self.endpoint.close()

    # ---- callbacks: call the agent, then the customer, and bridge ------------------------

    async def _callback_dialer(self) -> None:
        while True:
            try:
                for offer, number in await self.platform.callbacks_offered():
                    if offer.contact_id in self._callbacks_running:
                        continue
                    self._callbacks_running.add(offer.contact_id)
                    task = asyncio.ensure_future(self._call_back(offer, number))
                    task.add_done_callback(
                        lambda _t, cid=offer.contact_id: self._callbacks_running.discard(cid)
                    )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("voice: the callback dialer failed; retrying")
            self._dialer_wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dialer_wake.wait(), self.poll_s * 2)

    async def _ring_agent(self, offer: Offer, caller: str) -> Call | None:
        binding = self.registrar.lookup(offer.sip_user) if offer.sip_user else None
        if self.agent_proxy is not None and offer.sip_user:
            target, addr = f"sip:{offer.sip_user}@{self.realm}", self.agent_proxy
        elif binding is not None:
            target, addr = binding.contact, binding.addr
        else:
            return None
        try:
            return await self.endpoint.dial(
                target, addr, caller=caller, ring_timeout_s=self.ring_timeout_s
            )
        except CallEnded:
            return None

    async def _call_back(self, offer: Offer, number: str) -> None:
        assert self.gateway is not None
        record = CallRecord(f"callback-{offer.contact_id}", number, outcome="ringing agent")
        self.callback_records[offer.contact_id] = record
        agent = await self._ring_agent(offer, number)
        if agent is None:
            record.outcome = "agent did not answer"
            await self.platform.not_answered(offer.contact_id, offer.agent_id)
            return
        recording = self.recordings / f"{time.strftime('%Y%m%d')}-callback-{offer.contact_id}.wav"
        agent.record(recording)
        record.recording, record.agent_id = str(recording), offer.agent_id
        await self.platform.answered(offer.contact_id, offer.agent_id, str(recording))
        try:
            await agent.loop(await self.prompts.music())  # the agent hears ringback music
            host, port = self.gateway
            dialing = asyncio.ensure_future(
                self.endpoint.dial(
                    f"sip:{number}@{host}:{port}", self.gateway, caller="lianluo",
                    ring_timeout_s=self.ring_timeout_s,
                )
            )  # fmt: skip
            try:
                await agent._wait(asyncio.shield(dialing))
            except CallEnded:
                dialing.cancel()
                record.outcome = "agent hung up"
                return
            try:
                customer = dialing.result()
            except CallEnded:
                record.outcome = "customer did not answer"
                await agent.hangup()
                return
            record.outcome = "connected"
            await agent.bridge(customer)
            await customer.hangup()
            await agent.hangup()
            record.outcome = "completed"
        finally:
            await agent.hangup()
            await self.platform.caller_left(offer.contact_id)

    async def on_call(self, call: Call) -> None:
        record = CallRecord(call.call_id, call.dialled, digits=[])
        self.records[call.call_id] = record
        name = self.numbers.flow_for(call.dialled)
        flow = self.flows.get(name or "")
        if flow is None:
            record.outcome = "no flow"
            await call.hangup(404)
            return
        record.flow = flow.name
        recording = self.recordings / f"{time.strftime('%Y%m%d')}-{call.call_id[:40]}.wav"
        recording = recording.with_name(recording.name.replace("/", "_").replace("@", "_"))
        call.record(recording)
        record.recording = str(recording)
        await call.answer()
        run = fl.FlowRun(flow, caller=call.caller, now=datetime.now(UTC))
        commands = run.start()
        try:
            while True:
                event: fl.Event | None = None
                for command in commands:
                    event = await self._carry_out(call, run, command, record)
                record.path = run.path
                if run.finished:
                    break
                assert event is not None
                commands = run.on(event, datetime.now(UTC))
        except CallEnded:
            record.outcome = record.outcome or "caller hung up"
            if record.contact_id is not None:
                await self.platform.caller_left(record.contact_id)
            return
        finally:
            record.path = run.path
        record.outcome = record.outcome or run.outcome

    async def _speak(self, call: Call, text: str, language: str, name: str = "") -> Prompt:
        return await self.prompts.speak(text, language, name)

    async def _carry_out(
        self, call: Call, run: fl.FlowRun, command: fl.Command, record: CallRecord
    ) -> fl.Event | None:
        if isinstance(command, fl.Play):
            await call.play(await self._speak(call, command.text, command.language))
            return fl.PlayDone()
        if isinstance(command, fl.Collect):
            prompt = await self._speak(call, command.text, command.language)
            await call.play(prompt, interruptible=True)  # a digit stops it and stays queued
            digits = await call.collect(
                command.max_digits, command.timeout_s, command.terminator or "\0"
            )
            assert record.digits is not None
            record.digits.append(digits)
            return fl.Digits(digits)
        if isinstance(command, fl.LookupCustomer):
            info = await self.platform.lookup(command.caller)
            return fl.CustomerInfo(info is not None, info or {})
        if isinstance(command, fl.Record):
            started = time.monotonic()
            await call.play(Prompt.tone("beep", 1000, 0.3))
            call.digits.clear()
            await call.collect(1, command.max_s, terminator="#")
            return fl.Recorded(str(call.recording or ""), round(time.monotonic() - started, 2))
        if isinstance(command, fl.Hangup):
            record.outcome = record.outcome or command.reason
            await call.hangup()
            raise CallEnded(command.reason)
        if isinstance(command, fl.RequestCallback):
            contact_id = await self.platform.enqueue(
                command.number,
                fl.Enqueue(command.queue, command.attributes, command.skills, command.priority,
                           command.language),
                self._context(call, run, record),
            )  # fmt: skip
            record.contact_id = contact_id
            await self.platform.request_callback(contact_id)
            record.outcome = "callback"
            return None
        if isinstance(command, fl.Enqueue):
            contact_id = await self.platform.enqueue(
                call.caller, command, self._context(call, run, record)
            )
            record.contact_id = contact_id
            await self._wait_in_queue(call, contact_id, command.language, record)
            return None
        raise TypeError(f"unknown flow command {command!r}")  # pragma: no cover

    def _context(self, call: Call, run: fl.FlowRun, record: CallRecord) -> dict[str, Any]:
        return {
            "call_id": call.call_id,
            "caller": call.caller,
            "dialled": call.dialled,
            "flow": run.flow.name,
            "ivr_path": list(run.path),
            "recording": record.recording,
        }

    async def _wait_in_queue(
        self, call: Call, contact_id: str, language: str, record: CallRecord
    ) -> None:
        wakeup = self._wakeups[contact_id] = asyncio.Event()
        try:
            await self._wait_for_agent(call, contact_id, language, record, wakeup)
        finally:
            self._wakeups.pop(contact_id, None)

    async def _wait_for_agent(
        self,
        call: Call,
        contact_id: str,
        language: str,
        record: CallRecord,
        wakeup: asyncio.Event,
    ) -> None:
        music = await self.prompts.music()
        await call.loop(music)
        last_announced = time.monotonic()
        announced_once = False
        call.digits.clear()
        while True:
            wakeup.clear()  # before reading: an event committed after the read wakes us again
            state, position, offer = await self.platform.waiting(contact_id)
            if state not in ("queued", "offered"):
                record.outcome = state
                await call.hangup()
                raise CallEnded(state)
            if offer is not None:
                if await self._connect(call, offer, record):
                    return
                await call.loop(music)
                continue
            digit = call.take_digit()
            if digit == "1":
                await self.platform.request_callback(contact_id)
                await call.play(await self._speak(call, TEXTS["callback"][language], language))
                record.outcome = "callback"
                await call.hangup()
                raise CallEnded("callback")
            due = last_announced + (self.announce_every_s if announced_once else 2.0)
            if state == "queued" and time.monotonic() >= due:
                key = "next" if position <= 1 else "position"
                text = TEXTS[key][language].format(n=position - 1)
                digit = await call.play(await self._speak(call, text, language), interruptible=True)
                last_announced, announced_once = time.monotonic(), True
                record.announcements += 1
                await call.loop(music)
                continue
            call._digit_event.clear()
            if call.digits:
                continue
            until_due = max(0.05, due - time.monotonic())
            await call._wait(
                wakeup.wait(), call._digit_event.wait(), timeout_s=min(self.poll_s, until_due)
            )

    def _agent_target(self, sip_user: str | None) -> tuple[str, tuple[str, int]] | None:
        """Where an agent's phone is called: through the proxy, or at its registration."""
        if self.agent_proxy is not None and sip_user:
            return f"sip:{sip_user}@{self.realm}", self.agent_proxy
        binding = self.registrar.lookup(sip_user) if sip_user else None
        if binding is not None:
            return binding.contact, binding.addr
        return None

    async def _connect(self, call: Call, offer: Offer, record: CallRecord) -> bool:
        """Ring the offered agent's phone; on answer, talk (`_talk`). False: back to the line
        (the agent did not answer, or the desk transferred the call to a queue or agent)."""
        target = self._agent_target(offer.sip_user)
        if target is None:
            log.info("voice: the offered agent has no registered phone; declining the offer")
            await self.platform.not_answered(offer.contact_id, offer.agent_id)
            return False
        agent_call = await self._ring_offered_phone(call, offer, target)
        if agent_call is None:
            await self.platform.not_answered(offer.contact_id, offer.agent_id)
            return False
        record.agent_id = offer.agent_id
        await self.platform.answered(offer.contact_id, offer.agent_id, record.recording)
        record.outcome = "connected"
        return await self._talk(call, agent_call, offer.contact_id, offer.agent_id, record)

    async def _ring_offered_phone(
        self, call: Call, offer: Offer, target: tuple[str, tuple[str, int]]
    ) -> Call | None:
        """The agent's phone, answered; None if it did not answer (CallEnded: the caller hung
        up meanwhile). While it rings, the agent may answer from the desk (woken by the
        request's event, or by the safety poll): the ringing INVITE is cancelled and the phone
        called again with the auto-answer request, so a phone that honours it picks up."""
        wakeup = self._wakeups.setdefault(offer.contact_id, asyncio.Event())
        auto_answer = await self.platform.answer_requested(offer.contact_id, offer.agent_id)

        def ring() -> asyncio.Future[Call]:
            return asyncio.ensure_future(
                self.endpoint.dial(
                    target[0], target[1], caller=call.caller,
                    ring_timeout_s=self.ring_timeout_s, auto_answer=auto_answer,
                )
            )  # fmt: skip

        dialing = ring()
        try:
            while not dialing.done():
                wakeup.clear()
                if auto_answer:  # nothing left to ask of the desk: wait for the phone
                    await call._wait(asyncio.shield(dialing))
                    continue
                await call._wait(asyncio.shield(dialing), wakeup.wait(), timeout_s=self.poll_s)
                if dialing.done():
                    break
                if not await self.platform.answer_requested(offer.contact_id, offer.agent_id):
                    continue
                auto_answer = True
                dialing.cancel()  # CANCEL the ringing INVITE
                with contextlib.suppress(asyncio.CancelledError, CallEnded):
                    return await dialing  # the phone answered just before the CANCEL
                dialing = ring()
        except CallEnded:
            dialing.cancel()  # the caller hung up: CANCEL the phone, or hang up its answer
            with contextlib.suppress(BaseException):
                await (await dialing).hangup()
            raise
        try:
            return dialing.result()
        except CallEnded:
            return None

    async def _talk(
        self, call: Call, agent_call: Call, contact_id: str, agent_id: str, record: CallRecord
    ) -> bool:
        """The caller and the agent talk; the desk's controls are carried out as they come
        (woken by the contact's events, or by the safety poll): hold (music to the caller, a
        re-INVITE with a=inactive to the phone), a consultation call to another agent while the
        caller holds, a transfer (blind: back to the line; to the consulted agent: bridged to
        that call), hang up. False: the call went back to the line; CallEnded: it is over."""
        wakeup = self._wakeups.setdefault(contact_id, asyncio.Event())
        music = await self.prompts.music()
        consult: Call | None = None
        consult_agent: str | None = None
        held = False
        call.link(agent_call)
        back_to_line = False
        try:
            while True:
                wakeup.clear()
                view = await self.platform.talking(contact_id)
                if view.state in ("queued", "offered"):
                    if (
                        consult is not None
                        and not consult.ended.is_set()
                        and (view.state == "offered" and view.agent_id == consult_agent)
                    ):  # the consultative transfer completes: the consulted agent takes over
                        assert consult_agent is not None
                        await self.platform.answered(contact_id, consult_agent, record.recording)
                        await agent_call.hangup()
                        agent_call, agent_id, consult, consult_agent = (
                            consult, consult_agent, None, None
                        )  # fmt: skip
                        record.agent_id = agent_id
                        call.link(agent_call)
                        continue
                    back_to_line = True  # a blind transfer: the caller waits again
                    record.outcome = "transferred"
                    return False
                if view.state != "connected" or view.agent_id != agent_id:
                    record.outcome = "completed"  # the desk hung up (wrap-up) or it ended
                    raise CallEnded("completed")
                if agent_call.ended.is_set():
                    record.outcome = "completed"  # the agent hung up the phone
                    raise CallEnded("completed")
                if consult is not None and consult.ended.is_set():
                    consult, consult_agent = None, None
                    await self.platform.consult_failed(contact_id, "the consulted agent hung up")
                    continue
                if view.consult_agent_id and consult is None:
                    call.unlink()
                    await call.loop(music)
                    consult = await self._consult(call, view)
                    if consult is None:
                        await self.platform.consult_failed(contact_id, "no answer")
                        if not held:
                            call.link(agent_call)
                        continue
                    consult_agent = view.consult_agent_id
                    agent_call.link(consult)
                elif not view.consult_agent_id and consult is not None:
                    await consult.hangup()  # the desk cancelled the consultation
                    consult, consult_agent = None, None
                    if not held:
                        call.link(agent_call)
                if view.hold and not held:
                    held = True
                    if consult is None:
                        call.unlink()
                        await call.loop(music)
                    await agent_call.reinvite("inactive")
                elif not view.hold and held:
                    held = False
                    await agent_call.reinvite("sendrecv")
                    if consult is None:
                        call.link(agent_call)
                waits: list[Awaitable[object]] = [wakeup.wait(), agent_call.ended.wait()]
                if consult is not None:
                    waits.append(consult.ended.wait())
                await call._wait(*waits, timeout_s=self.poll_s)
        finally:
            call.unlink()
            if consult is not None:
                await consult.hangup()
            await agent_call.hangup()
            if not back_to_line:
                record.outcome = "completed"  # whoever hung up first, the other leg goes too
                await call.hangup()
                await self.platform.caller_left(contact_id)

    async def _consult(self, call: Call, view: Talking) -> Call | None:
        """Call the consulted agent's phone while the caller holds; None if it fails."""
        target = self._agent_target(view.consult_sip_user)
        if target is None:
            return None
        dialing = asyncio.ensure_future(
            self.endpoint.dial(
                target[0], target[1], caller=call.caller, ring_timeout_s=self.ring_timeout_s
            )
        )
        try:
            await call._wait(asyncio.shield(dialing))
        except CallEnded:
            dialing.cancel()
            with contextlib.suppress(BaseException):
                await (await dialing).hangup()
            raise
        try:
            return dialing.result()
        except CallEnded:
            return None
