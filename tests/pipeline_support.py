"""Helpers for tests that run the real poll job against the local Mastodon-API server(s) and a
real database: build a runtime over one or more servers, and say what the store must hold.

What the store must hold comes from the simulated community the server serves (the triggers each
route can find, and every visible reply under them), never from botwatch itself, so that a post
lost, skipped or stored twice shows up as a difference.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import sqlalchemy as sa

from detector.config import WatchConfig, parse_config
from detector.mastodon_server import MastodonTestServer, SimParams, simulate
from detector.sources.backoff import RetryPolicy
from detector.sources.mastodon import MastodonSource
from detector.sources.ratelimit import RateLimiter
from jobs.service import Runtime, build_runtime
from tests.test_source_server import expected as expected_by_route

KEYWORDS = ("vacuum", "hoover")
HASHTAGS = ("vacuum", "robotvacuum")


@contextmanager
def serve_live(seed: int, *, humans: int, power_users: int) -> Iterator[MastodonTestServer]:
    """A community whose day ends now, served on real time, as a real instance would be: for
    tests that run ``botwatch run`` itself, which reads the wall clock."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    community = simulate(SimParams(seed=seed, start=now - timedelta(days=1), days=1.0, humans=humans, power_users=power_users))
    with MastodonTestServer(community, clock=time.time, rate_limit=100_000) as server:
        yield server


def write_live_config(tmp_path: Path, server: MastodonTestServer, *, watches: Sequence[str] = ("dustwise",),
                      botwatch: str = "", instance: str = "") -> Path:
    """A ``botwatch.toml`` with JSON logs, the server as instance ``sim`` and ``watches`` polled
    every second; ``botwatch``/``instance`` add TOML lines to those tables."""
    tables = "".join(
        f"[watches.{name}]\nkeywords = {list(KEYWORDS)}\nhashtags = {list(HASHTAGS)}\nbrand_accounts = ['dustwise']\n"
        "allowlist = ['dustwise_support']\ninterval = '1s'\nlookback_hours = 48\n"
        for name in watches
    )
    config = tmp_path / "botwatch.toml"
    config.write_text(f"[botwatch]\nstate_dir = '{tmp_path / 'state'}'\nlog_format = 'json'\n{botwatch}"
                      f"[instances.sim]\nurl = '{server.base_url}'\n{instance}{tables}")
    return config


def watch_table(instance: str, **extra: Any) -> dict[str, Any]:
    return {"instance": instance, "keywords": list(KEYWORDS), "hashtags": list(HASHTAGS),
            "brand_accounts": ["dustwise"], "allowlist": ["dustwise_support"], "lookback_hours": 48, **extra}


def make_runtime(servers: Mapping[str, MastodonTestServer], database_url: str, state_dir: Path, *,
                 watches: Mapping[str, Mapping[str, Any]] | None = None, request_timeout: float = 5.0,
                 max_pages: int = 10, page_size: int = 40, retry: RetryPolicy = RetryPolicy(),
                 rng: random.Random | None = None, acct: str = "dustwise") -> Runtime:
    """A runtime as ``botwatch run`` builds it, over ``servers`` (instance name -> server).

    All servers must share one clock (a :class:`SimClock`): the runtime reads it, and every
    source's sleep advances it, so waiting costs no wall time. Each call is a new "process": new
    sources, new rate limiters; only the database carries over.
    """
    clock = next(iter(servers.values())).clock
    document = {
        "botwatch": {"state_dir": str(state_dir)},
        "instances": {name: {"url": server.base_url, "request_timeout": request_timeout, "max_pages": max_pages}
                      for name, server in servers.items()},
        "watches": watches or {f"w{name}": watch_table(name) for name in servers},
    }
    environ = {"BOTWATCH_DATABASE_URL": database_url,
               **{f"BOTWATCH_TOKEN_{name.upper()}": server.token_for(acct) for name, server in servers.items()}}
    config = parse_config(document, environ=environ)
    rng = rng or random.Random(0)
    sources = {
        name: MastodonSource(config.instances[name], clock=clock, sleep=clock.advance,
                             limiter=RateLimiter(name, clock=clock, sleep=clock.advance), retry=retry,
                             rng=random.Random(rng.random()), page_size=page_size)
        for name in servers
    }
    return build_runtime(config, create_db=True, clock=lambda: datetime.fromtimestamp(clock(), timezone.utc),
                         sources=sources)


def expected_triggers(server: MastodonTestServer, watch: WatchConfig) -> set[str]:
    """Ids of the posts the watch's routes can find on ``server`` (the whole community's window)."""
    since = server.community.params.start
    return set().union(*expected_by_route(server, since, watch).values())


def expected_replies(server: MastodonTestServer, triggers: set[str]) -> set[str]:
    """Ids of the replies a context request shows under ``triggers``: visible descendants,
    reached through visible statuses only (as the server walks a thread)."""
    community, now_ms = server.community, server.now_ms()
    found: set[str] = set()
    stack = [child for t in triggers for child in community.children(t)]
    while stack:
        status = stack.pop()
        if status.created_ms > now_ms or status.visibility not in ("public", "unlisted") or status.id in found:
            continue
        found.add(status.id)
        stack.extend(community.children(status.id))
    return found


