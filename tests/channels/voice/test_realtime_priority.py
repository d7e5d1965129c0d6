"""The media loop's real-time priority: set on the calling thread only, inherited by threads
it starts, undone by the thread pools' initializer; refused cleanly where not permitted."""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from lianluo.channels.voice.server import normal_priority, realtime_priority

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="SCHED_FIFO is a Linux scheduling policy"
)


def _in_thread(fn: Any) -> Any:
    """Run `fn` in a fresh thread (so the test process's own thread is never made real-time)."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            out["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    t.join(10)
    if "error" in out:
        raise out["error"]
    return out["value"]


def test_priority_zero_changes_nothing() -> None:
    def run() -> tuple[str, int]:
        return realtime_priority(0), os.sched_getscheduler(0)

    line, policy = _in_thread(run)
    assert line == "real-time priority off"
    assert policy == os.SCHED_OTHER


def test_the_loop_thread_goes_fifo_and_pool_threads_come_back_to_normal() -> None:
    def run() -> dict[str, Any]:
        line = realtime_priority(12)
        if "refused" in line:
            return {"line": line}
        seen: dict[str, Any] = {"line": line, "loop": os.sched_getscheduler(0)}
        seen["loop_priority"] = os.sched_getparam(0).sched_priority
        child: dict[str, int] = {}
        t = threading.Thread(target=lambda: child.setdefault("policy", os.sched_getscheduler(0)))
        t.start()
        t.join()
        seen["inherited"] = child["policy"]
        with ThreadPoolExecutor(1, initializer=normal_priority) as pool:
            seen["pool"] = pool.submit(os.sched_getscheduler, 0).result()
        normal_priority()
        seen["after"] = os.sched_getscheduler(0)
        return seen

    seen = _in_thread(run)
    if "refused" in seen["line"]:
        pytest.skip(f"this machine does not allow SCHED_FIFO: {seen['line']}")
    assert seen["line"] == "real-time priority: SCHED_FIFO 12 for the media loop"
    assert seen["loop"] == os.SCHED_FIFO
    assert seen["loop_priority"] == 12
    assert seen["inherited"] == os.SCHED_FIFO  # why the pools need their initializer
    assert seen["pool"] == os.SCHED_OTHER
    assert seen["after"] == os.SCHED_OTHER
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # the test's own thread untouched


def test_a_refusal_is_a_line_not_an_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_setscheduler", refuse)
    line = realtime_priority(10)
    assert line.startswith("real-time priority 10 refused (Operation not permitted)")
    assert "CAP_SYS_NICE" in line
