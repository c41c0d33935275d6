"""Watch leases and cross-process locks on SQLite and PostgreSQL: who may poll a watch, when a
dead worker's watch is taken over, and that two claimers never both win."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import text

from detector.store import Store, db, migrate
from tests.conftest import T0

TTL = timedelta(seconds=30)


def test_a_free_watch_is_acquired_then_renewed_by_its_owner_only(store):
    first = store.claim_lease("vacuums", "a", now=T0, ttl=TTL)
    assert (first.how, first.worker, first.epoch, first.expires_at) == ("acquired", "a", 1, T0 + TTL)
    assert store.claim_lease("vacuums", "b", now=T0 + timedelta(seconds=29), ttl=TTL) is None
    again = store.claim_lease("vacuums", "a", now=T0 + timedelta(seconds=10), ttl=TTL)
    assert (again.how, again.epoch, again.expires_at) == ("renewed", 1, T0 + timedelta(seconds=40))
    assert store.lease_owners(T0) == {"vacuums": "a"}


def test_an_expired_lease_is_taken_over_and_the_old_owner_cannot_renew_it(store):
    old = store.claim_lease("vacuums", "a", now=T0, ttl=TTL)
    later = T0 + TTL
    taken = store.claim_lease("vacuums", "b", now=later, ttl=TTL)
    assert (taken.how, taken.previous_owner, taken.epoch) == ("taken_over", "a", 2)
    assert store.renew_lease(old, now=later, ttl=TTL) is None
    assert store.release_lease(old) is False  # not its lease any more: changes nothing
    assert store.lease_owners(later) == {"vacuums": "b"}
    assert store.renew_lease(taken, now=later + timedelta(seconds=5), ttl=TTL).expires_at == later + timedelta(seconds=35)


def test_a_lease_expired_in_its_owners_hands_cannot_be_renewed_only_claimed_afresh(store):
    lease = store.claim_lease("vacuums", "a", now=T0, ttl=TTL)
    assert store.renew_lease(lease, now=T0 + TTL, ttl=TTL) is None
    back = store.claim_lease("vacuums", "a", now=T0 + TTL, ttl=TTL)
    assert (back.how, back.epoch) == ("acquired", 2)  # a new epoch: it may have missed a takeover


def test_a_released_lease_is_free_at_once(store):
    lease = store.claim_lease("vacuums", "a", now=T0, ttl=TTL)
    assert store.release_lease(lease) is True
    assert store.lease_owners(T0) == {}
    other = store.claim_lease("vacuums", "b", now=T0, ttl=TTL)
    assert (other.how, other.previous_owner, other.epoch) == ("acquired", None, 2)


def test_heartbeats_count_live_workers_and_forget_dead_ones(store):
    assert store.heartbeat("a", now=T0, ttl=TTL) == 1
    assert store.heartbeat("b", now=T0 + timedelta(seconds=10), ttl=TTL) == 2
    assert store.heartbeat("a", now=T0 + timedelta(seconds=35), ttl=TTL) == 2  # b is alive until T0+40
    assert store.heartbeat("a", now=T0 + timedelta(seconds=41), ttl=TTL) == 1  # b stopped beating
    store.leave("a")
    assert store.heartbeat("c", now=T0 + timedelta(seconds=42), ttl=TTL) == 1


def test_concurrent_claims_of_one_watch_have_exactly_one_winner(database_url):
    """Eight threads, each with its own Store (its own connections, as separate processes would
    have), claim the same free watch at once, twenty times over."""
    stores = [Store.open(database_url, create=True) for _ in range(8)]
    try:
        for round_ in range(20):
            now = T0 + timedelta(minutes=round_)  # every round starts with the last lease expired
            barrier = threading.Barrier(len(stores))
            won: list[str] = []

            def claim(index: int, store: Store) -> None:
                barrier.wait()
                if store.claim_lease("vacuums", f"w{index}", now=now, ttl=timedelta(seconds=30)) is not None:
                    won.append(f"w{index}")

            threads = [threading.Thread(target=claim, args=(i, s)) for i, s in enumerate(stores)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert len(won) == 1, (round_, won)
            assert stores[0].lease_owners(now) == {"vacuums": won[0]}
    finally:
        for store in stores:
            store.close()


def test_exclusive_lock_is_held_by_one_store_at_a_time(database_url):
    first, second = Store.open(database_url, create=True), Store.open(database_url, create=True)
    order: list[str] = []
    try:
        with first.exclusive("scoring") as held:
            held.check()
            waiter = threading.Thread(target=lambda: _take(second, order))
            waiter.start()
            time.sleep(0.5)
            order.append("first done")
        waiter.join(timeout=10)
        assert order == ["first done", "second got it"]
    finally:
        first.close()
        second.close()


def _take(store: Store, order: list[str]) -> None:
    with store.exclusive("scoring"):
        order.append("second got it")


def test_upgrading_a_0001_database_keeps_its_watches_with_free_leases(database_url):
    engine = db.make_engine(database_url)
    try:
        with db.transaction(engine, write=True) as conn:
            command.upgrade(migrate.alembic_config(conn), "0001")
            conn.execute(text("INSERT INTO watches (id, name, created_at) VALUES (1, 'vacuums', :t)"), {"t": T0})
    finally:
        engine.dispose()
    with Store.open(database_url, create=True) as store:
        assert store.lease_owners(T0) == {}
        assert store.claim_lease("vacuums", "a", now=T0, ttl=TTL).epoch == 1


def test_exclusive_lock_gives_up_after_its_wait(database_url):
    from detector.store.locks import LockBusy

    first, second = Store.open(database_url, create=True), Store.open(database_url, create=True)
    try:
        with first.exclusive("scoring"):
            started = time.monotonic()
            with pytest.raises(LockBusy, match="held the scoring lock for over 0.5 s"):
                with second.exclusive("scoring", wait=0.5):
                    pass
            assert 0.5 <= time.monotonic() - started < 5
        with second.exclusive("scoring", wait=0.5):
            pass  # free again
    finally:
        first.close()
        second.close()


def test_summaries_stay_one_per_watch_and_day_when_workers_race_to_write_them(database_url):
    """Any worker may run the daily summary (it is not leased): eight writers on two Stores race
    on one day; exactly one row is written and exactly one writer is told it wrote it."""
    from concurrent.futures import ThreadPoolExecutor

    with Store.open(database_url, create=True) as first, Store.open(database_url) as second:
        def write(worker: int) -> bool:
            store = (first, second)[worker % 2]
            return store.save_summary("vacuums", T0.date(), f"# by {worker}", {"worker": worker})

        with ThreadPoolExecutor(max_workers=8) as pool:
            created = list(pool.map(write, range(8)))
        assert created.count(True) == 1
        assert first.counts()["summaries"] == 1
        assert first.summary("vacuums", T0.date()).data["worker"] == created.index(True)
