"""Evaluation: a labelled archive scored by the same code as ``botwatch score``.

:func:`evaluate` is what ``botwatch evaluate STATUSES.jsonl LABELS.csv`` calls: it replays the
statuses through a :class:`Detector`, then compares account verdicts with the labels
(``account_id,is_bot[,kind]``) and reply verdicts with their author's label. It reports ROC AUC,
PR AUC, precision/recall/F1 at the bot and suspect thresholds, recall per scripted kind,
false-positive rate per other kind, a calibration table and the time taken.

Splits are by account by construction: an archive's accounts are either in the training
communities or not, and the shipped model never saw the evaluation seeds (``simulated``).
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from detector.classifier.detector import Detector
from detector.classifier.metrics import binary_metrics, calibration_table, per_kind
from detector.classifier.replay import Replay
from detector.errors import InputError
from detector.records import Post


def read_labels(path: Path) -> dict[str, tuple[int, str]]:
    """``account_id,is_bot[,kind]`` (header optional; is_bot 1/0/true/false) → {id: (is_bot, kind)}."""
    labels: dict[str, tuple[int, str]] = {}
    try:
        handle = Path(path).open(encoding="utf-8", newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the labels file ({exc.strerror})") from None
    with handle:
        for number, row in enumerate(csv.reader(handle), 1):
            if not row or (number == 1 and row[0].strip().lower() == "account_id"):
                continue
            if len(row) < 2:
                raise InputError(f"{path}:{number}: expected 'account_id,is_bot[,kind]', got {','.join(row)!r}")
            flag = row[1].strip().lower()
            if flag not in ("1", "0", "true", "false", "bot", "human"):
                raise InputError(f"{path}:{number}: is_bot must be 1 or 0, got {row[1]!r}")
            is_bot = int(flag in ("1", "true", "bot"))
            kind = row[2].strip() if len(row) > 2 and row[2].strip() else ("bot" if is_bot else "human")
            labels[row[0].strip()] = (is_bot, kind)
    if not labels:
        raise InputError(f"{path}: no labels in the file")
    return labels


def score_labelled(
    detector: Detector, posts: Iterable[Post], labels: Mapping[str, tuple[int, str]], keywords: Sequence[str]
) -> dict[str, list[Any]]:
    """Scores of every labelled replying account and reply: the raw material of a report.

    Posts stream through; each reply's signals are kept until the accounts are scored (a few
    hundred bytes a reply: evaluation archives are labelled by hand, so they are not huge).
    """
    replies: list[tuple[Any, str]] = []
    replay = Replay(detector, keywords, on_reply=lambda s, a: replies.append((s, s.account_id)))
    for post in posts:
        replay.add(post)
    verdicts = replay.verdicts()
    out: dict[str, list[Any]] = {"account_y": [], "account_score": [], "account_kind": [], "reply_y": [], "reply_score": [], "reply_kind": []}
    for account_id, verdict in verdicts.items():
        if account_id in labels:
            label, kind = labels[account_id]
            out["account_y"].append(label)
            out["account_score"].append(verdict.score)
            out["account_kind"].append(kind)
    for signals, account_id in replies:
        if signals.self_reply or account_id not in labels or account_id not in verdicts:
            continue
        label, kind = labels[account_id]
        out["reply_y"].append(label)
        out["reply_score"].append(detector.score_reply(signals, verdicts[account_id]).score)
        out["reply_kind"].append(kind)
    return out


def report(scores: dict[str, list[Any]], detector: Detector, seconds: float) -> dict[str, Any]:
    """Metrics of :func:`score_labelled` output at the detector's thresholds."""
    t = detector.thresholds
    out: dict[str, Any] = {"model_version": detector.version, "seconds": round(seconds, 2)}
    for level in ("account", "reply"):
        y, s, kinds = scores[f"{level}_y"], scores[f"{level}_score"], scores[f"{level}_kind"]
        if not y:
            out[level] = None
            continue
        out[level] = {
            "at_bot_threshold": binary_metrics(y, s, t.bot),
            "at_suspect_threshold": binary_metrics(y, s, t.suspect),
            "per_kind_at_bot_threshold": per_kind(y, s, kinds, t.bot),
            "per_kind_at_suspect_threshold": per_kind(y, s, kinds, t.suspect),
            "calibration": calibration_table(y, s),
        }
    return out


def evaluate(
    statuses_jsonl: Path,
    labels_csv: Path,
    *,
    detector: Detector | None = None,
    keywords: Sequence[str] = (),
    instance: str = "archive",
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Score a labelled Status JSONL archive and report how the verdicts match the labels.

    Bad lines are skipped and counted (``bad_lines``), as in ``botwatch score``.
    """
    from detector.offline import read_statuses  # the archive reader lives with the scorer

    started = time.perf_counter()
    detector = detector or Detector.load()
    labels = read_labels(labels_csv)
    bad: list[str] = []
    posts = read_statuses(Path(statuses_jsonl), instance=instance, on_bad_line=bad.append, progress=progress)
    result = report(score_labelled(detector, posts, labels, keywords), detector, time.perf_counter() - started)
    result["bad_lines"] = len(bad)
    result["keywords"] = list(keywords)
    return result


def evaluate_simulated(seeds: Sequence[int], *, detector: Detector | None = None, varied: bool = False) -> dict[str, Any]:
    """The model card's simulated evaluation for ``seeds`` (with and without watched keywords)."""
    from detector.classifier.simulated import training_community

    detector = detector or Detector.load()
    out: dict[str, Any] = {"seeds": list(seeds), "varied": varied}
    communities = [training_community(seed, varied=varied) for seed in seeds]
    for mode in ("keywords", "no_keywords"):
        started = time.perf_counter()
        pooled: dict[str, list[Any]] = {}
        for data in communities:
            keywords = data.keywords if mode == "keywords" else ()
            for key, values in score_labelled(detector, data.posts, data.labels, keywords).items():
                pooled.setdefault(key, []).extend(values)
        out[mode] = report(pooled, detector, time.perf_counter() - started)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m detector.classifier.evaluate``: a JSON report on stdout (until the CLI has it)."""
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m detector.classifier.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("statuses", nargs="?", type=Path, help="Status JSONL archive")
    parser.add_argument("labels", nargs="?", type=Path, help="account_id,is_bot[,kind] CSV")
    parser.add_argument("--keywords", nargs="*", default=[], help="watched keywords")
    parser.add_argument("--simulated", nargs="*", type=int, metavar="SEED", help="score simulated communities instead")
    parser.add_argument("--varied", action="store_true", help="with --simulated: draw parameters as training does")
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args(argv)
    detector = Detector.load(args.model)
    if args.simulated is not None:
        result = evaluate_simulated(args.simulated or (3301, 3302, 3303), detector=detector, varied=args.varied)
    elif args.statuses and args.labels:
        result = evaluate(args.statuses, args.labels, detector=detector, keywords=args.keywords)
    else:
        parser.error("give STATUSES and LABELS, or --simulated [SEED ...]")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
