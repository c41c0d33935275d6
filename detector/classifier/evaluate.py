"""Evaluation: a labelled archive scored by the same code as ``botwatch score``.

:func:`evaluate` is what ``botwatch evaluate STATUSES.jsonl LABELS.csv`` calls: it replays the
statuses through a :class:`Detector`, then compares account verdicts with the labels
(``account_id,is_bot[,kind]``) and reply verdicts with their author's label. It reports ROC AUC,
PR AUC, precision/recall/F1 at the bot and suspect thresholds, recall per scripted kind,
false-positive rate per other kind (hard negatives), a calibration table and the time taken.

It streams like ``botwatch score``: each reply's signals wait in a temporary file until the
accounts are scored, and reply scores are tallied by distinct value (:class:`ScoreTally`), so
memory grows with the number of accounts, not lines.

Splits are by account by construction: an archive's accounts are either in the training
communities or not, and the shipped model never saw the evaluation seeds (``simulated``).
"""

from __future__ import annotations

import csv
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import orjson

from detector.classifier.detector import Detector
from detector.classifier.metrics import ScoreTally
from detector.classifier.replay import Replay
from detector.errors import InputError
from detector.features.behaviour import ReplySignals
from detector.records import Post

Labels = dict[str, tuple[int, str]]
_FLAGS = {"1": 1, "true": 1, "bot": 1, "0": 0, "false": 0, "human": 0}


