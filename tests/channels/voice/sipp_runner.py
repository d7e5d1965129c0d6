"""Run SIPp (Debian's sip-tester) as a subprocess against a local endpoint."""

from __future__ import annotations

import asyncio
import shutil
import socket
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
        str(free_udp_port() & ~1),
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
    out, _ = await asyncio.wait_for(proc.communicate(), timeout_s + 10)
    return SippResult(proc.returncode or 0, out.decode("utf-8", "replace")[-4000:])
