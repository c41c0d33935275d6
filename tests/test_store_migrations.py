"""Schema: migrations from empty, the version check and its messages, tables.py == migrations."""

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from detector.errors import SchemaMismatch
from detector.store import Store, current_revision, db, head_revision, upgrade
from detector.store.migrate import alembic_config
from detector.store.tables import Base
from tests.conftest import T0, make_author, make_post


def test_migrations_create_every_table_from_empty(database_url):
    assert current_revision(database_url) is None
    assert upgrade(database_url) == head_revision() == "0004"
    assert current_revision(database_url) == "0004"
    engine = db.make_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    assert upgrade(database_url) == "0004"  # a second upgrade is a no-op


def test_migrations_match_the_table_classes(database_url):
    upgrade(database_url)
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_open_without_create_refuses_an_empty_database(database_url):
    engine = db.make_engine(database_url)
    with engine.begin() as conn:  # a database that exists but was never migrated
        conn.execute(text("CREATE TABLE unrelated (x INTEGER)"))
    engine.dispose()
    with pytest.raises(SchemaMismatch) as caught:
        Store.open(database_url)
    error = caught.value
    assert (error.found, error.needed) == (None, "0004")
    assert "revision found: none" in str(error) and "needed: 0004" in str(error)
    assert error.hint == "run: botwatch db upgrade"


def test_open_without_create_refuses_an_unknown_newer_revision(database_url):
    upgrade(database_url)
    engine = db.make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    for create in (False, True):  # create=True must not try to "upgrade" a newer schema either
        with pytest.raises(SchemaMismatch) as caught:
            Store.open(database_url, create=create)
        assert (caught.value.found, caught.value.needed) == ("0099", "0004")
        assert "0099" in str(caught.value) and "does not know" in str(caught.value)
        assert "upgrade botwatch" in caught.value.hint


def test_open_after_upgrade_needs_no_create(database_url):
    upgrade(database_url)
    with Store.open(database_url) as store:
        assert store.counts()["posts"] == 0


def test_missing_sqlite_file_is_reported_and_not_created(tmp_path):
    path = tmp_path / "botwatch.sqlite3"
    with pytest.raises(SchemaMismatch) as caught:
        Store.open(f"sqlite:///{path}")
    assert str(path) in str(caught.value) and caught.value.hint == "run: botwatch db upgrade"
    assert not path.exists()


def test_create_makes_the_state_directory(tmp_path):
    path = tmp_path / "state" / "deeper" / "botwatch.sqlite3"
    Store.open(f"sqlite:///{path}", create=True).close()
    assert path.exists()


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}", busy_timeout=2.5)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2500
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_tables_and_version_table_live_in_the_session_schema(postgres_url, postgres_session):
    upgrade(postgres_url)
    engine = db.make_engine(postgres_url)
    try:
        with engine.connect() as conn:
            schemas = set(
                conn.scalars(
                    text(
                        "SELECT table_schema FROM information_schema.tables"
                        " WHERE table_name IN ('alembic_version', 'posts')"
                        # Other sessions' schemas (concurrent or killed runs, load benchmarks) are
                        # theirs: what matters is that nothing lands in the default schema.
                        " AND table_schema IN ('public', :mine)"
                    ),
                    {"mine": postgres_session.schema},
                )
            )
    finally:
        engine.dispose()
    assert schemas == {postgres_session.schema}


def test_migration_scripts_ship_inside_the_package():
    migrations = Path(db.__file__).parent / "migrations"
    assert (migrations / "env.py").exists() and (migrations / "script.py.mako").exists()
    assert (migrations / "versions" / "0001_initial.py").exists()
    assert not list(Path(db.__file__).parents[2].glob("alembic.ini"))


def test_0004_copies_each_links_author_from_its_post_also_for_links_stored_before_it(database_url):
    trigger = make_post("1", author=make_author("5", "carol"))
    replies = [make_post("2", author=make_author("6", "bob"), parent=trigger),
               make_post("3", author=make_author("7", "dave"), parent=trigger)]
    with Store.open(database_url, create=True, clock=lambda: T0) as store:
        store.save_discovered("acme", "hashtag:vacuum", [trigger], "1", fetched_at=T0, track_until_hours=24)
        store.save_replies("acme", trigger.key, replies, checked_at=T0, next_check_at=None)
    links = text("SELECT a.account_id, wp.author_id = p.account_id FROM watch_posts wp "
                 "JOIN posts p ON p.id = wp.post_id JOIN accounts a ON a.id = p.account_id ORDER BY a.account_id")
    engine = db.make_engine(database_url)
    try:
        with engine.begin() as conn:
            assert [tuple(row) for row in conn.execute(links)] == [("5", True), ("6", True), ("7", True)]
            command.downgrade(alembic_config(conn), "0003")
        with engine.begin() as conn:
            assert "author_id" not in {c["name"] for c in inspect(conn).get_columns("watch_posts")}
            command.upgrade(alembic_config(conn), "head")
        with engine.begin() as conn:
            assert [tuple(row) for row in conn.execute(links)] == [("5", True), ("6", True), ("7", True)]
    finally:
        engine.dispose()
