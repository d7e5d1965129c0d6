"""deploy/kamailio on loopback: Kamailio's dispatcher spreads SIPp's calls over two Lianluo
voice workers and keeps every request of a call (INVITE, ACK, BYE) on the same worker."""

from __future__ import annotations

import asyncio
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from lianluo.channels.voice.media import Prompt
from lianluo.channels.voice.server import Call, SipEndpoint
from tests.channels.voice.sipp_runner import free_udp_port, needs_sipp, run_sipp

KAMAILIO = shutil.which("kamailio") or (
    "/usr/sbin/kamailio" if Path("/usr/sbin/kamailio").exists() else None
)
CONFIG = Path(__file__).parents[3] / "deploy/kamailio/kamailio.cfg"

pytestmark = [
    needs_sipp,
    pytest.mark.skipif(KAMAILIO is None, reason="kamailio is not installed"),
    pytest.mark.timeout(120),
]


async def test_calls_are_spread_over_workers_and_stay_on_theirs(tmp_path: Path) -> None:
    seen: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    workers: list[SipEndpoint] = []

    def handler(index: int):  # type: ignore[no-untyped-def]
        async def on_call(call: Call) -> None:
            seen[index][call.call_id].append("INVITE")
            await call.answer()
            await call.loop(Prompt.tone("tone", 440, 0.5))
            await call.ended.wait()
            seen[index][call.call_id].append(call.end_reason)

        return on_call

    for index in range(2):
        worker = SipEndpoint(handler(index))
        await worker.start()
        workers.append(worker)
    dispatcher = tmp_path / "dispatcher.list"
    dispatcher.write_text("".join(f"1 sip:127.0.0.1:{w.port} 0 0\n" for w in workers))
    port = free_udp_port()
    kamailio = await asyncio.create_subprocess_exec(
        str(KAMAILIO), "-f", str(CONFIG), "-DD", "-E", "-m", "64", "-M", "8",
        "-w", str(tmp_path), "-Y", str(tmp_path), "-P", str(tmp_path / "kamailio.pid"),
        "-A", f"LISTEN=udp:127.0.0.1:{port}", "-A", f'DISPATCHER_LIST="{dispatcher}"',
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        await asyncio.sleep(1.5)
        assert kamailio.returncode is None, "kamailio exited at start"
        result = await run_sipp(
            "via_proxy.xml", port, calls=24, concurrent=24, rate=24, workdir=tmp_path
        )
        assert result.returncode == 0, result.output
        await asyncio.sleep(0.3)
    finally:
        kamailio.terminate()
        out, _ = await asyncio.wait_for(kamailio.communicate(), 10)
        for worker in workers:
            await worker.close()
    calls = {cid: (i, events) for i, by_call in seen.items() for cid, events in by_call.items()}
    assert len(calls) == 24, out.decode(errors="replace")[-2000:]
    assert len(seen) == 2
    assert all(len(by_call) > 0 for by_call in seen.values())
    # the BYE of each call reached the worker that answered it (no 481, no stray calls)
    assert all(events == ["INVITE", "remote hangup"] for _, events in calls.values())
