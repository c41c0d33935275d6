"""One rate-limit budget per server, shared by every watch that polls it, across threads.

Mastodon tells each response how much of the budget is left (``X-RateLimit-Limit``,
``X-RateLimit-Remaining``, ``X-RateLimit-Reset``; 300 requests per 5 minutes per account by
default) and answers 429 when it is spent, sometimes with ``Retry-After``. The limiter reads
those headers, corrected for the skew between the server's ``Date`` and our clock, and before
each request either lets it go, waits a little, or raises :class:`RateLimited` with the time it
is worth trying again:

- while more than ``reserve`` (20 %) of the budget is left, requests go at once;
- below that, the rest of the budget is spread evenly over the time left in the window, so the
  service slows down before the server has to refuse it;
- after a 429 every caller waits until ``Retry-After`` (else the window's reset, else an
  exponential 2, 4, 8, … s up to 300 s).

No caller waits more than ``max_wait`` (30 s) in all: a longer wait raises at once, so one
watch's trouble never stalls the thread pool that runs the other watches.

The limiter is also where a server's trouble is shared: a retry's backoff (:meth:`defer`) holds
back every caller, not just the one that failed, and a server that failed a request through all
its retries is left alone for ``cooldown`` (:meth:`suspend`): other watches of that server fail
fast with :class:`SourceError` instead of each spending its own retries on it.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable, Mapping

from detector.config import InstanceConfig
from detector.errors import RateLimited, SourceError
from detector.logs import get_logger

Clock = Callable[[], float]
Sleep = Callable[[float], None]

log = get_logger("detector.sources.ratelimit")

_WINDOW_TOLERANCE = 1.0  # seconds: resets closer than this belong to the same window


def parse_http_date(value: str) -> float | None:
    """An RFC 9110 date (``Sun, 06 Nov 1994 08:49:37 GMT``) as POSIX seconds, or None."""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()


def parse_reset(value: str) -> float | None:
    """``X-RateLimit-Reset``: Mastodon sends ISO 8601; some servers send POSIX seconds."""
    text = value.strip()
    if text.isdigit():
        return float(text)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return parse_http_date(value)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).isoformat(timespec="seconds")


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


class RateLimiter:
    """The shared budget of one server. Thread-safe; never sleeps while holding its lock."""

    def __init__(
        self,
        name: str,
        *,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
        max_wait: float = 30.0,
        reserve: float = 0.2,
        backoff_cap: float = 300.0,
    ) -> None:
        self.name = name
        self.max_wait = max_wait
        self.reserve = reserve
        self.backoff_cap = backoff_cap
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._limit: int | None = None
        self._remaining: int | None = None
        self._reset_at: float | None = None
        self._next_slot = 0.0
        self._blocked_until = 0.0
        self._refusals = 0  # consecutive 429s, across all callers
        self._down_until = 0.0
        self._down_reason = ""

    @property
    def blocked_until(self) -> float:
        """POSIX time before which the server asked us not to come back (0 if it did not)."""
        with self._lock:
            return self._blocked_until

    @property
    def remaining(self) -> int | None:
        with self._lock:
            return self._remaining

    def acquire(self) -> None:
        """Wait for a turn to send one request, or raise :class:`RateLimited` if that is too long."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                if self._down_until > now:
                    raise SourceError(
                        f"{self.name}: {self._down_reason}; not trying again before {_iso(self._down_until)}",
                        hint="the server is down or unreachable; botwatch tries again at the next poll",
                    )
                verdict, delay = self._turn_locked(now, self.max_wait - waited)
            if verdict == "refuse":
                retry_at = now + delay
                log.warning("source.rate_limited", instance=self.name, retry_at=retry_at, wait=round(delay, 3))
                raise RateLimited(f"{self.name}: rate limited; retry after {_iso(retry_at)}", retry_at=retry_at)
            if delay > 0:
                log.debug("source.pace", instance=self.name, wait=round(delay, 3))
                self._sleep(delay)
                waited += delay
            if verdict == "go":
                return

    def defer(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` (a retry's backoff applies to the whole server)."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._clock() + seconds)

    def suspend(self, seconds: float, reason: str) -> None:
        """Refuse every request for ``seconds``: ``reason`` (no secrets) says why, in the error."""
        with self._lock:
            self._down_until = max(self._down_until, self._clock() + seconds)
            self._down_reason = reason

    def _turn_locked(self, now: float, allowance: float) -> tuple[str, float]:
        """``("go", d)``: sleep d, then send (a turn is reserved); ``("wait", d)``: sleep d, ask
        again; ``("refuse", d)``: d exceeds ``allowance``, nothing is reserved."""
        if self._blocked_until > now:
            delay = self._blocked_until - now
            return ("wait" if delay <= allowance else "refuse"), delay
        if self._reset_at is None or self._remaining is None:
            return "go", 0.0
        if self._reset_at <= now:  # the window is over; the next response will tell the new budget
            self._remaining = None
            self._reset_at = None
            return "go", 0.0
        if self._remaining <= 0:
            delay = self._reset_at - now
            return ("wait" if delay <= allowance else "refuse"), delay
        delay = 0.0
        if self._limit and self._remaining <= self.reserve * self._limit:
            start = max(now, self._next_slot)
            delay = start - now
            if delay > allowance:
                return "refuse", delay
            self._next_slot = start + (self._reset_at - now) / self._remaining
        self._remaining -= 1
        return "go", delay

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Learn from one response: its budget headers and, on a 429, when to come back."""
        now = self._clock()
        server_now = parse_http_date(headers["Date"]) if headers.get("Date") else None
        skew = now - server_now if server_now is not None else 0.0
        limit = _int(headers.get("X-RateLimit-Limit"))
        remaining = _int(headers.get("X-RateLimit-Remaining"))
        reset = parse_reset(headers["X-RateLimit-Reset"]) if headers.get("X-RateLimit-Reset") else None
        reset_at = reset + skew if reset is not None else None
        retry_after = self._retry_after(headers.get("Retry-After"), now, server_now) if status == 429 else None
        with self._lock:
            if limit is not None:
                self._limit = limit
            if retry_after is not None:
                # a 429 that says when to come back says more than the budget headers beside it
                self._remaining = self._reset_at = None
            elif reset_at is not None and remaining is not None:
                same_window = self._reset_at is not None and abs(reset_at - self._reset_at) <= _WINDOW_TOLERANCE
                if same_window and self._remaining is not None:
                    # responses of concurrent requests arrive out of order: the budget only shrinks
                    self._remaining = min(self._remaining, remaining)
                else:
                    self._remaining = remaining
                    self._reset_at = reset_at
                    self._next_slot = now
            if status == 429:
                self._refusals += 1
                until = retry_after
                if until is None and reset_at is not None and reset_at > now:
                    until = reset_at
                if until is None:
                    until = now + min(self.backoff_cap, 2.0**self._refusals)
                self._blocked_until = max(self._blocked_until, until)
            else:
                self._refusals = 0

    def _retry_after(self, value: str | None, now: float, server_now: float | None) -> float | None:
        if not value:
            return None
        seconds = _int(value)
        if seconds is not None:
            return now + max(seconds, 0)
        when = parse_http_date(value)
        if when is None:
            return None
        return now + max(when - (server_now if server_now is not None else now), 0.0)


_shared: dict[tuple[object, ...], RateLimiter] = {}
_shared_lock = threading.Lock()


def shared_limiter(instance: InstanceConfig, *, clock: Clock = time.time, sleep: Sleep = time.sleep) -> RateLimiter:
    """The process-wide limiter of ``instance``: every source built for it shares one budget.

    Keyed by the clock and sleep too, so that tests with their own fake clocks never share.
    """
    key = (instance.name, instance.url, clock, sleep)
    with _shared_lock:
        limiter = _shared.get(key)
        if limiter is None:
            limiter = _shared[key] = RateLimiter(instance.name, clock=clock, sleep=sleep)
        return limiter
