"""The event bus: in-process subscribers after commit only, and Redis / NATS between processes
(against the real servers on 127.0.0.1; skipped when one is not running)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any

import pytest

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
