"""The SIP endpoint against SIPp: a caller hears a prompt, sends DTMF, is hung up on."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np

from lianluo.channels.voice.media import Prompt
from lianluo.channels.voice.server import Call, SipEndpoint
from tests.channels.voice.sipp_runner import needs_sipp, run_sipp

pytestmark = [needs_sipp, pytest_timeout := __import__("pytest").mark.timeout(90)]


async def test_caller_hears_prompt_and_digits_decode_exactly(tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    async def on_call(call: Call) -> None:
        call.record(tmp_path / "call.wav")
        await call.answer()
        seen["dialled"], seen["caller"] = call.dialled, call.caller
        await call.play(Prompt.tone("welcome", 440, 1.0))
        seen["digits"] = await call.collect(8, timeout_s=5.0)
        seen["sent"] = call.leg.sent
        await call.hangup()

    endpoint = SipEndpoint(on_call)
    await endpoint.start()
    try:
        result = await run_sipp("ivr_dtmf.xml", endpoint.port, workdir=tmp_path)
    finally:
        await endpoint.close()
    assert result.returncode == 0, result.output
    assert seen["dialled"] == "4008"
    assert seen["caller"] == "13800138000"
    assert seen["digits"] == "112"
    assert isinstance(seen["sent"], int)
    assert seen["sent"] >= 50  # a second of prompt at least
    with wave.open(str(tmp_path / "call.wav"), "rb") as w:
        assert w.getnchannels() == 2
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
    caller_rms = float(np.sqrt(np.mean(pcm[:, 0].astype(float) ** 2)))
    heard_rms = float(np.sqrt(np.mean(pcm[:, 1].astype(float) ** 2)))
    assert heard_rms > 1000  # the 440 Hz prompt we played
    assert caller_rms > 0  # SIPp's recorded audio arrived
    await asyncio.sleep(0)


async def test_the_same_call_over_tcp(tmp_path: Path) -> None:
    """SIPp on one TCP connection (-t t1): INVITE, ACK, DTMF, and our BYE all on it."""
    seen: dict[str, object] = {}

    async def on_call(call: Call) -> None:
        call.record(tmp_path / "tcp.wav")
        await call.answer()
        seen["reliable"] = call.endpoint.reliable(call.dialog.peer_addr)
        await call.play(Prompt.tone("welcome", 440, 1.0))
        seen["digits"] = await call.collect(8, timeout_s=5.0)
        await call.hangup()

    endpoint = SipEndpoint(on_call)
    await endpoint.start()
    try:
        result = await run_sipp("ivr_dtmf.xml", endpoint.port, workdir=tmp_path, extra=["-t", "t1"])
    finally:
        retransmissions = endpoint.stats["retransmissions"]
        await endpoint.close()
    assert result.returncode == 0, result.output
    assert seen == {"reliable": True, "digits": "112"}
    assert retransmissions == 0
    with wave.open(str(tmp_path / "tcp.wav"), "rb") as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
    assert float(np.sqrt(np.mean(pcm[:, 1].astype(float) ** 2))) > 1000
