"""``botwatch run`` (the service) and ``botwatch db`` (schema upgrades and status)."""

from __future__ import annotations

import click

from detector.cli.config_cmd import load
from detector.logs import configure_logging, get_logger


@click.command()
@click.pass_context
def run(ctx: click.Context) -> None:
    """Run the service: poll every watch on its interval, write daily summaries, until SIGTERM."""
    from jobs.service import Service, build_runtime

    config = load(ctx)
    configure_logging(config.log_format, config.log_level)
    log = get_logger("botwatch.service")
    for warning in config.warnings:
        log.warning("config.warning", message=warning)
    runtime = build_runtime(config)
    try:
        Service(runtime).run_until_stopped()
    finally:
        runtime.store.close()


@click.group()
def db() -> None:
    """Database schema: upgrade it, or show where it stands."""


@db.command()
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Apply the migrations this version of botwatch brings (run before starting a new version)."""
    from detector.store.migrate import current_revision, upgrade as migrate

    config = load(ctx)
    before = current_revision(config.database_url.reveal())
    after = migrate(config.database_url.reveal())
    click.echo(f"schema: {before or 'empty'} -> {after}" if before != after else f"schema already at {after}")


@db.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Show the schema revision and how many rows each table holds."""
    from detector.store import Store
    from detector.store.migrate import current_revision, head_revision

    config = load(ctx)
    url = config.database_url.reveal()
    current, head = current_revision(url), head_revision()
    click.echo(f"schema: {current or 'empty'} (this botwatch needs {head})")
    if current == head:
        with Store.open(config.database_url) as store:
            for table, count in sorted(store.counts().items()):
                click.echo(f"  {table}: {count}")
