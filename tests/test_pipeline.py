"""The whole pipeline, for real: simulated community on the local Mastodon server, the Mastodon
source through Mastodon.py, the store on SQLite and PostgreSQL, the shipped model, the summary."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from structlog.testing import capture_logs

from detector.config import parse_config
from detector.mastodon_server import MastodonTestServer, SimParams, simulate
from detector.sources import MastodonSource
from jobs.poll import poll_watch
from jobs.service import Service, build_runtime
from jobs.summary import write_due_summaries

PARAMS = SimParams(seed=23, days=1.0, humans=120, power_users=3, news_sharers=4)


@pytest.fixture(scope="module")
def community():
    return simulate(PARAMS)


@pytest.fixture
def server(community):
    with MastodonTestServer(community, rate_limit=100_000) as running:
        running.set_time(PARAMS.start + timedelta(hours=12))
        yield running


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("BOTWATCH_TEST_STATE_DIR", str(tmp_path / "state"))


def make_runtime(server, database_url, *, watches=None, **instance):
    import os

    document = {
        "botwatch": {"state_dir": os.environ["BOTWATCH_TEST_STATE_DIR"]},
        "instances": {"sim": {"url": server.base_url, **instance}},
        "watches": watches or {
            "dustwise": {
                "keywords": list(PARAMS.keywords), "hashtags": list(PARAMS.hashtags),
                "brand_accounts": ["dustwise"], "allowlist": ["dustwise_support"], "lookback_hours": 24,
            }
        },
    }
    environ = {"BOTWATCH_DATABASE_URL": database_url, "BOTWATCH_TOKEN_SIM": server.token_for("dustwise")}
    config = parse_config(document, environ=environ)

    def clock():
        return datetime.fromtimestamp(server.clock(), timezone.utc)

    # Waiting moves the simulated clock, as waiting moves real time.
    sources = {"sim": MastodonSource(config.instances["sim"], clock=server.clock, sleep=server.advance)}
    return build_runtime(config, create_db=True, clock=clock, sources=sources)


def stored_keys(runtime):
    counts = runtime.store.counts()
    return counts["posts"], counts["watch_posts"], counts["reply_scores"]


def expected_replies(community, server, watch_post_ids):
    """Descendants, visible at the server's time, of the posts the watch found."""
    now_ms = server.now_ms()
    seen, stack = set(), list(watch_post_ids)
    while stack:
        for child in community.children(stack.pop()):
            if child.created_ms <= now_ms and child.id not in seen:
                seen.add(child.id)
                stack.append(child.id)
    return seen


def test_poll_stores_scores_and_flags_the_auto_replier(server, community, database_url):
    runtime = make_runtime(server, database_url)
    result = poll_watch(runtime, runtime.config.watches["dustwise"])
    assert result.posts_new > 0 and result.replies_new > 0 and result.replies_scored == result.replies_new
    rows = list(runtime.store.replies_between("dustwise", PARAMS.start, PARAMS.end, runtime.detector.version))
    labels = {row.post.author.acct: row.account_score.label for row in rows}
    kinds = {row.post.author.acct: community.account(row.post.author.id).kind for row in rows}
    repliers = [acct for acct, kind in kinds.items() if kind == "keyword_replier"]
    assert repliers and all(labels[acct] == "bot" for acct in repliers)
    assert labels.get("dustwise_support", "human") == "human"
    runtime.store.close()


def test_restart_mid_poll_loses_and_duplicates_nothing(server, community, database_url, sqlite_url):
    reference = make_runtime(server, sqlite_url.replace(".sqlite3", "-ref.sqlite3"))
    poll_watch(reference, reference.config.watches["dustwise"])
    want = stored_keys(reference)
    reference.store.close()

    runtime = make_runtime(server, database_url)
    watch = runtime.config.watches["dustwise"]

    class StopAfter:
        def __init__(self, pages):
            self.pages = pages

        def discovered(self, route, count):
            self.pages -= 1
            if self.pages == 0:
                runtime.stop.set()

        def contexts_due(self, count): ...
        def context_done(self, replies): ...
        def scored(self, count): ...

    first = poll_watch(runtime, watch, progress=StopAfter(2))
    assert first.stopped_early and first.pages == 2
    runtime.stop.clear()
    poll_watch(runtime, watch)
    assert stored_keys(runtime) == want
    runtime.store.close()


def test_new_posts_between_polls_are_picked_up(server, community, database_url):
    runtime = make_runtime(server, database_url)
    watch = runtime.config.watches["dustwise"]
    poll_watch(runtime, watch)
    before = runtime.store.counts()["posts"]
    server.advance(6 * 3600)
    second = poll_watch(runtime, watch)
    assert second.posts_new > 0 and runtime.store.counts()["posts"] > before
    again = poll_watch(runtime, watch)
    assert again.posts_new == 0
    runtime.store.close()


def test_rate_limit_is_waited_out(community, sqlite_url):
    with MastodonTestServer(community, rate_limit=100_000) as server:
        server.set_time(PARAMS.start + timedelta(hours=12))
        server.faults.add(r"/api/v1/timelines/tag/", "rate_limit", times=2, retry_after=3)
        runtime = make_runtime(server, sqlite_url)
        before = server.clock()
        result = poll_watch(runtime, runtime.config.watches["dustwise"])
        statuses = [r.status for r in server.requests_to(r"/api/v1/timelines/tag/vacuum$")]
        assert statuses[:3] == [429, 429, 200]  # refused twice, then served after the wait
        assert server.clock() - before >= 3  # Retry-After was honoured (sleep moves the clock)
        assert result.posts_new > 0
        runtime.store.close()


def test_malformed_json_fails_one_watch_clearly_and_the_others_go_on(server, sqlite_url):
    watches = {
        "broken": {"hashtags": ["vacuum"], "routes": ["hashtags"]},
        "fine": {"brand_accounts": ["dustwise"], "routes": ["brand"]},
    }
    runtime = make_runtime(server, sqlite_url, watches=watches)
    server.faults.add(r"/api/v1/timelines/tag/vacuum", "malformed", times=50)
    service = Service(runtime)
    with capture_logs() as logs:
        service.poll("broken")
        service.poll("fine")
    failed = [e for e in logs if e["event"] == "poll.failed"]
    assert len(failed) == 1 and failed[0]["watch"] == "broken"
    assert "JSON" in failed[0]["error"] and len(failed[0]["error"]) < 1000
    finished = [e for e in logs if e["event"] == "poll.finished"]
    assert [e["watch"] for e in finished] == ["fine"] and finished[0]["posts_new"] > 0
    assert runtime.store.checkpoints("broken").get("hashtag:vacuum") is None
    runtime.store.close()


def test_daily_summary_lists_flagged_accounts_with_evidence_once(server, database_url):
    runtime = make_runtime(server, database_url)
    poll_watch(runtime, runtime.config.watches["dustwise"])
    server.advance(24 * 3600)
    poll_watch(runtime, runtime.config.watches["dustwise"])
    written = write_due_summaries(runtime)
    assert [w for w, _ in written] == ["dustwise"]
    day = written[0][1]
    summary = runtime.store.summary("dustwise", day)
    assert summary.data["replies_seen"] > 0 and summary.data["top_accounts"]
    top = summary.data["top_accounts"][0]
    assert top["samples"] and top["reasons"]
    assert "dustwise_support" not in {a["acct"] for a in summary.data["top_accounts"]}
    assert write_due_summaries(runtime) == []  # exactly one per day
    runtime.store.close()
