"""MastodonSource routes, paging and checkpoints over a scripted transport.

The scripted timelines below implement only what the source relies on (``min_id`` returns the
items immediately newer than it, newest first, with a Link ``prev`` cursor); the local
Mastodon-API server tests (test_source_server.py) check the same against a full server.
"""

import json
import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from structlog.testing import capture_logs

from detector.config import InstanceConfig, Secret, WatchConfig
from detector.errors import MalformedResponse, RateLimited
from detector.sources.base import Page, Source
from detector.sources.mastodon import MastodonSource, snowflake_at
from detector.sources.ratelimit import RateLimiter
from tests.source_fakes import BASE, FakeClock, Reply, ScriptedAdapter, account, query, session_with, status

TOKEN = "tok-abcdef-123456"
INSTANCE = InstanceConfig(name="social", url=BASE, token=Secret(TOKEN), max_pages=10)
SINCE = datetime(2023, 11, 14, 0, 0, tzinfo=timezone.utc)
WATCH = WatchConfig(name="acme", instance="social", keywords=("vacuum",), hashtags=("vacuumlife",),
                    brand_accounts=("acme",))


def sid(n: int) -> str:
    """A Snowflake id n seconds after SINCE."""
    return snowflake_at(SINCE + timedelta(seconds=n))


def timeline(items, *, key=lambda item: int(item["id"]), ignore_min_id=False):
    """A scripted endpoint with Mastodon's min_id semantics over a fixed list."""

    def handle(request):
        q = query(request)
        limit = int(q.get("limit", ["20"])[0])
        ordered = sorted(items, key=key)
        if "min_id" in q and not ignore_min_id:
            floor = int(q["min_id"][0])
            page = [i for i in ordered if key(i) > floor][:limit]
        elif "max_id" in q:
            page = [i for i in ordered if key(i) < int(q["max_id"][0])][-limit:]
        else:
            page = ordered[-limit:]
        page = list(reversed(page))
        headers = {}
        if page:
            path = request.url.split("?")[0]
            headers["Link"] = (f'<{path}?max_id={page[-1]["id"]}>; rel="next", '
                               f'<{path}?min_id={page[0]["id"]}>; rel="prev"')
        return Reply(200, page, headers)

    return handle


@pytest.fixture
def clock():
    return FakeClock(SINCE.timestamp() + 86400)


@pytest.fixture
def wire(clock):
    adapter = ScriptedAdapter(clock)
    adapter.on("/api/v2/instance", Reply(200, {"version": "4.3.0"}))
    adapter.on("/api/v1/accounts/verify_credentials", Reply(200, account("acme", "77")))
    adapter.on("/api/v1/accounts/lookup", Reply(200, account("acme", "77")))
    for path in ("/api/v1/timelines/tag/vacuumlife", "/api/v1/timelines/public", "/api/v1/accounts/77/statuses",
                 "/api/v1/notifications"):
        adapter.on(path, Reply(200, []))
    adapter.on("/api/v2/search", Reply(200, {"accounts": [], "statuses": [], "hashtags": []}))
    return adapter


def source_for(wire, clock, instance=INSTANCE):
    return MastodonSource(instance, session=session_with(wire), clock=clock, sleep=clock.sleep,
                          limiter=RateLimiter(instance.name, clock=clock, sleep=clock.sleep), rng=random.Random(3))


def drain(source, watch=WATCH, checkpoints=None):
    return list(source.discover(watch, checkpoints or {}, since=SINCE))


def requests_to(wire, path):
    return [r for r in wire.requests if r.url.split("?")[0].endswith(path)]


def test_is_a_source(wire, clock):
    source = source_for(wire, clock)
    assert isinstance(source, Source)
    assert source.platform == "mastodon" and source.instance == "social.example"


def test_routes_of_a_watch():
    source = MastodonSource(INSTANCE, limiter=RateLimiter("x"))
    names = [r.name for r in source.routes(WATCH)]
    assert names == ["hashtag:vacuumlife", "brand-posts:acme", "brand-mentions:acme", "search:vacuum", "public"]
    only_tags = replace(WATCH, keywords=(), brand_accounts=())
    assert [r.name for r in source.routes(only_tags)] == ["hashtag:vacuumlife"]  # public would add nothing
    no_search = replace(WATCH, routes=("hashtags", "public"))
    assert [r.name for r in source.routes(no_search)] == ["hashtag:vacuumlife", "public"]


