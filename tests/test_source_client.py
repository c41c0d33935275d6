"""MastodonClient over a scripted transport: version probe, retries, 429s, errors, raw JSON.

Mastodon.py and requests run for real; only the bytes on the wire are scripted. Nothing sleeps:
the clock and sleep are fakes, and the one real timeout test uses a 0.2 s timeout.
"""

import json
import random
import socket
import threading
import time

import pytest
import requests
from mastodon import Mastodon
from structlog.testing import capture_logs

from detector.config import InstanceConfig, Secret
from detector.errors import MalformedResponse, RateLimited, SourceError
from detector.sources.backoff import RetryPolicy
from detector.sources.mastodon_client import FALLBACK_VERSION, MastodonClient, RawObject, RequestRefused
from detector.sources.ratelimit import RateLimiter
from tests.source_fakes import BASE, FakeClock, Reply, ScriptedAdapter, session_with, status

TOKEN = "s3cr3t-token-value-0123456789"
INSTANCE = InstanceConfig(name="social", url=BASE, token=Secret(TOKEN), token_source="environment variable X",
                          request_timeout=5.0)
TIMELINE = "/api/v1/timelines/public"


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def wire(clock):
    adapter = ScriptedAdapter(clock)
    adapter.on("/api/v2/instance", Reply(200, {"domain": "social.example", "version": "4.3.2"}))
    return adapter


def client_for(wire, clock, instance=INSTANCE, **kw):
    limiter = RateLimiter(instance.name, clock=clock, sleep=clock.sleep)
    return MastodonClient(instance, session=session_with(wire), clock=clock, sleep=clock.sleep, limiter=limiter,
                          rng=random.Random(1), **kw)


def public(client, **kw):
    return client.call("GET " + TIMELINE, lambda api: api.timeline_public(limit=40, **kw))


def test_version_is_probed_once_without_trailing_slashes(wire, clock):
    wire.on(TIMELINE, Reply(200, [status("2")]))
    client = client_for(wire, clock)
    public(client)
    public(client)
    assert client.version == "4.3.2"
    assert client.api.mastodon_major == 4 and client.api.mastodon_minor == 3
    assert wire.paths() == ["/api/v2/instance", TIMELINE, TIMELINE]  # no /api/v2/instance/ before each timeline
    assert all(not p.endswith("/") for p in wire.paths())


def test_trailing_slash_404_server_does_not_recurse(clock):
    wire = ScriptedAdapter(clock)
    wire.on("/api/v1/instance", Reply(200, {"uri": "social.example", "version": "4.1.0"}))
    wire.on(TIMELINE, Reply(200, []))
    client = client_for(wire, clock)
    public(client)
    assert client.version == "4.1.0"
    assert wire.paths() == ["/api/v2/instance", "/api/v1/instance", TIMELINE]


def test_unguarded_mastodon_py_does_recurse_on_that_server(clock):
    """Why the probe exists: if this starts failing, Mastodon.py fixed its version check."""
    wire = ScriptedAdapter(clock)
    with pytest.raises(RecursionError):
        Mastodon(api_base_url=BASE, session=session_with(wire), version_check_mode="created")


def test_no_version_anywhere_falls_back(clock):
    wire = ScriptedAdapter(clock)
    wire.on("/api/v1/instance", Reply(200, b"<html>hello</html>"))
    wire.on(TIMELINE, Reply(200, []))
    with capture_logs() as logs:
        client = client_for(wire, clock)
        public(client)
    assert client.version == FALLBACK_VERSION
    assert any(e["event"] == "source.version_unknown" for e in logs)


def test_search_uses_v2_with_the_probed_version(wire, clock):
    wire.on("/api/v2/search", Reply(200, {"accounts": [], "statuses": [], "hashtags": []}))
    client = client_for(wire, clock)
    client.call("GET /api/v2/search", lambda api: api.search_v2("vacuum", result_type="statuses", resolve=False))
    assert "/api/v2/search" in wire.paths() and "/api/v1/search" not in wire.paths()


def test_5xx_burst_is_retried_with_backoff(wire, clock):
    wire.on(TIMELINE, Reply(502, b"<html>bad gateway</html>"), Reply(503, {}), Reply(200, [status("7")]))
    client = client_for(wire, clock)
    with capture_logs() as logs:
        reply = public(client)
    assert [s["id"] for s in reply.data] == ["7"]
    retries = [e for e in logs if e["event"] == "source.retry"]
    assert [e["attempt"] for e in retries] == [1, 2]
    assert retries[0]["endpoint"] == "GET " + TIMELINE and retries[0]["instance"] == "social"
    assert len(clock.slept) == 2 and 0.5 <= clock.slept[0] <= 1.0 and 1.0 <= clock.slept[1] <= 2.0


