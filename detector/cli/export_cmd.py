"""``botwatch export``: stored replies with their scores and accounts, as JSONL or CSV."""

from __future__ import annotations

import io
import sys
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Iterator

import click

from detector.cli.config_cmd import load
from detector.errors import ConfigError

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected YYYY-MM-DD, got {value!r}", param_hint=option) from None


@click.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True,
              help="jsonl: the raw API Status and the scores, one reply per line; csv: flat columns.")
@click.option("--watch", "watch_names", multiple=True, metavar="NAME", help="Only this watch (repeatable; default: all).")
@click.option("--from", "first", metavar="YYYY-MM-DD", help="First day (in the configured time zone), inclusive.")
@click.option("--to", "last", metavar="YYYY-MM-DD", help="Last day (in the configured time zone), inclusive.")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True), default="-",
              show_default=True, help="Where to write (- for standard output).")
@click.option("--model-version", help="Whose scores to export (default: the configured model's).")
@click.pass_context
def export(ctx: click.Context, fmt: str, watch_names: tuple[str, ...], first: str | None, last: str | None,
           output: Path, model_version: str | None) -> None:
    """Export stored replies with their scores and their accounts' scores, oldest first.

    Streams: memory stays flat however many replies there are. CSV cells that a spreadsheet
    would run as a formula are prefixed with ' so that they read as text.
    """
    from detector.reports.export import write_csv, write_jsonl
    from detector.store import Store
    from jobs.summary import day_window

    config = load(ctx)
    unknown = [name for name in watch_names if name not in config.watches]
    if unknown:
        raise ConfigError(f"no watch named {unknown[0]!r} (configured: {', '.join(config.watches) or 'none'})")
    watches = list(dict.fromkeys(watch_names)) or list(config.watches)
    start_day, end_day = _day(first, "--from"), _day(last, "--to")
    if start_day and end_day and end_day < start_day:
        raise click.BadParameter("--to is before --from", param_hint="--to")
    start = day_window(start_day, config.timezone)[0] if start_day else EARLIEST
    end = day_window(end_day, config.timezone)[1] if end_day else LATEST
    if model_version is None:
        from detector.classifier.detector import Detector

        model_version = Detector.load(config.model_path).version
    with ExitStack() as stack:
        store = stack.enter_context(Store.open(config.database_url))
        out = stack.enter_context(_utf8_output(output))

        def rows() -> Iterator:
            for watch in watches:
                yield from store.replies_between(watch, start, end, model_version, with_raw=fmt == "jsonl")

        count = (write_csv if fmt == "csv" else write_jsonl)(rows(), out, model_version)
    click.echo(f"exported {count:,} replies ({fmt}, scores of model {model_version})", err=True)


@contextmanager
def _utf8_output(path: Path) -> Iterator[IO[str]]:
    """The file, or standard output, as UTF-8 whatever the locale says (post text is any Unicode)."""
    if str(path) != "-":
        with path.open("w", encoding="utf-8", newline="") as handle:
            yield handle
        return
    stdout = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="", write_through=True)
    try:
        yield stdout
    finally:
        stdout.flush()
        stdout.detach()  # leave sys.stdout open
