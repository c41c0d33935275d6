"""Shared fixtures: empty databases on SQLite and PostgreSQL, an opened Store, and post factories.

PostgreSQL comes from ``$BOTWATCH_TEST_POSTGRES_URL`` when set (CI sets it: an unreachable server
then FAILS the tests), else from 127.0.0.1:5432/test, whose absence SKIPS the PostgreSQL cases
with the reason shown in pytest's summary. Other developers share that database, so each test
session works in a schema of its own (unique name, created at start, dropped at the end), made
the connection's ``search_path`` through libpq's ``options``: tables and Alembic's version table
land in it, and nothing outside it is touched. Each test starts with that schema empty.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from detector.records import Author, Mention, Post, Provenance
from detector.store import Store

POSTGRES_ENV = "BOTWATCH_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # a fixed "now" for store tests


class _PostgresSession:
    """This test session's schema on the shared server, and how to empty it between tests."""

    def __init__(self, server: URL, schema: str) -> None:
        self.schema = schema
        self.url = server.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
        self._admin = create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})

    def execute(self, sql: str) -> None:
        with self._admin.connect() as conn:
            conn.execute(
                text("SET lock_timeout = '10s'")
            )  # a test that leaked a transaction fails, never hangs
            conn.execute(text(sql))

    def reset(self) -> None:
        self.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE; CREATE SCHEMA "{self.schema}"')

    def close(self) -> None:
        try:
            self.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
        finally:
            self._admin.dispose()


@pytest.fixture(scope="session")
def postgres_session() -> Iterator[_PostgresSession]:
    configured = os.environ.get(POSTGRES_ENV)
    server = make_url(configured or DEFAULT_POSTGRES_URL).set(drivername="postgresql+psycopg")
    schema = f"botwatch_test_{os.getpid()}_{secrets.token_hex(4)}"
    session = _PostgresSession(server, schema)
    try:
        session.execute(f'CREATE SCHEMA "{schema}"')
        problem = None
    except SQLAlchemyError as exc:
        problem = str(exc.orig or exc).strip().splitlines()[0]
    if problem is not None:  # outside the except block: no traceback with the connection string in it
        reason = f"PostgreSQL at {server.render_as_string(hide_password=True)} is unreachable: {problem}"
        if configured:
            pytest.fail(f"{reason} ({POSTGRES_ENV} is set, so the PostgreSQL tests must run)", pytrace=False)
        pytest.skip(f"{reason}; set {POSTGRES_ENV} to run the PostgreSQL tests")
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def postgres_url(postgres_session: _PostgresSession) -> str:
    """URL of an empty PostgreSQL schema of this session's own (password included, if any)."""
    postgres_session.reset()
    return postgres_session.url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a new SQLite file (not created yet), for tests that need no PostgreSQL run."""
    return f"sqlite:///{tmp_path / 'botwatch.sqlite3'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """URL of an empty database, once on SQLite (a temporary file) and once on PostgreSQL."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A Store migrated to head on each database; its clock reads :data:`T0`."""
    opened = Store.open(database_url, create=True, clock=lambda: T0)
    try:
        yield opened
    finally:
        opened.close()


def make_author(account_id: str = "1", acct: str = "alice", **fields: Any) -> Author:
    defaults: dict[str, Any] = dict(
        platform="mastodon",
        instance="social.example",
        display_name=acct.title(),
        created_at=T0 - timedelta(days=400),
        followers=10,
        following=20,
        statuses=30,
        bot=False,
        bio="",
        default_avatar=False,
        url=f"https://social.example/@{acct}",
        last_status_at=T0 - timedelta(days=1),
    )
    defaults.update(fields)
    return Author(id=account_id, acct=acct, **defaults)


def make_post(
    post_id: str,
    *,
    author: Author | None = None,
    minutes: float = 0,
    text: str = "my vacuum broke",
    parent: Post | None = None,
    raw: dict[str, Any] | None = None,
    **fields: Any,
) -> Post:
    """A post created ``minutes`` after :data:`T0`; with ``parent``, a reply to it."""
    author = author or make_author()
    created = T0 + timedelta(minutes=minutes)
    defaults: dict[str, Any] = dict(
        url=f"https://social.example/@{author.acct}/{post_id}",
        uri=f"https://social.example/users/{author.acct}/statuses/{post_id}",
        language="en",
        visibility="public",
        mentions=(),
        hashtags=(),
        links=(),
        link_domains=(),
        provenance=Provenance("mastodon-api", "hashtag:vacuum", created + timedelta(seconds=30)),
    )
    if parent is not None:
        defaults.update(
            parent_id=parent.id,
            parent_author_id=parent.author.id,
            mentions=(Mention(parent.author.id, parent.author.acct),),
        )
    defaults.update(fields)
    raw = (
        raw
        if raw is not None
        else {"id": post_id, "content": f"<p>{text}</p>", "account": {"id": author.id, "acct": author.acct}}
    )
    return Post(
        platform=author.platform,
        instance=author.instance,
        id=post_id,
        created_at=created,
        author=author,
        text=text,
        raw=raw,
        **defaults,
    )


@pytest.fixture
def post_factory() -> Callable[..., Post]:
    """:func:`make_post`, for tests outside this module."""
    return make_post


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    """Commands configure structlog and the root logger for the process; undo it after each test
    so that one test's level (the demo logs warnings only) never hides another's events."""
    import logging

    import structlog

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def _hypothesis_profiles() -> None:
    """CI runs the property and fuzz tests derandomised (the same examples every run, so a landing
    never depends on luck); developers' runs explore new examples each time."""
    import os

    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, print_blob=True)
    if os.environ.get("CI"):
        settings.load_profile("ci")


_hypothesis_profiles()
