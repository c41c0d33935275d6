"""Retention: raw JSON first, then old rows, never what a pending summary, a label or a
checkpoint needs; configured and validated; scheduled by the service."""

from datetime import date, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from structlog.testing import capture_logs

from detector.config import parse_config
from detector.errors import ConfigError
from detector.store import AccountScore, ReplyScore, Store
from jobs.retention import Pruned, prune, run_retention
from tests.conftest import T0, make_author, make_post

UTC = ZoneInfo("UTC")
NOW = T0 + timedelta(days=60)  # 2026-04-30 12:00 UTC
BOT, HUMAN, LATE = make_author("66", "VacuumRus"), make_author("7", "bob"), make_author("8", "carol")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def timed_store(database_url, clock):
    opened = Store.open(database_url, create=True, clock=clock)
    try:
        yield opened
    finally:
        opened.close()


def _stored(store, clock):
    """An old thread (one reply to it came 40 days later), a reply on 30 March, a recent thread."""
    old = make_post("1", minutes=0)
    replies = [make_post("10", author=BOT, minutes=1, parent=old, text="Buy!"),
               make_post("11", author=HUMAN, minutes=2, parent=old, text="no")]
    march_30 = make_post("12", author=LATE, minutes=(29 * 24 + 8) * 60, parent=old, text="late one")
    much_later = make_post("13", author=LATE, minutes=40 * 24 * 60, parent=old, text="later still")
    recent = make_post("2", minutes=58 * 24 * 60)
    recent_reply = make_post("20", author=LATE, minutes=58 * 24 * 60 + 1, parent=recent, text="fresh")
    store.save_discovered("acme", "hashtag:vacuum", [old], "1", fetched_at=T0, track_until_hours=24 * 50)
    store.save_replies("acme", old.key, replies + [march_30, much_later], checked_at=T0, next_check_at=T0)
    store.save_discovered("acme", "hashtag:vacuum", [recent], "2", fetched_at=NOW, track_until_hours=24)
    store.save_replies("acme", recent.key, [recent_reply], checked_at=NOW, next_check_at=None)
    everything = replies + [march_30, much_later, recent_reply]
    store.save_scores("m1", [ReplyScore(r.key, 0.5, "suspect", T0) for r in everything],
                      [AccountScore((a.platform, a.instance, a.id), 0.5, "suspect", T0) for a in (BOT, HUMAN, LATE)],
                      {(a.platform, a.instance, a.id): {"n": 1} for a in (BOT, HUMAN, LATE)})
    store.set_label((BOT.platform, BOT.instance, BOT.id), "bot", by="tester")
    clock.now = NOW


def _summarised_until(store, last: date) -> None:
    day = T0.date()
    while day <= last:
        store.save_summary("acme", day, "md", {})
        day += timedelta(days=1)


def _ids(store):
    with store.engine.connect() as conn:
        return {post_id: raw is not None for post_id, raw in conn.exec_driver_sql("SELECT post_id, raw FROM posts")}


def test_old_rows_go_raw_json_first_and_labels_checkpoints_summaries_stay(timed_store, clock):
    store = timed_store
    _stored(store, clock)
    _summarised_until(store, NOW.date() - timedelta(days=1))
    watches = [SimpleNamespace(name="acme")]

    pruned = prune(store, watches, now=NOW, zone=UTC, retention_days=30, raw_retention_days=7, batch=2)

    assert pruned == Pruned(raw=5, posts=3, accounts=2, rows_before=NOW - timedelta(days=30),
                            raw_before=NOW - timedelta(days=7))
    # the old post stays: a reply kept (13, 40 days later) answers it; raw JSON only where recent
    assert _ids(store) == {"1": False, "13": False, "2": True, "20": True}
    counts = store.counts()
    assert counts["reply_scores"] == 2 and counts["watch_posts"] == 4
    assert counts["account_scores"] == counts["account_activity"] == 1 and counts["accounts"] == 2
    assert set(store.labels()) == {(BOT.platform, BOT.instance, BOT.id)}  # the account went, its label not
    assert store.checkpoints("acme") == {"hashtag:vacuum": "2"} and counts["summaries"] == 60
    assert prune(store, watches, now=NOW, zone=UTC, retention_days=30, raw_retention_days=7).posts == 0


def test_a_day_waiting_for_its_summary_keeps_its_replies(timed_store, clock):
    store = timed_store
    _stored(store, clock)
    _summarised_until(store, date(2026, 3, 29))  # 30 March onwards still to summarise

    pruned = prune(store, [SimpleNamespace(name="acme")], now=NOW, zone=UTC, retention_days=30,
                   raw_retention_days=None)

    assert pruned.rows_before == T0.replace(month=3, day=30, hour=0) and pruned.raw == 0
    assert set(_ids(store)) == {"1", "12", "13", "2", "20"}  # 12 was posted on 30 March


def test_the_job_logs_what_it_pruned_and_does_nothing_unconfigured(timed_store, clock):
    store = timed_store
    _stored(store, clock)
    config = SimpleNamespace(watches={}, timezone=UTC, retention_days=None, raw_retention_days=None)
    runtime = SimpleNamespace(config=config, store=store, clock=clock, stop=SimpleNamespace(is_set=lambda: False))
    assert run_retention(runtime) == Pruned()
    runtime.config = SimpleNamespace(watches={}, timezone=UTC, retention_days=None, raw_retention_days=10)
    with capture_logs() as logs:
        pruned = run_retention(runtime)
    assert pruned.raw == 5 and pruned.posts == 0
    (event,) = [e for e in logs if e["event"] == "retention.pruned"]
    assert (event["raw"], event["posts"], event["accounts"]) == (5, 0, 0)
    assert event["raw_before"] == (NOW - timedelta(days=10)).isoformat() and event["rows_before"] is None


BASE = {
    "botwatch": {},
    "instances": {"main": {"url": "https://mastodon.example"}},
    "watches": {"w": {"keywords": ["vacuum"], "lookback_hours": 48}},
}


def _config(**retention):
    return parse_config({**BASE, "botwatch": retention}, environ={})


def test_retention_settings_are_read_and_checked():
    config = _config(retention_days=90, raw_retention_days=14)
    assert (config.retention_days, config.raw_retention_days) == (90, 14)
    assert (_config().retention_days, _config().raw_retention_days) == (None, None)
    with pytest.raises(ConfigError, match=r"botwatch.raw_retention_days: must not exceed retention_days \(7\)"):
        _config(retention_days=7, raw_retention_days=8)
    with pytest.raises(ConfigError, match=r"botwatch.retention_days: must be longer than the longest lookback_hours"):
        _config(retention_days=2)
    with pytest.raises(ConfigError, match=r"botwatch.retention_days: expected a whole number from 1 to \d+, got 0"):
        _config(retention_days=0)
    with pytest.raises(ConfigError, match=r"raw_retention_days: expected a whole number .*got '14d'"):
        _config(raw_retention_days="14d")


def test_the_service_schedules_retention_only_when_configured(sqlite_url):
    from jobs.service import RETENTION_JOB, Service

    def jobs(**retention):
        config = parse_config({**BASE, "botwatch": {"database_url": sqlite_url, **retention}}, environ={})
        runtime = SimpleNamespace(config=config, clock=lambda: NOW,
                                  store=SimpleNamespace(engine=Store.open(sqlite_url, create=True).engine))
        return Service(runtime).desired_jobs()

    assert RETENTION_JOB not in jobs()
    job = jobs(retention_days=30)[RETENTION_JOB]
    assert job["func"] == "jobs.service:run_retention_job" and job["trigger"].interval == timedelta(days=1)
