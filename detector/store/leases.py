"""Watch leases: the SQL that lets several ``botwatch run`` processes share one database.

A lease is three columns on the watch's row: ``lease_owner``, ``lease_expires_at`` and
``lease_epoch``. A worker may poll a watch while it owns an unexpired lease on it; a lease that
has expired (its worker died or lost the database) is free to take over.

Why row leases and not PostgreSQL advisory locks: an advisory lock belongs to one database
session, so a network blip or a recycled pooled connection hands the watch to another worker
at once, while the first one is still polling; and SQLite has no advisory locks at all. A lease
row with an expiry survives a dropped connection, works the same on both databases, and says
in a query who polls what.

Claiming reads the row with ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL: a row that
another worker is claiming this instant is skipped, not waited for, so two workers starting
together spread out instead of queueing on the same watch. SQLite ignores ``FOR UPDATE``; its
write transactions begin IMMEDIATE (see :mod:`detector.store.db`), so the read and the update
below run with the database's single write lock held. On both, the update is conditional on
the owner and epoch just read (compare and set), so it changes nothing if the lease moved.

Times are the callers' clocks: workers on several hosts need clocks in step (NTP) to well
within the lease's TTL, which is minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from detector.store import sql
from detector.store.tables import WATCHES, WORKERS

ACQUIRED, RENEWED, TAKEN_OVER = "acquired", "renewed", "taken_over"


@dataclass(frozen=True)
class Lease:
    """A lease a worker holds: on ``watch`` until ``expires_at``.

    ``how`` says how it was got: ``acquired`` (it was free), ``renewed`` (ours already) or
    ``taken_over`` (it had expired in ``previous_owner``'s hands). ``epoch`` rises on every
    change of owner.
    """

    watch: str
    worker: str
    epoch: int
    expires_at: datetime
    how: str
    previous_owner: str | None = None


def claim(
    conn: Connection, watch_id: int, watch: str, worker: str, now: datetime, ttl: timedelta
) -> Lease | None:
    """Take or renew the lease on one watch; ``None`` if another worker holds it (or is
    claiming it right now)."""
    row = conn.execute(
        select(WATCHES.c.lease_owner, WATCHES.c.lease_expires_at, WATCHES.c.lease_epoch)
        .where(WATCHES.c.id == watch_id)
        .with_for_update(skip_locked=True)
    ).first()
    if row is None:
        return None
    owner, expires, epoch = row
    if owner is None:
        how, new_epoch = ACQUIRED, epoch + 1
    elif owner == worker and expires > now:
        how, new_epoch = RENEWED, epoch
    elif expires <= now:
        how, new_epoch = (TAKEN_OVER, epoch + 1) if owner != worker else (ACQUIRED, epoch + 1)
    else:
        return None
    expires_at = now + ttl
    changed = conn.execute(
        update(WATCHES)
        .where(WATCHES.c.id == watch_id, _is(WATCHES.c.lease_owner, owner), WATCHES.c.lease_epoch == epoch)
        .values(lease_owner=worker, lease_expires_at=expires_at, lease_epoch=new_epoch)
    ).rowcount
    if changed != 1:
        return None
    return Lease(watch, worker, new_epoch, expires_at, how, owner if how == TAKEN_OVER else None)


def renew(conn: Connection, watch_id: int, lease: Lease, now: datetime, ttl: timedelta) -> Lease | None:
    """Extend ``lease`` if it is still ours and unexpired; ``None`` once it is lost."""
    changed = conn.execute(
        update(WATCHES)
        .where(*_still_held(watch_id, lease), WATCHES.c.lease_expires_at > now)
        .values(lease_expires_at=now + ttl)
    ).rowcount
    if changed != 1:
        return None
    return Lease(lease.watch, lease.worker, lease.epoch, now + ttl, RENEWED)


def release(conn: Connection, watch_id: int, lease: Lease) -> bool:
    """Give the lease up so that another worker can take it at once; ``False`` if it was not ours."""
    changed = conn.execute(
        update(WATCHES)
        .where(*_still_held(watch_id, lease))
        .values(lease_owner=None, lease_expires_at=None)
    ).rowcount
    return changed == 1


def _still_held(watch_id: int, lease: Lease) -> tuple[Any, ...]:
    """The watch's row as ``lease`` left it: same owner, same epoch (no one took it since)."""
    return WATCHES.c.id == watch_id, WATCHES.c.lease_owner == lease.worker, WATCHES.c.lease_epoch == lease.epoch


def heartbeat(conn: Connection, worker: str, now: datetime, ttl: timedelta) -> int:
    """Record that ``worker`` is alive until ``now + ttl``, forget dead workers, and return how
    many workers are alive (this one included)."""
    conn.execute(delete(WORKERS).where(WORKERS.c.expires_at <= now, WORKERS.c.name != worker))
    row = {"name": worker, "started_at": now, "expires_at": now + ttl}
    stmt = sql.insert(conn, WORKERS).values(row)
    renewed = {"expires_at": stmt.excluded.expires_at}
    conn.execute(stmt.on_conflict_do_update(index_elements=["name"], set_=renewed))
    return conn.scalar(select(func.count()).select_from(WORKERS).where(WORKERS.c.expires_at > now)) or 1


def leave(conn: Connection, worker: str) -> None:
    """Remove ``worker``'s heartbeat: the others' fair shares grow at their next refresh."""
    conn.execute(delete(WORKERS).where(WORKERS.c.name == worker))


def live_workers(conn: Connection, now: datetime) -> list[str]:
    """The workers whose heartbeat has not expired."""
    query = select(WORKERS.c.name).where(WORKERS.c.expires_at > now).order_by(WORKERS.c.name)
    return list(conn.scalars(query))


def expire_worker(conn: Connection, worker: str, now: datetime) -> int:
    """Declare ``worker`` dead: drop its heartbeat and end its leases at ``now``, so that they
    can be taken over at once; returns how many leases it held."""
    conn.execute(delete(WORKERS).where(WORKERS.c.name == worker))
    return conn.execute(
        update(WATCHES)
        .where(WATCHES.c.lease_owner == worker, WATCHES.c.lease_expires_at > now)
        .values(lease_expires_at=now)
    ).rowcount


def owners(conn: Connection, now: datetime) -> dict[str, str]:
    """Watch name -> the worker whose unexpired lease is on it."""
    query = select(WATCHES.c.name, WATCHES.c.lease_owner).where(
        WATCHES.c.lease_owner.is_not(None), WATCHES.c.lease_expires_at > now
    )
    return {name: owner for name, owner in conn.execute(query)}


def _is(column: Any, value: str | None) -> Any:
    return column.is_(None) if value is None else column == value
