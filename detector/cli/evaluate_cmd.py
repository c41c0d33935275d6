"""``botwatch evaluate``: how well the model's verdicts match a labelled archive."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import click
from rich import box
from rich.console import Console
from rich.table import Table

from detector.classifier.metrics import fmt
from detector.cli.model_cmd import _FileProgress, _keyword_list, _keywords, _model, _progress


@click.command()
@click.argument("statuses", metavar="STATUSES.jsonl", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.argument("labels", metavar="LABELS.csv", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--threshold", type=click.FloatRange(0.0, 1.0), metavar="P",
              help="Score from which an account or reply counts as flagged (default: the model's bot threshold).")
@click.option("--json", "json_out", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
              help="Also write the numbers as JSON to this file (- for standard output, then no tables).")
@_keywords
@_model
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def evaluate(statuses: Path, labels: Path, threshold: float | None, json_out: Path | None, keywords: str,
             model_path: Path | None, quiet: bool) -> None:
    """Score a labelled Status archive and report how the verdicts match the labels.

    STATUSES.jsonl holds Mastodon Status entities (as for `botwatch score`); LABELS.csv holds
    `account_id,is_bot[,kind]` lines (a header line is optional). Reports ROC AUC, PR AUC and
    precision/recall/F1 for accounts and for replies, recall per bot kind, false-positive rate per
    kind of non-bot, a calibration table and the time taken. Streams the archive.
    """
    from detector.classifier.detector import Detector
    from detector.classifier.evaluate import evaluate as run

    detector = Detector.load(model_path)
    err = Console(stderr=True)

    def bad_line(message: str) -> None:
        err.print(f"skipped {message}", markup=False, highlight=False, soft_wrap=True)  # one line each, whatever the path

    options: dict[str, Any] = {"detector": detector, "keywords": _keyword_list(keywords), "threshold": threshold,
                               "on_bad_line": bad_line}
    if quiet:
        result = run(statuses, labels, **options)
    else:
        with _progress() as progress:
            result = run(statuses, labels, progress=_FileProgress(progress), **options)
    if json_out is not None:
        text = json.dumps(result, indent=2)
        if str(json_out) == "-":
            click.echo(text)
            return
        json_out.write_text(text + "\n", encoding="utf-8")
    print_report(result, Console())


def print_report(result: Mapping[str, Any], console: Console) -> None:
    """The report as rich tables: overall metrics, per kind, calibration, then the run's facts."""
    t = result["thresholds"]
    console.print(_overall(result, t))
    for level in ("account", "reply"):
        if result[level] is not None:
            console.print(_kinds(level, result[level], t))
    for level in ("account", "reply"):
        if result[level] is not None:
            console.print(_calibration(level, result[level]["calibration"]))
    console.print(
        f"model {result['model_version']}; {result['statuses']:,} statuses, {result['bad_lines']:,} bad lines skipped; "
        f"{result['labels']:,} labels, {result['labels_not_replying']:,} of them for accounts that did not reply; "
        f"{result['unlabelled_accounts']:,} replying accounts without a label; {result['seconds']:.1f} s",
        highlight=False,
    )


def _table(title: str) -> Table:
    """A table that fits an 80-column terminal."""
    return Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", title_style="bold", pad_edge=False, collapse_padding=True)


def _overall(result: Mapping[str, Any], t: Mapping[str, float]) -> Table:
    table = _table("How the verdicts match the labels")
    widths = {"level": 7, "at": 4, "n": 7, "bots": 7}
    for column in ("level", "at", "n", "bots", "ROC AUC", "PR AUC", "prec.", "recall", "F1", "FPR"):
        table.add_column(column, justify="left" if column == "level" else "right", min_width=widths.get(column, 5))
    for level in ("account", "reply"):
        if result[level] is None:
            table.add_row(level, "–", "0", *["–"] * 7)
            continue
        for key in ("at_bot_threshold", "at_suspect_threshold"):
            m = result[level][key]
            table.add_row(level, f"{m['threshold']:.2f}", f"{m['n']:,}", f"{m['positives']:,}", fmt(m["roc_auc"]),
                          fmt(m["pr_auc"]), fmt(m["precision"]), fmt(m["recall"]), fmt(m["f1"]),
                          fmt(m["false_positive_rate"]))
    return table


def _kinds(level: str, metrics: Mapping[str, Any], t: Mapping[str, float]) -> Table:
    table = _table(f"{level.capitalize()} level, per kind: recall of bots, false-positive rate of the rest")
    for column in ("kind", "bot?", "n", f"≥ {t['bot']:.2f}", "rate", f"≥ {t['suspect']:.2f}", "rate"):
        table.add_column(column, justify="left" if column in ("kind", "bot?") else "right", no_wrap=True)
    at_bot, at_suspect = metrics["per_kind_at_bot_threshold"], metrics["per_kind_at_suspect_threshold"]
    for kind, row in sorted(at_bot.items(), key=lambda kv: (not kv[1]["is_bot"], kv[0])):
        rate = "recall" if row["is_bot"] else "false_positive_rate"
        low = at_suspect[kind]
        table.add_row(kind, "bot" if row["is_bot"] else "no", f"{row['n']:,}", f"{row['flagged']:,}", fmt(row[rate]),
                      f"{low['flagged']:,}", fmt(low[rate]))
    return table


def _calibration(level: str, rows: list[Mapping[str, Any]]) -> Table:
    table = _table(f"Calibration, {level} level")
    for column in ("score band", "n", "mean score", "observed bot share"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(row["band"], f"{row['n']:,}", fmt(row["mean_score"]), fmt(row["observed"]))
    return table
