"""``botwatch demo``: the real service pipeline against the project's simulated Mastodon instance.

Nothing is mocked: a loopback HTTP server serves the simulated community with Mastodon's API,
the Mastodon source reads it through Mastodon.py, the store is the embedded SQLite database, the
model is the shipped one. The server's clock starts a day into the community's two days and
moves forward between polls, so posts and replies arrive as they would for a running service;
afterwards the daily summary of the last full day is written, and the verdicts are compared with
the simulation's ground truth, which the pipeline never saw.
"""

from __future__ import annotations

import shutil
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Protocol

from detector.config import Config, load_config
from detector.errors import BotwatchError
from detector.sources import MastodonSource
from detector.mastodon_server import HARD_NEGATIVE_KINDS, SCRIPTED_KINDS, MastodonTestServer, SimParams, simulate
from jobs.poll import PollResult, poll_watch
from jobs.service import Runtime, build_runtime
from jobs.summary import write_due_summaries

MARKER = ".botwatch-demo"
WATCH = "dustwise"
INSTANCE = "demo"
POLL_HOURS = (24, 30, 36, 42, 48)  # when the demo polls, in hours after the community starts


class DemoProgress(Protocol):
    def poll_started(self, number: int, total: int, at: datetime) -> None: ...
    def poll_finished(self, result: PollResult) -> None: ...
    def discovered(self, route: str, count: int) -> None: ...
    def contexts_due(self, count: int) -> None: ...
    def context_done(self, replies: int) -> None: ...
    def scored(self, count: int) -> None: ...


@dataclass(frozen=True)
class KindOutcome:
    kind: str
    scripted: bool
    accounts: int
    flagged: int
    suspect: int


@dataclass
class DemoResult:
    state_dir: Path
    config_path: Path
    summary_day: date | None
    summary_markdown: str
    outcomes: list[KindOutcome] = field(default_factory=list)
    polls: list[PollResult] = field(default_factory=list)

    def recall(self) -> tuple[int, int]:
        scripted = [o for o in self.outcomes if o.scripted]
        return sum(o.flagged for o in scripted), sum(o.accounts for o in scripted)

    def false_positives(self) -> tuple[int, int]:
        negatives = [o for o in self.outcomes if not o.scripted]
        return sum(o.flagged for o in negatives), sum(o.accounts for o in negatives)


def prepare_state_dir(state_dir: Path) -> None:
    """Start from an empty directory; only ever delete one an earlier demo made."""
    if state_dir.exists() and any(state_dir.iterdir()):
        if not (state_dir / MARKER).exists():
            raise BotwatchError(
                f"{state_dir} exists and was not made by the demo; not touching it",
                hint="pass --state-dir with a new or empty directory",
            )
        shutil.rmtree(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / MARKER).write_text("made by botwatch demo; deleted by the next demo run\n")


def write_demo_config(state_dir: Path, base_url: str, params: SimParams) -> Path:
    """The demo's botwatch.toml, so that ``botwatch report -c <dir>/botwatch.toml`` works later."""
    path = state_dir / "botwatch.toml"
    brand = params.watched_brand.lower()
    words = ", ".join(f'"{k}"' for k in params.keywords)
    tags = ", ".join(f'"{h}"' for h in params.hashtags)
    path.write_text(
        "# Written by `botwatch demo`. The simulated server at this URL ends with the demo.\n"
        "[botwatch]\n"
        'state_dir = "."\n'
        "timezone = \"UTC\"\n"
        "summary_time = \"00:00\"  # the last poll is at midnight: the day is summarised then\n\n"
        f"[instances.{INSTANCE}]\n"
        f'url = "{base_url}"\n'
        "max_pages = 50\n\n"
        f"[watches.{WATCH}]\n"
        f'instance = "{INSTANCE}"\n'
        f"keywords = [{words}]\n"
        f"hashtags = [{tags}]\n"
        f'brand_accounts = ["{brand}"]\n'
        f'allowlist = ["{brand}_support"]\n'
        'interval = "5m"\n'
        "lookback_hours = 48\n",
        encoding="utf-8",
    )
    return path


def _outcomes(runtime: Runtime, community, start: datetime, end: datetime) -> list[KindOutcome]:
    latest: dict[str, tuple[datetime, str]] = {}
    for row in runtime.store.replies_between(WATCH, start, end, runtime.detector.version):
        if row.account_score is not None:
            seen = latest.get(row.post.author.id)
            if seen is None or row.account_score.scored_at >= seen[0]:
                latest[row.post.author.id] = (row.account_score.scored_at, row.account_score.label)
    per_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for account_id, (_, label) in latest.items():
        account = community.account(account_id)
        if account is not None:
            per_kind[account.kind][label] += 1
    order = list(SCRIPTED_KINDS) + list(HARD_NEGATIVE_KINDS) + sorted(set(per_kind) - set(SCRIPTED_KINDS) - set(HARD_NEGATIVE_KINDS))
    return [
        KindOutcome(kind, kind in SCRIPTED_KINDS, sum(per_kind[kind].values()), per_kind[kind]["bot"], per_kind[kind]["suspect"])
        for kind in order
        if per_kind.get(kind)
    ]


def run_demo(state_dir: Path, *, seed: int = 1, progress: DemoProgress | None = None) -> DemoResult:
    """Simulate, serve, poll, score, store and summarise; see the module docstring."""
    prepare_state_dir(state_dir)
    params = SimParams(seed=seed)
    community = simulate(params)
    start = params.start
    with MastodonTestServer(community, rate_limit=100_000) as server:
        server.set_time(start + timedelta(hours=POLL_HOURS[0]))
        config_path = write_demo_config(state_dir, server.base_url, params)
        environ = {f"BOTWATCH_TOKEN_{INSTANCE.upper()}": server.token_for(params.watched_brand.lower())}
        config: Config = load_config(config_path, environ=environ)

        def clock() -> datetime:
            return datetime.fromtimestamp(server.clock(), timezone.utc)

        # The source paces requests on the server's (simulated) clock, as it would on a real server's.
        sources = {INSTANCE: MastodonSource(config.instances[INSTANCE], clock=server.clock)}
        runtime = build_runtime(config, create_db=True, clock=clock, sources=sources)
        result = DemoResult(state_dir, config_path, None, "")
        try:
            watch = config.watches[WATCH]
            for number, hours in enumerate(POLL_HOURS, 1):
                server.set_time(start + timedelta(hours=hours))
                if progress:
                    progress.poll_started(number, len(POLL_HOURS), clock())
                poll = poll_watch(runtime, watch, progress=progress)
                result.polls.append(poll)
                if progress:
                    progress.poll_finished(poll)
            written = write_due_summaries(runtime, now=clock())
            if written:
                result.summary_day = written[-1][1]
                result.summary_markdown = runtime.store.summary(WATCH, result.summary_day).markdown
            result.outcomes = _outcomes(runtime, community, start, clock() + timedelta(seconds=1))
        finally:
            runtime.store.close()
    return result
