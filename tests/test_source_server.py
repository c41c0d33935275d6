"""The Mastodon source against the project's local Mastodon-API server, over real HTTP.

The server's clock is the source's clock, and the source's sleep advances it, so waits cost no
wall time. Expected sets come from the simulated community itself (what the server holds), not
from the source, so a page lost or fetched twice shows up as a difference.
"""

from __future__ import annotations

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

import pytest
from structlog.testing import capture_logs

from detector.config import InstanceConfig, Secret, WatchConfig
from detector.errors import MalformedResponse, RateLimited, SourceError
from detector.mastodon_server import Community, MastodonTestServer, SimParams, simulate
from detector.normalise.mastodon import normalise_status
from detector.sources.backoff import RetryPolicy
from detector.sources.base import Page
from detector.sources.mastodon import MastodonSource
from detector.sources.matching import WatchMatcher
from detector.sources.ratelimit import RateLimiter

pytestmark = pytest.mark.timeout(120)

WATCH = WatchConfig(name="dustwise", instance="sim", keywords=("vacuum", "hoover"),
                    hashtags=("vacuum", "robotvacuum"), brand_accounts=("dustwise",))
ROUTES = ("hashtag:vacuum", "hashtag:robotvacuum", "brand-posts:dustwise", "brand-mentions:dustwise",
          "search:vacuum", "search:hoover", "public")


@pytest.fixture(scope="module")
def community() -> Community:
    return simulate(SimParams(seed=11))


@pytest.fixture
def server(community):
    with MastodonTestServer(community, rate_limit=100_000) as srv:
        yield srv


@pytest.fixture
def since(community) -> datetime:
    return community.params.start  # the first poll looks back to the community's first day


def make_source(server: MastodonTestServer, *, acct: str | None = "dustwise", page_size: int = 40,
                retry: RetryPolicy = RetryPolicy(), **instance: object) -> MastodonSource:
    token = Secret(server.token_for(acct)) if acct else None
    config = InstanceConfig(name="sim", url=server.base_url, token=token, **{"request_timeout": 5.0, **instance})

    def sleep(seconds: float) -> None:
        server.advance(seconds)

    limiter = RateLimiter("sim", clock=server.clock, sleep=sleep)
    return MastodonSource(config, clock=server.clock, sleep=sleep, limiter=limiter, retry=retry,
                          rng=random.Random(5), page_size=page_size)


