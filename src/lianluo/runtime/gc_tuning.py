"""Keep the cyclic garbage collector from stalling a served process.

A full (oldest-generation) collection walks every tracked object and holds the event loop
meanwhile. CPython 3.11 runs one whenever the objects promoted since the last one reach a
quarter of the survivors of the last one, so while a server grows (thousands of chat sockets
opening, each some hundred objects) it walks the whole heap again and again: bench/chat.py
with 2,000 chats, timed through `gc.callbacks` on the shared 2-core machine (load average
7-10), showed full collections of 300-1,500 ms over 300-720 thousand objects, every socket's
pings stalled with them (ping p99 1.4-2.5 s); with this tuner, 18-43 ms.

`GcTuner` therefore:
- at start-up collects once and freezes what exists (modules, the app, ORM metadata: it
  lives as long as the process), so no collection walks it again;
- after every full collection freezes again: what survived it is live (the collection just
  removed every unreachable cycle), so the next full collection walks only what came since;
- gives the frozen objects back to the collector every `refreeze_s`: frozen objects that
  die later inside a reference cycle (a closed socket's tasks and frames) are reclaimed only
  then. That costs one full walk (a stall as long as the ones above) per period instead of
  one every few seconds while the process grows. (Giving them back also when the frozen heap
  doubled put such a walk, 0.7-1 s, inside the bench's load window: dropped.)
- raises the young-generation threshold, so objects that live for a commit or two (a
  message in flight) are less often promoted towards the oldest generation (at CPython's
  700, the bench saw several full collections in its load window instead of none);
- logs collections longer than `slow_ms`.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

YOUNG_THRESHOLD = 10_000  # CPython's default is 700 allocations


class GcTuner:
    def __init__(
        self,
        refreeze_s: float = 600.0,
        slow_ms: float = 100.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.refreeze_s = refreeze_s
        self.slow_ms = slow_ms
        self._clock = clock
        self._started = 0.0
        self._unfrozen_at = 0.0
        self._thresholds: tuple[int, int, int] | None = None
        self.full_collections = 0
        self.longest_ms = 0.0

    def install(self) -> None:
        """Call once the process has started (before it takes traffic)."""
        self._thresholds = gc.get_threshold()
        gc.collect()
        gc.freeze()
        self._unfrozen_at = self._clock()
        _, middle, old = self._thresholds
        gc.set_threshold(YOUNG_THRESHOLD, middle, old)
        gc.callbacks.append(self._on_gc)

    def uninstall(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
        gc.unfreeze()

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        took_ms = (time.perf_counter() - self._started) * 1000.0
        self.longest_ms = max(self.longest_ms, took_ms)
        if took_ms > self.slow_ms:
            log.warning(
                "gc: generation %d took %.0f ms (%d collected, %d frozen)",
                info.get("generation", -1),
                took_ms,
                info.get("collected", 0),
                gc.get_freeze_count(),
            )
        if info.get("generation") != 2:
            return
        self.full_collections += 1
        gc.freeze()
        now = self._clock()
        if now - self._unfrozen_at >= self.refreeze_s:
            # the next full collection walks everything once and reclaims dead frozen cycles
            gc.unfreeze()
            self._unfrozen_at = now