def stored(engine: sa.Engine, watch: str, role: str) -> list[str]:
    """Post ids linked to ``watch`` with ``role``, one entry per row (duplicates would show)."""
    query = sa.text(
        "SELECT p.post_id FROM watch_posts wp JOIN posts p ON p.id = wp.post_id "
        "JOIN watches w ON w.id = wp.watch_id WHERE w.name = :watch AND wp.role = :role"
    )
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(query, {"watch": watch, "role": role})]


def scoring_problems(engine: sa.Engine, model_version: str) -> list[str]:
    """Replies not scored exactly once, and accounts whose behaviour state counts a reply twice
    or misses one: the replies (and self-replies) it folded in must be its stored replies."""
    problems: list[str] = []
    with engine.connect() as connection:
        unscored = connection.execute(sa.text(
            "SELECT count(*) FROM (SELECT DISTINCT post_id FROM watch_posts WHERE role = 'reply') r "
            "WHERE NOT EXISTS (SELECT 1 FROM reply_scores s WHERE s.post_id = r.post_id AND s.model_version = :v)"
        ), {"v": model_version}).scalar()
        if unscored:
            problems.append(f"{unscored} replies unscored")
        rows = connection.execute(sa.text(
            "SELECT a.acct, act.state, (SELECT count(DISTINCT p.id) FROM posts p JOIN watch_posts wp "
            "  ON wp.post_id = p.id AND wp.role = 'reply' WHERE p.account_id = a.id) AS stored "
            "FROM account_activity act JOIN accounts a ON a.id = act.account_id"
        )).all()
    for acct, saved, real in rows:
        saved = json.loads(saved) if isinstance(saved, str) else saved
        state = saved["state"]
        counted = state["replies"] + state["self_replies"]
        if saved["model_version"] == model_version and counted != real:
            problems.append(f"{acct}: folded in {counted} replies, {real} stored")
    return problems


def sqlite_integrity(path: Path) -> list[str]:
    """``PRAGMA integrity_check`` and ``foreign_key_check`` of a SQLite file: [] when sound."""
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            integrity = [row[0] for row in connection.execute(sa.text("PRAGMA integrity_check"))]
            foreign = [repr(tuple(row)) for row in connection.execute(sa.text("PRAGMA foreign_key_check"))]
    finally:
        engine.dispose()
    return ([] if integrity == ["ok"] else integrity) + foreign


class Botwatch:
    """``botwatch run`` in a process of its own; its JSON log lines arrive on a queue."""

    def __init__(self, config: Path, token: str, env: Mapping[str, str] | None = None) -> None:
        env = {**os.environ, "BOTWATCH_TOKEN_SIM": token, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.process = subprocess.Popen([sys.executable, "-m", "detector.cli.app", "-c", str(config), "run"],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines: Queue[dict] = Queue()
        self.events: list[dict] = []
        self.output: list[str] = []  # every line, stdout and stderr, as written
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.output.append(line)
            try:
                self.lines.put(json.loads(line))
            except ValueError:
                self.lines.put({"event": "not-json", "line": line})

    def next_event(self, timeout: float) -> dict:
        event = self.lines.get(timeout=timeout)
        self.events.append(event)
        if event["event"] == "not-json":
            time.sleep(0.5)  # let the rest of a traceback arrive, to show it whole
            raise AssertionError("botwatch wrote a line that is not a JSON event:\n" + "".join(self.output[-60:]))
        return event

    def wait_for(self, name: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event = self.next_event(timeout=deadline - time.monotonic())
            except Empty:
                break
            if event["event"] == name:
                return event
        raise AssertionError(f"no {name!r} within {timeout} s; saw {[e['event'] for e in self.events][-20:]}")

    def drain(self) -> None:
        while True:
            try:
                self.next_event(timeout=0)
            except Empty:
                return

    def kill(self) -> bool:
        """SIGKILL; returns whether a poll was in progress (started, not finished) when it died."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        time.sleep(0.05)
        self.drain()
        names = [e["event"] for e in self.events]
        started = max((i for i, n in enumerate(names) if n == "poll.started"), default=-1)
        return started > max((i for i, n in enumerate(names) if n == "poll.finished"), default=-1)

    def wait_until_caught_up(self, timeout: float = 120) -> None:
        """Until a whole poll finds nothing new and no route is behind."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.wait_for("poll.started", timeout=deadline - time.monotonic())
            behind = False
            while True:
                event = self.next_event(timeout=max(deadline - time.monotonic(), 0.1))
                behind |= event["event"] == "source.behind"
                if event["event"] == "poll.finished":
                    break
            if not behind and (event["posts_new"], event["replies_new"], event["replies_scored"]) == (0, 0, 0):
                return
        raise AssertionError("the service never caught up")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)
