"""``botwatch score`` (archives, offline), ``botwatch train`` and ``botwatch evaluate``."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

_keywords = click.option(
    "--keywords", default="", metavar="K1,K2", help="Watched keywords, comma-separated (sharpens the trigger signal)."
)
_model = click.option(
    "--model", "model_path", type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="A model artifact from `botwatch train` (default: the shipped model).",
)


def _keyword_list(text: str) -> tuple[str, ...]:
    return tuple(k.strip().lower() for k in text.split(",") if k.strip())


class _FileProgress:
    """Progress bars on stderr: the input read (by bytes), then the replies written."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, int] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=total or None)
        self.progress.update(self.tasks[stage], completed=done, total=total or None)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description:>8}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=Console(stderr=True), transient=False)


@click.command()
@click.argument("input_path", metavar="INPUT.jsonl", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--output", "-o", "replies_out", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Where one line per reply goes.")
@click.option("--accounts", "-a", "accounts_out", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Where one line per replying account goes.")
@_keywords
@_model
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def score(input_path: Path, replies_out: Path, accounts_out: Path, keywords: str, model_path: Path | None, quiet: bool) -> None:
    """Score every reply and replying account of a Mastodon Status JSONL archive."""
    from detector.classifier.detector import Detector
    from detector.offline import score_file

    detector = Detector.load(model_path)
    err = Console(stderr=True)

    def bad_line(message: str) -> None:
        err.print(f"skipped {message}", markup=False, highlight=False)

    if quiet:
        summary = score_file(input_path, replies_out, accounts_out, detector=detector,
                             keywords=_keyword_list(keywords), on_bad_line=bad_line)
    else:
        with _progress() as progress:
            summary = score_file(input_path, replies_out, accounts_out, detector=detector,
                                 keywords=_keyword_list(keywords), on_bad_line=bad_line,
                                 progress=_FileProgress(progress))
    click.echo(
        f"{summary.replies:,} replies by {summary.accounts:,} accounts scored in {summary.seconds:.1f} s "
        f"({summary.replies_per_second:,.0f} replies/s) with model {detector.version}; "
        f"{summary.flagged_accounts:,} accounts flagged; {summary.bad_lines:,} bad lines skipped.",
        err=True,
    )


@click.command()
@click.option("--data", "data_dir", type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="The labelled data sets (default: $BOTWATCH_TRAINING_DATA, else ../shared/data).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Where the artifact and model card go (default: the checkout's models/).")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option("--labels-from", "labels_from", metavar="DATABASE_URL",
              help="Also learn from the accounts labelled with `botwatch label` in this database, and their stored replies.")
def train(data_dir: Path | None, out_dir: Path | None, workers: int, labels_from: str | None) -> None:
    """Train the model, evaluate it honestly, and write the artifact and its model card."""
    from detector.classifier.train import train as run_training

    user_labelled = None
    if labels_from:
        from detector.store import Store
        from jobs.labels import labelled_replies

        with Store.open(labels_from) as store:
            user_labelled = labelled_replies(store)
        click.echo(f"{user_labelled.accounts:,} labelled accounts, {len(user_labelled.posts):,} stored posts of theirs "
                   f"and posts they answered, from {store.where}", err=True)
    result = run_training(data_dir, out_dir, workers=workers, log=lambda line: click.echo(line, err=True),
                          user_labelled=user_labelled)
    click.echo(f"wrote {result.model_path} and {result.card_path} (model {result.detector.version}) "
               f"in {result.seconds:.0f} s")
