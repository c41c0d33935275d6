"""``botwatch demo``: the whole pipeline against the simulated community, with progress on stderr."""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.markdown import Markdown
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from detector.logs import configure_logging


class RichDemoProgress:
    """Shows each poll as a progress bar over the posts whose replies it fetches."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = None
        self.label = ""
        self.found = self.replies = self.scored_count = 0

    def _describe(self, doing: str) -> None:
        self.progress.update(self.task, description=f"{self.label}: {doing}")

    def poll_started(self, number: int, total: int, at: datetime) -> None:
        self.label = f"poll {number}/{total}, {at:%Y-%m-%d %H:%M}"
        self.found = self.replies = self.scored_count = 0
        self.task = self.progress.add_task(f"{self.label}: discovering posts", total=None)

    def discovered(self, route: str, count: int) -> None:
        self.found += count
        self._describe(f"{self.found} posts found")

    def contexts_due(self, count: int) -> None:
        self.progress.update(self.task, total=count, completed=0)
        self._describe(f"replies under {count} posts")

    def context_done(self, replies: int) -> None:
        self.replies += replies
        self.progress.advance(self.task)

    def scored(self, count: int) -> None:
        self.scored_count += count
        self._describe(f"{self.scored_count} replies scored")

    def poll_finished(self, result) -> None:
        self.progress.update(
            self.task,
            description=f"{self.label}: {result.posts_new} posts, {result.replies_new} replies",
        )
        self.progress.stop_task(self.task)


@click.command()
@click.option("--state-dir", type=click.Path(path_type=Path, file_okay=False), default=Path("botwatch-demo"),
              show_default=True, help="Where the demo's database, config and reports go (replaced on each run).")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the simulated community.")
def demo(state_dir: Path, seed: int) -> None:
    """Run botwatch end to end against a simulated Mastodon instance on loopback."""
    from jobs.demo import run_demo

    configure_logging("console", "warning", stream=sys.stderr)
    err = Console(stderr=True)
    out = Console()
    started = time.monotonic()
    err.print(f"[bold]botwatch demo[/]: simulated Mastodon community (seed {seed}) on 127.0.0.1, "
              "polled through Mastodon.py, scored, stored in SQLite. Times are simulated.")
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=False) as progress:
        result = run_demo(state_dir.resolve(), seed=seed, progress=RichDemoProgress(progress))
    elapsed = time.monotonic() - started

    if result.summary_markdown:
        if out.is_terminal:
            out.print(Markdown(result.summary_markdown))
        else:  # plain Markdown for pipes and logs; never through rich's markup parser
            click.echo(result.summary_markdown)
    table = Table(title="Verdicts against the simulation's ground truth (accounts that replied)")
    for column in ("kind", "scripted?", "accounts", "flagged bot", "suspect"):
        table.add_column(column, justify="right" if column in ("accounts", "flagged bot", "suspect") else "left")
    for o in result.outcomes:
        table.add_row(o.kind, "yes" if o.scripted else "no", str(o.accounts), str(o.flagged), str(o.suspect))
    out.print(table)
    flagged, scripted = result.recall()
    false_pos, negatives = result.false_positives()
    out.print(f"Scripted accounts flagged: {flagged} of {scripted}. Others flagged: {false_pos} of {negatives}.")
    out.print(f"Done in {elapsed:.1f} s. Database, reports and config in {result.state_dir}; "
              f"see a day again with: botwatch -c {result.config_path} report --date {result.summary_day}")
