"""What Mastodon.py 2.3.3 does by itself under faults, and that botwatch's client does better.

Each test first shows the library's own behaviour against the local Mastodon-API server (so
that an upgrade which changes it is noticed), then botwatch's :class:`MastodonClient` on the
same fault:

- in ``wait`` (and ``pace``) mode a 429 is retried with no cap and ``Retry-After`` ignored, which
  blocks the calling thread; botwatch builds it with ``throw`` and owns the waits;
- the default read timeout is 300 s; botwatch passes ``request_timeout`` from the config;
- malformed JSON raises ``MastodonAPIError`` carrying the whole body; botwatch's error carries a
  preview of bounded size.
"""

from __future__ import annotations

import random
import time
import types

import pytest
from mastodon import Mastodon
from mastodon.errors import MastodonAPIError

from detector.config import InstanceConfig, Secret
from detector.errors import MalformedResponse, RateLimited, SourceError
from detector.mastodon_server import MastodonTestServer, SimParams, simulate
from detector.sources.backoff import RetryPolicy
from detector.sources.mastodon_client import MastodonClient
from detector.sources.ratelimit import RateLimiter

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def community():
    return simulate(SimParams(seed=3, days=1.0, humans=60))


@pytest.fixture
def server(community):
    with MastodonTestServer(community, rate_limit=100_000) as running:
        yield running


def library(server, **options) -> Mastodon:
    return Mastodon(api_base_url=server.base_url, access_token=server.token_for("dustwise"), mastodon_version="4.3.0",
                    version_check_mode="none", **options)


def botwatch_client(server, *, request_timeout: float = 5.0, attempts: int = 4) -> MastodonClient:
    instance = InstanceConfig(name="sim", url=server.base_url, token=Secret(server.token_for("dustwise")),
                              request_timeout=request_timeout)
    return MastodonClient(instance, clock=server.clock, sleep=server.advance,
                          limiter=RateLimiter("sim", clock=server.clock, sleep=server.advance),
                          retry=RetryPolicy(attempts=attempts), rng=random.Random(1))


class _Slept(Exception):
    pass


@pytest.mark.parametrize("mode", ["wait", "pace"])
def test_mastodon_py_retries_a_429_storm_forever_and_ignores_retry_after(server, monkeypatch, mode):
    server.faults.add(r"/api/v1/timelines/public", "rate_limit", times=None, retry_after=7)
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:  # the library's own time.sleep, recorded, and cut short at 25
        sleeps.append(seconds)
        if len(sleeps) >= 25:
            raise _Slept

    monkeypatch.setattr("mastodon.internals.time", types.SimpleNamespace(time=time.time, sleep=sleep))
    with pytest.raises(_Slept):
        library(server, ratelimit_method=mode).timeline_public()
    assert len(server.requests_to(r"/timelines/public")) >= 24  # still asking after 24 refusals
    assert not any(abs(s - 7) < 0.05 for s in sleeps), sleeps  # never the 7 s the server asked for

    client = botwatch_client(server)
    started = server.clock()
    with pytest.raises(RateLimited) as caught:
        client.call("GET /api/v1/timelines/public", lambda api: api.timeline_public())
    assert server.clock() - started == pytest.approx(21.0, abs=0.5)  # three waits of Retry-After (7 s), then out
    assert caught.value.retry_at == pytest.approx(server.clock() + 7, abs=0.5)
    assert client.api.ratelimit_method == "throw"


def test_mastodon_py_waits_300_s_for_a_silent_server_botwatch_its_request_timeout(server):
    assert Mastodon(api_base_url=server.base_url).request_timeout == 300
    server.faults.add(r"/api/v1/timelines/public", "hang", times=None, delay=30)
    client = botwatch_client(server, request_timeout=0.25, attempts=2)
    assert client.api.request_timeout == 0.25
    started = time.monotonic()
    with pytest.raises(SourceError) as caught:
        client.call("GET /api/v1/timelines/public", lambda api: api.timeline_public())
    assert time.monotonic() - started < 3.0  # two tries of 0.25 s, not 300 s
    assert "timed out" in str(caught.value).lower() and "failed 2 times" in str(caught.value)


def test_mastodon_py_puts_the_whole_malformed_body_in_its_error_botwatch_a_preview(server):
    server.faults.add(r"/api/v1/timelines/public", "truncated", times=2)
    with pytest.raises(MastodonAPIError) as raw:
        library(server, ratelimit_method="throw").timeline_public(limit=40)
    assert len(str(raw.value)) > 10_000  # the whole (half) page, tens of KB, in one message

    client = botwatch_client(server)
    with pytest.raises(MalformedResponse) as caught:
        client.call("GET /api/v1/timelines/public", lambda api: api.timeline_public(limit=40))
    message = str(caught.value)
    assert "not JSON" in message and len(message) < 600 and len(caught.value.hint) < 200
    assert caught.value.__suppress_context__  # no chained MastodonAPIError dragging the body along
