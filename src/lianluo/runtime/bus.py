"""The event bus: in-process subscribers, and Redis pub/sub or NATS between processes.

Events are published only after the transaction that wrote them commits, so a subscriber never
sees something that was rolled back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Subscriber = Callable[[dict[str, Any]], None]
CHANNEL_PREFIX = "lianluo.events"


async def _log_nats_error(exc: Exception) -> None:
    log.warning("NATS: %s", exc)


class EventBus:
    def __init__(self, redis_url: str | None = None, nats_url: str | None = None) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self._redis: Any = None
        self._nats_url = nats_url
        self._nats: Any = None
        self._nats_loop: asyncio.AbstractEventLoop | None = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url)
        if nats_url:
            self._start_nats(nats_url)

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, event: dict[str, Any]) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber(event)
            except Exception:  # one bad subscriber must not stop the others
                log.exception("event subscriber failed on %s", event.get("type"))
        if self._redis is not None or self._nats is not None:
            data = json.dumps(event, default=str).encode()
            subject = f"{CHANNEL_PREFIX}.{event['tenant_id']}"
            if self._redis is not None:
                try:
                    self._redis.publish(subject, data)
                except Exception:
                    log.exception("publishing to Redis failed")
            if self._nats is not None and self._nats_loop is not None:
                asyncio.run_coroutine_threadsafe(self._nats.publish(subject, data), self._nats_loop)

    def _start_nats(self, url: str) -> None:
        import nats

        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._nats_loop = loop

            async def connect() -> None:
                try:
                    self._nats = await nats.connect(
                        url, connect_timeout=3, max_reconnect_attempts=3
                    )
                except Exception as exc:  # reported to the caller below
                    errors.append(exc)
                finally:
                    ready.set()

            try:
                loop.run_until_complete(connect())
                if not errors:
                    loop.run_forever()
            finally:
                loop.close()

        threading.Thread(target=run, name="lianluo-nats", daemon=True).start()
        if not ready.wait(15) or errors:
            cause = errors[0] if errors else "timed out"
            raise ConnectionError(f"LIANLUO_NATS_URL: cannot connect to {url}: {cause}")

    def close(self) -> None:
        if self._nats is not None and self._nats_loop is not None:
            future = asyncio.run_coroutine_threadsafe(self._nats.drain(), self._nats_loop)
            try:
                future.result(timeout=5)
            except Exception:
                log.warning("NATS drain did not finish")
            self._nats_loop.call_soon_threadsafe(self._nats_loop.stop)
            self._nats = None
        if self._redis is not None:
            self._redis.close()
            self._redis = None
