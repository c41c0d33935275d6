"""The local Mastodon-API server, driven over real HTTP by Mastodon.py 2.3.3 (and by requests for raw headers)."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
import requests
from mastodon import (
    Mastodon, MastodonAPIError, MastodonBadGatewayError, MastodonGatewayTimeoutError, MastodonInternalServerError,
    MastodonNetworkError, MastodonNotFoundError, MastodonRatelimitError, MastodonServiceUnavailableError,
    MastodonUnauthorizedError,
)

from detector.mastodon_server import entities as E
from detector.mastodon_server.community import Community, SimParams, simulate
from detector.mastodon_server.server import MastodonTestServer, SimClock, paginate

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def community() -> Community:
    return simulate(SimParams(seed=3))


@pytest.fixture()
def server(community: Community):
    with MastodonTestServer(community) as srv:
        yield srv


def client(server: MastodonTestServer, acct: str | None = "botwatch", **kwargs) -> Mastodon:
    token = server.token_for(acct) if acct else None
    options = dict(version_check_mode="none", ratelimit_method="throw", request_timeout=5)
    options.update(kwargs)
    return Mastodon(api_base_url=server.base_url, access_token=token, **options)


def ids(page) -> list[str]:
    return [str(s["id"]) for s in page]


# ---------------------------------------------------------------- instance and version check


def test_instance_v1_and_v2_with_and_without_trailing_slash(server: MastodonTestServer) -> None:
    for path in ("/api/v1/instance", "/api/v1/instance/", "/api/v2/instance", "/api/v2/instance/"):
        response = requests.get(server.base_url + path, timeout=5)
        assert response.status_code == 200, path
        body = response.json()
        assert body["version"] == E.MASTODON_VERSION
        assert (body["uri"] if "/v1/" in path else body["domain"]) == server.community.host
    m = client(server, version_check_mode="created")
    assert m.retrieve_mastodon_version() == E.MASTODON_VERSION
    assert m.mastodon_api_version == 2
    assert m.instance_v2()["api_versions"] == {"mastodon": 2}


def test_trailing_slash_404_reproduces_mastodon_py_recursion(community: Community) -> None:
    # a high rate limit: at 300 requests Mastodon.py would sleep until the window resets instead
    with MastodonTestServer(community, instance_trailing_slash_404=True, rate_limit=100_000) as srv:
        assert requests.get(srv.base_url + "/api/v1/instance", timeout=5).status_code == 200
        slash = requests.get(srv.base_url + "/api/v1/instance/", timeout=5)
        assert slash.status_code == 404 and slash.headers["Content-Type"].startswith("text/html")
        with pytest.raises(RecursionError):  # Mastodon.py 2.3.3's own version check never ends
            Mastodon(api_base_url=srv.base_url, version_check_mode="created")
        # the way around it: give the version explicitly
        m = Mastodon(api_base_url=srv.base_url, mastodon_version="4.3.2", version_check_mode="none")
        assert m.timeline_hashtag("vacuum", limit=2)


# ---------------------------------------------------------------- timelines and paging


def test_hashtag_timeline_includes_replies_public_timeline_excludes_replies_to_others(server: MastodonTestServer) -> None:
    m = client(server)
    tagged = m.timeline_hashtag("vacuum", limit=40)
    assert tagged and all("vacuum" in [t["name"].lower() for t in s["tags"]] for s in tagged)
    everything = []
    page = m.timeline_public(limit=40)
    while page:
        everything.extend(page)
        page = m.fetch_next(page)
    assert all(s["in_reply_to_id"] is None or s["in_reply_to_account_id"] == s["account"]["id"] for s in everything)
    assert all(s["visibility"] == "public" for s in everything)
    expected = [s for s in server.community.statuses if s.visibility == "public"
                and (s.in_reply_to_id is None or s.in_reply_to_account_id == s.account_id)]
    assert len(everything) == len(expected)
    all_tagged = [s for s in server.community.tagged("vacuum") if s.visibility == "public"]
    assert any(s.in_reply_to_id for s in all_tagged), "the hashtag timeline keeps replies"
    assert len(list(m.fetch_remaining(m.timeline_hashtag("vacuum", limit=40)))) == len(all_tagged)


def test_timeline_filters_local_remote_only_media_any_all_none(server: MastodonTestServer) -> None:
    m = client(server)
    local = m.timeline_public(local=True, limit=40)
    remote = m.timeline_public(remote=True, limit=40)
    assert local and all("@" not in s["account"]["acct"] for s in local)
    assert remote and all("@" in s["account"]["acct"] for s in remote)
    media = m.timeline_public(only_media=True, limit=40)
    assert media and all(s["media_attachments"] for s in media)
    both = requests.get(f"{server.base_url}/api/v1/timelines/tag/vacuum", params={"any[]": "cleaning", "limit": 40},
                        timeout=5).json()
    assert all({t["name"].lower() for t in s["tags"]} & {"vacuum", "cleaning"} for s in both)
    none = requests.get(f"{server.base_url}/api/v1/timelines/tag/vacuum", params={"none[]": "robotvacuum", "limit": 40},
                        timeout=5).json()
    assert all("robotvacuum" not in {t["name"].lower() for t in s["tags"]} for s in none)


def test_paging_both_ways_with_fetch_next_and_fetch_previous(server: MastodonTestServer) -> None:
    m = client(server)
    first = m.timeline_public(limit=7)
    second = m.fetch_next(first)
    third = m.fetch_next(second)
    seen = ids(first) + ids(second) + ids(third)
    assert len(seen) == 21 and len(set(seen)) == 21
    assert [int(i) for i in seen] == sorted((int(i) for i in seen), reverse=True)
    assert ids(m.fetch_previous(third)) == ids(second)
    assert ids(m.fetch_previous(second)) == ids(first)
    assert m.fetch_previous(first) in ([], None)  # nothing newer than the newest
    response = requests.get(f"{server.base_url}/api/v1/timelines/public", params={"limit": 3, "local": "true"}, timeout=5)
    link = response.headers["Link"]
    page = response.json()
    assert re.fullmatch(r'<[^>]*max_id=(\d+)[^>]*>; rel="next", <[^>]*min_id=(\d+)[^>]*>; rel="prev"', link)
    assert f"max_id={page[-1]['id']}" in link and f"min_id={page[0]['id']}" in link and "local=true" in link


def test_since_id_gives_the_newest_and_min_id_the_oldest_newer_ones(server: MastodonTestServer) -> None:
    m = client(server)
    page = list(m.fetch_remaining(m.timeline_public(limit=40)))
    oldest = page[-1]["id"]
    newest_after = m.timeline_public(since_id=oldest, limit=5)
    assert ids(newest_after) == ids(page[:5])
    right_after = m.timeline_public(min_id=oldest, limit=5)
    assert ids(right_after) == ids(page[-6:-1])  # immediately newer, still newest first
    # min_id from a time: Mastodon.py turns a datetime into a Snowflake (ms << 16)
    cut = server.community.start_ms + 3_600_000
    by_time = m.timeline_public(min_id=datetime.fromtimestamp(cut / 1000, tz=timezone.utc), limit=40)
    assert by_time and all(int(s["id"]) >> 16 > cut for s in by_time)
    assert min(int(s["id"]) for s in by_time) == min(int(s["id"]) for s in page if int(s["id"]) >> 16 > cut)


def test_limit_default_and_maximum(server: MastodonTestServer) -> None:
    m = client(server)
    assert len(m.timeline_public()) == 20
    assert len(m.timeline_public(limit=80)) == 40
    assert paginate([1, 2, 3, 4, 5], 5, limit=2, max_id=None, since_id=None, min_id=None) == [4, 3]
    assert paginate([1, 2, 3, 4, 5], 5, limit=2, max_id=4, since_id=None, min_id=None) == [2, 1]
    assert paginate([1, 2, 3, 4, 5], 5, limit=2, max_id=None, since_id=1, min_id=None) == [4, 3]
    assert paginate([1, 2, 3, 4, 5], 5, limit=2, max_id=None, since_id=None, min_id=1) == [2, 1]
    assert paginate([1, 2, 3, 4, 5], 3, limit=9, max_id=None, since_id=None, min_id=None) == [2, 1, 0]


# ---------------------------------------------------------------- accounts, statuses, context


def test_accounts_lookup_statuses_and_credentials(server: MastodonTestServer) -> None:
    m = client(server, "dustwise")
    brand = m.account_lookup("dustwise")
    assert brand["acct"] == "dustwise" and m.account(brand["id"])["id"] == brand["id"]
    assert m.account_verify_credentials()["source"]["note"].startswith("Official Dustwise")
    human = next(a for a in server.community.accounts
                 if a.kind == "human" and sum(1 for s in server.community.statuses_of(a.id) if s.is_reply) >= 2)
    remote_or_local = m.account_lookup(human.acct)
    assert remote_or_local["id"] == human.id
    everything = list(m.fetch_remaining(m.account_statuses(human.id, limit=10)))
    own = [s for s in server.community.statuses_of(human.id)]
    assert sorted(ids(everything)) == sorted(s.id for s in own)
    originals = m.account_statuses(human.id, exclude_replies=True, limit=40)
    assert all(s["in_reply_to_id"] is None for s in originals)
    assert len(originals) == sum(1 for s in own if not s.is_reply)
    with pytest.raises(MastodonNotFoundError):
        m.account_lookup("nobody_here")
    with pytest.raises(MastodonNotFoundError):
        m.account("1")


def test_authentication_errors_are_mastodons(server: MastodonTestServer) -> None:
    anonymous = client(server, None)
    with pytest.raises(MastodonUnauthorizedError):
        anonymous.account_verify_credentials()
    with pytest.raises(MastodonUnauthorizedError):
        anonymous.notifications()
    bad = Mastodon(api_base_url=server.base_url, access_token="wrong", version_check_mode="none")
    response = requests.get(server.base_url + "/api/v1/timelines/public", headers={"Authorization": "Bearer wrong"}, timeout=5)
    assert response.status_code == 401 and response.json() == {"error": "The access token is invalid"}
    with pytest.raises(MastodonUnauthorizedError):
        bad.timeline_public()
    missing = requests.get(server.base_url + "/api/v1/statuses/12345", timeout=5)
    assert missing.status_code == 404 and missing.json() == {"error": "Record not found"}


def test_status_and_context(server: MastodonTestServer) -> None:
    m = client(server)
    c = server.community
    root = max((s for s in c.statuses if not s.is_reply), key=lambda s: len(c.children(s.id)))
    status = m.status(root.id)
    assert status["id"] == root.id and status["replies_count"] == len(c.children(root.id))
    context = m.status_context(root.id)
    assert context["ancestors"] == []
    descendants = ids(context["descendants"])
    def tree(sid):
        out = []
        for child in c.children(sid):
            out.append(child.id)
            out.extend(tree(child.id))
        return out
    assert descendants == tree(root.id)  # depth first, children oldest first
    deepest = context["descendants"][-1]
    up = m.status_context(deepest["id"])["ancestors"]
    assert ids(up)[0] == root.id
    assert all(s["in_reply_to_id"] for s in up[1:])


def test_anonymous_context_is_limited_like_mastodons(community: Community) -> None:
    c = community
    root = max((s for s in c.statuses if not s.is_reply), key=lambda s: len(c.children(s.id)))
    with MastodonTestServer(c) as srv:
        anonymous = requests.get(f"{srv.base_url}/api/v1/statuses/{root.id}/context", timeout=5).json()
        authed = requests.get(f"{srv.base_url}/api/v1/statuses/{root.id}/context",
                              headers={"Authorization": f"Bearer {srv.token_for('botwatch')}"}, timeout=5).json()
    assert len(anonymous["descendants"]) == min(60, len(authed["descendants"]))


# ---------------------------------------------------------------- clock


def test_advancing_the_clock_makes_new_posts_arrive(community: Community) -> None:
    clock = SimClock(community.start_ms / 1000 + 6 * 3600)
    with MastodonTestServer(community, clock=clock) as srv:
        m = client(srv)
        before = list(m.fetch_remaining(m.timeline_hashtag("vacuum", limit=40)))
        assert all(int(s["id"]) >> 16 <= srv.now_ms() for s in before)
        newest = before[0]["id"] if before else 0
        future = next(s for s in community.statuses if s.created_ms > srv.now_ms())
        with pytest.raises(MastodonNotFoundError):
            m.status(future.id)
        srv.advance(12 * 3600)
        arrived = m.timeline_hashtag("vacuum", min_id=newest, limit=40)
        assert arrived and all(int(s["id"]) > int(newest) for s in arrived)
        assert m.status(future.id)["id"] == future.id
        requests.post(f"{srv.base_url}/_test/clock", json={"advance": 3600}, timeout=5).raise_for_status()
        assert srv.now_ms() == community.start_ms + 19 * 3_600_000


# ---------------------------------------------------------------- search and notifications


def test_search_needs_a_token_and_finds_only_indexable_accounts_posts(community: Community) -> None:
    with MastodonTestServer(community) as srv:
        m = client(srv, "botwatch")
        found = m.search_v2("vacuum", result_type="statuses", limit=40)["statuses"]
        assert found
        for s in found:
            assert community.account(s["account"]["id"]).indexable
            assert "vacuum" in s["content"].lower()
        assert client(srv, None).search_v2("vacuum", resolve=False)["statuses"] == []
        with pytest.raises(MastodonUnauthorizedError):
            client(srv, None).search_v2("vacuum", resolve=True)
        more = m.fetch_next(m.search_v2("vacuum", result_type="statuses", limit=5))["statuses"]
        assert ids(more) == ids(found[5:10])  # offset pagination
        accounts = m.search_v2("dustwise", result_type="accounts")["accounts"]
        assert "dustwise" in [a["acct"] for a in accounts]
    with MastodonTestServer(community, search_enabled=False) as srv:
        assert client(srv).search_v2("vacuum", result_type="statuses")["statuses"] == []


def test_notifications_are_the_token_owners_mentions(server: MastodonTestServer) -> None:
    m = client(server, "dustwise")
    brand = server.community.lookup("dustwise")
    notes = list(m.fetch_remaining(m.notifications(types=["mention"], limit=10)))
    expected = [s for s in server.community.mentioning(brand.id) if s.account_id != brand.id]
    assert len(notes) == len(expected) > 0
    assert all(n["type"] == "mention" and brand.id in [x["id"] for x in n["status"]["mentions"]] for n in notes)
    assert [int(n["id"]) for n in notes] == sorted((int(n["id"]) for n in notes), reverse=True)
    assert m.notifications(exclude_types=["mention"]) == []


# ---------------------------------------------------------------- rate limits


def test_rate_limit_headers_429_and_window_reset(community: Community) -> None:
    clock = SimClock(datetime(2024, 5, 8, 12, 1, 30, tzinfo=timezone.utc))
    with MastodonTestServer(community, clock=clock, rate_limit=5, rate_window=300) as srv:
        url = srv.base_url + "/api/v1/timelines/public?limit=1"
        remaining = []
        for _ in range(5):
            r = requests.get(url, timeout=5)
            assert r.status_code == 200
            remaining.append(int(r.headers["X-RateLimit-Remaining"]))
            assert r.headers["X-RateLimit-Limit"] == "5"
            assert r.headers["X-RateLimit-Reset"] == "2024-05-08T12:05:00.000000Z"
        assert remaining == [4, 3, 2, 1, 0]
        r = requests.get(url, timeout=5)
        assert r.status_code == 429 and r.json() == {"error": "Too many requests"} and "Retry-After" not in r.headers
        # per token: a token has its own budget
        token = {"Authorization": f"Bearer {srv.token_for('dustwise')}"}
        assert requests.get(url, headers=token, timeout=5).status_code == 200
        with pytest.raises(MastodonRatelimitError):
            client(srv, None).timeline_public(limit=1)
        srv.advance(300)
        assert requests.get(url, timeout=5).status_code == 200
    with MastodonTestServer(community, clock=SimClock(1_715_169_690.0), rate_limit=1, retry_after_header=True) as srv:
        requests.get(srv.base_url + "/api/v1/instance", timeout=5)
        r = requests.get(srv.base_url + "/api/v1/instance", timeout=5)
        assert r.status_code == 429 and r.headers["Retry-After"] == "210"


# ---------------------------------------------------------------- faults


@pytest.mark.parametrize("status,error", [(500, MastodonInternalServerError), (502, MastodonBadGatewayError),
                                          (503, MastodonServiceUnavailableError), (504, MastodonGatewayTimeoutError)])
def test_http_error_faults(server: MastodonTestServer, status: int, error: type) -> None:
    m = client(server)
    server.faults.add(r"/timelines/tag/", "error", status=status)
    with pytest.raises(error):
        m.timeline_hashtag("vacuum")
    assert m.timeline_hashtag("vacuum")  # only the next one
    assert [r.status for r in server.requests_to("/timelines/tag/")] == [status, 200]


def test_fault_after_and_times(server: MastodonTestServer) -> None:
    m = client(server)
    server.faults.add(r"/timelines/public", "error", status=503, after=2, times=2)
    outcomes = []
    for _ in range(6):
        try:
            m.timeline_public(limit=1)
            outcomes.append("ok")
        except MastodonServiceUnavailableError:
            outcomes.append("503")
    assert outcomes == ["ok", "ok", "503", "503", "ok", "ok"]


def test_hang_reset_and_unparseable_bodies(server: MastodonTestServer) -> None:
    m = client(server, request_timeout=0.3)
    server.faults.add(r"/statuses/\d+/context", "hang", delay=2.0)
    sid = server.community.statuses[-1].id
    with pytest.raises(MastodonNetworkError):
        m.status_context(sid)
    server.faults.add(r"/statuses/\d+/context", "reset")
    with pytest.raises(MastodonNetworkError):
        m.status_context(sid)
    server.faults.add(r"/statuses/\d+/context", "malformed")
    with pytest.raises(MastodonAPIError, match="Could not parse"):
        m.status_context(sid)
    server.faults.add(r"/statuses/\d+/context", "truncated")
    with pytest.raises(MastodonAPIError, match="Could not parse"):
        m.status_context(sid)
    server.faults.add(r"/statuses/\d+/context", "html")
    with pytest.raises(MastodonBadGatewayError):
        m.status_context(sid)
    page = requests.get(f"{server.base_url}/api/v1/timelines/public", timeout=5)
    server.faults.add(r"/timelines/public", "html", status=200)
    html = requests.get(f"{server.base_url}/api/v1/timelines/public", timeout=5)
    assert page.status_code == html.status_code == 200 and html.text.startswith("<html>")
    assert m.status_context(sid)["ancestors"] is not None  # faults used up
    assert [r.fault for r in server.requests_to(r"/context")][:5] == ["hang", "reset", "malformed", "truncated", "html"]


def test_rate_limit_storm_with_and_without_retry_after(server: MastodonTestServer) -> None:
    server.faults.add(r"/timelines/", "rate_limit", times=3, retry_after=17)
    server.faults.add(r"/accounts/", "rate_limit", times=1)
    url = f"{server.base_url}/api/v1/timelines/public"
    storm = [requests.get(url, timeout=5) for _ in range(4)]
    assert [r.status_code for r in storm] == [429, 429, 429, 200]
    assert all(r.headers["Retry-After"] == "17" and r.headers["X-RateLimit-Remaining"] == "0" for r in storm[:3])
    r = requests.get(f"{server.base_url}/api/v1/accounts/lookup?acct=dustwise", timeout=5)
    assert r.status_code == 429 and "Retry-After" not in r.headers


def test_repeat_page_fault_repeats_previous_ids(server: MastodonTestServer) -> None:
    m = client(server)
    first = m.timeline_public(limit=10)
    server.faults.add(r"/timelines/public", "repeat_page", overlap=3)
    second = m.fetch_next(first)
    assert ids(second)[:3] == ids(first)[-3:]
    normal = m.fetch_next(first)
    assert not set(ids(normal)) & set(ids(first))


def test_faults_over_http_for_another_process(server: MastodonTestServer) -> None:
    created = requests.post(f"{server.base_url}/_test/faults", json={"path": "/api/v1/statuses/", "kind": "error",
                                                                       "status": 502, "times": 1}, timeout=5)
    assert created.status_code == 201 and created.json()["kind"] == "error"
    sid = server.community.statuses[0].id
    assert requests.get(f"{server.base_url}/api/v1/statuses/{sid}", timeout=5).status_code == 502
    assert requests.get(f"{server.base_url}/api/v1/statuses/{sid}", timeout=5).status_code == 200
    listed = requests.get(f"{server.base_url}/_test/faults", timeout=5).json()
    assert listed[0]["hits"] == 1
    bad = requests.post(f"{server.base_url}/_test/faults", json={"path": "x", "kind": "meteor"}, timeout=5)
    assert bad.status_code == 422 and "unknown fault kind" in bad.json()["error"]
    assert requests.delete(f"{server.base_url}/_test/faults", timeout=5).json() == []
    assert requests.get(f"{server.base_url}/_test/tokens", timeout=5).json() == server.tokens


def test_tokens_are_deterministic_per_seed(community: Community) -> None:
    a, b = MastodonTestServer(community), MastodonTestServer(simulate(SimParams(seed=3)))
    assert a.tokens == b.tokens and "dustwise" in a.tokens and "botwatch" in a.tokens
    assert MastodonTestServer(simulate(SimParams(seed=4))).tokens["dustwise"] != a.tokens["dustwise"]
