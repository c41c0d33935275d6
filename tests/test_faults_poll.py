"""Faults through the real poll job and the real store, against two local Mastodon-API servers.

Issue 4's property: whatever the fault schedule (5xx bursts, HTML error pages, timeouts,
connection resets, truncated or malformed JSON, pages that repeat ids, 429 storms with and
without Retry-After, on any endpoint, at any moment, with restarts in between), once the servers
recover the store holds exactly the posts each server has for each watch: every trigger and
every reply under it, each once, each reply scored once and counted once in its account's
behaviour state. One server's trouble never holds up the other's watches, and every logged
error stays small.

Both servers share one simulated clock; the sources' sleeps advance it, so backoff and
Retry-After cost no wall time. Only request timeouts are real (0.2 s).
"""

from __future__ import annotations

import random
import threading
import time

import pytest
from structlog.testing import capture_logs

from detector.errors import BotwatchError, RateLimited, SourceError
from detector.mastodon_server import MastodonTestServer, SimClock, SimParams, simulate
from detector.sources.backoff import RetryPolicy
from jobs.poll import poll_watch
from tests.pipeline_support import (
    expected_replies,
    expected_triggers,
    make_runtime,
    scoring_problems,
    stored,
    watch_table,
)

pytestmark = pytest.mark.timeout(180)

PARAMS = SimParams(seed=23, days=1.0, humans=50, power_users=2, news_sharers=2)
INTERVAL = 300.0  # the watches' poll interval: the clock moves this much between rounds
ROUNDS = 20  # polls of each watch under faults before the servers recover
LOG_VALUE_LIMIT = 1000  # characters: no logged value may be longer (a whole HTML page, say)

TIMELINES = (r"/api/v1/timelines/tag/vacuum$", r"/api/v1/timelines/tag/robotvacuum$", r"/api/v1/timelines/public$",
             r"/api/v1/accounts/\d+/statuses$")
OTHERS = (r"/api/v1/notifications$", r"/api/v2/search$", r"/api/v1/accounts/lookup$",
          r"/api/v1/accounts/verify_credentials$", r"^/api/v2/instance$", r"/api/v1/statuses/\d+/context$")


@pytest.fixture(scope="module")
def community():
    return simulate(PARAMS)


def add_random_faults(server: MastodonTestServer, rng: random.Random) -> None:
    for _ in range(rng.randint(3, 8)):
        kind = rng.choice(["error", "html", "reset", "malformed", "truncated", "rate_limit", "hang", "repeat_page"])
        times, extra = rng.randint(1, 6), {}
        if kind == "error":
            extra = {"status": rng.choice([500, 502, 503, 504])}
        elif kind == "rate_limit":
            times, extra = rng.randint(1, 12), {"retry_after": rng.choice([1, 5, 30, 120, None])}
        elif kind == "hang":
            times, extra = rng.randint(1, 3), {"delay": 1.0}
        elif kind == "repeat_page":  # only timelines page by id; from the 2nd request, see test_source_server
            server.faults.add(rng.choice(TIMELINES), kind, times=rng.randint(1, 4), after=rng.randint(1, 6),
                              overlap=rng.randint(1, 5))
            continue
        server.faults.add(rng.choice(TIMELINES + OTHERS), kind, times=times, after=rng.randint(0, 20), **extra)


def recovered(*servers: MastodonTestServer) -> bool:
    return all(f.exhausted for server in servers for f in server.faults.list())


def poll_until_quiet(runtime, clock: SimClock, limit: int = 30) -> None:
    """Poll every watch, as the service would after recovery, until nothing changes."""
    for _ in range(limit):
        quiet = True
        for watch in runtime.config.watches.values():
            before = runtime.store.checkpoints(watch.name)
            result = poll_watch(runtime, watch)
            quiet &= (result.posts_new, result.replies_new, result.replies_scored) == (0, 0, 0)
            quiet &= runtime.store.checkpoints(watch.name) == before
        if quiet:
            return
        clock.advance(INTERVAL)
    raise AssertionError("polling never settled")


def check_store_matches_servers(runtime, servers) -> None:
    engine = runtime.store.engine
    for name, server in servers.items():
        watch = runtime.config.watches[f"w{name}"]
        triggers = stored(engine, watch.name, "trigger")
        replies = stored(engine, watch.name, "reply")
        want_triggers = expected_triggers(server, watch)
        assert len(triggers) == len(set(triggers)) and len(replies) == len(set(replies))
        assert set(triggers) == want_triggers
        assert set(replies) == expected_replies(server, want_triggers)
    assert scoring_problems(engine, runtime.detector.version) == []


def check_logs_bounded(logs, errors) -> None:
    for event in logs:
        for key, value in event.items():
            assert len(str(value)) <= LOG_VALUE_LIMIT, (event["event"], key, str(value)[:200])
    for error in errors:
        assert len(str(error)) <= LOG_VALUE_LIMIT and (error.hint is None or len(error.hint) <= LOG_VALUE_LIMIT)


