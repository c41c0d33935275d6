"""Engines for SQLite (the embedded default) and PostgreSQL (production), and their failures as
one-line :class:`~detector.errors.StoreError` messages that never show a password.

SQLite is set up for a service with readers beside it: WAL, so reports never block the poller;
foreign keys on (SQLite leaves them off on every new connection); a busy timeout, so a second
process waits for the write lock instead of failing at once. SQLAlchemy emits BEGIN itself,
because Python's sqlite3 module (legacy transaction control, Python < 3.16) begins neither
before SELECT nor before DDL, which would make migrations non-atomic. Write transactions begin
IMMEDIATE: a deferred transaction that reads and then writes fails with SQLITE_BUSY at once,
without waiting, when another process committed in between.

PostgreSQL goes through psycopg 3. ``postgresql://`` and ``postgres://`` URLs are taken to mean
it, since SQLAlchemy would otherwise look for psycopg2, which botwatch does not install.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, StatementError

from detector.errors import StoreError
from detector.store.coltypes import dump_json

DEFAULT_BUSY_TIMEOUT = 5.0
POSTGRES_CONNECT_TIMEOUT = 10
_WRITE = "botwatch_write"
_URL_HINT = "use sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DATABASE"


def parse_url(url: str) -> URL:
    """The URL botwatch will use: SQLite, or PostgreSQL through psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"not a database URL: {mask_url(url)!r}", hint=_URL_HINT) from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return parsed
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    raise StoreError(f"unsupported database URL scheme {parsed.drivername!r}", hint=_URL_HINT)


def mask_url(url: str | URL) -> str:
    """The URL as it may be shown: the password, if any, is ``***``."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def sqlite_path(url: URL) -> Path | None:
    """The file behind a SQLite URL, or ``None`` for an in-memory database."""
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(url: str | URL, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> Engine:
    """An engine for ``url`` configured as the module docstring says; connects lazily."""
    parsed = parse_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() == "sqlite":
        # sqlite3's timeout is SQLite's busy timeout: how long to wait for another writer's lock
        engine = create_engine(parsed, connect_args={"timeout": busy_timeout}, json_serializer=dump_json)
        _configure_sqlite(engine)
        return engine
    connect_args: dict[str, Any] = {"application_name": "botwatch"}
    if "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT
    return create_engine(parsed, connect_args=connect_args, pool_pre_ping=True, json_serializer=dump_json)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN (see on_begin)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")  # safe with WAL: loses no committed data on a crash
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def transaction(engine: Engine, *, write: bool = False) -> Iterator[Connection]:
    """One transaction: committed when the block ends, rolled back (nothing written) if it raises.

    Database failures come out as :class:`StoreError` with a message for a person.
    """
    try:
        connection = engine.connect()
    except DBAPIError as exc:
        raise describe(exc, engine.url, connecting=True) from exc
    try:
        with connection:
            if write:
                connection.execution_options(**{_WRITE: True})
            with connection.begin():
                yield connection
    except DBAPIError as exc:
        raise describe(exc, engine.url) from exc
    except StatementError as exc:
        # A value our column types refused (a naive datetime, say): the caller's error, shown as
        # the ValueError/TypeError it is rather than wrapped with the SQL statement.
        if isinstance(exc.orig, (ValueError, TypeError)):
            raise exc.orig from exc
        raise


def describe(exc: DBAPIError, url: URL, *, connecting: bool = False) -> StoreError:
    """A one-line :class:`StoreError` for a driver error, with a hint, and no password in it."""
    reason = _first_line(exc.orig if exc.orig is not None else exc)
    if url.password:
        reason = reason.replace(str(url.password), "***")
    path = sqlite_path(url)
    if url.get_backend_name() == "sqlite":
        where = f"SQLite database {path or ':memory:'}"
        lowered = reason.lower()
        if "locked" in lowered or "busy" in lowered:
            return StoreError(
                f"{where} is locked by another process: {reason}",
                hint="is another botwatch writing to it? it waits for the lock up to the busy timeout",
            )
        if "unable to open" in lowered and path is not None:
            return StoreError(
                f"cannot open {where}: {_sqlite_open_problem(path)}", hint="check the path in database_url"
            )
        if "readonly" in lowered or "read-only" in lowered:
            return StoreError(
                f"{where} is read-only: {reason}", hint="check the file's and its directory's permissions"
            )
        return StoreError(f"{where}: {reason}")
    where = f"PostgreSQL at {mask_url(url)}"
    if connecting:
        return StoreError(
            f"cannot connect to {where}: {reason}", hint="is PostgreSQL running, and is database_url right?"
        )
    if exc.connection_invalidated:
        return StoreError(f"lost the connection to {where}: {reason}",
                          hint="is PostgreSQL running? nothing half-written was kept; the next run retries")
    return StoreError(f"{where}: {reason}")


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _sqlite_open_problem(path: Path) -> str:
    parent = path.parent
    if not parent.exists():
        return f"directory {parent} does not exist"
    if not parent.is_dir():
        return f"{parent} is not a directory"
    if path.is_dir():
        return f"{path} is a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"directory {parent} is not writable"
    return "unable to open the database file"


def ensure_sqlite_directory(url: URL) -> None:
    """Create the directory of a SQLite file so that a new user's default database just works."""
    path = sqlite_path(url)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        problem = f"{path.parent} is not a directory" if isinstance(exc, FileExistsError) else exc.strerror
        raise StoreError(
            f"cannot create the directory for SQLite database {path}: {problem}",
            hint="check the path in database_url or the state directory's permissions",
        ) from None
