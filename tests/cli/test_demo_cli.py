"""As a new user would: `lianluo demo` on an empty data directory brings up a server whose /docs
answers, where a demo agent logs in and reads a customer's 360 view; a second run reuses it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(env: dict[str, str], port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "lianluo.cli.main", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_healthy(proc: subprocess.Popen[str], base: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = proc.stdout.read() if proc.stdout else ""
            raise AssertionError(f"lianluo demo exited: {output}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("lianluo demo did not become healthy in time")


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def test_demo_from_nothing_then_again(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LIANLUO_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh' / 'lianluo.db'}",
        "LIANLUO_SECRET_KEY": "demo-test-secret-key-0123456789",
    }
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start(env, port)
    try:
        _wait_healthy(proc, base, timeout_s=180)
        assert httpx.get(f"{base}/docs").status_code == 200
        assert "/api/v1/customers/{customer_id}/360" in httpx.get(f"{base}/openapi.json").text
        login = httpx.post(
            f"{base}/api/v1/auth/login",
            json={"username": "demo.agent01", "password": "demo-agent-1"},
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        found = httpx.get(f"{base}/api/v1/customers", params={"q": "王"}, headers=headers)
        assert found.status_code == 200
        assert found.json()["total"] > 0
        customer = found.json()["items"][0]
        view = httpx.get(f"{base}/api/v1/customers/{customer['id']}/360", headers=headers)
        assert view.status_code == 200
        assert view.json()["customer"]["name"] == customer["name"]
    finally:
        first_output = _stop(proc)
    assert "demo.agent01" in first_output
    assert "http://127.0.0.1:" in first_output

    started = time.monotonic()
    proc = _start(env, port)
    try:
        _wait_healthy(proc, base, timeout_s=120)
    finally:
        _stop(proc)
    assert time.monotonic() - started < 30, "the second run must reuse the seeded tenant"