@dataclass
class FakeStore:
    """What the poll job keeps: each page's posts and its checkpoint, together."""

    checkpoints: dict[str, str] = field(default_factory=dict)
    stored: list[tuple[str, str]] = field(default_factory=list)  # (route, post id), in storing order

    def save(self, page: Page) -> None:
        self.stored += [(page.route, p.id) for p in page.posts]
        if page.checkpoint is not None:
            self.checkpoints[page.route] = page.checkpoint

    def by_route(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for route, post_id in self.stored:
            found.setdefault(route, set()).add(post_id)
        return found

    def duplicates(self) -> list[tuple[str, str]]:
        seen: set[tuple[str, str]] = set()
        return [key for key in self.stored if key in seen or seen.add(key)]


def poll(source: MastodonSource, store: FakeStore, since: datetime, watch: WatchConfig = WATCH) -> int:
    pages = 0
    for page in source.discover(watch, dict(store.checkpoints), since=since):
        store.save(page)
        pages += 1
    return pages


def poll_until_quiet(source, store, since, watch=WATCH, limit=50) -> int:
    """Poll as the service would until a poll brings nothing new; returns the number of polls."""
    for n in range(1, limit + 1):
        before = (len(store.stored), dict(store.checkpoints))
        poll(source, store, since, watch)
        if (len(store.stored), store.checkpoints) == before:
            return n
    raise AssertionError("discovery never settled")


def expected(server: MastodonTestServer, since: datetime, watch: WatchConfig = WATCH, *, searcher: str = "dustwise"
             ) -> dict[str, set[str]]:
    """What each route must find, straight from the community the server serves."""
    c = server.community
    now, start = server.now_ms(), int(since.timestamp() * 1000)
    live = [s for s in c.statuses if start <= s.created_ms <= now]
    public = [s for s in live if s.visibility == "public"]
    brand = c.lookup("dustwise")
    owner = c.lookup(searcher)
    matcher = WatchMatcher(watch, c.host)

    def counts(s) -> bool:
        return bool(matcher.match(normalise_status(c.status_json(s, at_ms=now), instance=c.host), "public"))

    def searchable(s, term) -> bool:
        author = c.account(s.account_id)
        return (s.visibility in ("public", "unlisted") and (author.indexable or author is owner or owner.id in s.mention_ids)
                and any(w.startswith(term) for w in server.words(s)))

    result = {
        f"hashtag:{t}": {s.id for s in public if t in {x.lower() for x in s.tags}} for t in watch.hashtags
    }
    result["brand-posts:dustwise"] = {s.id for s in live if s.account_id == brand.id and s.visibility in ("public", "unlisted")}
    result["brand-mentions:dustwise"] = {s.id for s in live if brand.id in s.mention_ids and s.account_id != brand.id
                                         and s.visibility in ("public", "unlisted")}
    for k in watch.keywords:
        result[f"search:{k}"] = {s.id for s in live if searchable(s, k)}
    result["public"] = {s.id for s in public if (not s.in_reply_to_id or s.in_reply_to_account_id == s.account_id)
                        and counts(s)}
    return {route: ids for route, ids in result.items() if ids}


def test_every_route_finds_exactly_what_the_server_holds(server, since):
    store = FakeStore()
    source = make_source(server, max_pages=100)
    with capture_logs() as logs:
        polls = poll_until_quiet(source, store, since)
    want = expected(server, since)
    assert set(want) == set(ROUTES), "the community should exercise every route"
    assert store.by_route() == want
    assert store.duplicates() == []
    assert polls == 2  # everything in one poll; the second finds nothing new
    pages = [e for e in logs if e["event"] == "source.page"]
    assert {e["route"] for e in pages} == set(ROUTES)
    assert all({"instance", "watch", "route", "count", "matched", "checkpoint"} <= set(e) for e in pages)


def test_found_posts_are_normalised_with_provenance_and_raw_json(server, since):
    source = make_source(server, max_pages=100)
    pages = list(source.discover(WATCH, {}, since=since))
    page = next(p for p in pages if p.route == "public" and p.posts)
    post = page.posts[0]
    assert post.provenance.source == "mastodon-api" and post.provenance.route == "public"
    assert post.provenance.fetched_at == datetime.fromtimestamp(server.clock(), timezone.utc)
    sent = server.community.status_json(post.id, at_ms=server.now_ms(), viewer=True)
    assert json.dumps(post.raw, sort_keys=True) == json.dumps(sent, sort_keys=True)
    assert page.match(post).keywords  # the public route only keeps posts that match
    mention = next(p for p in pages if p.route == "brand-mentions:dustwise" and p.posts)
    assert all(m.brand_accounts == ("dustwise",) for m in mention.matches.values())


@pytest.mark.parametrize("crash_after", [0, 1, 3, 6])
def test_a_restart_mid_poll_loses_and_duplicates_nothing(server, since, crash_after):
    reference = FakeStore()
    poll_until_quiet(make_source(server, max_pages=4, page_size=20), reference, since)

    store = FakeStore()
    source = make_source(server, max_pages=4, page_size=20)
    pages = source.discover(WATCH, {}, since=since)
    for _ in range(crash_after):
        store.save(next(pages))
    next(pages)  # fetched, then the process dies before storing it
    pages.close()
    restarted = make_source(server, max_pages=4, page_size=20)  # a new process: nothing but the store survives
    poll_until_quiet(restarted, store, since)
    assert store.by_route() == reference.by_route() == expected(server, since)
    assert store.duplicates() == []


def test_new_posts_between_polls_are_picked_up(server, since, community):
    server.set_time(since.timestamp() + 86_400)  # a day in: the second day's posts do not exist yet
    store = FakeStore()
    source = make_source(server, max_pages=100)
    poll_until_quiet(source, store, since)
    first = store.by_route()
    assert first == expected(server, since)
    server.set_time(community.end_ms / 1000)
    poll_until_quiet(source, store, since)
    final = store.by_route()
    assert final == expected(server, since)
    assert sum(map(len, final.values())) > sum(map(len, first.values()))
    assert store.duplicates() == []


def test_pages_are_bounded_per_poll_and_resume(server, since):
    store = FakeStore()
    source = make_source(server, max_pages=2, page_size=20)
    with capture_logs() as logs:
        poll(source, store, since)
    assert max(sum(1 for e in logs if e["event"] == "source.page" and e["route"] == r) for r in ROUTES) <= 2
    assert any(e["event"] == "source.behind" and e["route"] == "public" for e in logs)
    assert poll_until_quiet(source, store, since) > 2
    assert store.by_route() == expected(server, since) and store.duplicates() == []


def test_context_returns_the_replies_under_a_post(server, since):
    c = server.community
    source = make_source(server)
    parent = max((s for s in c.statuses if s.visibility == "public" and not s.in_reply_to_id),
                 key=lambda s: len(c.children(s.id)))
    post = normalise_status(c.status_json(parent, at_ms=server.now_ms()), instance=source.instance)
    replies = source.context(post)
    want, stack = set(), list(c.children(parent.id))
    while stack:
        child = stack.pop()
        if child.visibility in ("public", "unlisted"):
            want.add(child.id)
            stack += c.children(child.id)
    assert {r.id for r in replies} == want and len(want) >= 3
    assert all(r.provenance.route == f"context:{parent.id}" and r.raw for r in replies)
    assert [r.created_at for r in replies] == sorted(r.created_at for r in replies)
    assert replies[0].parent_id is not None


def test_a_429_is_waited_out(server, since):
    server.faults.add(r"/api/v1/timelines/public", "rate_limit", times=1, retry_after=4)
    store = FakeStore()
    source = make_source(server, max_pages=100)
    started = server.clock()
    poll_until_quiet(source, store, since)
    assert store.by_route() == expected(server, since)
    assert server.clock() - started >= 4  # the source waited (on the server's clock), then went on
    assert [r.status for r in server.requests_to(r"/timelines/public")][:2] == [429, 200]


def test_a_429_storm_raises_quickly_and_never_stalls_other_servers(server, since, community):
    server.faults.add(r"/api/v1/timelines/", "rate_limit", times=None, retry_after=1)
    with MastodonTestServer(community, rate_limit=100_000) as healthy:
        stormy_source, healthy_source = make_source(server), make_source(healthy, max_pages=100)

        def run(source):
            started = time.monotonic()
            store = FakeStore()
            try:
                poll(source, store, since)
            except RateLimited as exc:
                return "rate limited", exc.retry_at, time.monotonic() - started
            return "done", store.by_route(), time.monotonic() - started

        with ThreadPoolExecutor(2) as pool:
            stormy, calm = pool.map(run, [stormy_source, healthy_source])
        assert stormy[0] == "rate limited" and stormy[2] < 5.0
        assert stormy[1] >= server.clock()
        assert calm[0] == "done" and calm[1] == expected(healthy, since)
    # once the server asks for a long pause, every watch of it is refused at once, without asking again
    server.faults.clear()
    server.faults.add(r"/api/v1/timelines/", "rate_limit", times=None, retry_after=600)
    hashtags_only = replace(WATCH, name="other", routes=("hashtags",))
    with pytest.raises(RateLimited) as caught:
        list(stormy_source.discover(hashtags_only, {}, since=since))
    assert caught.value.retry_at == pytest.approx(server.clock() + 600, abs=1)
    sent = len(server.requests)
    with pytest.raises(RateLimited):
        list(stormy_source.discover(replace(hashtags_only, name="third"), {}, since=since))
    assert len(server.requests) == sent


def test_rate_limit_budget_is_paced_not_exhausted(community, since):
    with MastodonTestServer(community, rate_limit=30, rate_window=300) as server:
        source = make_source(server, max_pages=100, page_size=20)
        store = FakeStore()
        with pytest.raises(RateLimited) as caught:
            poll_until_quiet(source, store, since)
        # the source stopped itself before the server had to refuse: no 429 at all
        assert all(r.status != 429 for r in server.requests)
        assert caught.value.retry_at <= server.clock() + 300
        server.advance(caught.value.retry_at - server.clock() + 1)
        for _ in range(20):
            try:
                poll_until_quiet(source, store, since)
                break
            except RateLimited as exc:
                server.advance(exc.retry_at - server.clock() + 1)
        assert store.by_route() == expected(server, since) and store.duplicates() == []


def test_5xx_bursts_and_resets_are_retried(server, since):
    server.faults.add(r"/api/v1/timelines/tag/", "error", status=503, times=2)
    server.faults.add(r"/api/v1/timelines/public", "html", status=502, times=1, after=1)
    server.faults.add(r"/api/v1/notifications", "reset", times=1)
    server.faults.add(r"/api/v2/search", "error", status=500, times=1)
    store = FakeStore()
    with capture_logs() as logs:
        poll_until_quiet(make_source(server, max_pages=100), store, since)
    assert store.by_route() == expected(server, since) and store.duplicates() == []
    retries = [e for e in logs if e["event"] == "source.retry"]
    assert len(retries) == 5
    assert {"instance", "endpoint", "attempt", "error"} <= set(retries[0])


def test_a_hang_beyond_the_request_timeout_is_a_source_error_quickly(server, since):
    server.faults.add(r"/api/v1/timelines/tag/", "hang", times=None, delay=10)
    source = make_source(server, request_timeout=0.25, retry=RetryPolicy(attempts=3))
    started = time.monotonic()
    with pytest.raises(SourceError) as caught:
        list(source.discover(WATCH, {}, since=since))
    assert time.monotonic() - started < 3.0
    assert "timed out" in str(caught.value).lower() and "failed 3 times" in str(caught.value)


@pytest.mark.parametrize("kind", ["malformed", "truncated"])
def test_malformed_json_is_reported_bounded_and_the_other_routes_go_on(server, since, kind):
    server.faults.add(r"/api/v1/timelines/tag/vacuum$", kind, times=None)
    store = FakeStore()
    source = make_source(server, max_pages=100)
    with capture_logs() as logs:
        with pytest.raises(MalformedResponse) as caught:
            poll(source, store, since)
    message = str(caught.value)
    assert "/api/v1/timelines/tag/vacuum" in message and "not JSON" in message and len(message) < 600
    failed = [e for e in logs if e["event"] == "source.route_failed"]
    assert [e["route"] for e in failed] == ["hashtag:vacuum"]
    found = store.by_route()
    assert "hashtag:vacuum" not in found and "hashtag:vacuum" not in store.checkpoints
    assert found["public"] == expected(server, since)["public"]
    server.faults.clear()  # the server recovers: the route picks up where it was
    poll_until_quiet(source, store, since)
    assert store.by_route() == expected(server, since) and store.duplicates() == []


def test_repeated_ids_across_pages_are_not_stored_twice(server, since):
    # after=1: on the first request the fault would drop min_id altogether (its cursor cannot move
    # before the first status), which no client can tell from a genuine page
    server.faults.add(r"/api/v1/timelines/public", "repeat_page", times=None, overlap=3, after=1)
    store = FakeStore()
    poll_until_quiet(make_source(server, max_pages=100, page_size=20), store, since)
    assert store.by_route()["public"] == expected(server, since)["public"]
    assert store.duplicates() == []


def test_trailing_slash_404_server_does_not_recurse(community, since):
    with MastodonTestServer(community, instance_trailing_slash_404=True, rate_limit=100_000) as server:
        store = FakeStore()
        poll_until_quiet(make_source(server, max_pages=100), store, since)
        assert store.by_route() == expected(server, since)
        assert not [r for r in server.requests if r.path.endswith("/instance/")]
        assert len(server.requests_to(r"^/api/v[12]/instance$")) == 1  # probed once


def test_search_disabled_is_handled(community, since):
    with MastodonTestServer(community, search_enabled=False, rate_limit=100_000) as server:
        store = FakeStore()
        poll_until_quiet(make_source(server, max_pages=100), store, since)
        want = {r: ids for r, ids in expected(server, since).items() if not r.startswith("search:")}
        assert store.by_route() == want


def test_anonymous_source_skips_what_needs_a_token(server, since):
    store = FakeStore()
    with capture_logs() as logs:
        poll_until_quiet(make_source(server, acct=None, max_pages=100), store, since)
    want = expected(server, since)
    assert store.by_route() == {r: want[r] for r in want if r in ("hashtag:vacuum", "hashtag:robotvacuum",
                                                                  "brand-posts:dustwise", "public")}
    skipped = {e["route"] for e in logs if e["event"] == "source.route_unavailable"}
    assert skipped == {"brand-mentions:dustwise", "search:vacuum", "search:hoover"}
    assert not server.requests_to(r"/api/v2/search|/notifications|verify_credentials")


def test_mentions_need_the_brand_accounts_own_token(server, since):
    store = FakeStore()
    poll_until_quiet(make_source(server, acct="botwatch", max_pages=100), store, since)
    assert "brand-mentions:dustwise" not in store.by_route()
    assert not server.requests_to(r"/notifications")


def test_timelines_that_need_a_login_are_skipped_not_fatal(community, since):
    with MastodonTestServer(community, timelines_require_auth=True, rate_limit=100_000) as server:
        with capture_logs() as logs:
            store = FakeStore()
            poll_until_quiet(make_source(server, acct=None, max_pages=100), store, since)
        assert set(store.by_route()) == {"brand-posts:dustwise"}
        skipped = {e["route"] for e in logs if e["event"] == "source.route_unavailable"}
        assert {"public", "hashtag:vacuum", "hashtag:robotvacuum"} <= skipped


def test_watches_share_one_source_from_a_thread_pool(server, since):
    watches = [replace(WATCH, name=f"w{i}") for i in range(4)]
    source = make_source(server, max_pages=100)
    stores = [FakeStore() for _ in watches]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda pair: poll_until_quiet(source, pair[1], since, pair[0]), zip(watches, stores)))
    want = expected(server, since)
    assert all(store.by_route() == want and not store.duplicates() for store in stores)
    assert len(server.requests_to(r"^/api/v2/instance$")) == 1
    assert len(server.requests_to(r"verify_credentials")) == 1
    assert len(server.requests_to(r"accounts/lookup")) == 1


