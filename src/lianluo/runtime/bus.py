"""The event bus: in-process subscribers, and Redis pub/sub or NATS between processes.

Events are published only after the transaction that wrote them commits, so a subscriber never
sees something that was rolled back.

With Redis or NATS configured, every event goes out on `lianluo.events.<tenant_id>` and the
bus listens to all of those subjects: events that other processes published (a SIP worker's
routing, another web worker's desk controls) reach this process's subscribers as if they had
happened here, within a few milliseconds. A process never hears its own events twice: each
message carries the publishing bus's origin and a sequence number, and one seen on both Redis
and NATS is delivered once.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import secrets
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Subscriber = Callable[[dict[str, Any]], None]
CHANNEL_PREFIX = "lianluo.events"
ORIGIN_KEY = "_bus"  # "<origin>:<sequence>" on the wire; removed before subscribers see it
_SEEN_REMOTE = 4096  # remote messages remembered to deliver one heard on two transports once


async def _log_nats_error(exc: Exception) -> None:
    log.warning("NATS: %s", exc)


class EventBus:
    def __init__(
        self,
        redis_url: str | None = None,
        nats_url: str | None = None,
        listen: bool = True,
    ) -> None:
        """`listen`: also deliver the events other processes publish (with Redis or NATS)."""
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self.origin = secrets.token_hex(8)
        self._sequence = itertools.count(1)
        self._seen: set[str] = set()
        self._seen_order: deque[str] = deque()
        self._seen_lock = threading.Lock()
        self.remote_delivered = 0
        self._redis: Any = None
        self._redis_listener: threading.Thread | None = None
        self._redis_stop = threading.Event()
        self._nats_url = nats_url
        self._nats: Any = None
        self._nats_loop: asyncio.AbstractEventLoop | None = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url)
            if listen:
                self._listen_redis()
        if nats_url:
            self._start_nats(nats_url, listen)

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, event: dict[str, Any]) -> None:
        self._deliver(event)
        if self._redis is not None or self._nats is not None:
            tagged = {**event, ORIGIN_KEY: f"{self.origin}:{next(self._sequence)}"}
            data = json.dumps(tagged, default=str).encode()
            subject = f"{CHANNEL_PREFIX}.{event['tenant_id']}"
            if self._redis is not None:
                try:
                    self._redis.publish(subject, data)
                except Exception:
                    log.exception("publishing to Redis failed")
            if self._nats is not None and self._nats_loop is not None:
                asyncio.run_coroutine_threadsafe(self._nats.publish(subject, data), self._nats_loop)

    def _deliver(self, event: dict[str, Any]) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber(event)
            except Exception:  # one bad subscriber must not stop the others
                log.exception("event subscriber failed on %s", event.get("type"))

    def _on_remote(self, data: bytes) -> None:
        """A message from Redis or NATS (their listener threads): to the local subscribers,
        unless this bus sent it or already delivered it."""
        try:
            event = json.loads(data)
        except ValueError:
            log.warning("event bus: dropped a message that is not JSON")
            return
        if not isinstance(event, dict) or "type" not in event or "tenant_id" not in event:
            log.warning("event bus: dropped a message that is not an event")
            return
        tag = str(event.pop(ORIGIN_KEY, ""))
        if tag.partition(":")[0] == self.origin:
            return  # our own, delivered in process when it was published
        if tag:
            with self._seen_lock:
                if tag in self._seen:
                    return  # heard on the other transport already
                self._seen.add(tag)
                self._seen_order.append(tag)
                if len(self._seen_order) > _SEEN_REMOTE:
                    self._seen.discard(self._seen_order.popleft())
        self.remote_delivered += 1
        self._deliver(event)

    # ---- Redis ---------------------------------------------------------------------------

    def _listen_redis(self) -> None:
        import redis

        pubsub = self._redis.pubsub()
        pubsub.psubscribe(f"{CHANNEL_PREFIX}.*")
        # the subscription is in place before the constructor returns: nothing published
        # after it is missed
        confirmed = pubsub.get_message(timeout=5)
        if not confirmed or confirmed.get("type") != "psubscribe":
            pubsub.close()
            raise ConnectionError("LIANLUO_REDIS_URL: the event subscription was not confirmed")
        stop = self._redis_stop

        def run() -> None:
            while not stop.is_set():
                try:
                    message = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
                except redis.RedisError as exc:  # redis-py resubscribes when it reconnects
                    log.warning("event bus: Redis: %s", exc)
                    stop.wait(1.0)
                    continue
                except Exception:
                    log.exception("event bus: the Redis listener failed")
                    break
                if message is not None and message.get("type") == "pmessage":
                    self._on_remote(message["data"])
            pubsub.close()

        self._redis_listener = threading.Thread(target=run, name="lianluo-redis-bus", daemon=True)
        self._redis_listener.start()

    # ---- NATS ----------------------------------------------------------------------------

    def _start_nats(self, url: str, listen: bool) -> None:
        import nats

        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._nats_loop = loop

            async def on_message(message: Any) -> None:
                self._on_remote(message.data)

            async def connect() -> None:
                try:
                    self._nats = await nats.connect(
                        url, connect_timeout=3, max_reconnect_attempts=3,
                        error_cb=_log_nats_error,
                    )  # fmt: skip
                    if listen:
                        await self._nats.subscribe(f"{CHANNEL_PREFIX}.>", cb=on_message)
                        await self._nats.flush()
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
        if self._redis_listener is not None:
            self._redis_stop.set()
            self._redis_listener.join(timeout=5)
            self._redis_listener = None
        if self._redis is not None:
            self._redis.close()
            self._redis = None
