"""A small fixed-window rate limiter per client and bucket (login, actions); 429 with Retry-After."""

from __future__ import annotations

import math
import threading
import time


class RateLimiter:
    """At most `limit` hits per `window_s` for each key; remembers only keys seen this window."""

    def __init__(self, limit: int, window_s: float = 60.0, clock=time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._hits: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Count one hit; None if allowed, else the seconds to wait."""
        now = self._clock()
        with self._lock:
            if len(self._hits) > 10_000:  # forget finished windows, so memory stays bounded
                self._hits = {k: v for k, v in self._hits.items() if now - v[0] < self.window_s}
            start, count = self._hits.get(key, (now, 0))
            if now - start >= self.window_s:
                start, count = now, 0
            if count >= self.limit:
                return max(1.0, math.ceil(self.window_s - (now - start)))
            self._hits[key] = (start, count + 1)
            return None