def test_the_token_never_appears_in_logs_or_errors(server, since):
    token = server.token_for("dustwise")
    server.faults.add(r"/api/v1/timelines/tag/", "error", status=500, times=2)
    server.faults.add(r"/api/v1/notifications", "reset", times=1)
    server.faults.add(r"/api/v1/timelines/public", "malformed", times=None)
    errors = []
    with capture_logs() as logs:
        try:
            poll_until_quiet(make_source(server, max_pages=100), FakeStore(), since)
        except MalformedResponse as exc:
            errors.append(exc)
        server.faults.clear()
        server.faults.add(r"/api/v1/accounts/verify_credentials", "error", status=401, times=None)
        try:
            list(make_source(server).discover(WATCH, {}, since=since))
        except SourceError as exc:  # the token refused: the one error that stops every route
            errors.append(exc)
    assert len(errors) == 2 and logs
    text = json.dumps(logs, default=str) + "".join(f"{e!s}{e!r}{e.hint}" for e in errors)
    assert token not in text and token[8:24] not in text


FAULTABLE = (r"/api/v1/timelines/tag/vacuum$", r"/api/v1/timelines/tag/robotvacuum$", r"/api/v1/timelines/public$",
             r"/api/v1/accounts/\d+/statuses$", r"/api/v1/notifications$", r"/api/v2/search$",
             r"/api/v1/accounts/lookup$", r"/api/v1/accounts/verify_credentials$", r"^/api/v2/instance$")