def read_labels(path: Path) -> Labels:
    """``account_id,is_bot[,kind]`` (header optional; is_bot 1/0/true/false) → {id: (is_bot, kind)}.

    Every problem names the line: a missing column, an empty id, an is_bot that is not a yes/no,
    an account labelled twice in contradiction, or one kind used for bots and non-bots alike
    (per-kind rates would be meaningless).
    """
    labels: Labels = {}
    kind_seen: dict[str, tuple[int, int]] = {}  # kind -> (is_bot, first line)
    try:
        handle = Path(path).open(encoding="utf-8", newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the labels file ({exc.strerror})") from None
    with handle:
        reader = csv.reader(handle)
        try:
            for row in reader:
                number = reader.line_num
                if not row or not "".join(row).strip() or (not labels and row[0].strip().lower() == "account_id"):
                    continue
                account_id, is_bot, kind = _label_row(path, number, row)
                if kind_seen.setdefault(kind, (is_bot, number))[0] != is_bot:
                    first = kind_seen[kind][1]
                    raise InputError(f"{path}:{number}: kind {kind!r} is used for bots and non-bots (see line {first})")
                if labels.get(account_id, (is_bot, kind)) != (is_bot, kind):
                    raise InputError(f"{path}:{number}: account {account_id} is labelled again, differently")
                labels[account_id] = (is_bot, kind)
        except csv.Error as exc:
            raise InputError(f"{path}:{reader.line_num}: not valid CSV ({exc})") from None
        except UnicodeDecodeError:
            raise InputError(f"{path}:{reader.line_num + 1}: not UTF-8 text", hint="save the file as UTF-8") from None
    if not labels:
        raise InputError(f"{path}: no labels in the file", hint="one line per account: account_id,is_bot[,kind]")
    return labels


def _label_row(path: Path, number: int, row: list[str]) -> tuple[str, int, str]:
    if len(row) < 2 or len(row) > 3:
        raise InputError(f"{path}:{number}: expected 'account_id,is_bot[,kind]', got {','.join(row)!r}")
    account_id = row[0].strip().lstrip("@")
    if not account_id:
        raise InputError(f"{path}:{number}: the account id is empty")
    flag = _FLAGS.get(row[1].strip().lower())
    if flag is None:
        raise InputError(f"{path}:{number}: is_bot must be 1 or 0 (or true/false), got {row[1]!r}")
    kind = row[2].strip() if len(row) > 2 and row[2].strip() else ("bot" if flag else "human")
    return account_id, flag, kind


def score_labelled(
    detector: Detector, posts: Iterable[Post], labels: Mapping[str, tuple[int, str]], keywords: Sequence[str]
) -> dict[str, Any]:
    """Tallies of the scores of every labelled replying account and reply, and what did not match.

    Returns ``account`` and ``reply`` (:class:`ScoreTally`), ``replying_accounts`` (labelled or
    not) and ``matched`` (labelled accounts that replied). Reply signals are spilled to a
    temporary file until their account's verdict is known.
    """
    with tempfile.TemporaryFile(prefix="botwatch-evaluate-") as spill:

        def keep(signals: ReplySignals, _activity: Any) -> None:
            if not signals.self_reply and signals.account_id in labels:
                spill.write(orjson.dumps(signals.to_row()) + b"\n")

        replay = Replay(detector, keywords, on_reply=keep)
        for post in posts:
            replay.add(post)
        verdicts = replay.verdicts()
        accounts, replies = ScoreTally(), ScoreTally()
        for account_id, verdict in verdicts.items():
            if account_id in labels:
                accounts.add(*labels[account_id], verdict.score)
        spill.seek(0)
        for line in spill:
            signals = ReplySignals.from_row(orjson.loads(line))
            replies.add(*labels[signals.account_id], detector.score_reply(signals, verdicts[signals.account_id]).score)
    return {"account": accounts, "reply": replies, "replying_accounts": len(verdicts), "matched": len(accounts)}


def report(scores: Mapping[str, Any], detector: Detector, seconds: float, *, threshold: float | None = None) -> dict[str, Any]:
    """Metrics of :func:`score_labelled` output at the detector's thresholds.

    ``threshold`` replaces the bot threshold (``at_bot_threshold`` then says which it used).
    """
    t = detector.thresholds
    bot = t.bot if threshold is None else threshold
    out: dict[str, Any] = {"model_version": detector.version, "seconds": round(seconds, 2),
                           "thresholds": {"bot": bot, "suspect": t.suspect}}
    for level in ("account", "reply"):
        tally: ScoreTally = scores[level]
        if not len(tally):
            out[level] = None
            continue
        out[level] = {
            "at_bot_threshold": tally.metrics(bot),
            "at_suspect_threshold": tally.metrics(t.suspect),
            "per_kind_at_bot_threshold": tally.per_kind(bot),
            "per_kind_at_suspect_threshold": tally.per_kind(t.suspect),
            "calibration": tally.calibration(),
        }
    return out


def pool_results(results: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """:func:`score_labelled` results of several archives as one."""
    pooled: dict[str, Any] = {"account": ScoreTally(), "reply": ScoreTally(), "replying_accounts": 0, "matched": 0}
    for result in results:
        pooled["account"].merge(result["account"])
        pooled["reply"].merge(result["reply"])
        pooled["replying_accounts"] += result["replying_accounts"]
        pooled["matched"] += result["matched"]
    return pooled


def evaluate(
    statuses_jsonl: Path,
    labels_csv: Path,
    *,
    detector: Detector | None = None,
    keywords: Sequence[str] = (),
    instance: str = "archive",
    threshold: float | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    on_bad_line: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Score a labelled Status JSONL archive and report how the verdicts match the labels.

    Bad lines are skipped and counted (``bad_lines``), as in ``botwatch score``. An archive
    without statuses, or whose replying accounts include none of the labelled ids, is an
    :class:`InputError`; labelled ids that never replied are counted (``labels_not_replying``).
    """
    from detector.offline import ScoreSummary, read_statuses  # the archive reader lives with the scorer

    started = time.perf_counter()
    detector = detector or Detector.load()
    labels = read_labels(labels_csv)
    summary = ScoreSummary()
    posts = read_statuses(Path(statuses_jsonl), instance=instance, on_bad_line=on_bad_line, progress=progress, summary=summary)
    scores = score_labelled(detector, posts, labels, keywords)
    if not summary.statuses:
        raise InputError(f"{statuses_jsonl}: no Mastodon statuses in the file", hint="one Status entity per line, as the API returns it")
    if not scores["matched"]:
        example = next(iter(labels))
        raise InputError(
            f"{labels_csv}: none of its {len(labels):,} account ids (such as {example!r}) is one of the "
            f"{scores['replying_accounts']:,} accounts that replied in {statuses_jsonl}",
            hint="the ids must be the archive's account ids (the 'id' of each status's 'account')",
        )
    result = report(scores, detector, time.perf_counter() - started, threshold=threshold)
    result.update({
        "statuses": summary.statuses, "bad_lines": summary.bad_lines, "keywords": list(keywords),
        "labels": len(labels), "labels_not_replying": len(labels) - scores["matched"],
        "unlabelled_accounts": scores["replying_accounts"] - scores["matched"],
    })  # fmt: skip
    return result


def evaluate_simulated(seeds: Sequence[int], *, detector: Detector | None = None, varied: bool = False) -> dict[str, Any]:
    """The model card's simulated evaluation for ``seeds`` (with and without watched keywords)."""
    from detector.classifier.simulated import training_community

    detector = detector or Detector.load()
    out: dict[str, Any] = {"seeds": list(seeds), "varied": varied}
    communities = [training_community(seed, varied=varied) for seed in seeds]
    for mode in ("keywords", "no_keywords"):
        started = time.perf_counter()
        pooled = pool_results(
            score_labelled(detector, data.posts, data.labels, data.keywords if mode == "keywords" else ())
            for data in communities
        )
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
