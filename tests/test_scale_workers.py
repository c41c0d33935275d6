"""Three ``botwatch run`` processes on one PostgreSQL database share six watches; one is killed
with ``kill -9``. Then two workers, one frozen with SIGSTOP: its leases expire and are taken
over, and once it thaws it finds them lost and stops polling those watches.

From the workers' own JSON logs: every watch is polled by one worker at a time (no two workers'
``poll.started`` .. ``poll.finished`` intervals on a watch overlap; a killed worker's open poll
ends when it died), the watches spread out two per worker, and the dead worker's watches are
taken over well within the lease TTL. From the database: each watch holds exactly the server's
posts once, and every reply is scored once and counted once in its account's state, although
the six watches find the same replies and the three workers score them side by side.
"""

from __future__ import annotations

import signal
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from detector.classifier.detector import Detector
from detector.config import WatchConfig
from detector.mastodon_server import MastodonTestServer
from detector.store import upgrade
from tests.pipeline_support import (
    HASHTAGS,
    KEYWORDS,
    Botwatch,
    expected_replies,
    expected_triggers,
    scoring_problems,
    serve_live,
    stored,
    write_live_config,
)

pytestmark = [pytest.mark.timeout(240), pytest.mark.postgres]
WATCHES = [f"w{i}" for i in range(6)]
LEASE_TTL = 6.0  # seconds; refreshed every 2 s


@pytest.fixture(scope="module")
def live_server():
    with serve_live(41, humans=100, power_users=3) as server:
        yield server


def write_config(tmp_path: Path, server: MastodonTestServer) -> Path:
    return write_live_config(tmp_path, server, watches=WATCHES, botwatch=f"lease_ttl = '{LEASE_TTL:g}s'\n",
                             instance="max_pages = 1\nrequest_timeout = 2\n")


def at(event: dict) -> datetime:
    return datetime.fromisoformat(event["timestamp"])


def holdings(events: list[dict]) -> set[str]:
    """The watches a worker holds after ``events``, by its lease events."""
    held: set[str] = set()
    for event in events:
        if event["event"] in ("lease.acquired", "lease.taken_over"):
            held.add(event["watch"])
        elif event["event"] in ("lease.released", "lease.lost"):
            held.discard(event["watch"])
    return held


def poll_intervals(worker: Botwatch, died_at: datetime | None) -> list[tuple[str, datetime, datetime]]:
    """``(watch, start, end)`` of every poll in the worker's log; one cut short by its death ends then."""
    intervals, open_polls = [], {}
    for event in worker.events:
        if event["event"] == "poll.started":
            open_polls[event["watch"]] = at(event)
        elif event["event"] == "poll.finished":
            intervals.append((event["watch"], open_polls.pop(event["watch"]), at(event)))
    end = died_at or datetime.now(timezone.utc)
    return intervals + [(watch, start, end) for watch, start in open_polls.items()]