def test_503_retry_after_is_honoured_when_short(wire, clock):
    wire.on(TIMELINE, Reply(503, {}, {"Retry-After": "3"}), Reply(200, []))
    public(client_for(wire, clock))
    assert clock.slept == [3.0]


def test_server_that_stays_down_is_a_source_error(wire, clock):
    wire.on(TIMELINE, Reply(500, {"error": "boom"}))
    client = client_for(wire, clock)
    with pytest.raises(SourceError) as caught:
        public(client)
    assert "failed 4 times" in str(caught.value) and "HTTP 500" in str(caught.value)
    assert len(clock.slept) == 3 and sum(clock.slept) <= 7.0
    assert wire.paths().count(TIMELINE) == 4


def test_a_server_that_failed_is_left_alone_for_a_cooldown(wire, clock):
    wire.on(TIMELINE, Reply(500, {}))
    client = client_for(wire, clock)
    with pytest.raises(SourceError):
        public(client)
    sent = len(wire.requests)
    with pytest.raises(SourceError, match="not trying again before"):
        public(client)  # another watch of the same server: fails fast, sends nothing
    assert len(wire.requests) == sent
    clock.now += 61
    wire.on(TIMELINE, Reply(200, []))
    assert public(client).data == []


def test_backoff_holds_back_every_caller_of_the_server(wire, clock):
    held = []

    def sleep(seconds):
        held.append(limiter.blocked_until - clock.now)  # what any other caller would see now
        clock.sleep(seconds)

    limiter = RateLimiter("social", clock=clock, sleep=sleep)
    wire.on(TIMELINE, Reply(503, {}, {"Retry-After": "5"}), Reply(200, []))
    client = MastodonClient(INSTANCE, session=session_with(wire), clock=clock, limiter=limiter)
    public(client)
    assert held == [5.0]


def test_connection_reset_is_retried(wire, clock):
    wire.on(TIMELINE, Reply(error=requests.ConnectionError("Connection reset by peer")), Reply(200, []))
    assert public(client_for(wire, clock)).data == []


def test_read_timeout_is_retried_then_reported(wire, clock):
    wire.on(TIMELINE, Reply(error=requests.ReadTimeout("Read timed out. (read timeout=5.0)")))
    with pytest.raises(SourceError) as caught:
        public(client_for(wire, clock, retry=RetryPolicy(attempts=2)))
    assert "Read timed out" in str(caught.value)


