"""The event bus: in-process subscribers after commit only, and Redis / NATS between processes
(against the real servers on 127.0.0.1; skipped when one is not running)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lianluo.events.service import event_service
from lianluo.runtime.bus import EventBus


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _event(tenant: str = "t1") -> dict[str, Any]:
    return {"id": 1, "tenant_id": tenant, "type": "contact.queued", "payload": {"n": 1}}


class TestInProcess:
    def test_subscribers_get_events_and_a_failing_one_does_not_stop_others(self) -> None:
        bus = EventBus()
        seen: list[str] = []

        def broken(_event: dict[str, Any]) -> None:
            raise RuntimeError("boom")

        bus.subscribe(broken)
        unsubscribe = bus.subscribe(lambda e: seen.append(e["type"]))
        bus.publish(_event())
        unsubscribe()
        bus.publish(_event())
        assert seen == ["contact.queued"]

    def test_published_after_commit_never_after_rollback(self, sessions: Any, world: Any) -> None:
        bus = EventBus()
        seen: list[str] = []
        bus.subscribe(lambda e: seen.append(e["type"]))
        tenant_id = world.a.tenant.id
        with sessions() as session:
            session.info["lianluo.bus"] = bus
            event_service.append(session, tenant_id, "x.rolled_back")
            session.flush()
            assert seen == []
            session.rollback()
            event_service.append(session, tenant_id, "x.committed", payload={"k": "v"})
            assert seen == []
            session.commit()
        assert seen == ["x.committed"]


@pytest.mark.skipif(not _port_open(6379), reason="Redis is not running on 127.0.0.1:6379")
def test_redis_carries_events_to_other_processes() -> None:
    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    pubsub = client.pubsub()
    tenant = f"t{time.time_ns()}"
    pubsub.subscribe(f"lianluo.events.{tenant}")
    assert pubsub.get_message(timeout=2)["type"] == "subscribe"
    bus = EventBus(redis_url="redis://127.0.0.1:6379/0")
    try:
        bus.publish(_event(tenant))
        message = pubsub.get_message(timeout=3)
        while message and message["type"] != "message":
            message = pubsub.get_message(timeout=3)
        assert message is not None
        assert json.loads(message["data"])["type"] == "contact.queued"
    finally:
        bus.close()
        pubsub.close()
        client.close()


@pytest.mark.skipif(not _port_open(4222), reason="NATS is not running on 127.0.0.1:4222")
def test_nats_carries_events_to_other_processes() -> None:
    import nats

    tenant = f"t{time.time_ns()}"
    received: list[dict[str, Any]] = []

    async def listen_then_publish() -> None:
        nc = await nats.connect("nats://127.0.0.1:4222")
        sub = await nc.subscribe(f"lianluo.events.{tenant}")
        await nc.flush()
        bus = EventBus(nats_url="nats://127.0.0.1:4222")
        try:
            await asyncio.get_running_loop().run_in_executor(None, bus.publish, _event(tenant))
            msg = await sub.next_msg(timeout=3)
            received.append(json.loads(msg.data))
        finally:
            await asyncio.get_running_loop().run_in_executor(None, bus.close)
            await nc.drain()

    asyncio.run(listen_then_publish())
    assert received[0]["tenant_id"] == tenant


def test_unreachable_nats_fails_with_the_setting_name() -> None:
    with pytest.raises(ConnectionError, match="LIANLUO_NATS_URL"):
        EventBus(nats_url="nats://127.0.0.1:1")


# ---- events from other processes ---------------------------------------------------------

REDIS = "redis://127.0.0.1:6379/0"
NATS = "nats://127.0.0.1:4222"
needs_redis = pytest.mark.skipif(not _port_open(6379), reason="Redis is not running")
needs_nats = pytest.mark.skipif(not _port_open(4222), reason="NATS is not running")


class _Inbox:
    """A subscriber that keeps one tenant's events (the servers are shared with other tests)
    with the time each arrived."""

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.condition = threading.Condition()

    def __call__(self, event: dict[str, Any]) -> None:
        if event.get("tenant_id") == self.tenant:
            with self.condition:
                self.events.append((time.perf_counter(), event))
                self.condition.notify_all()

    def wait_for(self, count: int, timeout_s: float = 5.0) -> list[dict[str, Any]]:
        with self.condition:
            self.condition.wait_for(lambda: len(self.events) >= count, timeout_s)
            return [event for _, event in self.events]


def _two_processes(**urls: str) -> tuple[EventBus, EventBus]:
    """Two buses as two processes would have them (each with its own connections)."""
    return EventBus(**urls), EventBus(**urls)


def _delivery_latencies(sender: EventBus, inbox: _Inbox, count: int) -> list[float]:
    latencies = []
    for n in range(count):
        sent = time.perf_counter()
        sender.publish({**_event(inbox.tenant), "id": n})
        inbox.wait_for(n + 1)
        latencies.append(inbox.events[n][0] - sent)
    return latencies


@pytest.mark.parametrize(
    "urls",
    [
        pytest.param({"redis_url": REDIS}, marks=needs_redis, id="redis"),
        pytest.param({"nats_url": NATS}, marks=needs_nats, id="nats"),
    ],
)
def test_events_of_another_process_reach_local_subscribers_fast_and_once(
    urls: dict[str, str],
) -> None:
    tenant = f"t{time.time_ns()}"
    worker, web = _two_processes(**urls)
    on_web, on_worker = _Inbox(tenant), _Inbox(tenant)
    web.subscribe(on_web)
    worker.subscribe(on_worker)
    try:
        latencies = _delivery_latencies(worker, on_web, 30)
        time.sleep(0.2)  # anything delivered twice would have arrived by now
        got = on_web.wait_for(30)
        assert [e["id"] for e in got] == list(range(30))  # each once, in order
        assert all("_bus" not in e for e in got)  # the wire tag stays on the wire
        assert got[0]["payload"] == {"n": 1}
        # the publisher's own subscribers hear each event once (in process), not its echo
        assert [e["id"] for e in on_worker.wait_for(30, 0.2)] == list(range(30))
        assert web.remote_delivered >= 30
        latencies.sort()
        # the desk's screen pop has 200 ms in all; the bus's part is a few milliseconds
        assert latencies[len(latencies) // 2] < 0.05, latencies
        assert latencies[-1] < 0.2, latencies
    finally:
        worker.close()
        web.close()


@needs_redis
@needs_nats
def test_an_event_heard_on_redis_and_nats_is_delivered_once() -> None:
    tenant = f"t{time.time_ns()}"
    worker, web = _two_processes(redis_url=REDIS, nats_url=NATS)
    inbox = _Inbox(tenant)
    web.subscribe(inbox)
    try:
        for n in range(5):
            worker.publish({**_event(tenant), "id": n})
        inbox.wait_for(5)
        time.sleep(0.3)
        assert sorted(e["id"] for e in inbox.wait_for(5)) == list(range(5))
    finally:
        worker.close()
        web.close()


@needs_redis
def test_garbage_on_the_channel_is_dropped_and_events_still_flow() -> None:
    import redis

    tenant = f"t{time.time_ns()}"
    bus = EventBus(redis_url=REDIS)
    inbox = _Inbox(tenant)
    bus.subscribe(inbox)
    client = redis.Redis.from_url(REDIS)
    try:
        subject = f"lianluo.events.{tenant}"
        for junk in (b"\xff\xfe not json", b"[1, 2]", b'{"type": "x"}', b'"text"'):
            client.publish(subject, junk)
        good = {**_event(tenant), "_bus": "elsewhere:1"}
        client.publish(subject, json.dumps(good))
        (event,) = inbox.wait_for(1)
        assert event["type"] == "contact.queued"
        assert "_bus" not in event
    finally:
        client.close()
        bus.close()


def test_a_bus_without_redis_or_nats_stays_in_process() -> None:
    bus = EventBus()
    seen: list[dict[str, Any]] = []
    bus.subscribe(seen.append)
    bus.publish(_event())
    assert seen == [_event()]
    bus.close()


@given(
    st.lists(st.tuples(st.sampled_from(["self", "a", "b", ""]), st.integers(1, 20)), max_size=60)
)
def test_remote_messages_are_delivered_once_and_never_our_own(
    messages: list[tuple[str, int]],
) -> None:
    """Whatever mix of repeats (the same message on two transports), own echoes and untagged
    messages arrives, each distinct foreign message is delivered exactly once."""
    bus = EventBus()
    delivered: list[str] = []
    bus.subscribe(lambda e: delivered.append(str(e.get("id"))))
    for origin, seq in messages:
        event = {"tenant_id": "t", "type": "contact.queued", "id": f"{origin}:{seq}"}
        if origin:
            event["_bus"] = f"{bus.origin if origin == 'self' else origin}:{seq}"
        bus._on_remote(json.dumps(event).encode())
    tagged = {f"{o}:{s}" for o, s in messages if o not in ("self", "")}
    untagged = [f"{o}:{s}" for o, s in messages if o == ""]
    assert sorted(delivered) == sorted([*tagged, *untagged])
