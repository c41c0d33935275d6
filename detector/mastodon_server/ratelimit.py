"""Mastodon's API rate limit: a fixed window per token (or per client address without one).

Mastodon (``config/initializers/rack_attack.rb``) counts requests in windows aligned to the
period (``now - now % period``) and reports them on every response as ``X-RateLimit-Limit``,
``X-RateLimit-Remaining`` and ``X-RateLimit-Reset``, the end of the window as an ISO 8601 time
with microseconds. Over the limit it answers 429 ``{"error": "Too many requests"}``. The clock
is injected, so tests cross a window by advancing it rather than by sleeping.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable


@dataclass(frozen=True, slots=True)
class RateState:
    limit: int
    remaining: int
    reset_at: float  # POSIX seconds
    allowed: bool

    @property
    def reset_header(self) -> str:
        """``2024-05-06T12:35:00.000000Z``: Ruby's ``Time#iso8601(6)`` for a UTC time."""
        return datetime.fromtimestamp(self.reset_at, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def retry_after(self, now: float) -> int:
        return max(1, int(round(self.reset_at - now)))


class RateLimiter:
    def __init__(self, limit: int, window: int, clock: Callable[[], float]) -> None:
        if limit <= 0 or window <= 0:
            raise ValueError("rate limit and window must be positive")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> RateState:
        """Count one request for ``key`` and say whether it is within the limit."""
        now = self._clock()
        window_start = int(now // self.window) * self.window
        with self._lock:
            if len(self._counts) > 10_000:  # forget old windows
                self._counts = {k: v for k, v in self._counts.items() if k[1] == window_start}
            count = self._counts.get((key, window_start), 0) + 1
            self._counts[(key, window_start)] = count
        return RateState(self.limit, max(self.limit - count, 0), float(window_start + self.window), count <= self.limit)

    def exhaust(self, key: str) -> RateState:
        """The state a forced 429 reports: nothing left until the window ends."""
        now = self._clock()
        window_start = int(now // self.window) * self.window
        return RateState(self.limit, 0, float(window_start + self.window), False)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