def test_first_poll_starts_at_since_and_pages_forward(wire, clock):
    posts = [status(sid(i), f"vacuum {i}", tags=("vacuumlife",)) for i in range(1, 101)]
    wire.on("/api/v1/timelines/tag/vacuumlife", timeline(posts))
    watch = replace(WATCH, routes=("hashtags",))
    pages = drain(source_for(wire, clock), watch)
    sent = requests_to(wire, "/tag/vacuumlife")
    assert query(sent[0])["min_id"] == [snowflake_at(SINCE)]
    assert [len(p.posts) for p in pages] == [40, 40, 20]
    assert [p.checkpoint for p in pages] == [sid(40), sid(80), sid(100)]
    assert [query(r)["min_id"][0] for r in sent] == [snowflake_at(SINCE), sid(40), sid(80)]  # no empty 4th request
    first = pages[0].posts[0]
    assert first.id == sid(1) and first.provenance.route == "hashtag:vacuumlife"
    assert first.provenance.source == "mastodon-api" and first.raw["id"] == sid(1)
    assert pages[0].match(first).hashtags == ("vacuumlife",)


def test_page_budget_is_bounded_and_resumes(wire, clock):
    posts = [status(sid(i), "vacuum", tags=("vacuumlife",)) for i in range(1, 201)]
    wire.on("/api/v1/timelines/tag/vacuumlife", timeline(posts))
    source = source_for(wire, clock, replace(INSTANCE, max_pages=2))
    watch = replace(WATCH, routes=("hashtags",))
    with capture_logs() as logs:
        first = drain(source, watch)
    assert [p.checkpoint for p in first] == [sid(40), sid(80)]
    behind = [e for e in logs if e["event"] == "source.behind"]
    assert behind and behind[0]["route"] == "hashtag:vacuumlife" and behind[0]["lag_seconds"] > 0
    second = drain(source, watch, {"hashtag:vacuumlife": first[-1].checkpoint})
    ids = [p.id for page in first + second for p in page.posts]
    assert ids == [sid(i) for i in range(1, 161)]


def test_public_timeline_is_filtered_client_side(wire, clock):
    posts = [status(sid(1), "my Vacuum broke"), status(sid(2), "nice weather"),
             status(sid(3), "ask @acme", mentions=("acme",)), status(sid(4), "vacuumed the floor")]
    wire.on("/api/v1/timelines/public", timeline(posts))
    pages = drain(source_for(wire, clock), replace(WATCH, routes=("public",)))
    assert len(pages) == 1 and pages[0].checkpoint == sid(4)
    found = {p.id: pages[0].match(p) for p in pages[0].posts}
    assert set(found) == {sid(1), sid(3)}
    assert found[sid(1)].keywords == ("vacuum",) and found[sid(3)].brand_accounts == ("acme",)


def test_a_page_without_matches_still_moves_the_checkpoint(wire, clock):
    wire.on("/api/v1/timelines/public", timeline([status(sid(i), "weather") for i in range(1, 4)]))
    pages = drain(source_for(wire, clock), replace(WATCH, routes=("public",)))
    assert [(p.posts, p.checkpoint) for p in pages] == [((), sid(3))]


def test_boosts_are_tracked_as_the_boosted_post(wire, clock):
    original = status(sid(1), "vacuum review", acct="bob", account_id="2")
    boost = {**status(sid(2), "", acct="carol", account_id="3"), "reblog": original}
    wire.on("/api/v1/timelines/public", timeline([boost]))
    pages = drain(source_for(wire, clock), replace(WATCH, routes=("public",)))
    assert [p.id for p in pages[0].posts] == [sid(1)] and pages[0].checkpoint == sid(2)


def test_a_server_that_ignores_min_id_cannot_loop(wire, clock):
    wire.on("/api/v1/timelines/public", timeline([status(sid(i), "vacuum") for i in range(1, 41)], ignore_min_id=True))
    source = source_for(wire, clock)
    first = drain(source, replace(WATCH, routes=("public",)))
    assert len(first) == 1 and len(first[0].posts) == 40
    with capture_logs() as logs:
        again = drain(source, replace(WATCH, routes=("public",)), {"public": first[0].checkpoint})
    assert again == [] and any(e["event"] == "source.stuck" for e in logs)


def test_brand_posts_use_the_looked_up_account(wire, clock):
    wire.on("/api/v1/accounts/77/statuses", timeline([status(sid(1), "We make vacuums", acct="acme", account_id="77")]))
    pages = [p for p in drain(source_for(wire, clock), replace(WATCH, routes=("brand",))) if p.route == "brand-posts:acme"]
    assert pages[0].match(pages[0].posts[0]).brand_accounts == ("acme",)
    lookup = requests_to(wire, "/accounts/lookup")
    assert query(lookup[0])["acct"] == ["acme"]
    assert query(requests_to(wire, "/accounts/77/statuses")[0])["exclude_reblogs"] == ["1"]


