"""This worker's share of the watches, when several ``botwatch run`` processes share a database.

Every worker runs a poll job for every watch, but polls only the watches it holds a lease on
(:mod:`detector.store.leases`). A refresh job, every third of the lease's TTL, beats the
worker's heartbeat, renews its leases, gives up leases beyond its fair share (the watches
divided by the live workers, rounded up; one being polled right now is asked to stop at its
next step and is given up when that poll returns) and claims free or expired leases up to that
share. So a second worker gets half the watches within two refreshes of starting, and a dead
worker's watches are taken over within about 1⅓ TTL of its last renewal. A poll also checks
its lease between steps, renewing it when a third of the TTL has passed, and stops at once if
the lease was lost: a worker that stalled for longer than the TTL (a paused VM, a long
database outage) cannot go on polling a watch another worker now holds, beyond the one step
(a request and its store, which upserts make harmless) in hand when it stalled.

One worker alone holds every watch, so the embedded SQLite default behaves as before. A worker
restarted after a crash (``kill -9``, an OOM kill) need not wait out its predecessor's leases:
a heartbeat from this host whose process no longer exists is a dead worker, and its leases end
at once. That needs host names unique among the workers, which they are unless misconfigured.
"""

from __future__ import annotations

import functools
import math
import os
import secrets
import socket
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from detector.logs import get_logger
from detector.store.leases import TAKEN_OVER, Lease

log = get_logger("botwatch.leases")


def worker_name() -> str:
    """``host:pid:random``, one per process (every service in it is the same worker); unique
    even when a pid is reused after a restart."""
    return _worker_name(os.getpid())


@functools.cache
def _worker_name(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}:{secrets.token_hex(3)}"


def is_gone(worker: str) -> bool:
    """Whether ``worker`` ran on this host in a process that no longer exists."""
    parts = worker.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    host, pid = parts[0], int(parts[1])
    if host != socket.gethostname() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, another user's
        return False
    return False


class LeaseKeeper:
    """Which watches this worker may poll now; thread-safe (the scheduler's threads share it)."""

    def __init__(self, store, watches: Sequence[str], *, ttl_seconds: float,
                 clock: Callable[[], datetime], worker: str | None = None) -> None:
        self.store = store
        self.watches = sorted(watches)
        self.ttl = timedelta(seconds=ttl_seconds)
        self.clock = clock
        self.worker = worker or worker_name()
        self._held: dict[str, Lease] = {}
        self._busy: set[str] = set()
        self._yielding: set[str] = set()  # beyond the fair share: given up when their polls end
        self._lock = threading.RLock()
        self.refreshed = False

    @property
    def refresh_seconds(self) -> float:
        return self.ttl.total_seconds() / 3

    def held(self) -> list[str]:
        with self._lock:
            return sorted(self._held)

    def refresh(self) -> list[str]:
        """Beat, renew, shed beyond the fair share, claim up to it; returns the watches newly got."""
        with self._lock:
            now = self.clock()
            for other in self.store.live_workers(now=now):
                if is_gone(other):
                    ended = self.store.expire_worker(other, now=now)
                    log.info("lease.worker_gone", worker=self.worker, gone=other, leases=ended)
            live = self.store.heartbeat(self.worker, now=now, ttl=self.ttl)
            for name, lease in list(self._held.items()):
                self._renew(name, lease, now)
            share = math.ceil(len(self.watches) / max(live, 1))
            excess = len(self._held) - share
            for name in sorted(self._held, reverse=True)[:max(excess, 0)]:
                if name in self._busy:
                    self._yielding.add(name)
                else:
                    self._release(name, reason="rebalance")
            self.refreshed = True
            got = []
            for name in self._claim_order():
                if len(self._held) >= share:
                    break
                if name not in self._held and self._claim(name, now):
                    got.append(name)
            return got

    def holds(self, watch: str) -> bool:
        """Whether this worker may poll ``watch`` now, renewing its lease once a third of the TTL
        has passed since the last renewal."""
        with self._lock:
            lease = self._held.get(watch)
            if lease is None or watch in self._yielding:
                return False
            now = self.clock()
            if lease.expires_at - now > self.ttl * 2 / 3:
                return True
            return self._renew(watch, lease, now)

    @contextmanager
    def polling(self, watch: str) -> Iterator[None]:
        """Mark ``watch`` as being polled: a rebalance leaves it be until the poll ends."""
        with self._lock:
            self._busy.add(watch)
        try:
            yield
        finally:
            with self._lock:
                self._busy.discard(watch)
                if watch in self._yielding and watch in self._held:
                    self._release(watch, reason="rebalance")
                self._yielding.discard(watch)

    def release_all(self) -> None:
        """Give every lease up and leave (a clean stop): others take over at their next refresh."""
        with self._lock:
            for name in list(self._held):
                self._release(name, reason="stopping")
            self.store.leave(self.worker)

    def _claim_order(self) -> list[str]:
        """The watches, rotated by a hash of this worker's name, so that workers claiming at the
        same moment start at different watches."""
        if not self.watches:
            return []
        start = zlib.crc32(self.worker.encode()) % len(self.watches)
        return self.watches[start:] + self.watches[:start]

    def _claim(self, name: str, now: datetime) -> bool:
        lease = self.store.claim_lease(name, self.worker, now=now, ttl=self.ttl)
        if lease is None:
            return False
        self._held[name] = lease
        if lease.how == TAKEN_OVER:
            log.info("lease.taken_over", watch=name, worker=self.worker, previous=lease.previous_owner,
                     epoch=lease.epoch)
        else:
            log.info("lease.acquired", watch=name, worker=self.worker, epoch=lease.epoch)
        return True

    def _renew(self, name: str, lease: Lease, now: datetime) -> bool:
        renewed = self.store.renew_lease(lease, now=now, ttl=self.ttl)
        if renewed is None:
            del self._held[name]
            log.warning("lease.lost", watch=name, worker=self.worker, epoch=lease.epoch,
                        expired_at=lease.expires_at.isoformat())
            return False
        self._held[name] = renewed
        return True

    def _release(self, name: str, *, reason: str) -> None:
        self._yielding.discard(name)
        lease = self._held.pop(name)
        self.store.release_lease(lease)
        log.info("lease.released", watch=name, worker=self.worker, reason=reason)
