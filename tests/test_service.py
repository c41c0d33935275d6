"""``botwatch run`` as a real process: polls on schedule, logs JSON, stops cleanly on SIGTERM,
and after a restart continues where it stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from detector.mastodon_server import MastodonTestServer, SimParams, simulate

NOW = datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture(scope="module")
def live_server():
    """A community whose day ends now, served on real time, as a real instance would be."""
    community = simulate(SimParams(seed=31, start=NOW - timedelta(days=1), days=1.0, humans=80))
    with MastodonTestServer(community, clock=time.time, rate_limit=100_000) as server:
        yield server


def write_config(tmp_path: Path, server) -> Path:
    config = tmp_path / "botwatch.toml"
    config.write_text(
        f"[botwatch]\nstate_dir = '{tmp_path / 'state'}'\nlog_format = 'json'\n"
        f"[instances.sim]\nurl = '{server.base_url}'\n"
        "[watches.dustwise]\nkeywords = ['vacuum', 'hoover']\nhashtags = ['vacuum']\nbrand_accounts = ['dustwise']\n"
        "allowlist = ['dustwise_support']\ninterval = '2s'\n"
    )
    return config


class Service:
    def __init__(self, config: Path, token: str) -> None:
        env = {**os.environ, "BOTWATCH_TOKEN_SIM": token, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "detector.cli.app", "-c", str(config), "run"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        )
        self.events: list[dict] = []

    def wait_for(self, event: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            try:
                record = json.loads(line)
            except ValueError:
                raise AssertionError(f"not a JSON log line: {line!r}") from None
            self.events.append(record)
            if record.get("event") == event:
                return record
        raise AssertionError(f"no {event!r} within {timeout} s; saw {[e.get('event') for e in self.events]}")

    def stop(self, timeout: float = 60) -> int:
        self.process.send_signal(signal.SIGTERM)
        rest, _ = self.process.communicate(timeout=timeout)
        self.events += [json.loads(line) for line in rest.splitlines() if line.strip()]
        return self.process.returncode


def posts_in(tmp_path: Path) -> int:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'state' / 'botwatch.sqlite3'}")
    with engine.connect() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM posts")).scalar()
    engine.dispose()
    return count


def test_service_polls_logs_json_and_stops_cleanly_on_sigterm(tmp_path, live_server):
    config = write_config(tmp_path, live_server)
    token = live_server.token_for("dustwise")
    service = Service(config, token)
    started = service.wait_for("service.started")
    assert started["watches"] == ["dustwise"] and started["level"] == "info" and "timestamp" in started
    finished = service.wait_for("poll.finished")
    assert finished["posts_new"] > 0 and finished["replies_scored"] > 0
    assert service.stop() == 0
    names = [e["event"] for e in service.events]
    assert names[-2:] == ["service.stopping", "service.stopped"] or names[-1] == "service.stopped"
    assert token not in json.dumps(service.events)

    stored = posts_in(tmp_path)
    restarted = Service(config, token)  # the job store and checkpoints survive: nothing new to fetch
    again = restarted.wait_for("poll.finished")
    assert again["posts_new"] == 0
    assert restarted.stop() == 0
    assert posts_in(tmp_path) == stored


def test_sigterm_during_a_poll_finishes_the_step_in_hand(tmp_path, live_server):
    config = write_config(tmp_path, live_server)
    live_server.faults.add(r"/api/v1/statuses/\d+/context", "hang", times=1, delay=1.5)
    service = Service(config, live_server.token_for("dustwise"))
    service.wait_for("poll.started")
    time.sleep(0.5)
    assert service.stop() == 0
    finished = [e for e in service.events if e["event"] == "poll.finished"]
    assert finished and finished[0]["stopped_early"] is True
    assert [e["event"] for e in service.events][-1] == "service.stopped"