def test_unknown_brand_account_skips_only_its_route(wire, clock):
    wire.on("/api/v1/accounts/lookup", Reply(404, {"error": "Record not found"}))
    wire.on("/api/v1/timelines/tag/vacuumlife", timeline([status(sid(1), "x", tags=("vacuumlife",))]))
    source = source_for(wire, clock)
    with capture_logs() as logs:
        pages = drain(source)
    assert any(p.route == "hashtag:vacuumlife" and p.posts for p in pages)
    gone = [e for e in logs if e["event"] == "source.route_unavailable"]
    assert {e["route"] for e in gone} == {"brand-posts:acme"}
    drain(source)
    assert len(requests_to(wire, "/accounts/lookup")) == 1  # not asked again within the hour


def test_mentions_need_the_brands_own_token(wire, clock):
    wire.on("/api/v1/accounts/verify_credentials", Reply(200, account("someone-else", "5")))
    with capture_logs() as logs:
        drain(source_for(wire, clock), replace(WATCH, routes=("brand",)))
    assert any(e["event"] == "source.route_unavailable" and e["route"] == "brand-mentions:acme" for e in logs)
    assert requests_to(wire, "/notifications") == []


def notification(n: int, status_id: str, created_at: str):
    return {"id": str(n), "type": "mention", "created_at": created_at, "account": account("bob", "2"),
            "status": status(status_id, "@acme my vacuum", acct="bob", account_id="2", mentions=("acme",))}


def test_first_poll_of_mentions_walks_back_to_since(wire, clock):
    old = [notification(n, sid(-100 + n), "2023-11-13T23:00:00.000Z") for n in range(1, 51)]
    new = [notification(n, sid(n), "2023-11-14T01:00:00.000Z") for n in range(51, 151)]
    wire.on("/api/v1/notifications", timeline(old + new))
    source = source_for(wire, clock)
    pages = drain(source, replace(WATCH, routes=("brand",)))
    mentions = [p for p in pages if p.route == "brand-mentions:acme"]
    assert [len(p.posts) for p in mentions] == [80, 20]
    assert [p.checkpoint for p in mentions] == ["130", "150"]
    assert all(query(r)["types[]"] == ["mention"] for r in requests_to(wire, "/notifications"))
    # the next poll goes forward from the stored checkpoint
    wire.on("/api/v1/notifications", timeline(old + new + [notification(151, sid(151), "2023-11-14T02:00:00.000Z")]))
    later = [p for p in drain(source, replace(WATCH, routes=("brand",)), {"brand-mentions:acme": "150"})
             if p.route == "brand-mentions:acme"]
    assert [(len(p.posts), p.checkpoint) for p in later] == [(1, "151")]


def test_first_poll_without_recent_mentions_checkpoints_the_newest(wire, clock):
    wire.on("/api/v1/notifications", timeline([notification(5, sid(-50), "2023-11-13T00:00:00.000Z")]))
    pages = [p for p in drain(source_for(wire, clock), replace(WATCH, routes=("brand",))) if p.route.startswith("brand-m")]
    assert [(p.posts, p.checkpoint) for p in pages] == [((), "5")]


def search_handler(results):
    def handle(request):
        q = query(request)
        offset = int(q.get("offset", ["0"])[0])
        limit = int(q["limit"][0])
        newest_first = sorted(results, key=lambda s: -int(s["id"]))
        return Reply(200, {"accounts": [], "hashtags": [], "statuses": newest_first[offset:offset + limit]})
    return handle


def test_search_reads_a_window_then_raises_its_floor(wire, clock):
    results = [status(sid(i), "vacuums") for i in range(1, 61)]
    wire.on("/api/v2/search", search_handler(results))
    source = source_for(wire, clock, replace(INSTANCE, max_pages=1))
    watch = replace(WATCH, routes=("search",))
    first = drain(source, watch)
    assert first[0].checkpoint == f"{snowflake_at(SINCE)}~{sid(60)}~40"
    second = drain(source, watch, {"search:vacuum": first[0].checkpoint})
    assert second[0].checkpoint == sid(60)
    ids = {p.id for page in first + second for p in page.posts}
    assert ids == {sid(i) for i in range(1, 61)}
    assert first[0].match(first[0].posts[0]).keywords == ("vacuum",)
    sent = requests_to(wire, "/api/v2/search")
    assert query(sent[0])["type"] == ["statuses"] and query(sent[0])["min_id"] == [snowflake_at(SINCE)]
    assert query(sent[1])["offset"] == ["40"]


def test_search_results_at_or_below_the_floor_are_dropped(wire, clock):
    wire.on("/api/v2/search", search_handler([status(sid(i), "vacuum") for i in range(1, 6)]))
    pages = drain(source_for(wire, clock), replace(WATCH, routes=("search",)), {"search:vacuum": sid(3)})
    assert [p.id for p in pages[0].posts] == [sid(4), sid(5)] and pages[0].checkpoint == sid(5)


