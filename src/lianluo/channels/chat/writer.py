"""The message writer: every chat message a process receives, from any socket, is queued here,
and one task stores whatever is queued in one transaction per batch (in a thread of its own),
then answers each sender. A message is acknowledged only after the commit that stored it.

One batch is written at a time: while it commits, the next one gathers, so under load a
batch holds what arrived during the previous commit and the cost of a commit is shared by
all of them, where a transaction per message made every message wait for all the commits
queued ahead of it. Batches, and the messages inside one, are answered in the order they were
submitted, so a socket's acknowledgements come in the order it sent its messages.

Outcomes are values (the stored frame, or the `AppError` that refused the message), never
exceptions: when the transaction itself fails, every message of the batch gets `NotStored`
and nothing is acknowledged; the senders resend (client ids make that safe).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from lianluo.channels.chat.service import NewMessage, NotStored, StoreOutcome
from lianluo.errors import AppError

log = logging.getLogger(__name__)

MAX_BATCH = 1000
WRITER_KEY = "chat_writer"

StoreBatch = Callable[[Sequence[NewMessage]], list[StoreOutcome]]


class MessageWriter:
    """Batches `NewMessage`s on the running event loop; `store` writes one batch (in the
    writer's thread) and returns one outcome per message, in order."""

    def __init__(self, store: StoreBatch, max_batch: int = MAX_BATCH) -> None:
        self.loop = asyncio.get_running_loop()
        self._store = store
        self._max_batch = max_batch
        self._queue: deque[tuple[NewMessage, asyncio.Future[StoreOutcome]]] = deque()
        self._wakeup = asyncio.Event()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="chat-writer")
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.batches = 0
        self.stored = 0

    def submit(self, message: NewMessage) -> asyncio.Future[StoreOutcome]:
        """Queue a message; the future gets its outcome once its batch has committed (or
        failed). Call on the writer's loop."""
        future: asyncio.Future[StoreOutcome] = self.loop.create_future()
        if self._closed:
            future.set_result(NotStored("the server is shutting down; send it again"))
            return future
        self._queue.append((message, future))
        self._wakeup.set()
        if self._task is None:
            self._task = self.loop.create_task(self._run(), name="chat-writer")
        return future

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue:
                size = min(len(self._queue), self._max_batch)
                await self._write([self._queue.popleft() for _ in range(size)])

    async def _write(self, batch: list[tuple[NewMessage, asyncio.Future[StoreOutcome]]]) -> None:
        messages = [m for m, _ in batch]
        outcomes: Sequence[StoreOutcome]
        try:
            outcomes = await self.loop.run_in_executor(self._executor, self._store, messages)
            if len(outcomes) != len(batch):
                raise RuntimeError(f"{len(outcomes)} outcomes for {len(batch)} messages")
        except asyncio.CancelledError:
            outcomes = [NotStored("the server is shutting down; send it again")] * len(batch)
            self._answer(batch, outcomes)
            raise
        except Exception:
            log.exception("chat: a batch of %d messages was not stored", len(batch))
            outcomes = [NotStored("the message was not stored; send it again")] * len(batch)
        else:
            self.batches += 1
            self.stored += sum(1 for o in outcomes if not isinstance(o, AppError))
        self._answer(batch, outcomes)

    @staticmethod
    def _answer(
        batch: list[tuple[NewMessage, asyncio.Future[StoreOutcome]]],
        outcomes: Sequence[StoreOutcome],
    ) -> None:
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)

    async def close(self) -> None:
        """Store what is queued, then stop (at shutdown)."""
        self._closed = True
        if self._task is not None:
            while self._queue or self._wakeup.is_set():
                await asyncio.sleep(0.01)
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self._executor.shutdown(wait=False)


def writer_of(ctx: Any, store: StoreBatch) -> MessageWriter:
    """The app's writer on the running loop (created on first use; a test's new loop gets a
    new one)."""
    writer: MessageWriter | None = ctx.extras.get(WRITER_KEY)
    if writer is None or writer.loop is not asyncio.get_running_loop():
        writer = MessageWriter(store)
        ctx.extras[WRITER_KEY] = writer
    return writer


async def close_writer(extras: dict[str, Any]) -> None:
    writer: MessageWriter | None = extras.pop(WRITER_KEY, None)
    if writer is not None and writer.loop is asyncio.get_running_loop():
        await writer.close()