@pytest.mark.parametrize("seed", range(8))
def test_whatever_the_fault_schedule_every_post_is_stored_once(community, since, seed):
    """Issue 4's property: faults come and go; once the server recovers, stored == the server's set."""
    rng = random.Random(seed)
    with MastodonTestServer(community, rate_limit=100_000) as server:
        for _ in range(rng.randint(3, 8)):
            kind = rng.choice(["error", "html", "reset", "malformed", "truncated", "rate_limit", "hang"])
            extra = {"status": rng.choice([500, 502, 503, 504])} if kind == "error" else {}
            if kind == "rate_limit":
                extra = {"retry_after": rng.choice([1, 5, 120, None])}
            if kind == "hang":
                extra = {"delay": 1.0}
            server.faults.add(rng.choice(FAULTABLE), kind, times=rng.randint(1, 6), after=rng.randint(0, 12), **extra)
        store = FakeStore()
        outcomes = []
        for _ in range(60):
            # every poll in a new process: a fresh source, nothing kept but the store
            source = make_source(server, max_pages=rng.randint(1, 5), page_size=rng.choice([10, 20, 40]),
                                 request_timeout=0.2)
            try:
                poll(source, store, since)
                outcomes.append("ok")
                if all(f.exhausted for f in server.faults.list()):
                    poll_until_quiet(source, store, since)  # the server has recovered
                    break
            except RateLimited as exc:
                outcomes.append("rate limited")
                server.advance(max(exc.retry_at - server.clock(), 0) + 1)
            except (MalformedResponse, SourceError) as exc:
                outcomes.append(type(exc).__name__)
                server.advance(61)  # past the cooldown of a server that failed
        assert all(f.exhausted for f in server.faults.list()), outcomes
        assert store.by_route() == expected(server, since)
        assert store.duplicates() == []
