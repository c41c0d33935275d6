"""Locks across every botwatch process on one database, for work that must not run twice at once.

Scoring is such work: an account's behaviour state is read, folded with new replies and written
back, and the same account replies under watches that different workers hold; two scorers at
once would lose one's update or count a reply found by two watches twice.

Unlike watch leases (:mod:`detector.store.leases`), these locks are tied to the holder's life
and are waited for, up to ``wait`` seconds, then :class:`LockBusy` says to try again later (a
worker frozen while holding one, a paused VM say, must not stop everyone's scoring for good):
PostgreSQL's session advisory lock on a connection of its own
(released by the server when the process dies, even by ``kill -9``), and on SQLite an
``flock`` on a file beside the database (released by the kernel likewise). The lock key
includes the schema, so test sessions sharing a server do not block each other. An in-memory
SQLite database lives in one process, where the caller's thread lock is enough.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from detector.errors import StoreError
from detector.store import db


POLL_SECONDS = 0.2


class LockBusy(StoreError):
    """Another process held the lock for longer than the caller would wait."""


class Held:
    """The lock in hand; :meth:`check` before writing what it protects."""

    def __init__(self, connection: Connection | None, where: str) -> None:
        self._connection = connection
        self._where = where

    def check(self) -> None:
        """Raise :class:`StoreError` if the lock's database session died (and the lock with it)."""
        if self._connection is None:
            return
        try:
            self._connection.execute(text("SELECT 1"))
        except DBAPIError as exc:
            problem = "the database connection holding it broke"
            raise StoreError(f"lost the {self._where} lock: {problem}") from exc


@contextmanager
def exclusive(engine: Engine, name: str, *, wait: float) -> Iterator[Held]:
    """Hold the lock ``name`` for the block, waiting up to ``wait`` seconds for another process
    to release it (:class:`LockBusy` after that)."""
    if engine.dialect.name == "postgresql":
        with _advisory(engine, name, wait) as held:
            yield held
        return
    path = db.sqlite_path(engine.url)
    if path is None:
        yield Held(None, name)
        return
    fd = os.open(f"{path}.{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _retry(lambda: _try_flock(fd), name, wait)
        yield Held(None, name)
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _retry(attempt: Callable[[], bool], name: str, wait: float) -> None:
    deadline = time.monotonic() + wait
    while not attempt():
        if time.monotonic() >= deadline:
            raise LockBusy(f"another botwatch process has held the {name} lock for over {wait:g} s",
                           hint="it is retried at the next run")
        time.sleep(POLL_SECONDS)


@contextmanager
def _advisory(engine: Engine, name: str, wait: float) -> Iterator[Held]:
    key = text("SELECT hashtextextended('botwatch.' || :name || '.' || current_schema(), 0)")
    try:
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    except DBAPIError as exc:
        raise db.describe(exc, engine.url, connecting=True) from exc
    try:
        try:
            lock_id = connection.scalar(key, {"name": name})
            try_lock = text("SELECT pg_try_advisory_lock(:id)")
            _retry(lambda: connection.scalar(try_lock, {"id": lock_id}), name, wait)
        except DBAPIError as exc:
            raise db.describe(exc, engine.url) from exc
        try:
            yield Held(connection, name)
        finally:
            try:
                connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": lock_id})
            except DBAPIError:
                connection.invalidate()  # the session is gone, and its lock with it
    finally:
        connection.close()
