"""``botwatch label``: a person's verdict on an account, which overrides the model's."""

from __future__ import annotations

import getpass

import click

from detector.cli.config_cmd import load
from detector.errors import InputError


def _default_by() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment (some containers)
        return "a user"


@click.command()
@click.argument("account", required=False)
@click.argument("verdict", required=False, type=click.Choice(["bot", "human"]))
@click.option("--note", default="", help="Why (shown in the account's reasons).")
@click.option("--by", "by", default=_default_by, show_default="your user name", help="Who decided.")
@click.option("--instance", help="Configured instance an account id belongs to (when several are configured).")
@click.option("--remove", is_flag=True, help="Forget the label on ACCOUNT.")
@click.option("--list", "list_all", is_flag=True, help="List every label.")
@click.pass_context
def label(ctx: click.Context, account: str | None, verdict: str | None, note: str, by: str, instance: str | None,
          remove: bool, list_all: bool) -> None:
    """Label an account bot or human; the label overrides the model's verdict.

    ACCOUNT is @name@server (or @name on the instance botwatch reads) or an account id.
    Examples: `botwatch label @VacuumRus@deals.example bot --note "sells under every post"`,
    `botwatch label --list`, `botwatch label @VacuumRus@deals.example --remove`. Allowlisted
    accounts stay unflagged whatever their label. Labels also feed `botwatch train --labels-from`.
    """
    from detector.classifier.verdicts import restate
    from detector.store import Store
    from jobs.labels import resolve_account
    from jobs.service import thresholds_for

    if list_all + remove + (verdict is not None) != 1 or (list_all and account) or (not list_all and not account):
        raise click.UsageError("give ACCOUNT bot|human, or ACCOUNT --remove, or --list")
    config = load(ctx)
    with Store.open(config.database_url) as store:
        if list_all:
            _print_labels(store)
            return
        hosts = {name: inst.host for name, inst in config.instances.items()}
        keys = resolve_account(store, account, hosts, instance=instance)  # type: ignore[arg-type]
        thresholds = thresholds_for(config)
        for key, handle in keys.items():
            shown = f"@{handle} ({key[2]} on {key[1]})"
            if remove:
                if not store.remove_label(key):
                    raise InputError(f"{shown} has no label")
                click.echo(f"removed the label on {shown}")
            else:
                store.set_label(key, verdict, note, by=by)  # type: ignore[arg-type]
                click.echo(f"labelled {shown} {verdict}" + (f": {note}" if note else ""))
            changed = store.restate_account_scores(
                key, lambda score, old, reasons: restate(score, old, reasons, thresholds, user_label=verdict, note=note, by=by)
            )
            if changed:
                click.echo(f"its stored verdicts now say so ({changed} model version{'s' if changed > 1 else ''}); "
                           "summaries already written stay as they were", err=True)


def _print_labels(store) -> None:
    labels = store.labels()
    if not labels:
        click.echo("no labels yet", err=True)
        return
    handles: dict = {}
    for key in labels:
        handles.update(store.find_accounts(account_id=key[2]))
    for key, row in sorted(labels.items(), key=lambda kv: kv[1].at):
        handle = handles.get(key)
        who = f"@{handle}" if handle else "(not seen yet)"
        click.echo(f"{row.label:<5}  {who} (id {key[2]} on {key[1]}), by {row.by} on {row.at:%Y-%m-%d %H:%M} UTC"
                   + (f": {row.note}" if row.note else ""))