def wait_until(condition, timeout: float, workers: list[Botwatch], what: str) -> float:
    """Drain the workers' logs until ``condition()`` holds; returns the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        for worker in workers:
            worker.drain()
        if condition():
            return time.monotonic() - start
        time.sleep(0.2)
    raise AssertionError(f"{what} not within {timeout} s: " + "; ".join(
        f"{w.worker}: {sorted(holdings(w.events))}" for w in workers))


def test_three_workers_share_six_watches_and_take_over_a_killed_ones(tmp_path, live_server, postgres_url):
    upgrade(postgres_url)
    config = write_config(tmp_path, live_server)
    env = {"BOTWATCH_DATABASE_URL": postgres_url}
    token = live_server.token_for("dustwise")
    workers = [Botwatch(config, token, env) for _ in range(3)]
    try:
        for worker in workers:
            worker.worker = worker.wait_for("service.started")["worker"]
        balanced = wait_until(lambda: sorted(len(holdings(w.events)) for w in workers) == [2, 2, 2], 60, workers,
                              "two watches per worker")
        engine = sa.create_engine(postgres_url)
        try:
            want = {}
            for name in WATCHES:
                watch = WatchConfig(name, "sim", KEYWORDS, HASHTAGS, ("dustwise",))
                triggers = expected_triggers(live_server, watch)
                want[name] = (triggers, expected_replies(live_server, triggers))
            model = Detector.load().version

            def complete() -> bool:
                return all((set(stored(engine, n, "trigger")), set(stored(engine, n, "reply"))) == want[n]
                           for n in WATCHES) and scoring_problems(engine, model) == []

            victim, survivors = workers[0], workers[1:]
            wait_until(lambda: sum(e["event"] == "poll.finished" for e in victim.events) >= 2, 60, workers,
                       "the victim polling")
            orphaned = holdings(victim.events)
            killed_at = datetime.now(timezone.utc)
            victim.kill()
            assert not complete()  # killed while the watches were still catching up
            taken_over = wait_until(lambda: set().union(*(holdings(w.events) for w in survivors)) == set(WATCHES),
                                    30, survivors, "the killed worker's watches taken over")
            assert taken_over < LEASE_TTL, taken_over

            caught_up = wait_until(complete, 120, survivors, "every watch stored and scored")
            for name in WATCHES:
                triggers, replies = stored(engine, name, "trigger"), stored(engine, name, "reply")
                assert len(triggers) == len(set(triggers)) and len(replies) == len(set(replies))
            with engine.connect() as connection:
                twice = connection.execute(sa.text(
                    "SELECT count(*) FROM (SELECT post_id FROM reply_scores GROUP BY post_id, model_version "
                    "HAVING count(*) > 1) t")).scalar()
            assert twice == 0
        finally:
            engine.dispose()
        for worker in survivors:
            assert worker.stop() == 0
            worker.drain()
    finally:
        for worker in workers:
            if worker.process.poll() is None:
                worker.process.kill()
                worker.process.wait()

    intervals = defaultdict(list)
    for worker in workers:
        for watch, start, end in poll_intervals(worker, killed_at if worker is victim else None):
            intervals[watch].append((start, end, worker.worker))
    for watch, spans in intervals.items():
        spans.sort()
        for (_, end, first), (start, _, second) in zip(spans, spans[1:]):
            assert first == second or end <= start, f"{watch} polled by {first} and {second} at once"
    assert set(intervals) == set(WATCHES)
    taken = {e["watch"] for w in survivors for e in w.events
             if e["event"] == "lease.taken_over" and e["previous"] == victim.worker}
    assert taken == orphaned and len(orphaned) == 2
    print(f"balanced after {balanced:.1f}s, taken over after {taken_over:.1f}s, caught up {caught_up:.1f}s later")


def test_a_frozen_worker_loses_its_watches_after_the_ttl_and_stops_polling_them_when_it_thaws(
        tmp_path, live_server, postgres_url):
    upgrade(postgres_url)
    config = write_config(tmp_path, live_server)
    token = live_server.token_for("dustwise")
    workers = [Botwatch(config, token, {"BOTWATCH_DATABASE_URL": postgres_url}) for _ in range(2)]
    frozen, other = workers
    try:
        for worker in workers:
            worker.worker = worker.wait_for("service.started")["worker"]
        wait_until(lambda: sorted(len(holdings(w.events)) for w in workers) == [3, 3], 60, workers, "three each")
        wait_until(lambda: sum(e["event"] == "poll.finished" for e in frozen.events) >= 2, 60, workers, "polling")
        lost = holdings(frozen.events)
        frozen.process.send_signal(signal.SIGSTOP)
        frozen_at = datetime.now(timezone.utc)
        taken_over = wait_until(lambda: holdings(other.events) == set(WATCHES), 30, [other], "takeover")
        # its leases ran out LEASE_TTL after their last renewal (at most a refresh, 2 s, before
        # the freeze); the survivor's next refresh (every 2 s) took them; slack for a loaded machine
        assert LEASE_TTL - 2.5 < taken_over < LEASE_TTL + 4, taken_over
        taken = {e["watch"] for e in other.events if e["event"] == "lease.taken_over" and e["previous"] == frozen.worker}
        assert taken == lost

        frozen.process.send_signal(signal.SIGCONT)
        thawed_at = datetime.now(timezone.utc)
        wait_until(lambda: {e["watch"] for e in frozen.events if e["event"] == "lease.lost"} == lost, 20, workers,
                   "the thawed worker noticing")
        wait_until(lambda: sorted(len(holdings(w.events)) for w in workers) == [3, 3], 60, workers, "rebalanced")
        for worker in workers:
            assert worker.stop() == 0
            worker.drain()
    finally:
        for worker in workers:
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGCONT)
                worker.process.kill()
                worker.process.wait()

    # After thawing, the frozen worker started no poll of a watch it had lost until it got it back.
    allowed: dict[str, bool] = {name: True for name in WATCHES}
    for event in frozen.events:
        if event["event"] == "lease.lost":
            allowed[event["watch"]] = False
        elif event["event"] in ("lease.acquired", "lease.taken_over"):
            allowed[event["watch"]] = True
        elif event["event"] == "poll.started":
            assert allowed[event["watch"]], f"polled {event['watch']} after losing it"
    # Apart from the step in hand when it froze, no two polls of a watch overlapped.
    spans = defaultdict(list)
    for worker in workers:
        for watch, start, end in poll_intervals(worker, None):
            if not (worker is frozen and start <= frozen_at <= end):
                spans[watch].append((start, end, worker.worker))
    for watch, polls in spans.items():
        polls.sort()
        for (_, end, first), (start, _, second) in zip(polls, polls[1:]):
            assert first == second or end <= start, f"{watch} polled by {first} and {second} at once"
    print(f"taken over {taken_over:.1f}s after the freeze (lease TTL {LEASE_TTL:g}s); thawed at {thawed_at:%T}")
