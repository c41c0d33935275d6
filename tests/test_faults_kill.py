"""``kill -9`` of ``botwatch run`` mid-poll, at seeded random moments, then a restart.

Nothing gets a chance to clean up: no SIGTERM handler, no finally block, a SQLite transaction
cut wherever it was. After each kill the database must pass ``PRAGMA integrity_check`` and
``foreign_key_check``; after the last restart has caught up, the store must hold exactly the
server's posts for the watch (no gap, no duplicate) and every reply must be scored and counted
once in its account's behaviour state.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from detector.classifier.detector import Detector
from detector.config import WatchConfig
from detector.mastodon_server import MastodonTestServer
from tests.pipeline_support import (
    HASHTAGS,
    KEYWORDS,
    Botwatch,
    expected_replies,
    expected_triggers,
    scoring_problems,
    serve_live,
    sqlite_integrity,
    stored,
    write_live_config,
)

pytestmark = pytest.mark.timeout(240)
KILLS = 5


@pytest.fixture(scope="module")
def live_server():
    with serve_live(37, humans=300, power_users=4) as server:
        yield server


def write_config(tmp_path: Path, server: MastodonTestServer) -> Path:
    return write_live_config(tmp_path, server, instance="max_pages = 2\n")


def test_kill_9_mid_poll_then_restart_loses_duplicates_and_corrupts_nothing(tmp_path, live_server):
    rng = random.Random(4)
    config = write_config(tmp_path, live_server)
    token = live_server.token_for("dustwise")
    database = tmp_path / "state" / "botwatch.sqlite3"
    mid_poll = []
    for _ in range(KILLS):
        service = Botwatch(config, token)
        service.wait_for("poll.started")
        time.sleep(rng.uniform(0.0, 0.8))
        mid_poll.append(service.kill())
        assert sqlite_integrity(database) == []
    assert sum(mid_poll) >= 3, mid_poll  # most kills cut a poll short

    service = Botwatch(config, token)
    service.wait_until_caught_up()
    assert service.stop() == 0
    assert sqlite_integrity(database) == []

    engine = sa.create_engine(f"sqlite:///{database}")
    try:
        watch = WatchConfig("dustwise", "sim", KEYWORDS, HASHTAGS, ("dustwise",))
        triggers, replies = stored(engine, "dustwise", "trigger"), stored(engine, "dustwise", "reply")
        assert len(triggers) == len(set(triggers)) and len(replies) == len(set(replies))
        want = expected_triggers(live_server, watch)
        assert set(triggers) == want
        assert set(replies) == expected_replies(live_server, want)
        assert scoring_problems(engine, Detector.load().version) == []
    finally:
        engine.dispose()
