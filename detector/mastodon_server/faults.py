"""Faults the test server injects on demand, so that clients' error handling can be tested for real.

A :class:`Fault` matches request paths with a regular expression (``re.search``), skips the first
``after`` matching requests and then applies to the next ``times`` of them (``None``: to all).
Tests script them in-process (``server.faults.add(...)``) or, for a service under test running
in another process, over HTTP (``POST /_test/faults`` with the same fields as JSON).
"""

from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

FAULT_KINDS = ("error", "hang", "reset", "malformed", "truncated", "html", "rate_limit", "repeat_page")
_DEFAULT_STATUS = {"error": 500, "html": 502, "rate_limit": 429}


@dataclass
class Fault:
    """One scripted failure.

    kinds:
      ``error``       HTTP ``status`` (500, 502, 503, 504, ...) with Mastodon's JSON error body
      ``hang``        say nothing for ``delay`` seconds (longer than the client's timeout), then close
      ``reset``       close the connection with a TCP reset, no response
      ``malformed``   HTTP 200 with a body that is not JSON
      ``truncated``   HTTP 200 with the real JSON cut in the middle
      ``html``        an HTML error page (``status``, default 502, as a proxy in front would send)
      ``rate_limit``  HTTP 429 with Mastodon's error body; ``retry_after`` adds a Retry-After header
      ``repeat_page`` a page that repeats ``overlap`` items of the previous page (cursor off by some)
    """

    path: str
    kind: str
    times: int | None = 1
    after: int = 0
    status: int | None = None
    delay: float = 30.0
    retry_after: int | None = None
    overlap: int = 3
    id: int = 0
    seen: int = 0  # matching requests so far
    hits: int = 0  # requests this fault was applied to
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        if self.times is not None and self.times < 0 or self.after < 0:
            raise ValueError("times and after must not be negative")
        if self.status is None:
            self.status = _DEFAULT_STATUS.get(self.kind, 200)
        self._pattern = re.compile(self.path)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_pattern", None)
        return data


class FaultRegistry:
    """The faults of one server. Thread-safe: the server's handler threads consult it per request."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._next_id = 1

    def add(self, path: str, kind: str, *, times: int | None = 1, after: int = 0, status: int | None = None,
            delay: float = 30.0, retry_after: int | None = None, overlap: int = 3) -> Fault:
        """Script a fault for requests whose path matches ``path`` (a regular expression)."""
        fault = Fault(path, kind, times=times, after=after, status=status, delay=delay, retry_after=retry_after,
                      overlap=overlap)
        with self._lock:
            fault.id = self._next_id
            self._next_id += 1
            self._faults.append(fault)
        return fault

    def add_from_json(self, data: Mapping[str, Any]) -> Fault:
        """The HTTP form: ``{"path": ..., "kind": ..., "times": ..., ...}``; unknown keys are an error."""
        allowed = {"path", "kind", "times", "after", "status", "delay", "retry_after", "overlap"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        if "path" not in data or "kind" not in data:
            raise ValueError("a fault needs 'path' and 'kind'")
        return self.add(**{k: data[k] for k in data})

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def remove(self, fault: Fault) -> None:
        with self._lock:
            self._faults = [f for f in self._faults if f.id != fault.id]

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def match(self, path: str) -> Fault | None:
        """The first live fault for this request, counted as applied; ``None`` if there is none."""
        with self._lock:
            for fault in self._faults:
                if fault.exhausted or not fault._pattern.search(path):
                    continue
                fault.seen += 1
                if fault.seen <= fault.after:
                    continue
                fault.hits += 1
                return fault
        return None