def test_a_hanging_server_becomes_a_source_error_quickly(clock):
    """A real socket that accepts and never answers, with a 0.2 s request timeout."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    instance = InstanceConfig(name="hang", url=f"http://127.0.0.1:{listener.getsockname()[1]}", request_timeout=0.2)
    client = MastodonClient(instance, clock=clock, sleep=clock.sleep,
                            limiter=RateLimiter("hang", clock=clock, sleep=clock.sleep), retry=RetryPolicy(attempts=2))
    started = time.monotonic()
    try:
        with pytest.raises(SourceError) as caught:
            client.probe_version()
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()
    assert time.monotonic() - started < 3.0  # 2 attempts x 0.2 s, not Mastodon.py's 300 s
    assert "timed out" in str(caught.value).lower()


def test_malformed_json_is_reported_with_a_bounded_preview(wire, clock):
    body = b'[{"id": "1", "content": "' + b"x" * 1_000_000  # truncated, a megabyte long
    wire.on(TIMELINE, Reply(200, body))
    with pytest.raises(MalformedResponse) as caught:
        public(client_for(wire, clock))
    message = str(caught.value)
    assert "GET " + TIMELINE in message and "not JSON" in message and "1000025 bytes" in message
    assert len(message) < 600
    assert caught.value.__suppress_context__  # no traceback chain dragging Mastodon.py's whole-body message


def test_html_error_page_with_200_is_malformed(wire, clock):
    wire.on(TIMELINE, Reply(200, b"<!doctype html><title>Maintenance</title>", {"Content-Type": "text/html"}))
    with pytest.raises(MalformedResponse, match="text/html"):
        public(client_for(wire, clock))


def test_429_is_waited_out(wire, clock):
    wire.on(TIMELINE, Reply(429, {"error": "Too many requests"}, {"Retry-After": "2"}), Reply(200, [status("1")]))
    reply = public(client_for(wire, clock))
    assert reply.data[0]["id"] == "1"
    assert clock.slept == [2.0]


def test_429_storm_raises_rate_limited_quickly(wire, clock):
    wire.on(TIMELINE, Reply(429, {"error": "Too many requests"}, {"Retry-After": "1"}))
    started = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        public(client_for(wire, clock))
    assert time.monotonic() - started < 1.0
    assert clock.slept == [1.0, 1.0, 1.0]  # three short waits, then give up
    assert caught.value.retry_at == pytest.approx(clock.now + 1.0)


def test_long_429_raises_without_waiting(wire, clock):
    wire.on(TIMELINE, Reply(429, {}, {"Retry-After": "900"}))
    with pytest.raises(RateLimited) as caught:
        public(client_for(wire, clock))
    assert clock.slept == [] and caught.value.retry_at == pytest.approx(clock.now + 900)


def test_429_without_hints_backs_off_then_gives_up(wire, clock):
    wire.on(TIMELINE, Reply(429, {}))
    with pytest.raises(RateLimited):
        public(client_for(wire, clock))
    assert clock.slept == [2.0, 4.0, 8.0]


def test_unparseable_rate_limit_reset_does_not_break_mastodon_py(wire, clock):
    wire.on(TIMELINE, Reply(200, [], {"X-RateLimit-Reset": "soon", "X-RateLimit-Remaining": "many"}))
    assert public(client_for(wire, clock)).data == []


def test_budget_headers_pace_the_client(wire, clock):
    reset = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(clock.now + 100))
    wire.on(TIMELINE, Reply(200, [], {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "10",
                                      "X-RateLimit-Reset": reset}))
    client = client_for(wire, clock)
    for _ in range(3):
        public(client)
    assert clock.slept == [pytest.approx(10.0, rel=0.05)]  # the 1st paced request goes; the 2nd waits 100 s / 10


def test_refusals_name_the_status_and_never_the_token(wire, clock):
    wire.on(TIMELINE, Reply(401, {"error": f"The access token {TOKEN} is invalid"}))
    with capture_logs() as logs:
        with pytest.raises(RequestRefused) as caught:
            public(client_for(wire, clock))
    assert caught.value.status == 401
    assert "HTTP 401" in str(caught.value) and "environment variable X" in caught.value.hint
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value)
    assert TOKEN not in json.dumps(logs, default=str)


def test_a_body_echoing_the_token_is_scrubbed(wire, clock):
    wire.on(TIMELINE, Reply(200, ("x" * 190 + TOKEN + "<html>").encode()))  # the token straddles the cut
    with pytest.raises(MalformedResponse) as caught:
        public(client_for(wire, clock))
    assert TOKEN[:8] not in str(caught.value)


def test_token_is_sent_but_never_logged(wire, clock):
    wire.on(TIMELINE, Reply(500, {}), Reply(error=requests.ConnectionError(f"reset while sending Bearer {TOKEN}")),
            Reply(200, []))
    with capture_logs() as logs:
        public(client_for(wire, clock))
    assert all(r.headers.get("Authorization") == f"Bearer {TOKEN}" for r in wire.requests)
    assert logs and TOKEN not in json.dumps(logs, default=str)


def test_raw_json_round_trips_exactly(wire, clock):
    sent = [status("110000000000000001", "Caf\u00e9 <b>vacuum</b> \U0001F9F9")]
    sent[0]["created_at"] = "2023-11-14T22:13:20.901Z"
    sent[0]["some_future_field"] = {"nested": [1, 2.5, None]}
    wire.on(TIMELINE, Reply(200, sent))
    reply = public(client_for(wire, clock))
    assert reply.data == sent
    assert json.dumps(reply.data, sort_keys=True) == json.dumps(sent, sort_keys=True)


def test_mastodon_py_entities_are_not_faithful_json(wire, clock):
    """Why the hook keeps the body: Mastodon.py's own serialisation rewrites timestamps."""
    sent = [status("110000000000000001")]
    sent[0]["created_at"] = "2023-11-14T22:13:20.901Z"
    wire.on(TIMELINE, Reply(200, sent))
    stock = Mastodon(api_base_url=BASE, session=session_with(wire), mastodon_version="4.3.0",
                     version_check_mode="created")
    reserialised = json.loads(stock.timeline_public()[0].to_json())["_mastopy_data"]
    assert reserialised["created_at"] != sent[0]["created_at"]


def test_mastodon_py_casting_is_off(wire, clock):
    """Its typed layer costs ~2 ms per status and is never read: the client turns it off."""
    wire.on(TIMELINE, Reply(200, [status("1")], {"Link": f'<{BASE}{TIMELINE}?max_id=1>; rel="next"'}))
    wire.on("/api/v1/statuses/1/context", Reply(200, {"ancestors": [], "descendants": []},
                                                 {"Mastodon-Async-Refresh": 'id="x", retry=5'}))
    client = client_for(wire, clock)
    page = client.api.timeline_public()
    assert type(page[0]) is dict and page[0]["created_at"] == "2023-11-14T22:13:20.000Z"  # plain JSON
    assert page._pagination_next["max_id"] == 1  # pagination still works
    assert type(client.api.status_context("1")) is RawObject  # an object can carry _async_refresh
    assert client.call("GET /context", lambda api: api.status_context("1")).data["descendants"] == []
