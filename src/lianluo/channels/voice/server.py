"""A SIP user agent on asyncio over UDP: UAS for callers, UAC towards agent phones, a
registrar with digest authentication, and RTP for every leg on one shared 20 ms clock.

The SIP side follows RFC 3261 closely enough for real peers (SIPp, baresip): server
transactions absorb retransmissions and replay their last response, a 2xx to INVITE is
retransmitted until its ACK, client requests are retransmitted with timer A/E doubling up to
T2. Malformed datagrams are answered 400 when they can be addressed and otherwise dropped
with a log line; either way no other call notices.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import hashlib
import hmac
import logging
import os
import secrets
import struct
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np

from lianluo.channels.voice import rtp, sdp, sip
from lianluo.channels.voice.media import CallEnded, Media, Prompt, Recorder

log = logging.getLogger(__name__)

T1_S = 0.5
T2_S = 4.0
TRANSACTION_TIMEOUT_S = 32 * T1_S
FRAME_S = 0.02
_RTP_HEADER = struct.Struct("!BBHII")
ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER"

CallHandler = Callable[["Call"], Awaitable[None]]


# ---- the clock --------------------------------------------------------------------------


class MediaClock:
    """One 20 ms tick for every RTP leg of the process, on absolute times so that lateness
    does not accumulate.

    On Linux the tick comes from a periodic timerfd read by the event loop (`add_reader`):
    the kernel's high-resolution timer wakes the loop within microseconds of the due time,
    where uvloop's own timers have millisecond resolution and fire up to a millisecond early
    or late. The expiration count says how many ticks are due; up to `max_catch_up` late ticks
    are sent back to back (the peers' jitter buffers absorb that), beyond it the clock skips
    ahead instead of bursting (counted in `skipped_ticks`). Elsewhere, or when timerfd is not
    available, `loop.call_later` on perf_counter deadlines does the same.

    Lateness is measured with `time.perf_counter` (CLOCK_MONOTONIC, the timerfd's clock).
    """

    def __init__(
        self,
        period_s: float = FRAME_S,
        samples: int = 200_000,
        use_timerfd: bool = True,
        max_catch_up: int = 3,
    ) -> None:
        self.period_s = period_s
        self.legs: set[RtpLeg] = set()
        self.tick = 0
        self.max_catch_up = max_catch_up
        self.lateness_s: deque[float] = deque(maxlen=samples)  # tick start vs due time
        self.send_lateness_s: deque[float] = deque(maxlen=samples)  # last send of the tick
        self.work_s: deque[float] = deque(maxlen=samples)  # time spent sending in a tick
        self.work_cpu_s: deque[float] = deque(maxlen=samples)  # CPU time of that (no preemption)
        self.skipped_ticks = 0
        self.timer = ""  # "timerfd" or "call_later", once started
        self._use_timerfd = use_timerfd
        self._loop: asyncio.AbstractEventLoop | None = None
        self._t0 = 0.0
        self._handle: asyncio.TimerHandle | None = None
        self._timerfd: int | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._t0 = time.perf_counter()
        self.tick = 0
        fd = _timerfd(self._t0 + self.period_s, self.period_s) if self._use_timerfd else None
        if fd is not None:
            self._timerfd = fd
            self.timer = "timerfd"
            self._loop.add_reader(fd, self._on_timerfd)
        else:
            self.timer = "call_later"
            self._schedule()

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._timerfd is not None:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(self._timerfd)
            os.close(self._timerfd)
            self._timerfd = None

    def reset_stats(self) -> None:
        self.lateness_s.clear()
        self.send_lateness_s.clear()
        self.work_s.clear()
        self.work_cpu_s.clear()
        self.skipped_ticks = 0

    # the timerfd clock
    def _on_timerfd(self) -> None:
        assert self._timerfd is not None
        try:
            expirations = int.from_bytes(os.read(self._timerfd, 8), sys.byteorder)
        except BlockingIOError:
            return
        if expirations > self.max_catch_up + 1:
            if self.legs:  # a stall with no media to send (start-up, gc.freeze) costs nothing
                self.skipped_ticks += expirations - 1
                # the stall counts as lateness, from the first tick it swallowed
                first_due = self._t0 + (self.tick + 1) * self.period_s
                self.lateness_s.append(time.perf_counter() - first_due)
            self.tick += expirations - 1
            expirations = 1
        for _ in range(expirations):
            self._run_tick()

    # the call_later clock
    def _schedule(self) -> None:
        assert self._loop is not None
        due = self._t0 + (self.tick + 1) * self.period_s
        self._handle = self._loop.call_later(max(0.0, due - time.perf_counter()), self._on_tick)

    def _on_tick(self) -> None:
        due = self._t0 + (self.tick + 1) * self.period_s
        if time.perf_counter() < due - 0.0002:  # the loop's timer fired early (ms rounding)
            self._schedule()
            return
        self._run_tick()
        behind = int((time.perf_counter() - due) / self.period_s)
        if behind > self.max_catch_up:
            self.tick += behind
            if self.legs:
                self.skipped_ticks += behind
        self._schedule()

    def _run_tick(self) -> None:
        self.tick += 1
        if not self.legs:
            return
        due = self._t0 + self.tick * self.period_s
        now = time.perf_counter()
        self.lateness_s.append(now - due)
        cpu = time.thread_time()
        tick = self.tick
        for leg in tuple(self.legs):
            leg.on_tick(tick)
        done = time.perf_counter()
        self.work_cpu_s.append(time.thread_time() - cpu)
        self.send_lateness_s.append(done - due)
        self.work_s.append(done - now)

    def stats(self) -> dict[str, float]:
        def pct(values: deque[float], q: float) -> float:
            return float(np.percentile(np.asarray(values), q) * 1000) if values else 0.0

        return {
            "ticks": float(len(self.lateness_s)),
            "lateness_p50_ms": pct(self.lateness_s, 50),
            "lateness_p99_ms": pct(self.lateness_s, 99),
            "lateness_max_ms": pct(self.lateness_s, 100),
            "send_lateness_p50_ms": pct(self.send_lateness_s, 50),
            "send_lateness_p99_ms": pct(self.send_lateness_s, 99),
            "send_lateness_max_ms": pct(self.send_lateness_s, 100),
            "tick_work_p50_ms": pct(self.work_s, 50),
            "tick_work_p99_ms": pct(self.work_s, 99),
            "tick_cpu_p50_ms": pct(self.work_cpu_s, 50),
            "tick_cpu_p99_ms": pct(self.work_cpu_s, 99),
            "skipped_ticks": float(self.skipped_ticks),
        }


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


def _timespec(seconds: float) -> _Timespec:
    whole = int(seconds)
    return _Timespec(whole, int(round((seconds - whole) * 1e9)))


def _timerfd(first_s: float, period_s: float) -> int | None:
    """A non-blocking periodic CLOCK_MONOTONIC timerfd (Linux; os.timerfd_* is Python 3.13+)
    first expiring at the absolute time `first_s`; None where the system has none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        create, settime = libc.timerfd_create, libc.timerfd_settime
    except (OSError, AttributeError):
        return None
    clock_monotonic, tfd_nonblock, tfd_cloexec, tfd_timer_abstime = 1, 0o4000, 0o2000000, 1
    fd = int(create(clock_monotonic, tfd_nonblock | tfd_cloexec))
    if fd < 0:
        return None
    spec = _Itimerspec(_timespec(period_s), _timespec(first_s))
    if settime(fd, tfd_timer_abstime, ctypes.byref(spec), None) != 0:
        os.close(fd)
        return None
    return fd


def tune_gc() -> None:
    """Keep the collector out of the 20 ms tick: what exists after start-up (prompts, flows,
    modules) moves to the permanent generation, and young collections run less often (a
    media loop allocates little that lives, so gen0 fills slowly and each pass is short)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)


def realtime_priority(priority: int) -> str:
    """Run the calling thread (the event loop's, which drives the 20 ms media clock) under
    SCHED_FIFO at `priority` (1-99), as FreeSWITCH's `-rp` and Asterisk's `-p` do for theirs.

    On a shared machine an ordinary process waits for the CPU behind whatever else is
    runnable, so a tick starts late by a scheduler slice (bench/voice_tick.py, 400 legs, load
    average 4.6: lateness p99 30 ms; with SCHED_FIFO 0.4 ms). The kernel's real-time
    throttling (/proc/sys/kernel/sched_rt_runtime_us, 95 % by default) still leaves the rest of
    the machine its share if the loop ever spins. Only this thread changes: threads it starts
    later inherit the policy, so thread pools pass `normal_priority` as their initializer.
    Returns a line for the log: what was set, or why it could not be (no CAP_SYS_NICE, an
    RLIMIT_RTPRIO of 0, not Linux); the worker runs on either way."""
    if priority <= 0:
        return "real-time priority off"
    if not hasattr(os, "sched_setscheduler"):
        return "real-time priority not available on this system"
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(min(priority, 99)))
    except OSError as exc:
        return (
            f"real-time priority {priority} refused ({exc.strerror}): run as a user with "
            "CAP_SYS_NICE or an rtprio limit (ulimit -r), or without --realtime-priority"
        )
    return f"real-time priority: SCHED_FIFO {min(priority, 99)} for the media loop"


def normal_priority() -> None:
    """Thread initializer: back to the ordinary time-sharing policy (database and other
    blocking work must not run at the media loop's real-time priority)."""
    if hasattr(os, "sched_setscheduler"):
        with contextlib.suppress(OSError):
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))


# ---- RTP per leg --------------------------------------------------------------------------


class RtpLeg(asyncio.DatagramProtocol):
    """The RTP of one call leg: sends one frame per clock tick with its own SSRC, sequence
    and timestamp (so a bridged stream is rewritten, not forwarded), receives audio and
    RFC 4733 events. Bad packets are counted and dropped."""

    def __init__(self, clock: MediaClock, on_digit: Callable[[str], None]) -> None:
        self.clock = clock
        self.on_digit = on_digit
        self.transport: asyncio.DatagramTransport | None = None
        self.local_port = 0
        self.remote: tuple[str, int] | None = None
        self.payload_type = sdp.PCMU
        self.telephone_event: int | None = 101
        self.ssrc = secrets.randbits(32)
        self.sequence = secrets.randbits(16)
        self.timestamp = secrets.randbits(32)
        self.sending = False
        self.marker = True
        self._frames: list[bytes] | None = None
        self._index = 0
        self._looping = False
        self._done: asyncio.Future[None] | None = None
        self.peer: RtpLeg | None = None
        self.relay: deque[bytes] = deque(maxlen=4)
        self.recorder: Recorder | None = None
        self.dtmf = rtp.DtmfReceiver()
        self.sent = 0
        self.received = 0
        self.dropped = 0
        self.received_level = 0.0  # RMS of the last received audio frame
        self._buffer = bytearray(12 + rtp.SAMPLES_PER_FRAME)

    # asyncio protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)
        self.local_port = self.transport.get_extra_info("sockname")[1]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        # The common packet, audio in the negotiated codec with a bare 12-byte header, is
        # handled without building an RtpPacket: this runs 50 times a second per leg.
        if len(data) > 12 and data[0] == 0x80 and data[1] & 0x7F == self.payload_type:
            self.received += 1
            if self.recorder is None and self.peer is None:
                return  # audio nobody listens to
            payload = data[12:]
            if self.recorder is not None:
                self.recorder.on_received(self.clock.tick, payload, self.payload_type)
            peer = self.peer
            if peer is not None:
                if peer.payload_type != self.payload_type:
                    payload = rtp.transcode(payload, self.payload_type, peer.payload_type)
                peer.relay.append(payload)
            return
        try:
            packet = rtp.parse_rtp(data)
        except rtp.RtpError:
            self.dropped += 1
            if self.dropped in (1, 100, 10_000):
                log.info("rtp: dropped %d bad packets on port %d", self.dropped, self.local_port)
            return
        self.received += 1
        if packet.payload_type == self.telephone_event and self.telephone_event is not None:
            digit = self.dtmf.feed(packet, time.monotonic())
            if digit is not None:
                self.on_digit(digit)
            return
        if packet.payload_type not in (sdp.PCMU, sdp.PCMA) or not packet.payload:
            self.dropped += 1
            return
        if self.recorder is not None:
            self.recorder.on_received(self.clock.tick, packet.payload, packet.payload_type)
        if self.peer is not None:
            self.peer.relay.append(
                rtp.transcode(packet.payload, packet.payload_type, self.peer.payload_type)
            )

    def error_received(self, exc: Exception) -> None:
        log.debug("rtp: socket error on port %d: %s", self.local_port, exc)

    # playing
    def play(self, frames: list[bytes], looping: bool = False) -> asyncio.Future[None]:
        self.stop_playing()
        self._frames = frames
        self._index = 0
        self._looping = looping
        self._done = asyncio.get_running_loop().create_future()
        self.marker = True
        if not frames:
            self._finish()
        return self._done

    def stop_playing(self) -> None:
        self._frames = None
        self._finish()

    def _finish(self) -> None:
        if self._done is not None and not self._done.done():
            self._done.set_result(None)

    def on_tick(self, tick: int) -> None:
        transport = self.transport
        if not self.sending or self.remote is None or transport is None:
            return
        frames = self._frames
        if self.peer is not None:
            relay = self.relay
            payload = relay.popleft() if relay else rtp.SILENCE[self.payload_type]
        elif frames is not None:
            payload = frames[self._index]
            self._index += 1
            if self._index >= len(frames):
                if self._looping:
                    self._index = 0
                else:
                    self._frames = None
                    self._finish()
        else:
            payload = rtp.SILENCE[self.payload_type]
        # the hot path (one packet per leg per tick): the header is packed into a buffer the
        # leg keeps, the payload copied behind it, and the buffer sent: no allocation per packet
        buffer = self._buffer
        if len(payload) != len(buffer) - 12:
            buffer = self._buffer = bytearray(12 + len(payload))
        sequence = self.sequence
        _RTP_HEADER.pack_into(
            buffer,
            0,
            0x80,
            (0x80 if self.marker else 0) | self.payload_type,
            sequence,
            self.timestamp,
            self.ssrc,
        )
        buffer[12:] = payload
        self.marker = False
        self.sequence = (sequence + 1) & 0xFFFF
        self.timestamp = (self.timestamp + rtp.SAMPLES_PER_FRAME) & 0xFFFFFFFF
        transport.sendto(buffer, self.remote)
        if transport.get_write_buffer_size():
            # the socket was full and the loop queued the buffer itself (uvloop keeps a
            # reference, not a copy): the next packet gets a buffer of its own
            self._buffer = bytearray(len(buffer))
        self.sent += 1
        if self.recorder is not None:
            self.recorder.on_sent(tick, payload, self.payload_type)

    def close(self) -> None:
        self.sending = False
        self.stop_playing()
        self.clock.legs.discard(self)
        if self.peer is not None:
            self.peer.peer = None
            self.peer = None
        if self.transport is not None:
            self.transport.close()


# ---- calls --------------------------------------------------------------------------------


@dataclass
class Dialog:
    call_id: str
    local_tag: str
    remote_tag: str
    local_uri: str  # the From/To value on our side, without tag
    remote_uri: str
    remote_target: str  # Contact of the peer: request URI of in-dialog requests
    peer_addr: tuple[str, int]
    local_cseq: int = 1
    route: list[str] = field(default_factory=list)


class Call:
    """One leg of a call, inbound (we are the UAS) or outbound (UAC). Implements `Media`."""

    def __init__(
        self,
        endpoint: SipEndpoint,
        leg: RtpLeg,
        dialog: Dialog,
        caller: str,
        dialled: str,
        outbound: bool,
        invite: sip.SipMessage | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.leg = leg
        self.dialog = dialog
        self._caller = caller
        self._dialled = dialled
        self.outbound = outbound
        self.invite = invite
        self.answered = False
        self.acked = False
        self.ended = asyncio.Event()
        self.end_reason = ""
        self.digits: deque[str] = deque()
        self._digit_event = asyncio.Event()
        self.recording: Path | None = None
        self.on_hold = False
        self.data: dict[str, object] = {}  # what the application keeps with the call
        leg.on_digit = self._on_digit

    @property
    def call_id(self) -> str:
        return self.dialog.call_id

    @property
    def caller(self) -> str:
        return self._caller

    @property
    def dialled(self) -> str:
        return self._dialled

    def _on_digit(self, digit: str) -> None:
        self.digits.append(digit)
        self._digit_event.set()

    def _check(self) -> None:
        if self.ended.is_set():
            raise CallEnded(self.end_reason or "ended")

    async def _wait(self, *aws: Awaitable[object], timeout_s: float | None = None) -> bool:
        """Wait for the first of `aws` or the end of the call (CallEnded); False on timeout."""
        self._check()
        ended = asyncio.ensure_future(self.ended.wait())
        tasks = [asyncio.ensure_future(a) for a in aws]
        try:
            done, _ = await asyncio.wait(
                [ended, *tasks], timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for t in [ended, *tasks]:
                if not t.done():
                    t.cancel()
        self._check()
        return bool(done)

    async def answer(self) -> None:
        self._check()
        if self.answered:
            return
        await self.endpoint.answer(self)

    async def play(self, prompt: Prompt, *, interruptible: bool = False) -> str | None:
        self._check()
        if interruptible and self.digits:
            return self.digits[0]
        done = self.leg.play(prompt.frames(self.leg.payload_type))
        try:
            while not done.done():
                self._digit_event.clear()
                waits: list[Awaitable[object]] = [asyncio.shield(done)]
                if interruptible:
                    waits.append(self._digit_event.wait())
                await self._wait(*waits)
                if interruptible and self.digits:
                    self.leg.stop_playing()
                    return self.digits[0]
        finally:
            if not done.done():
                self.leg.stop_playing()
        return None

    async def loop(self, prompt: Prompt) -> None:
        self._check()
        self.leg.play(prompt.frames(self.leg.payload_type), looping=True)

    async def collect(
        self, max_digits: int, timeout_s: float, terminator: str = "#", first: str = ""
    ) -> str:
        """Digits until `max_digits`, the terminator, or `timeout_s` without a new digit."""
        got = first
        while len(got) < max_digits:
            if not self.digits:
                self._digit_event.clear()
                if not await self._wait(self._digit_event.wait(), timeout_s=timeout_s):
                    break
                continue
            digit = self.digits.popleft()
            if digit == terminator:
                break
            got += digit
        return got

    def take_digit(self) -> str | None:
        return self.digits.popleft() if self.digits else None

    def record(self, path: Path) -> None:
        self.recording = path
        self.leg.recorder = Recorder(path)

    def link(self, other: Call) -> None:
        """Connect the audio of two calls (each hears the other) without waiting."""
        self._check()
        other._check()
        self.unlink()
        other.unlink()
        self.leg.stop_playing()
        other.leg.stop_playing()
        self.leg.relay.clear()
        other.leg.relay.clear()
        self.leg.peer, other.leg.peer = other.leg, self.leg

    def unlink(self) -> None:
        """Disconnect this call's audio from whatever it was linked to."""
        peer = self.leg.peer
        if peer is not None:
            peer.peer = None
            peer.relay.clear()
        self.leg.peer = None
        self.leg.relay.clear()

    async def reinvite(self, direction: str) -> bool:
        """Offer `direction` (sendrecv, sendonly, inactive) to the peer in a re-INVITE, as
        hold and resume do; False when the peer refused or did not answer."""
        self._check()
        return await self.endpoint.reinvite(self, direction)

    async def bridge(self, other: Media) -> None:
        assert isinstance(other, Call)
        self.link(other)
        try:
            await self._wait(other.ended.wait())
        except CallEnded:
            pass
        finally:
            if self.leg.peer is other.leg:
                self.leg.peer = None
                other.leg.peer = None

    async def hangup(self, status: int = 480) -> None:
        if self.ended.is_set():
            return
        await self.endpoint.hangup(self, status)

    def finish(self, reason: str) -> None:
        if self.ended.is_set():
            return
        self.end_reason = reason
        self.ended.set()
        if self.leg.recorder is not None:
            try:
                self.leg.recorder.close()
            except OSError:
                log.exception("voice: could not write the recording of a call")
        self.leg.close()
        self.endpoint.forget(self)


# ---- the registrar ------------------------------------------------------------------------


@dataclass
class Binding:
    user: str
    contact: str
    addr: tuple[str, int]
    expires_at: float


class Registrar:
    """REGISTER with HTTP digest (RFC 2617, qop=auth, MD5). `ha1_of(user)` gives the stored
    HA1 = MD5(user:realm:password) so no password is kept; nonces are HMACs of their issue
    time, valid 5 minutes."""

    def __init__(self, realm: str, ha1_of: Callable[[str], str | None]) -> None:
        self.realm = realm
        self.ha1_of = ha1_of
        self.bindings: dict[str, Binding] = {}
        self._key = secrets.token_bytes(16)

    def nonce(self) -> str:
        issued = f"{int(time.time()):x}"
        mac = hmac.new(self._key, issued.encode(), hashlib.sha256).hexdigest()[:16]
        return f"{issued}.{mac}"

    def _fresh(self, nonce: str) -> bool:
        issued, _, mac = nonce.partition(".")
        want = hmac.new(self._key, issued.encode(), hashlib.sha256).hexdigest()[:16]
        try:
            age = time.time() - int(issued, 16)
        except ValueError:
            return False
        return hmac.compare_digest(mac, want) and 0 <= age < 300

    def challenge(self) -> str:
        return f'Digest realm="{self.realm}", nonce="{self.nonce()}", algorithm=MD5, qop="auth"'

    def verify(self, method: str, authorization: str | None) -> str | None:
        """The authenticated user, or None."""
        if not authorization or not authorization.lower().startswith("digest "):
            return None
        fields = parse_auth(authorization[7:])
        user = fields.get("username", "")
        ha1 = self.ha1_of(user)
        if ha1 is None or not self._fresh(fields.get("nonce", "")):
            return None
        if fields.get("realm") != self.realm:
            return None

        def md5(text: str) -> str:
            return hashlib.md5(text.encode()).hexdigest()

        ha2 = md5(f"{method}:{fields.get('uri', '')}")
        if fields.get("qop"):
            expected = md5(
                f"{ha1}:{fields['nonce']}:{fields.get('nc', '')}:{fields.get('cnonce', '')}:"
                f"{fields['qop']}:{ha2}"
            )
        else:
            expected = md5(f"{ha1}:{fields['nonce']}:{ha2}")
        return user if hmac.compare_digest(expected, fields.get("response", "")) else None

    def lookup(self, user: str) -> Binding | None:
        binding = self.bindings.get(user)
        if binding is None or binding.expires_at < time.time():
            return None
        return binding


def parse_auth(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    i = 0
    while i < len(text):
        while i < len(text) and text[i] in " ,":
            i += 1
        eq = text.find("=", i)
        if eq < 0:
            break
        key = text[i:eq].strip().lower()
        i = eq + 1
        if i < len(text) and text[i] == '"':
            end = text.find('"', i + 1)
            end = len(text) if end < 0 else end
            fields[key] = text[i + 1 : end]
            i = end + 1
        else:
            end = text.find(",", i)
            end = len(text) if end < 0 else end
            fields[key] = text[i:end].strip()
            i = end
    return fields


# ---- the SIP endpoint ---------------------------------------------------------------------


@dataclass
class _ServerTxn:
    last_response: bytes | None
    addr: tuple[str, int]
    expires_at: float
    call: Call | None = None


@dataclass
class _ClientTxn:
    future: asyncio.Future[sip.SipMessage]
    provisional: asyncio.Future[sip.SipMessage]
    retransmit: asyncio.Task[None] | None = None


class SipTcpConnection(asyncio.Protocol):
    """One SIP-over-TCP connection (RFC 3261 18.3): the byte stream is cut into messages by
    Content-Length, each handed to the endpoint as if it were a datagram; responses and
    in-dialog requests for this peer go back on the same connection. A stream that cannot be
    framed (no header end within the size limit, a bad Content-Length) is closed with a log
    line; CRLF keep-alives are answered as RFC 5626 3.5.1 asks."""

    def __init__(self, endpoint: SipEndpoint) -> None:
        self.endpoint = endpoint
        self.transport: asyncio.Transport | None = None
        self.peer: tuple[str, int] = ("", 0)
        self._buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        peer = self.transport.get_extra_info("peername")
        self.peer = (str(peer[0]), int(peer[1]))
        self.endpoint.tcp_connections[self.peer] = self

    def connection_lost(self, exc: Exception | None) -> None:
        if self.endpoint.tcp_connections.get(self.peer) is self:
            del self.endpoint.tcp_connections[self.peer]

    def send(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        while buffer:
            if buffer[:2] == b"\r\n":  # keep-alive: a double CRLF ping gets a CRLF pong
                if buffer[:4] == b"\r\n\r\n":
                    del buffer[:4]
                    self.send(b"\r\n")
                else:
                    del buffer[:2]
                continue
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > sip.MAX_MESSAGE_BYTES:
                    self._fail("no end of headers within the size limit")
                return
            length = _content_length(bytes(buffer[:end]))
            if length is None or end + 4 + length > sip.MAX_MESSAGE_BYTES:
                self._fail("a Content-Length that cannot frame the stream")
                return
            total = end + 4 + length
            if len(buffer) < total:
                return
            message = bytes(buffer[:total])
            del buffer[:total]
            self.endpoint.datagram_received(message, self.peer)

    def _fail(self, reason: str) -> None:
        log.warning("sip: closing the TCP connection from %s:%d: %s", *self.peer, reason)
        self._buffer.clear()
        if self.transport is not None:
            self.transport.close()


def _content_length(head: bytes) -> int | None:
    """The Content-Length of a message head (0 when absent), None when it is not a number."""
    for line in head.split(b"\r\n")[1:]:
        name, colon, value = line.partition(b":")
        if colon and name.strip().lower() in (b"content-length", b"l"):
            text = value.strip()
            return int(text) if text.isdigit() else None
    return 0


class SipEndpoint(asyncio.DatagramProtocol):
    """The SIP process side. `on_call(call)` runs as a task for every new inbound call."""

    def __init__(
        self,
        on_call: CallHandler,
        host: str = "127.0.0.1",
        registrar: Registrar | None = None,
        clock: MediaClock | None = None,
    ) -> None:
        self.on_call = on_call
        self.host = host
        self.port = 0
        self.registrar = registrar
        self.clock = clock or MediaClock()
        self.transport: asyncio.DatagramTransport | None = None
        self.tcp_server: asyncio.Server | None = None
        # open SIP-over-TCP connections by peer address: what is sent to that address goes
        # on its connection (a peer's ephemeral TCP port is not a UDP peer's port)
        self.tcp_connections: dict[tuple[str, int], SipTcpConnection] = {}
        self.calls: dict[str, Call] = {}
        self._server_txns: dict[tuple[str, str], _ServerTxn] = {}
        self._client_txns: dict[tuple[str, str], _ClientTxn] = {}
        # INVITEs we sent, by Via branch, until their final response: one that comes after
        # the caller gave up (a cancel, a ring timeout) is still acknowledged, and a late 200
        # is acknowledged and hung up, so the phone does not retransmit or ring on
        self._invites_sent: dict[str, tuple[sip.SipMessage, tuple[str, int], float]] = {}
        self._tasks: set[asyncio.Task[object]] = set()
        self.stats = {"malformed": 0, "answered_400": 0, "calls": 0, "retransmissions": 0}

    # lifecycle
    async def start(self, port: int = 0, tcp: bool = True) -> None:
        """Listen for SIP on UDP and (with `tcp`) TCP, both on the same port number."""
        loop = asyncio.get_running_loop()
        for attempt in range(20):
            await loop.create_datagram_endpoint(lambda: self, local_addr=(self.host, port))
            if not tcp:
                break
            try:
                self.tcp_server = await loop.create_server(
                    lambda: SipTcpConnection(self), self.host, self.port
                )
                break
            except OSError:
                if port or attempt == 19:
                    raise  # the port asked for is taken on TCP
                assert self.transport is not None
                self.transport.close()  # a port picked by the system: try another one
        self.clock.start()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)
        self.port = self.transport.get_extra_info("sockname")[1]

    async def close(self) -> None:
        for call in list(self.calls.values()):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(call.hangup(), 1.0)
            call.finish("shutdown")
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        self.clock.stop()
        if self.tcp_server is not None:
            self.tcp_server.close()
            for connection in list(self.tcp_connections.values()):
                if connection.transport is not None:
                    connection.transport.close()
            await self.tcp_server.wait_closed()
        if self.transport is not None:
            self.transport.close()

    def _spawn(self, coro: Awaitable[object]) -> asyncio.Task[object]:
        task: asyncio.Task[object] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _send(self, message: sip.SipMessage | bytes, addr: tuple[str, int]) -> None:
        if self.transport is None:
            return
        data = message if isinstance(message, bytes) else message.to_bytes()
        connection = self.tcp_connections.get(addr)
        if connection is not None:
            connection.send(data)
        else:
            self.transport.sendto(data, addr)

    def reliable(self, addr: tuple[str, int]) -> bool:
        """Whether `addr` is reached over TCP (no retransmissions by the transaction)."""
        return addr in self.tcp_connections

    @property
    def contact(self) -> str:
        return f"<sip:lianluo@{self.host}:{self.port}>"

    def contact_for(self, addr: tuple[str, int]) -> str:
        if self.reliable(addr):
            return f"<sip:lianluo@{self.host}:{self.port};transport=tcp>"
        return self.contact

    def _via(self, branch: str, addr: tuple[str, int] | None = None) -> str:
        transport = "TCP" if addr is not None and self.reliable(addr) else "UDP"
        return f"SIP/2.0/{transport} {self.host}:{self.port};branch={branch};rport"

    # receiving
    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if not data.strip():
            return  # CRLF keep-alive
        try:
            message = sip.parse(data)
        except sip.SipParseError as exc:
            self.stats["malformed"] += 1
            self._bad_request(data, addr, str(exc))
            return
        try:
            if message.is_request:
                self._on_request(message, addr)
            else:
                self._on_response(message)
        except (sip.SipParseError, ValueError) as exc:
            self.stats["malformed"] += 1
            log.warning("sip: %s from %s:%d: %s", message.method or "response", *addr, exc)
            if message.is_request and message.method != "ACK":
                self._send(sip.response_to(message, 400, f"Bad Request ({exc})"[:120]), addr)

    def _bad_request(self, data: bytes, addr: tuple[str, int], reason: str) -> None:
        """Answer 400 when the request names enough to be answered; otherwise drop it."""
        try:
            text = data[:8192].decode("utf-8", "replace")
        except Exception:  # pragma: no cover - decode with replace does not raise
            text = ""
        lines = text.replace("\r\n", "\n").split("\n")
        start = lines[0] if lines else ""
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if colon and name.strip():
                key = sip.header_name(name)
                headers.setdefault(key, value.strip())
        needed = ("Via", "From", "To", "Call-ID", "CSeq")
        if (
            start.endswith("SIP/2.0")
            and not start.startswith("ACK")
            and all(h in headers for h in needed)
        ):
            response = sip.SipMessage(status=400, reason=f"Bad Request ({reason})"[:120])
            for h in needed:
                response.add(h, headers[h])
            self._send(response, addr)
            self.stats["answered_400"] += 1
            log.warning("sip: answered 400 to %s:%d: %s", addr[0], addr[1], reason)
        else:
            log.warning(
                "sip: dropped a malformed datagram from %s:%d: %s", addr[0], addr[1], reason
            )

    def _on_request(self, request: sip.SipMessage, addr: tuple[str, int]) -> None:
        method = request.method or ""
        branch = request.top_via_branch
        now = time.monotonic()
        self._expire(now)
        if method == "ACK":
            self._on_ack(request)
            return
        key = (branch, method)
        txn = self._server_txns.get(key) if branch else None
        if txn is not None:  # retransmission: replay the last response
            if txn.last_response is not None:
                self._send(txn.last_response, txn.addr)
            return
        txn = _ServerTxn(None, addr, now + TRANSACTION_TIMEOUT_S)
        if branch:
            self._server_txns[key] = txn
        handler = {
            "INVITE": self._on_invite,
            "BYE": self._on_bye,
            "CANCEL": self._on_cancel,
            "OPTIONS": self._on_options,
            "REGISTER": self._on_register,
        }.get(method)
        if handler is None:
            response = sip.response_to(request, 405)
            response.add("Allow", ALLOW)
            self._respond(txn, response)
            return
        handler(request, addr, txn)

    def _respond(self, txn: _ServerTxn, response: sip.SipMessage) -> None:
        data = response.to_bytes()
        txn.last_response = data
        self._send(data, txn.addr)

    def _expire(self, now: float) -> None:
        if len(self._server_txns) < 256:
            return
        for key in [k for k, t in self._server_txns.items() if t.expires_at < now]:
            del self._server_txns[key]

    def _on_options(self, request: sip.SipMessage, addr: tuple[str, int], txn: _ServerTxn) -> None:
        response = sip.response_to(request, 200, to_tag=sip.new_tag())
        response.add("Allow", ALLOW)
        response.add("Accept", "application/sdp")
        self._respond(txn, response)

    def _on_register(self, request: sip.SipMessage, addr: tuple[str, int], txn: _ServerTxn) -> None:
        if self.registrar is None:
            self._respond(txn, sip.response_to(request, 405))
            return
        user = self.registrar.verify("REGISTER", request.get("authorization"))
        if user is None:
            response = sip.response_to(request, 401, to_tag=sip.new_tag())
            response.add("WWW-Authenticate", self.registrar.challenge())
            self._respond(txn, response)
            return
        if user != sip.user_of(sip.uri_of(request.get("to") or "")):
            self._respond(txn, sip.response_to(request, 403, to_tag=sip.new_tag()))
            return
        contact = request.get("contact") or ""
        expires_raw = sip.param(contact, "expires") or request.get("expires") or "3600"
        expires = int(expires_raw) if expires_raw.isdigit() else 3600
        response = sip.response_to(request, 200, to_tag=sip.new_tag())
        if contact.strip() == "*" or expires == 0:
            self.registrar.bindings.pop(user, None)
        else:
            # requests go to the Contact (RFC 3261 10.2.1); a phone behind NAT would need the
            # source address instead (not handled: agents' phones sit on the centre's network)
            target = sip.uri_of(contact)
            # a phone registered over TCP is called on its own connection (RFC 5626 spirit:
            # its Contact port need not accept connections); over UDP, at its Contact
            reach = addr if self.reliable(addr) else sip.host_port_of(target)
            self.registrar.bindings[user] = Binding(
                user, target, reach, time.time() + min(expires, 3600)
            )
            response.add("Contact", f"{contact.split(';expires')[0]};expires={min(expires, 3600)}")
        self._respond(txn, response)
        log.info("sip: %s registered", user)

    # inbound calls
    def _on_invite(self, request: sip.SipMessage, addr: tuple[str, int], txn: _ServerTxn) -> None:
        existing = self.calls.get(request.call_id)
        if existing is not None and sip.param(request.get("to") or "", "tag"):
            self._on_reinvite(existing, request, txn)
            return
        try:
            offer = sdp.parse_offer(request.body)
            codec = offer.codec()
        except sdp.SdpError as exc:
            self._respond(txn, sip.response_to(request, 488, f"Not Acceptable Here ({exc})"))
            return
        self._respond(txn, sip.response_to(request, 100))
        leg = RtpLeg(self.clock, lambda d: None)
        leg.payload_type = codec
        leg.telephone_event = offer.telephone_event()
        leg.remote = (offer.address, offer.port)
        dialog = Dialog(
            call_id=request.call_id,
            local_tag=sip.new_tag(),
            remote_tag=sip.param(request.get("from") or "", "tag") or "",
            local_uri=(request.get("to") or "").split(";tag=")[0],
            remote_uri=(request.get("from") or "").split(";tag=")[0],
            remote_target=sip.uri_of(request.get("contact") or request.get("from") or ""),
            peer_addr=addr,
            route=request.get_all("record-route"),  # the UAS keeps the order (RFC 3261 12.1.1)
        )
        call = Call(
            self,
            leg,
            dialog,
            caller=sip.user_of(sip.uri_of(request.get("from") or "")),
            dialled=sip.user_of(request.uri or ""),
            outbound=False,
            invite=request,
        )
        txn.call = call
        call.data["invite_txn"] = txn
        self.calls[call.call_id] = call
        self.stats["calls"] += 1
        self._spawn(self._run_call(call))

    async def _run_call(self, call: Call) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.create_datagram_endpoint(lambda: call.leg, local_addr=(self.host, 0))
            await self.on_call(call)
        except CallEnded:
            pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("voice: the call handler failed")
        finally:
            if not call.ended.is_set():
                with contextlib.suppress(Exception):
                    await call.hangup()
                call.finish("handler done")

    def _answer_sdp(self, call: Call, direction: str = "sendrecv") -> bytes:
        return sdp.build_sdp(
            self.host,
            call.leg.local_port,
            call.leg.payload_type,
            call.leg.telephone_event,
            direction,
        )

    async def answer(self, call: Call) -> None:
        txn = call.data["invite_txn"]
        assert isinstance(txn, _ServerTxn)
        assert call.invite is not None
        response = sip.response_to(call.invite, 200, to_tag=call.dialog.local_tag)
        response.add("Contact", self.contact_for(call.dialog.peer_addr))
        response.add("Allow", ALLOW)
        response.add("Content-Type", "application/sdp")
        response.body = self._answer_sdp(call)
        self._respond(txn, response)
        call.answered = True
        call.leg.sending = True
        self.clock.legs.add(call.leg)
        self._spawn(self._retransmit_2xx(call, response.to_bytes()))

    async def _retransmit_2xx(self, call: Call, data: bytes) -> None:
        interval = T1_S
        deadline = time.monotonic() + TRANSACTION_TIMEOUT_S
        while not call.acked and not call.ended.is_set():
            await asyncio.sleep(interval)
            if call.acked or call.ended.is_set():
                return
            if time.monotonic() > deadline:
                log.warning("sip: no ACK for a 200 OK; ending the call")
                await self.hangup(call)
                return
            self._send(data, call.dialog.peer_addr)
            self.stats["retransmissions"] += 1
            interval = min(interval * 2, T2_S)

    def _on_ack(self, request: sip.SipMessage) -> None:
        call = self.calls.get(request.call_id)
        if call is not None and not call.outbound:
            call.acked = True

    def _on_reinvite(self, call: Call, request: sip.SipMessage, txn: _ServerTxn) -> None:
        """Hold and resume: a re-INVITE with sendonly/inactive stops our audio."""
        try:
            offer = sdp.parse_offer(request.body) if request.body else None
        except sdp.SdpError as exc:
            self._respond(txn, sip.response_to(request, 488, f"Not Acceptable Here ({exc})"))
            return
        direction = "sendrecv"
        if offer is not None:
            call.leg.remote = (offer.address, offer.port)
            call.on_hold = offer.direction in ("sendonly", "inactive") or offer.address == "0.0.0.0"
            call.leg.sending = not call.on_hold
            direction = sdp.answer_direction(offer.direction)
        response = sip.response_to(request, 200, to_tag=call.dialog.local_tag)
        response.add("Contact", self.contact_for(call.dialog.peer_addr))
        response.add("Content-Type", "application/sdp")
        response.body = self._answer_sdp(call, direction)
        self._respond(txn, response)

    def _on_bye(self, request: sip.SipMessage, addr: tuple[str, int], txn: _ServerTxn) -> None:
        call = self.calls.get(request.call_id)
        if call is None:
            self._respond(txn, sip.response_to(request, 481))
            return
        self._respond(txn, sip.response_to(request, 200))
        call.finish("remote hangup")

    def _on_cancel(self, request: sip.SipMessage, addr: tuple[str, int], txn: _ServerTxn) -> None:
        invite_txn = self._server_txns.get((request.top_via_branch, "INVITE"))
        call = invite_txn.call if invite_txn is not None else None
        if invite_txn is None or call is None:
            self._respond(txn, sip.response_to(request, 481))
            return
        self._respond(txn, sip.response_to(request, 200))
        if not call.answered and call.invite is not None:
            self._respond(
                invite_txn, sip.response_to(call.invite, 487, to_tag=call.dialog.local_tag)
            )
            call.finish("cancelled")

    def forget(self, call: Call) -> None:
        if self.calls.get(call.call_id) is call:
            del self.calls[call.call_id]

    # ending
    async def hangup(self, call: Call, status: int = 480) -> None:
        if call.ended.is_set():
            return
        if not call.outbound and not call.answered:
            txn = call.data.get("invite_txn")
            if isinstance(txn, _ServerTxn) and call.invite is not None:
                self._respond(
                    txn, sip.response_to(call.invite, status, to_tag=call.dialog.local_tag)
                )
            call.finish("rejected")
            return
        if call.outbound and not call.answered:
            pending = call.data.get("invite_request")
            call.finish("cancelled")
            if isinstance(pending, sip.SipMessage):
                cancel = sip.SipMessage(method="CANCEL", uri=pending.uri)
                for h in ("Via", "From", "To", "Call-ID"):
                    cancel.add(h, pending.get(h) or "")
                cancel.add("CSeq", f"{pending.cseq[0]} CANCEL")
                cancel.add("Max-Forwards", "70")
                with contextlib.suppress(Exception):
                    await self.request(cancel, call.dialog.peer_addr, timeout_s=2.0)
            return
        bye = self._in_dialog(call, "BYE")
        call.finish("local hangup")
        with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
            await self.request(bye, call.dialog.peer_addr, timeout_s=TRANSACTION_TIMEOUT_S)

    async def reinvite(self, call: Call, direction: str) -> bool:
        if not call.answered or call.ended.is_set():
            return False
        invite = self._in_dialog(call, "INVITE")
        invite.add("Contact", self.contact_for(call.dialog.peer_addr))
        invite.add("Allow", ALLOW)
        invite.add("Content-Type", "application/sdp")
        invite.body = self._answer_sdp(call, direction)
        try:
            response = await self.request(invite, call.dialog.peer_addr, timeout_s=8.0)
        except TimeoutError:
            log.warning("sip: no answer to a re-INVITE (%s)", direction)
            return False
        if (response.status or 0) >= 300:
            return False
        self._send(self._ack_for(call, response), call.dialog.peer_addr)
        call.on_hold = direction in ("sendonly", "inactive")
        call.leg.sending = direction in ("sendrecv", "sendonly")
        try:
            answer = sdp.parse_offer(response.body)
            call.leg.remote = (answer.address, answer.port)
        except sdp.SdpError:
            pass  # keep the media address we had
        return True

    def _in_dialog(self, call: Call, method: str) -> sip.SipMessage:
        d = call.dialog
        d.local_cseq += 1
        message = sip.SipMessage(method=method, uri=d.remote_target)
        message.add("Via", self._via(sip.new_branch(), d.peer_addr))
        for route in d.route:
            message.add("Route", route)
        message.add("Max-Forwards", "70")
        message.add("From", f"{d.local_uri};tag={d.local_tag}")
        message.add("To", f"{d.remote_uri};tag={d.remote_tag}" if d.remote_tag else d.remote_uri)
        message.add("Call-ID", d.call_id)
        message.add("CSeq", f"{d.local_cseq} {method}")
        return message

    # client transactions
    async def request(
        self,
        message: sip.SipMessage,
        addr: tuple[str, int],
        timeout_s: float = TRANSACTION_TIMEOUT_S,
        final: bool = True,
    ) -> sip.SipMessage:
        """Send a request, retransmitting over UDP, and return its final response (or the
        first provisional one when `final` is False)."""
        loop = asyncio.get_running_loop()
        key = (message.top_via_branch, message.cseq[1])
        txn = _ClientTxn(loop.create_future(), loop.create_future())
        self._client_txns[key] = txn
        data = message.to_bytes()

        async def retransmit() -> None:
            interval = T1_S
            while True:
                self._send(data, addr)
                if self.reliable(addr):
                    return  # TCP: the transport retransmits (RFC 3261 17.1.1.2, 17.1.2.2)
                await asyncio.sleep(interval)
                if txn.provisional.done() and message.method == "INVITE":
                    return
                self.stats["retransmissions"] += 1
                interval = min(interval * 2, T2_S if message.method != "INVITE" else 64 * T1_S)

        txn.retransmit = asyncio.ensure_future(retransmit())
        try:
            waiting = txn.future if final else asyncio.shield(txn.provisional)
            return await asyncio.wait_for(asyncio.shield(waiting), timeout_s)
        finally:
            txn.retransmit.cancel()
            if final or txn.future.done():
                self._client_txns.pop(key, None)

    def _remember_invite(self, invite: sip.SipMessage, addr: tuple[str, int]) -> None:
        now = time.monotonic()
        if len(self._invites_sent) >= 256:  # none waits longer than an INVITE transaction
            for branch in [b for b, (_, _, at) in self._invites_sent.items() if at < now]:
                del self._invites_sent[branch]
        expires_at = now + 64 * T1_S + TRANSACTION_TIMEOUT_S
        self._invites_sent[invite.top_via_branch] = (invite, addr, expires_at)

    def _on_response(self, response: sip.SipMessage) -> None:
        key = (response.top_via_branch, response.cseq[1])
        txn = self._client_txns.get(key)
        if txn is None:
            call = self.calls.get(response.call_id)
            if call is not None and call.outbound and response.status == 200:
                self._send(self._ack_for(call, response), call.dialog.peer_addr)  # 2xx retrans.
            elif response.cseq[1] == "INVITE" and (response.status or 0) >= 200:
                self._final_after_giving_up(response)
            return
        status = response.status or 0
        if status < 200:
            if not txn.provisional.done():
                txn.provisional.set_result(response)
            return
        if not txn.provisional.done():
            txn.provisional.set_result(response)
        if not txn.future.done():
            txn.future.set_result(response)

    def _final_after_giving_up(self, response: sip.SipMessage) -> None:
        """The final response to an INVITE we no longer wait for (cancelled, timed out):
        a failure is acknowledged (RFC 3261 17.1.1.3); an answer is acknowledged and hung up."""
        sent = self._invites_sent.get(response.top_via_branch)
        if sent is None:
            return
        invite, addr, _ = sent
        if (response.status or 0) >= 300:
            self._invites_sent.pop(response.top_via_branch, None)
            self._send(_ack_non_2xx(invite, response), addr)
            return
        self._spawn(self._hang_up_late_answer(invite, response, addr))

    async def _hang_up_late_answer(
        self, invite: sip.SipMessage, response: sip.SipMessage, addr: tuple[str, int]
    ) -> None:
        if self._invites_sent.pop(response.top_via_branch, None) is None:
            return  # a retransmission of the 200 we are already hanging up
        dialog = Dialog(
            call_id=invite.call_id,
            local_tag=sip.param(invite.get("from") or "", "tag") or "",
            remote_tag=sip.param(response.get("to") or "", "tag") or "",
            local_uri=(invite.get("from") or "").split(";tag=")[0],
            remote_uri=(invite.get("to") or "").split(";tag=")[0],
            remote_target=sip.uri_of(response.get("contact") or invite.uri or ""),
            peer_addr=addr,
            local_cseq=invite.cseq[0],
            route=list(reversed(response.get_all("record-route"))),
        )
        late = Call(self, RtpLeg(self.clock, lambda d: None), dialog, "", "", outbound=True)
        self._send(self._ack_for(late, response), addr)
        log.info("sip: the phone answered an INVITE we had cancelled; hanging it up")
        with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
            await self.request(self._in_dialog(late, "BYE"), addr, timeout_s=TRANSACTION_TIMEOUT_S)

    def _ack_for(self, call: Call, response: sip.SipMessage) -> sip.SipMessage:
        d = call.dialog
        ack = sip.SipMessage(method="ACK", uri=d.remote_target)
        ack.add("Via", self._via(sip.new_branch(), d.peer_addr))
        ack.add("Max-Forwards", "70")
        ack.add("From", f"{d.local_uri};tag={d.local_tag}")
        ack.add("To", response.get("to") or d.remote_uri)
        ack.add("Call-ID", d.call_id)
        ack.add("CSeq", f"{response.cseq[0]} ACK")
        return ack

    # outbound calls (agent phones, callbacks)
    async def dial(
        self,
        target_uri: str,
        addr: tuple[str, int],
        caller: str = "lianluo",
        ring_timeout_s: float = 30.0,
        codec: int = sdp.PCMU,
        auto_answer: bool = False,
    ) -> Call:
        """INVITE `target_uri` at `addr`; return the answered call or raise CallEnded.

        `auto_answer` asks the phone to pick up at once, in each of the forms phones know:
        `Call-Info: <…>;answer-after=0` (Polycom, Yealink, Snom, Grandstream, later baresip
        with `;sip_autoanswer=yes`), `Alert-Info: <…>;info=alert-autoanswer` (Yealink and
        others) and `Answer-Mode: Auto` (RFC 5373). A phone that honours none of them rings.
        Cancelling the task that awaits this cancels the INVITE (CANCEL, then the phone's 487
        is acknowledged)."""
        loop = asyncio.get_running_loop()
        leg = RtpLeg(self.clock, lambda d: None)
        await loop.create_datagram_endpoint(lambda: leg, local_addr=(self.host, 0))
        call_id = f"{secrets.token_hex(10)}@{self.host}"
        dialog = Dialog(
            call_id=call_id,
            local_tag=sip.new_tag(),
            remote_tag="",
            local_uri=f"<sip:{caller}@{self.host}:{self.port}>",
            remote_uri=f"<{target_uri}>",
            remote_target=target_uri,
            peer_addr=addr,
        )
        call = Call(self, leg, dialog, caller, sip.user_of(target_uri), outbound=True)
        self.calls[call_id] = call
        invite = sip.SipMessage(method="INVITE", uri=target_uri)
        invite.add("Via", self._via(sip.new_branch(), addr))
        invite.add("Max-Forwards", "70")
        invite.add("From", f"{dialog.local_uri};tag={dialog.local_tag}")
        invite.add("To", dialog.remote_uri)
        invite.add("Call-ID", call_id)
        invite.add("CSeq", f"{dialog.local_cseq} INVITE")
        invite.add("Contact", self.contact_for(addr))
        invite.add("Allow", ALLOW)
        if auto_answer:
            invite.add("Call-Info", f"<sip:{self.host}>;answer-after=0")
            invite.add("Alert-Info", f"<sip:{self.host}>;info=alert-autoanswer")
            invite.add("Answer-Mode", "Auto")
        invite.add("Content-Type", "application/sdp")
        invite.body = sdp.build_sdp(self.host, leg.local_port, codec, 101)
        call.data["invite_request"] = invite
        self._remember_invite(invite, addr)
        try:
            response = await self.request(invite, addr, timeout_s=ring_timeout_s)
        except TimeoutError:
            await self.hangup(call)
            raise CallEnded("no answer") from None
        except asyncio.CancelledError:
            self._spawn(self.hangup(call))  # CANCEL; the 487 is acknowledged when it comes
            raise
        status = response.status or 0
        if status >= 300:
            self._invites_sent.pop(invite.top_via_branch, None)
            self._send(_ack_non_2xx(invite, response), addr)
            call.finish(f"rejected {status}")
            raise CallEnded(f"the callee answered {status}")
        if call.ended.is_set():  # answered as we cancelled it (CANCEL and 200 crossed)
            self._final_after_giving_up(response)
            raise CallEnded(call.end_reason)
        self._invites_sent.pop(invite.top_via_branch, None)
        dialog.remote_tag = sip.param(response.get("to") or "", "tag") or ""
        dialog.remote_target = sip.uri_of(response.get("contact") or target_uri)
        dialog.route = list(reversed(response.get_all("record-route")))
        try:
            answer = sdp.parse_offer(response.body)
            leg.payload_type = codec if codec in answer.payload_types else answer.codec()
            leg.telephone_event = answer.telephone_event()
            leg.remote = (answer.address, answer.port)
        except sdp.SdpError:
            self._send(self._ack_for(call, response), addr)
            await self.hangup(call)
            raise CallEnded("the callee's SDP answer is unusable") from None
        self._send(self._ack_for(call, response), addr)
        call.answered = call.acked = True
        leg.sending = True
        self.clock.legs.add(leg)
        return call


def _ack_non_2xx(invite: sip.SipMessage, response: sip.SipMessage) -> sip.SipMessage:
    """The ACK of a failed INVITE: part of its transaction (RFC 3261 17.1.1.3)."""
    ack = sip.SipMessage(method="ACK", uri=invite.uri)
    ack.add("Via", (invite.get("via") or "").split(",")[0])
    for route in invite.get_all("route"):
        ack.add("Route", route)
    ack.add("Max-Forwards", "70")
    ack.add("From", invite.get("from") or "")
    ack.add("To", response.get("to") or invite.get("to") or "")
    ack.add("Call-ID", invite.call_id)
    ack.add("CSeq", f"{invite.cseq[0]} ACK")
    return ack


def install_uvloop() -> bool:
    """Use uvloop's event loop when it is installed (it is optional)."""
    try:
        import uvloop
    except ImportError:
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True
