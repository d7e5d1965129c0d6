"""Run SIPp (Debian's sip-tester) as a subprocess against a local endpoint."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import socket
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SCENARIOS = Path(__file__).parent / "sipp"
SIPP = shutil.which("sipp")

needs_sipp = pytest.mark.skipif(SIPP is None, reason="sipp (apt sip-tester) is not installed")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _worker_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker[2:]) if worker[2:].isdigit() else 0


# SIPp binds audio RTP on -mp and video RTP on -mp + 2 without retrying, so a media port must
# come with its neighbours free. Ports picked by the kernel (port 0) are in the ephemeral range
# (32768 and up) where the next bind(0) of another test may land on mp + 2; media ports come
# from a range below it, a separate slice per xdist worker, so no two tests race for them.
_MEDIA_BASE = 12000 + 4000 * (_worker_index() % 5)
_MEDIA_PORTS = itertools.cycle(range(_MEDIA_BASE, _MEDIA_BASE + 4000, 4))


def free_media_port() -> int:
    """An even port p with p .. p + 3 free on loopback (audio and video RTP and RTCP)."""
    for _ in range(1000):
        port = next(_MEDIA_PORTS)
        if all(_udp_free(port + offset) for offset in range(4)):
            return port
    raise RuntimeError("no free media port range for SIPp")


@dataclass
class SippResult:
    returncode: int
    output: str


def sipp_args(
    scenario: str,
    target_port: int | None,
    *,
    local_port: int | None = None,
    calls: int = 1,
    concurrent: int = 1,
    rate: float = 10.0,
    numbers: str = "numbers.csv",
    timeout_s: float = 40.0,
    extra: list[str] | None = None,
    workdir: Path | None = None,
) -> list[str]:
    assert SIPP is not None
    args = [
        SIPP,
        *([f"127.0.0.1:{target_port}"] if target_port is not None else []),
        "-sf",
        str(SCENARIOS / scenario),
        "-inf",
        str(SCENARIOS / numbers),
        "-i",
        "127.0.0.1",
        "-mi",
        "127.0.0.1",
        "-p",
        str(local_port or free_udp_port()),
        "-mp",
        str(free_media_port()),
        "-m",
        str(calls),
        "-l",
        str(concurrent),
        "-r",
        str(rate),
        "-timeout",
        f"{int(timeout_s)}s",
        "-timeout_error",
        "-nostdin",
        "-trace_err",
        *(extra or []),
    ]
    return args


async def run_sipp(
    scenario: str,
    target_port: int | None,
    *,
    timeout_s: float = 40.0,
    workdir: Path | None = None,
    **options: Any,
) -> SippResult:
    args = sipp_args(scenario, target_port, timeout_s=timeout_s, workdir=workdir, **options)
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=str(workdir) if workdir else None,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout_s + 10)
    finally:
        # a cancelled or timed-out run (the test failed before this phone finished) must not
        # leave the process and its pipe for the garbage collector of a later test
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return SippResult(proc.returncode or 0, out.decode("utf-8", "replace")[-4000:])


_running: set[asyncio.Task[SippResult]] = set()


def spawn(run: Coroutine[Any, Any, SippResult]) -> asyncio.Task[SippResult]:
    """Start a SIPp run in the background; the voice conftest cancels what is left at teardown."""
    task = asyncio.ensure_future(run)
    _running.add(task)
    task.add_done_callback(_running.discard)
    return task


async def cancel_leftovers() -> None:
    leftovers = [task for task in _running if not task.done()]
    for task in leftovers:
        task.cancel()
    await asyncio.gather(*leftovers, return_exceptions=True)
