"""The ``botwatch`` command: a thin click layer over the library.

Commands live one group per module and only parse arguments, call library functions and print.
Library exceptions become one-line messages with a hint here, at the edge, and nowhere else.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from detector import __version__
from detector.cli import config_cmd, demo_cmd, evaluate_cmd, export_cmd, label_cmd, model_cmd, report_cmd, service_cmd
from detector.errors import BotwatchError


class BotwatchGroup(click.Group):
    """Turns botwatch's own errors into ``error: ...`` / ``hint: ...`` lines and exit code 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except BotwatchError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            if exc.hint:
                click.echo(f"hint: {exc.hint}", err=True)
            ctx.exit(1)


@click.group(cls=BotwatchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config", "-c", "config_path", type=click.Path(path_type=Path, dir_okay=False), envvar="BOTWATCH_CONFIG",
    show_envvar=True, help="Configuration file (default: ./botwatch.toml).",
)
@click.version_option(__version__, prog_name="botwatch")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """Watch social networks for scripted spam replies."""
    ctx.obj = {"config_path": config_path}


for command in (
    config_cmd.init, config_cmd.config, demo_cmd.demo, service_cmd.run, service_cmd.db, report_cmd.report,
    export_cmd.export,
    model_cmd.score, model_cmd.train,
    evaluate_cmd.evaluate, label_cmd.label,
):
    cli.add_command(command)


def main() -> None:
    cli.main(prog_name="botwatch")


if __name__ == "__main__":
    sys.exit(main())
