"""How long to wait before retrying a request that failed for a reason that may pass.

Network errors (refused, reset, timed out) and 5xx answers are retried a bounded number of times
with exponentially growing, jittered delays: jitter keeps watches that failed together from
retrying together, and the bound makes a dead server a :class:`~detector.errors.SourceError`
within seconds rather than a job that never ends.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` counts the first try; delays grow ``base * factor**n`` up to ``cap`` seconds.

    With the defaults a request is tried 4 times and the waits between tries are drawn from
    0.5–1 s, 1–2 s and 2–4 s ("equal jitter": half fixed, half random), so a server that stays
    down costs at most 7 s of waiting plus four request timeouts.
    """

    attempts: int = 4
    base: float = 1.0
    factor: float = 2.0
    cap: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.base < 0 or self.factor < 1 or self.cap < 0:
            raise ValueError("base and cap must be >= 0 and factor >= 1")

    def delay(self, failures: int, rng: random.Random, *, hint: float | None = None) -> float:
        """The wait after the ``failures``-th failure (1-based).

        ``hint`` is a server's Retry-After on a 503: honoured when it is within ``cap``, since
        the server knows better than our schedule when it will be back.
        """
        ceiling = min(self.cap, self.base * self.factor ** (failures - 1))
        if hint is not None and 0 <= hint <= self.cap:
            return max(hint, ceiling / 2)
        return ceiling / 2 + rng.uniform(0, ceiling / 2)
