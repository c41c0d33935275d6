"""Bounded summaries that keep an account's behaviour state small whatever it posts.

The service stores each account's activity as JSON between polls and the offline scorer keeps it
for every account in an archive, so nothing here grows with the number of replies:

- :class:`DistinctSketch`: distinct count of ids (k minimum values, Bar-Yossef et al. 2002); exact
  up to ``k`` ids, about ±1/sqrt(k) relative error beyond.
- :class:`TopCounts`: counts of frequent keys in a capped table. When the table is full a new key
  replaces one seen only once, or is dropped; counts are therefore never overstated (reasons quote
  them), at the price of missing a key that only becomes frequent after the table filled up.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
from typing import Any, Iterable

_HASH_BITS = 52  # JSON-safe integers (exact in JavaScript doubles too)
_HASH_SPACE = float(1 << _HASH_BITS)


@functools.lru_cache(maxsize=65_536)
def hash52(value: str) -> int:
    """A stable 52-bit hash (Python's ``hash`` changes between runs); cached, as ids recur."""
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=7).digest(), "little") >> 4


class DistinctSketch:
    """How many distinct ids were added: the ``k`` smallest hashes seen."""

    __slots__ = ("k", "hashes")

    def __init__(self, k: int = 128, hashes: Iterable[int] = ()) -> None:
        self.k = k
        self.hashes: list[int] = sorted(set(hashes))[:k]

    def add(self, value: str) -> bool:
        """Add an id; ``True`` if the sketch changed (a new id, as far as it can tell)."""
        return self.add_hash(hash52(value))

    def add_hash(self, h: int) -> bool:
        hashes = self.hashes
        if len(hashes) >= self.k and h >= hashes[-1]:
            return False
        i = bisect.bisect_left(hashes, h)
        if i < len(hashes) and hashes[i] == h:
            return False
        hashes.insert(i, h)
        if len(hashes) > self.k:
            hashes.pop()
        return True

    def __contains__(self, value: str) -> bool:
        """Exact while fewer than ``k`` ids were added; afterwards only for the retained ones."""
        h = hash52(value)
        i = bisect.bisect_left(self.hashes, h)
        return i < len(self.hashes) and self.hashes[i] == h

    def estimate(self) -> float:
        if len(self.hashes) < self.k:
            return float(len(self.hashes))
        return (self.k - 1) / ((self.hashes[-1] + 1) / _HASH_SPACE)

    def merge(self, other: "DistinctSketch") -> None:
        self.hashes = sorted(set(self.hashes) | set(other.hashes))[: self.k]

    def to_json(self) -> list[int]:
        return list(self.hashes)

    @classmethod
    def from_json(cls, data: Any, k: int = 128) -> "DistinctSketch":
        if not isinstance(data, list) or not all(isinstance(h, int) and 0 <= h < (1 << _HASH_BITS) for h in data):
            raise ValueError("expected a list of 52-bit integers")
        return cls(k, data)


class TopCounts:
    """Counts of up to ``size`` frequent keys, never overstated (see the module docstring)."""

    __slots__ = ("size", "counts")

    def __init__(self, size: int = 8, counts: dict[str, int] | None = None) -> None:
        self.size = size
        self.counts: dict[str, int] = dict(counts or {})

    def add(self, key: str, n: int = 1) -> None:
        counts = self.counts
        if key in counts:
            counts[key] += n
        elif len(counts) < self.size:
            counts[key] = n
        elif min(counts.values()) <= n:
            # Full: replace a key counted no more than this one (first found), else drop it (the
            # usual case once an account's table has settled, found without a Python loop).
            for old, count in counts.items():
                if count <= n:
                    del counts[old]
                    counts[key] = n
                    break

    def top(self, n: int | None = None) -> list[tuple[str, int]]:
        ranked = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return ranked if n is None else ranked[:n]

    def most(self) -> tuple[str, int] | None:
        return self.top(1)[0] if self.counts else None

    def merge(self, other: "TopCounts") -> None:
        for key, n in other.counts.items():
            self.add(key, n)

    def to_json(self) -> dict[str, int]:
        return dict(self.counts)

    @classmethod
    def from_json(cls, data: Any, size: int = 8) -> "TopCounts":
        if not isinstance(data, dict) or not all(isinstance(k, str) and type(v) is int for k, v in data.items()):
            raise ValueError("expected an object of counts")
        return cls(size, dict(sorted(data.items(), key=lambda kv: -kv[1])[:size]))
