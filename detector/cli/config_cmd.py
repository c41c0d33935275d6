"""``botwatch init`` and ``botwatch config check``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import click

from detector.config import Config, default_config_path, load_config
from detector.errors import ConfigError


def template_text() -> str:
    return resources.files("detector").joinpath("templates/botwatch.toml").read_text(encoding="utf-8")


def config_path(ctx: click.Context) -> Path:
    return (ctx.obj or {}).get("config_path") or default_config_path()


def load(ctx: click.Context) -> Config:
    """The checked config for a command, with its warnings shown once on stderr."""
    config = load_config(config_path(ctx))
    for warning in config.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    return config


@click.command()
@click.argument("path", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_context
def init(ctx: click.Context, path: Path | None, force: bool) -> None:
    """Write a commented botwatch.toml to start from (PATH, or --config, or ./botwatch.toml)."""
    target = path or config_path(ctx)
    if target.exists() and not force:
        raise ConfigError(f"{target} already exists", hint="use --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(template_text(), encoding="utf-8")
    target.chmod(0o640)
    click.echo(f"wrote {target}; edit the [instances] and [watches] tables, then run: botwatch config check")


@click.group()
def config() -> None:
    """Check the configuration file."""


@config.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Load the configuration and report the first problem, or what it sets up."""
    cfg = load(ctx)
    click.echo(f"{cfg.path}: OK")
    click.echo(f"  state directory: {cfg.state_dir}")
    url = cfg.database_url.reveal()
    kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite" if url.startswith("sqlite") else url.split(":", 1)[0]
    click.echo(f"  database: {kind}")
    click.echo(f"  daily summary: {cfg.summary_time.strftime('%H:%M')} {cfg.timezone.key}")
    keep = "forever" if cfg.retention_days is None else f"{cfg.retention_days} days"
    raw = keep if cfg.raw_retention_days is None else f"{cfg.raw_retention_days} days"
    click.echo(f"  retention: rows {keep}, raw JSON {raw}")
    for instance in cfg.instances.values():
        click.echo(f"  instance {instance.name}: {instance.url} (token: {instance.token_source})")
    for watch in cfg.watches.values():
        parts = [
            watch.keywords and "keywords " + ", ".join(watch.keywords),
            watch.hashtags and "hashtags " + ", ".join("#" + h for h in watch.hashtags),
            watch.brand_accounts and "brand " + ", ".join("@" + a for a in watch.brand_accounts),
        ]
        click.echo(
            f"  watch {watch.name}: {'; '.join(p for p in parts if p)}; every {watch.interval_seconds:g} s "
            f"on {watch.instance}; allowlist: {', '.join(watch.allowlist) or 'none'}"
        )
