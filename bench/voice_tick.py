"""The media loop alone: what one 20 ms tick costs for N RTP legs, without SIP.

N legs of `channels/voice/server.py` (the real `MediaClock` and `RtpLeg`, uvloop when
installed) play a looping prompt to N UDP peers in a second process that echo every packet
back, as SIPp's -rtp_echo does; with `--bridged` the legs are paired and relay each other's
audio (SSRC/sequence/timestamp rewrite), and with `--record` every leg records both directions.
Reported: CPU time per tick (thread time: what the loop costs on a quiet core, whatever else
runs on the machine), its share of one core, the clock's lateness p50/p99/max, skipped ticks
and the load average; CPU of the whole process (receive path included) per second.

    python bench/voice_tick.py                 # 400 legs, 20 s
    python bench/voice_tick.py --quick         # 400 legs, 3 s
    python bench/voice_tick.py --legs 800 --bridged --record
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from lianluo.channels.voice.media import Prompt, Recorder  # noqa: E402
from lianluo.channels.voice.server import MediaClock, RtpLeg, install_uvloop  # noqa: E402


class _Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.transport.sendto(data, addr)


def echo_peers(conn: Connection, n: int) -> None:
    install_uvloop()
    asyncio.run(_echo_peers(conn, n))


async def _echo_peers(conn: Connection, n: int) -> None:
    loop = asyncio.get_running_loop()
    ports = []
    for _ in range(n):
        transport, _ = await loop.create_datagram_endpoint(_Echo, local_addr=("127.0.0.1", 0))
        ports.append(transport.get_extra_info("sockname")[1])
    conn.send(ports)
    stop = asyncio.Event()
    loop.add_reader(conn.fileno(), stop.set)
    await stop.wait()


async def run(args: argparse.Namespace, ports: list[int], uvloop: bool) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    clock = MediaClock()
    music = Prompt.tone("music", 392, 2.0, level=0.2)
    legs: list[RtpLeg] = []
    tmp = Path(tempfile.mkdtemp(prefix="voice-tick-"))
    for i, port in enumerate(ports):
        leg = RtpLeg(clock, lambda d: None)
        await loop.create_datagram_endpoint(lambda leg=leg: leg, local_addr=("127.0.0.1", 0))
        leg.payload_type = 8
        leg.remote = ("127.0.0.1", port)
        leg.sending = True
        if args.record:
            leg.recorder = Recorder(tmp / f"{i}.wav")
        legs.append(leg)
    if args.bridged:
        for a, b in zip(legs[::2], legs[1::2], strict=True):
            a.peer, b.peer = b, a
    else:
        for leg in legs:
            leg.play(music.frames(leg.payload_type), looping=True)
    clock.start()
    for leg in legs:
        clock.legs.add(leg)
    await asyncio.sleep(1.0)  # warm up
    clock.reset_stats()
    cpu0, wall0 = time.process_time(), time.monotonic()
    await asyncio.sleep(args.seconds)
    cpu = (time.process_time() - cpu0) / (time.monotonic() - wall0)
    stats = clock.stats()
    clock.stop()
    received = sum(leg.received for leg in legs)
    sent = sum(leg.sent for leg in legs)
    for leg in legs:
        leg.close()
    if args.record:
        started = time.perf_counter()
        for leg in legs:
            assert leg.recorder is not None
            leg.recorder.close()
        stats["recorder_close_ms_per_leg"] = (time.perf_counter() - started) * 1000 / len(legs)
    return {
        "legs": len(legs),
        "uvloop": uvloop,
        "bridged": args.bridged,
        "record": args.record,
        "process_cpu_pct": round(100 * cpu, 1),
        "tick_share_pct": round(100 * stats["tick_cpu_p50_ms"] / 20.0, 1),
        "sent": sent,
        "received": received,
        "loadavg_1m": os.getloadavg()[0],
        **{k: round(v, 3) for k, v in stats.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--legs", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--bridged", action="store_true", help="legs relay each other's audio")
    parser.add_argument("--record", action="store_true", help="every leg records")
    parser.add_argument("--quick", action="store_true", help="3 s")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.quick:
        args.seconds = 3.0
    legs = args.legs + (args.legs % 2 if args.bridged else 0)
    parent, child = mp.Pipe()
    peers = mp.get_context("fork").Process(target=echo_peers, args=(child, legs))
    peers.start()
    ports = parent.recv()
    uvloop = install_uvloop()
    try:
        result = asyncio.run(run(args, ports, uvloop))
    finally:
        parent.send("stop")
        peers.join(timeout=10)
    if args.json:
        print(json.dumps(result))
    print(
        f"{result['legs']} legs{' bridged' if args.bridged else ''}"
        f"{' recording' if args.record else ''} "
        f"(uvloop {uvloop}, load {result['loadavg_1m']:.2f}): "
        f"tick CPU p50/p99 {result['tick_cpu_p50_ms']:.3f}/{result['tick_cpu_p99_ms']:.3f} ms "
        f"({result['tick_share_pct']:.1f} % of a core), process CPU {result['process_cpu_pct']} %, "
        f"lateness p50/p99/max {result['lateness_p50_ms']:.2f}/{result['lateness_p99_ms']:.2f}/"
        f"{result['lateness_max_ms']:.2f} ms, skipped ticks {int(result['skipped_ticks'])}"
    )
    print(f"voice_tick_cpu_p50: {result['tick_cpu_p50_ms']:.3f} ms")


if __name__ == "__main__":
    main()
