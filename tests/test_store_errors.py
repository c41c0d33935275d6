"""A dead, locked, missing or damaged database gives one clear line, and never the password."""

import sqlite3

import pytest

from detector.config import Secret
from detector.errors import SchemaMismatch, StoreError
from detector.store import Store, current_revision, db, upgrade


def _one_line(error: Exception) -> str:
    message = str(error)
    assert "\n" not in message and message.strip() == message and message
    return message


@pytest.mark.parametrize("create", [False, True])
def test_dead_postgres_url_names_the_server_but_not_the_password(create):
    url = "postgresql+psycopg://botwatch:s3cr3t-pw@127.0.0.1:1/botwatch?connect_timeout=3"
    with pytest.raises(StoreError) as caught:
        Store.open(url, create=create)
    message = _one_line(caught.value)
    assert "s3cr3t-pw" not in message and "s3cr3t-pw" not in (caught.value.hint or "")
    assert message.startswith(
        "cannot connect to PostgreSQL at postgresql+psycopg://botwatch:***@127.0.0.1:1/botwatch"
    )
    assert "is PostgreSQL running" in caught.value.hint
    assert "s3cr3t-pw" not in repr(caught.value)


def test_dead_postgres_url_in_a_secret_and_the_db_commands():
    url = (
        "postgresql://botwatch:s3cr3t-pw@127.0.0.1:1/botwatch?connect_timeout=3"  # driver chosen for the user
    )
    for call in (lambda: Store.open(Secret(url)), lambda: upgrade(url), lambda: current_revision(url)):
        with pytest.raises(StoreError) as caught:
            call()
        assert "cannot connect to PostgreSQL at postgresql+psycopg://botwatch:***@127.0.0.1:1" in _one_line(
            caught.value
        )
        assert "s3cr3t-pw" not in str(caught.value)


@pytest.mark.parametrize(
    "url, expected",
    [
        ("mysql://root:pw@localhost/db", "unsupported database URL scheme 'mysql'"),
        ("postgresql+psycopg2://u:pw@localhost/db", "unsupported database URL scheme 'postgresql+psycopg2'"),
        ("not a url at all", "not a database URL"),
    ],
)
def test_unsupported_urls_are_refused_with_a_hint(url, expected):
    with pytest.raises(StoreError) as caught:
        Store.open(url, create=True)
    assert expected in _one_line(caught.value) and "pw" not in str(caught.value)
    assert "sqlite:///" in caught.value.hint


def test_sqlite_path_under_a_file_is_unwritable(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    url = f"sqlite:///{blocker / 'botwatch.sqlite3'}"
    with pytest.raises(StoreError) as caught:
        Store.open(url, create=True)
    database = blocker / "botwatch.sqlite3"
    expected = f"cannot create the directory for SQLite database {database}: {blocker} is not a directory"
    assert _one_line(caught.value) == expected
    with pytest.raises(StoreError) as caught:
        Store.open(f"sqlite:///{blocker / 'deeper' / 'botwatch.sqlite3'}", create=True)
    assert _one_line(caught.value).endswith(": Not a directory")
    with pytest.raises(StoreError) as caught:
        Store.open(url)
    assert f"directory {blocker} does not exist" in _one_line(caught.value)
    assert not isinstance(caught.value, SchemaMismatch)


def test_sqlite_path_that_cannot_be_opened(tmp_path):
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'botwatch.sqlite3'}"
    engine = db.make_engine(url)  # no create: nothing makes the directory
    with pytest.raises(StoreError) as caught, db.transaction(engine):
        pass
    engine.dispose()
    missing = tmp_path / "missing-dir"
    expected = (
        f"cannot open SQLite database {missing / 'botwatch.sqlite3'}: directory {missing} does not exist"
    )
    assert _one_line(caught.value) == expected


def test_a_file_that_is_not_a_database(tmp_path):
    path = tmp_path / "botwatch.sqlite3"
    path.write_bytes(b"this is a text file, not SQLite\n" * 200)
    with pytest.raises(StoreError) as caught:
        Store.open(f"sqlite:///{path}")
    assert _one_line(caught.value).startswith(f"SQLite database {path}: file is not a database")


def test_locked_sqlite_database_times_out_with_a_clear_message(tmp_path):
    path = tmp_path / "botwatch.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url)
    store = Store.open(url, busy_timeout=0.05)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
        with pytest.raises(StoreError) as caught:
            store.set_label(("mastodon", "social.example", "1"), "bot", by="test")
        assert (
            _one_line(caught.value)
            == f"SQLite database {path} is locked by another process: database is locked"
        )
        assert store.checkpoints("acme") == {}  # readers still work under WAL... once the lock is gone:
        other.execute("ROLLBACK")
        store.set_label(("mastodon", "social.example", "1"), "bot", by="test")
        assert set(store.labels()) == {("mastodon", "social.example", "1")}
    finally:
        other.close()
        store.close()


def test_store_repr_masks_the_password():
    engine = db.make_engine("postgresql://botwatch:s3cr3t-pw@127.0.0.1:1/botwatch")
    store = Store(engine)
    assert "s3cr3t-pw" not in repr(store) and "***" in store.where
    store.close()
