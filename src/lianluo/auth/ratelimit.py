"""Login rate limiting: at most N failures per key in a sliding window.

In-process by default; with Redis configured the count is shared by every worker.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any


class LoginRateLimiter:
    def __init__(self, max_failures: int, window_s: int, redis: Any | None = None) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._redis = redis
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after_s(self, key: str, now: float | None = None) -> int:
        """Seconds until another attempt is allowed; 0 when allowed now."""
        now = time.time() if now is None else now
        if self._redis is not None:
            redis_key = f"lianluo:login:{key}"
            self._redis.zremrangebyscore(redis_key, 0, now - self.window_s)
            if self._redis.zcard(redis_key) < self.max_failures:
                return 0
            oldest = self._redis.zrange(redis_key, 0, 0, withscores=True)
            return max(1, int(oldest[0][1] + self.window_s - now) + 1) if oldest else 0
        with self._lock:
            failures = self._prune(key, now)
            if len(failures) < self.max_failures:
                return 0
            return max(1, int(failures[0] + self.window_s - now) + 1)

    def record_failure(self, key: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        if self._redis is not None:
            redis_key = f"lianluo:login:{key}"
            self._redis.zadd(redis_key, {f"{now}": now})
            self._redis.expire(redis_key, self.window_s)
            return
        with self._lock:
            self._prune(key, now).append(now)

    def reset(self, key: str) -> None:
        if self._redis is not None:
            self._redis.delete(f"lianluo:login:{key}")
            return
        with self._lock:
            self._failures.pop(key, None)

    def _prune(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        return failures
