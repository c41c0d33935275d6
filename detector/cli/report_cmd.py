"""``botwatch report``: print a watch's daily summary."""

from __future__ import annotations

from datetime import date, datetime

import click

from detector.cli.config_cmd import load
from detector.errors import ConfigError


@click.command()
@click.option("--date", "day", required=True, help="The day, YYYY-MM-DD, in the configured time zone.")
@click.option("--watch", "watch_name", help="Which watch (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON summary instead of Markdown.")
@click.pass_context
def report(ctx: click.Context, day: str, watch_name: str | None, as_json: bool) -> None:
    """Print the daily summary of each watch for --date (computed now if the day has none yet)."""
    from detector.classifier.detector import Detector
    from detector.reports.render import to_data, to_json, to_markdown
    from detector.store import Store
    from jobs.summary import summarise

    config = load(ctx)
    try:
        wanted = date.fromisoformat(day)
    except ValueError:
        raise click.BadParameter(f"expected YYYY-MM-DD, got {day!r}", param_hint="--date") from None
    if watch_name is not None and watch_name not in config.watches:
        raise ConfigError(f"no watch named {watch_name!r} (configured: {', '.join(config.watches) or 'none'})")
    watches = [config.watches[watch_name]] if watch_name else list(config.watches.values())
    with Store.open(config.database_url) as store:
        for watch in watches:
            stored = store.summary(watch.name, wanted)
            if stored is not None:
                click.echo(to_json(dict(stored.data)) if as_json else stored.markdown)
                continue
            today = datetime.now(config.timezone).date()
            note = "the day is not over yet" if wanted >= today else "no summary was written for it"
            click.echo(f"(computed now: {note})", err=True)
            summary = summarise(store, watch, wanted, config.timezone, Detector.load(config.model_path).version)
            click.echo(to_json(to_data(summary)) if as_json else to_markdown(summary))
