"""The database goes away under a running ``botwatch run``, mid catch-up, and comes back.

PostgreSQL "stops" behind a TCP proxy (every connection broken, new ones refused; the shared
server itself keeps running); SQLite is locked by another process's ``BEGIN EXCLUSIVE`` for longer
than the busy timeout. Either way: each failed job logs one short error event naming the
database and no password, no traceback; the service keeps running; later polls retry and
succeed; and in the end the store holds exactly the server's posts, each once, with every reply
scored once and counted once (checkpoints move only with the posts they cover, and a scoring
round saves whole or not at all).
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from detector.classifier.detector import Detector
from detector.config import WatchConfig
from detector.mastodon_server import MastodonTestServer
from detector.store import upgrade
from tests.db_proxy import TcpProxy
from tests.pipeline_support import (
    HASHTAGS,
    KEYWORDS,
    Botwatch,
    expected_replies,
    expected_triggers,
    scoring_problems,
    serve_live,
    stored,
    write_live_config,
)

pytestmark = pytest.mark.timeout(240)
PASSWORD = "pw-never-logged-93b1"
ERROR_EVENTS = {"poll.failed", "lease.refresh_failed", "summary.failed", "lease.release_failed",
                "scheduler.store_unavailable"}


@pytest.fixture(scope="module")
def live_server():
    with serve_live(43, humans=200, power_users=3) as server:
        yield server


def write_config(tmp_path: Path, server: MastodonTestServer) -> Path:
    return write_live_config(tmp_path, server, botwatch="lease_ttl = '30s'\n", instance="max_pages = 1\nrequest_timeout = 5\n")


def polls_finished(service: Botwatch) -> int:
    return sum(e["event"] == "poll.finished" for e in service.events)


def wait_for_polls(service: Botwatch, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while polls_finished(service) < count:
        assert time.monotonic() < deadline, f"fewer than {count} polls finished"
        service.wait_for("poll.finished", timeout=deadline - time.monotonic())


def assert_complete_and_scored_once(engine: sa.Engine, server: MastodonTestServer) -> None:
    watch = WatchConfig("dustwise", "sim", KEYWORDS, HASHTAGS, ("dustwise",))
    triggers, replies = stored(engine, "dustwise", "trigger"), stored(engine, "dustwise", "reply")
    assert len(triggers) == len(set(triggers)) and len(replies) == len(set(replies))
    want = expected_triggers(server, watch)
    assert set(triggers) == want
    assert set(replies) == expected_replies(server, want)
    assert scoring_problems(engine, Detector.load().version) == []
    with engine.connect() as connection:
        per_reply = connection.execute(sa.text(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM reply_scores GROUP BY post_id, model_version) t")).scalar()
    assert per_reply == 1


def outage_errors(service: Botwatch, first: int, last: int) -> list[dict]:
    """The error events logged between event indexes ``first`` and ``last``, checked for shape."""
    errors = [e for e in service.events[first:last] if e["event"] in ERROR_EVENTS]
    for event in errors:
        assert len(event["error"]) < 1000, event
    print("outage:", dict(Counter(e["event"] for e in errors)), errors[0]["error"])
    return errors


def recover(service: Botwatch, mark: int) -> list[dict]:
    """Once the database is back: wait for a poll to succeed, and return the errors logged since
    ``mark`` (the outage's)."""
    back = len(service.events)
    wait_for_polls(service, polls_finished(service) + 1, timeout=60)
    return outage_errors(service, mark, back)


def finish_cleanly(service: Botwatch) -> None:
    """The service outlived the outage, caught up, stops with 0 and logged nothing it should not."""
    assert service.process.poll() is None  # still running
    service.wait_until_caught_up()
    assert service.stop() == 0
    check_log_hygiene(service)


def check_log_hygiene(service: Botwatch) -> None:
    text = "".join(service.output)
    assert PASSWORD not in text
    assert "Traceback" not in text and not any(e["event"].endswith(".crashed") for e in service.events)


@pytest.mark.postgres
def test_postgres_going_away_mid_run_loses_nothing_and_scores_nothing_twice(tmp_path, live_server, postgres_url):
    upgrade(postgres_url)
    proxy = TcpProxy(("127.0.0.1", make_url(postgres_url).port or 5432))
    via_proxy = make_url(postgres_url).set(port=proxy.port, password=PASSWORD).render_as_string(hide_password=False)
    service = Botwatch(write_config(tmp_path, live_server), live_server.token_for("dustwise"),
                       {"BOTWATCH_DATABASE_URL": via_proxy})
    try:
        wait_for_polls(service, 2)
        mark = len(service.events)
        proxy.cut()
        service.wait_for("poll.failed", timeout=30)
        time.sleep(3)  # down for a few poll intervals
        service.drain()
        proxy.restore()
        errors = recover(service, mark)
        assert errors and all("PostgreSQL at" in e["error"] and "***" in e["error"] for e in errors), errors
        finish_cleanly(service)
    finally:
        if service.process.poll() is None:
            service.process.kill()
        proxy.close()
    engine = sa.create_engine(postgres_url)
    try:
        assert_complete_and_scored_once(engine, live_server)
    finally:
        engine.dispose()


def test_sqlite_locked_longer_than_the_busy_timeout_loses_nothing_and_scores_nothing_twice(tmp_path, live_server):
    service = Botwatch(write_config(tmp_path, live_server), live_server.token_for("dustwise"))
    database = tmp_path / "state" / "botwatch.sqlite3"
    try:
        wait_for_polls(service, 2)
        mark = len(service.events)
        blocker = sqlite3.connect(database, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            service.wait_for("poll.failed", timeout=30)
            time.sleep(1)
        finally:
            blocker.rollback()
            blocker.close()
        service.drain()
        errors = recover(service, mark)
        assert errors and all("is locked by another process" in e["error"] for e in errors), errors
        finish_cleanly(service)
    finally:
        if service.process.poll() is None:
            service.process.kill()
    engine = sa.create_engine(f"sqlite:///{database}")
    try:
        assert_complete_and_scored_once(engine, live_server)
    finally:
        engine.dispose()