def test_search_unsupported_is_remembered(wire, clock):
    wire.on("/api/v2/search", Reply(404, {"error": "Not found"}))
    source = source_for(wire, clock)
    watch = replace(WATCH, routes=("search",))
    with capture_logs() as logs:
        assert drain(source, watch) == []
        assert drain(source, watch) == []
    assert len(requests_to(wire, "/api/v2/search")) == 1
    assert sum(e["event"] == "source.route_unavailable" for e in logs) == 2


def test_search_needs_a_token(wire, clock):
    source = source_for(wire, clock, replace(INSTANCE, token=None))
    assert drain(source, replace(WATCH, routes=("search",))) == []
    assert requests_to(wire, "/api/v2/search") == []


def test_malformed_route_does_not_starve_the_others(wire, clock):
    wire.on("/api/v1/timelines/tag/vacuumlife", Reply(200, b'[{"id": "1", "cont'))
    wire.on("/api/v1/timelines/public", timeline([status(sid(1), "vacuum")]))
    got = []
    with pytest.raises(MalformedResponse, match="timelines/tag/vacuumlife"):
        for page in source_for(wire, clock).discover(WATCH, {}, since=SINCE):
            got.append(page)
    assert any(p.route == "public" and p.posts for p in got)


def test_wrong_shape_is_malformed(wire, clock):
    wire.on("/api/v1/timelines/public", Reply(200, {"error": "not a list"}))
    with pytest.raises(MalformedResponse, match="expected a list"):
        drain(source_for(wire, clock), replace(WATCH, routes=("public",)))


def test_one_unreadable_status_is_skipped_and_logged(wire, clock):
    broken = status(sid(2), "vacuum")
    broken["created_at"] = "yesterday-ish"
    wire.on("/api/v1/timelines/public", timeline([status(sid(1), "vacuum"), broken, status(sid(3), "vacuum")]))
    with capture_logs() as logs:
        pages = drain(source_for(wire, clock), replace(WATCH, routes=("public",)))
    assert [p.id for p in pages[0].posts] == [sid(1), sid(3)] and pages[0].checkpoint == sid(3)
    bad = [e for e in logs if e["event"] == "source.bad_status"]
    assert bad[0]["status_id"] == sid(2) and "created_at" in bad[0]["error"]


def test_rate_limit_ends_discovery_but_keeps_pages(wire, clock):
    wire.on("/api/v1/timelines/tag/vacuumlife", timeline([status(sid(1), "x", tags=("vacuumlife",))]))
    wire.on("/api/v1/accounts/lookup", Reply(429, {}, {"Retry-After": "600"}))
    got = []
    with pytest.raises(RateLimited):
        for page in source_for(wire, clock).discover(WATCH, {}, since=SINCE):
            got.append(page)
    assert [p.route for p in got] == ["hashtag:vacuumlife"]


def test_context_returns_the_normalised_descendants(wire, clock):
    parent = status(sid(1), "my vacuum broke")
    replies = [status(sid(3), "Buy VacuumRus!", acct="vacuumrus", account_id="9", reply_to=sid(1)),
               status(sid(2), "oh no", acct="bob", account_id="2", reply_to=sid(1))]
    wire.on(f"/api/v1/statuses/{sid(1)}/context", Reply(200, {"ancestors": [], "descendants": replies}))
    source = source_for(wire, clock)
    post = source._normalise(parent, source._provenance("public"))
    got = source.context(post)
    assert [p.id for p in got] == [sid(2), sid(3)]
    assert got[0].parent_id == sid(1) and got[0].provenance.route == f"context:{sid(1)}"
    assert json.dumps(got[1].raw, sort_keys=True) == json.dumps(replies[0], sort_keys=True)


def test_context_of_a_deleted_post_is_empty(wire, clock):
    source = source_for(wire, clock)
    post = source._normalise(status(sid(1), "gone"), source._provenance("public"))
    assert source.context(post) == []


def test_context_refuses_posts_of_other_servers(wire, clock):
    source = source_for(wire, clock)
    post = source._normalise(status(sid(1), "x"), source._provenance("public"))
    with pytest.raises(ValueError):
        source.context(replace(post, instance="elsewhere.example"))


def test_watch_of_another_instance_is_refused(wire, clock):
    with pytest.raises(ValueError):
        drain(source_for(wire, clock), replace(WATCH, instance="other"))


def test_page_is_frozen():
    page = Page("public", (), "1")
    with pytest.raises(AttributeError):
        page.checkpoint = "2"
