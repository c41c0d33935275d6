"""The shared rate limiter and the retry schedule, on a fake clock: nothing here sleeps."""

import random
import threading
from datetime import datetime, timezone

import pytest

from detector.config import InstanceConfig
from detector.errors import RateLimited
from detector.sources.backoff import RetryPolicy
from detector.sources.ratelimit import RateLimiter, parse_http_date, parse_reset, shared_limiter
from tests.source_fakes import FakeClock


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat().replace("+00:00", "Z")


def budget(clock: FakeClock, remaining: int, *, limit: int = 300, reset_in: float = 300.0) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": iso(clock.now + reset_in),
        "Date": clock.http_date(),
    }


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def limiter(clock):
    return RateLimiter("social", clock=clock, sleep=clock.sleep)


def test_header_parsers():
    assert parse_reset("2023-11-14T22:18:20.000Z") == 1_700_000_300.0
    assert parse_reset("1700000300") == 1_700_000_300.0
    assert parse_reset("not a time") is None
    assert parse_http_date("Tue, 14 Nov 2023 22:13:20 GMT") == 1_700_000_000.0
    assert parse_http_date("garbage") is None


def test_plenty_of_budget_never_waits(clock, limiter):
    limiter.observe(200, budget(clock, 250))
    for _ in range(50):
        limiter.acquire()
    assert clock.slept == []
    assert limiter.remaining == 200


def test_paces_evenly_once_the_reserve_is_reached(clock, limiter):
    limiter.observe(200, budget(clock, 50, reset_in=100.0))  # 50 of 300 left: below the 20 % reserve
    for _ in range(5):
        limiter.acquire()
    # the first goes at once; the rest are spread at (100 s / 50) = 2 s intervals, shrinking slightly
    assert clock.slept[0] == pytest.approx(2.0, rel=0.05)
    assert all(1.9 < s <= 2.1 for s in clock.slept)
    assert len(clock.slept) == 4


def test_spent_budget_waits_for_a_near_reset_and_refuses_a_far_one(clock, limiter):
    limiter.observe(200, budget(clock, 0, reset_in=10.0))
    limiter.acquire()
    assert clock.slept == [pytest.approx(10.0)]
    limiter.observe(200, budget(clock, 0, reset_in=200.0))
    with pytest.raises(RateLimited) as caught:
        limiter.acquire()
    assert caught.value.retry_at == pytest.approx(clock.now + 200.0)
    assert clock.slept == [pytest.approx(10.0)]  # refused without sleeping


def test_429_honours_retry_after_seconds_and_dates(clock, limiter):
    limiter.observe(429, {"Retry-After": "7", "Date": clock.http_date()})
    limiter.acquire()
    assert clock.slept == [pytest.approx(7.0)]
    later = datetime.fromtimestamp(clock.now + 12, timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")
    limiter.observe(429, {"Retry-After": later, "Date": clock.http_date()})
    assert limiter.blocked_until == pytest.approx(clock.now + 12)


def test_429_without_hints_backs_off_exponentially(clock, limiter):
    waits = []
    for _ in range(4):
        limiter.observe(429, {})
        waits.append(limiter.blocked_until - clock.now)
    assert waits == [2.0, 4.0, 8.0, 16.0]
    limiter.observe(200, {})
    clock.now += 20
    limiter.observe(429, {})
    assert limiter.blocked_until - clock.now == 2.0  # a success resets the streak


def test_429_retry_after_outranks_the_budget_headers_beside_it(clock, limiter):
    limiter.observe(429, {**budget(clock, 0, reset_in=250.0), "Retry-After": "4"})
    limiter.acquire()  # waits 4 s, not until the window's end
    assert clock.slept == [4.0]


def test_429_falls_back_to_the_windows_reset(clock, limiter):
    limiter.observe(429, budget(clock, 0, reset_in=25.0))
    assert limiter.blocked_until == pytest.approx(clock.now + 25.0)


def test_long_429_raises_at_once_for_every_caller(clock, limiter):
    limiter.observe(429, {"Retry-After": "120"})
    for _ in range(3):
        with pytest.raises(RateLimited) as caught:
            limiter.acquire()
        assert caught.value.retry_at == pytest.approx(clock.now + 120)
    assert clock.slept == []


def test_server_clock_skew_is_corrected(clock, limiter):
    # the server's clock runs 1 h ahead of ours: its reset time must be read on its clock
    skewed = FakeClock(clock.now + 3600)
    limiter.observe(429, budget(skewed, 0, reset_in=15.0))
    assert limiter.blocked_until == pytest.approx(clock.now + 15.0, abs=1.0)


def test_out_of_order_answers_only_shrink_the_budget(clock, limiter):
    headers = budget(clock, 100)
    limiter.observe(200, headers)
    limiter.observe(200, {**headers, "X-RateLimit-Remaining": "90"})
    limiter.observe(200, {**headers, "X-RateLimit-Remaining": "95"})  # an older request answering late
    assert limiter.remaining == 90
    clock.now += 300
    limiter.observe(200, budget(clock, 299))  # a new window
    assert limiter.remaining == 299


def test_threads_share_one_budget(clock):
    limiter = RateLimiter("social", clock=clock, sleep=clock.sleep)
    limiter.observe(200, budget(clock, 290))

    def worker():
        for _ in range(20):
            limiter.acquire()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert limiter.remaining == 210  # every turn counted once, none lost to a race


def test_shared_limiter_is_one_per_instance_and_clock(clock):
    a = InstanceConfig(name="a", url="https://a.example")
    b = InstanceConfig(name="b", url="https://b.example")
    assert shared_limiter(a, clock=clock, sleep=clock.sleep) is shared_limiter(a, clock=clock, sleep=clock.sleep)
    assert shared_limiter(a, clock=clock, sleep=clock.sleep) is not shared_limiter(b, clock=clock, sleep=clock.sleep)
    other = FakeClock()
    assert shared_limiter(a, clock=other, sleep=other.sleep) is not shared_limiter(a, clock=clock, sleep=clock.sleep)


def test_retry_policy_grows_with_jitter_and_caps():
    policy = RetryPolicy(attempts=6, base=1.0, factor=2.0, cap=5.0)
    rng = random.Random(7)
    delays = [policy.delay(n, rng) for n in range(1, 6)]
    for n, delay in enumerate(delays, start=1):
        ceiling = min(5.0, 2.0 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert policy.delay(1, rng, hint=3.0) == 3.0  # a Retry-After within the cap wins
    assert policy.delay(1, rng, hint=60.0) <= 1.0  # beyond the cap it is ignored
    assert len({policy.delay(3, random.Random(s)) for s in range(10)}) > 1  # jittered


def test_retry_policy_rejects_nonsense():
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
