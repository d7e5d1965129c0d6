"""The 20 ms media clock (timerfd and call_later) and the recorder's deferred decoding."""

from __future__ import annotations

import asyncio
import socket
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from lianluo.channels.voice import rtp
from lianluo.channels.voice.media import Prompt, Recorder
from lianluo.channels.voice.server import MediaClock, RtpLeg

pytestmark = pytest.mark.timeout(60)


class _Counter:
    """Stands in for a leg: counts the ticks it is given."""

    def __init__(self) -> None:
        self.ticks: list[int] = []

    def on_tick(self, tick: int) -> None:
        self.ticks.append(tick)


@pytest.mark.parametrize("use_timerfd", [True, False])
async def test_the_clock_ticks_every_20_ms_without_drift(use_timerfd: bool) -> None:
    clock = MediaClock(use_timerfd=use_timerfd)
    leg = _Counter()
    clock.legs.add(leg)  # type: ignore[arg-type]
    clock.start()
    try:
        if use_timerfd and sys.platform.startswith("linux"):
            assert clock.timer == "timerfd"
        started = time.perf_counter()
        await asyncio.sleep(1.0)
        elapsed = time.perf_counter() - started
    finally:
        clock.stop()
    # consecutive tick numbers, about one per 20 ms (skips only on a starved machine)
    assert leg.ticks == sorted(leg.ticks)
    assert len(set(leg.ticks)) == len(leg.ticks)
    assert clock.tick == pytest.approx(elapsed / 0.02, abs=3)
    assert len(leg.ticks) + clock.skipped_ticks >= clock.tick - 2
    # one lateness sample per tick sent, and one per stall skipped over
    assert len(leg.ticks) <= clock.stats()["ticks"] <= len(leg.ticks) + clock.skipped_ticks


async def test_a_stalled_loop_catches_up_a_few_ticks_then_skips() -> None:
    clock = MediaClock(max_catch_up=3)
    leg = _Counter()
    clock.legs.add(leg)  # type: ignore[arg-type]
    clock.start()
    try:
        await asyncio.sleep(0.1)
        time.sleep(0.2)  # the loop is blocked for 10 ticks
        await asyncio.sleep(0.1)
    finally:
        clock.stop()
    assert clock.skipped_ticks >= 5
    assert clock.stats()["lateness_max_ms"] >= 150  # the stall shows in the lateness
    gaps = np.diff(leg.ticks)
    assert gaps.max() >= 5  # skipped ahead rather than sending 10 frames at once


async def test_legs_send_numbered_frames_with_their_own_header() -> None:
    loop = asyncio.get_running_loop()
    clock = MediaClock()
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.setblocking(False)
    leg = RtpLeg(clock, lambda d: None)
    await loop.create_datagram_endpoint(lambda: leg, local_addr=("127.0.0.1", 0))
    leg.payload_type = 8
    leg.remote = sink.getsockname()
    leg.sending = True
    prompt = Prompt.tone("t", 440, 0.1)
    done = leg.play(prompt.frames(8))
    clock.legs.add(leg)
    clock.start()
    try:
        await asyncio.wait_for(done, 2.0)
        await asyncio.sleep(0.05)
    finally:
        clock.stop()
        leg.close()
    packets = []
    while True:
        try:
            packets.append(rtp.parse_rtp(sink.recv(2048)))
        except BlockingIOError:
            break
    sink.close()
    assert len(packets) >= 5
    assert packets[0].marker
    assert not any(p.marker for p in packets[1:])
    assert [p.sequence for p in packets] == [
        (packets[0].sequence + i) & 0xFFFF for i in range(len(packets))
    ]
    assert [p.timestamp for p in packets[:5]] == [
        (packets[0].timestamp + 160 * i) & 0xFFFFFFFF for i in range(5)
    ]
    assert b"".join(p.payload for p in packets[:5]) == b"".join(prompt.frames(8))


def test_the_recorder_decodes_both_sides_at_close(tmp_path: Path) -> None:
    tone = Prompt.tone("t", 440, 0.2)
    recorder = Recorder(tmp_path / "r.wav")
    for tick, frame in enumerate(tone.frames(0), start=7):
        recorder.on_sent(tick, frame, 0)
        recorder.on_received(tick, tone.frames(8)[tick - 7], 8)
    recorder.close()
    with wave.open(str(tmp_path / "r.wav"), "rb") as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
    assert len(pcm) == len(tone.pcm)
    # G.711 round trip: within a quantisation step of the original on both channels
    for channel in (0, 1):
        error = np.abs(pcm[:, channel].astype(int) - tone.pcm.astype(int))
        assert error.max() <= 0.07 * 32767 * 0.3 + 16