def run_schedule(community, tmp_path, database_url, seed) -> tuple[list[str], object, dict]:
    rng = random.Random(seed)
    clock = SimClock(community.end_ms / 1000)
    with MastodonTestServer(community, clock=clock, rate_limit=100_000) as a, \
            MastodonTestServer(community, clock=clock, rate_limit=100_000) as b:
        servers = {"a": a, "b": b}
        for server in servers.values():
            add_random_faults(server, rng)

        def new_process():
            return make_runtime(servers, database_url, tmp_path / "state", request_timeout=0.2,
                                max_pages=rng.randint(1, 4), page_size=rng.choice([10, 20, 40]), rng=rng)

        runtime = new_process()
        outcomes, errors = [], []
        with capture_logs() as logs:
            for _ in range(ROUNDS):
                if rng.random() < 0.15:  # the service restarts: only the database carries over
                    runtime.store.close()
                    runtime = new_process()
                for watch in runtime.config.watches.values():
                    try:
                        poll_watch(runtime, watch)
                        outcomes.append("ok")
                    except BotwatchError as exc:
                        outcomes.append(type(exc).__name__)
                        errors.append(exc)
                clock.advance(INTERVAL)
                if recovered(a, b):
                    break
            hits = sum(f.hits for server in servers.values() for f in server.faults.list())
            assert hits > 0 and outcomes.count("ok") < len(outcomes), outcomes  # the faults did happen
            for server in servers.values():
                server.faults.clear()  # the servers recover (faults on paths no longer asked for lapse)
            poll_until_quiet(runtime, clock)
        check_store_matches_servers(runtime, servers)
        check_logs_bounded(logs, errors)
        runtime.store.close()
        return outcomes, logs, servers


@pytest.mark.parametrize("seed", range(8))
def test_whatever_the_fault_schedule_the_store_ends_up_with_every_post_once(community, tmp_path, sqlite_url, seed):
    outcomes, logs, _ = run_schedule(community, tmp_path, sqlite_url, seed)
    assert "ok" in outcomes


@pytest.mark.postgres
@pytest.mark.parametrize("seed", [100, 101])
def test_whatever_the_fault_schedule_on_postgresql(community, tmp_path, postgres_url, seed):
    outcomes, _, _ = run_schedule(community, tmp_path, postgres_url, seed)
    assert "ok" in outcomes


def test_the_schedules_exercise_every_fault_kind(community):
    """Guards the property test above: its seeds between them try every kind of fault."""
    kinds = set()
    for seed in range(8):
        rng = random.Random(seed)
        with MastodonTestServer(community) as a, MastodonTestServer(community) as b:
            for server in (a, b):
                add_random_faults(server, rng)
                kinds |= {f.kind for f in server.faults.list()}
    assert kinds == {"error", "html", "reset", "malformed", "truncated", "rate_limit", "hang", "repeat_page"}


@pytest.fixture
def two_servers(community):
    clock = SimClock(community.end_ms / 1000)
    with MastodonTestServer(community, clock=clock, rate_limit=100_000) as a, \
            MastodonTestServer(community, clock=clock, rate_limit=100_000) as b:
        yield {"a": a, "b": b}


@pytest.fixture
def three_watches():
    return {"wa": watch_table("a"), "wa2": watch_table("a", keywords=["hoover"]), "wb": watch_table("b")}


def test_a_hanging_instance_does_not_stall_the_other_instances_watches(two_servers, tmp_path, sqlite_url,
                                                                     three_watches):
    a = two_servers["a"]
    a.faults.add(r"^/api/v", "hang", times=None, delay=120)  # every request to a hangs, for minutes
    runtime = make_runtime(two_servers, sqlite_url, tmp_path / "state", watches=three_watches, request_timeout=60,
                           retry=RetryPolicy(attempts=2))
    outcome: dict[str, object] = {}

    def poll_a():
        try:
            outcome["a"] = poll_watch(runtime, runtime.config.watches["wa"])
        except BotwatchError as exc:
            outcome["a"] = exc

    stalled = threading.Thread(target=poll_a)
    stalled.start()
    deadline = time.monotonic() + 10
    while not a.requests_to(r"^/api/v") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert a.requests_to(r"^/api/v"), "instance a was never asked"
    started = time.monotonic()
    result = poll_watch(runtime, runtime.config.watches["wb"])  # meanwhile, on b
    assert result.posts_new > 0 and result.replies_new > 0 and time.monotonic() - started < 10
    assert stalled.is_alive() and "a" not in outcome  # a's watch is still waiting for its answer
    a.stop()  # the hung connections drop; a's watch gives up quickly (retries wait on the simulated clock)
    stalled.join(timeout=10)
    assert not stalled.is_alive() and isinstance(outcome["a"], SourceError)
    with pytest.raises(SourceError, match="not trying again before"):  # a's other watches fail fast
        poll_watch(runtime, runtime.config.watches["wa2"])
    runtime.store.close()


@pytest.mark.parametrize("retry_after", [600, None])
def test_a_429_storm_backs_off_per_instance(two_servers, tmp_path, sqlite_url, three_watches, retry_after):
    a = two_servers["a"]
    a.faults.add(r"^/api/v", "rate_limit", times=None, retry_after=retry_after)
    runtime = make_runtime(two_servers, sqlite_url, tmp_path / "state", watches=three_watches)
    with capture_logs() as logs:
        with pytest.raises(RateLimited) as first:
            poll_watch(runtime, runtime.config.watches["wa"])
        sent = len(a.requests)
        if retry_after is None:  # 2, 4, 8 s of backoff (simulated), then the next waits would be too long
            assert sent <= 5
        with pytest.raises(RateLimited):  # the same instance's other watch: refused without asking a
            poll_watch(runtime, runtime.config.watches["wa2"])
        assert len(a.requests) == sent
        assert poll_watch(runtime, runtime.config.watches["wb"]).posts_new > 0  # b is not held up
    assert first.value.retry_at > a.clock()
    assert len([e for e in logs if e["event"] == "source.rate_limited"]) >= 2
    a.faults.clear()  # the storm passes; after retry_at, a's watches poll normally
    a.clock.advance(first.value.retry_at - a.clock() + 1)
    assert poll_watch(runtime, runtime.config.watches["wa"]).posts_new > 0
    assert poll_watch(runtime, runtime.config.watches["wa2"]).replies_new >= 0
    runtime.store.close()
