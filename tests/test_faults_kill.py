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
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from detector.classifier.detector import Detector
from detector.config import WatchConfig
from detector.mastodon_server import MastodonTestServer, SimParams, simulate
from tests.pipeline_support import (
    HASHTAGS,
    Botwatch,
    KEYWORDS,
    expected_replies,
    expected_triggers,
    scoring_problems,
    sqlite_integrity,
    stored,
)

pytestmark = pytest.mark.timeout(240)
NOW = datetime.now(timezone.utc).replace(microsecond=0)
KILLS = 5


@pytest.fixture(scope="module")
def live_server():
    """A community whose day ends now, served on real time, as a real instance would be."""
    community = simulate(SimParams(seed=37, start=NOW - timedelta(days=1), days=1.0, humans=300, power_users=4))
    with MastodonTestServer(community, clock=time.time, rate_limit=100_000) as server:
        yield server


def write_config(tmp_path: Path, server: MastodonTestServer) -> Path:
    config = tmp_path / "botwatch.toml"
    config.write_text(
        f"[botwatch]\nstate_dir = '{tmp_path / 'state'}'\nlog_format = 'json'\n"
        f"[instances.sim]\nurl = '{server.base_url}'\nmax_pages = 2\n"
        f"[watches.dustwise]\nkeywords = {list(KEYWORDS)}\nhashtags = {list(HASHTAGS)}\nbrand_accounts = ['dustwise']\n"
        "allowlist = ['dustwise_support']\ninterval = '1s'\nlookback_hours = 48\n"
    )
    return config


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
