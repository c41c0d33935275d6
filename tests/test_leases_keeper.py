"""The lease keeper on a real database: fair shares, rebalancing, takeover after a worker dies,
a lost lease stopping a poll between steps, and a crashed predecessor on this host."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import timedelta

from structlog.testing import capture_logs

from jobs.leases import LeaseKeeper, is_gone
from tests.conftest import T0

WATCHES = [f"w{i}" for i in range(6)]
TTL = 30.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def keeper(store, clock, name):
    return LeaseKeeper(store, WATCHES, ttl_seconds=TTL, clock=clock, worker=f"otherhost:{name}:0")


def test_two_workers_split_the_watches_and_one_takes_over_when_the_other_dies(store):
    clock = Clock()
    a, b = keeper(store, clock, 1), keeper(store, clock, 2)
    assert sorted(a.refresh()) == WATCHES  # alone: all of them
    assert b.refresh() == []  # all held; a gives half up at its next refresh
    clock.advance(10)
    a.refresh()
    b.refresh()
    assert len(a.held()) == len(b.held()) == 3 and set(a.held()).isdisjoint(b.held())
    assert store.lease_owners(clock()) == {**{w: a.worker for w in a.held()}, **{w: b.worker for w in b.held()}}

    clock.advance(10)
    a.refresh()  # b dies after its refresh at +10 s: its leases run out at +40 s
    clock.advance(TTL - 10)
    with capture_logs() as events:
        a.refresh()
        assert a.held() == WATCHES
    taken = [e for e in events if e["event"] == "lease.taken_over"]
    assert {e["watch"] for e in taken} == set(b.held()) and {e["previous"] for e in taken} == {b.worker}
    assert all(e["worker"] == a.worker for e in taken)


def test_holds_renews_after_a_third_of_the_ttl_and_says_no_once_the_lease_moved(store):
    clock = Clock()
    a, b = keeper(store, clock, 1), keeper(store, clock, 2)
    a.refresh()
    clock.advance(TTL / 3 + 1)
    assert a.holds("w0")
    assert store.claim_lease("w0", "x", now=clock(), ttl=timedelta(seconds=TTL)) is None  # renewed
    clock.advance(TTL + 1)  # a stalled past its lease
    b.refresh()
    with capture_logs() as events:
        assert not a.holds("w0")
    assert [e["event"] for e in events] == ["lease.lost"] and events[0]["watch"] == "w0"
    assert "w0" not in a.held()


def test_a_crashed_worker_on_this_host_is_replaced_at_once(store):
    clock = Clock()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    crashed = LeaseKeeper(store, WATCHES, ttl_seconds=TTL, clock=clock,
                          worker=f"{socket.gethostname()}:{int(dead.stdout)}:abc123")
    assert is_gone(crashed.worker) and not is_gone(keeper(store, clock, 1).worker)
    crashed.refresh()
    successor = LeaseKeeper(store, WATCHES, ttl_seconds=TTL, clock=clock)
    with capture_logs() as events:
        assert sorted(successor.refresh()) == WATCHES  # no waiting out the TTL
    assert [e["gone"] for e in events if e["event"] == "lease.worker_gone"] == [crashed.worker]


def test_a_clean_stop_hands_the_watches_over_at_the_next_refresh(store):
    clock = Clock()
    a, b = keeper(store, clock, 1), keeper(store, clock, 2)
    a.refresh()
    b.refresh()
    a.release_all()
    assert store.lease_owners(clock()) == {}
    assert sorted(b.refresh()) == WATCHES
