"""``botwatch train``: fit every sub-model, evaluate honestly, write the artifact and model card.

Stages (see ``detector`` for the design and ``simulated`` for the seed split):

1. content model on YouTube + SMS spam (each set weighs the same);
2. profile model on cresci-2017 + cresci-2015;
3. account model on the training seeds' communities, each replayed three times (whole with the
   watched keywords, as the watch sees it, and whole without keywords: ``simulated.replays``),
   every row also shown with the account's age hidden;
4. calibration (Platt), thresholds and the reply model on the calibration seeds;
5. evaluation: grouped cross-validation of the content and profile models per data set,
   cross-data transfer, and the full detector on the evaluation seeds;
6. ``models/botwatch-detector.json.gz`` and ``models/MODEL_CARD.md``.

Deterministic: fixed seeds everywhere, results gathered in a fixed order whatever finishes first.
Uses two worker processes (``workers``) because the simulated communities are independent.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression

from detector.classifier import card
from detector.classifier.artifact import DEFAULT_NAME, FORMAT_VERSION, default_model_path
from detector.classifier.datasets import (
    ProfileExample,
    TextExample,
    default_data_dir,
    load_cresci2015,
    load_cresci2017,
    load_sms,
    load_youtube,
)
from detector.classifier.detector import ACCOUNT_FEATURES, REPLY_FEATURES, Detector, LinearModel
from detector.classifier.evaluate import pool_results, report, score_labelled
from detector.classifier.fit import TextDoc, fit_platt, fit_text_model, fit_trees
from detector.classifier.metrics import threshold_for_precision
from detector.classifier.replay import Replay
from detector.classifier.simulated import (
    CALIBRATION_SEEDS,
    EVALUATION_SEEDS,
    TRAIN_SEEDS,
    VARIED_EVALUATION_SEEDS,
    AccountRow,
    replay_rows,
    replays,
    training_community,
)
from detector.classifier.trees import TreeEnsemble
from detector.classifier.user_labels import UserLabelled, user_rows
from detector.classifier.verdicts import Thresholds
from detector.features.account import PROFILE_FEATURES, profile_vector
from detector.mastodon_server.community import HARD_NEGATIVE_KINDS

Log = Callable[[str], None]

# Direction each account-model input may push the score (+1 up, -1 down, 0 free): the shapes a
# script's behaviour must have on any platform, so the model cannot learn a quirk of the simulator
# backwards (e.g. "slower replies are more suspicious").
MONOTONIC = {
    "latency_median_log": -1, "fast_share": 1, "targets_per_reply": 1, "trigger_share": 1, "topic_concentration": 1,
    "template_repeat": 1, "coordination": 1, "shortened_share": 1, "cta_share": 1, "praise_share": 1,
    "solicited_share": -1, "content_mean": 1, "content_positive_share": 1, "profile_logodds": 1, "log_age_days": -1,
    "bot_flag": -1,  # a declared bot operates in the open: that never makes it more likely to be spam
}  # fmt: skip
# The bot threshold: the lowest score from 0.8 up reaching this precision on the calibration
# seeds. The floor keeps "bot" meaning "very likely" even where the simulation separates easily,
# because scripted accounts are rarer in the wild than in the simulated communities.
BOT_PRECISION = 0.98
BOT_FLOOR = 0.8
SUSPECT_THRESHOLD = 0.5


@dataclass(frozen=True)
class TrainResult:
    detector: Detector
    model_path: Path
    card_path: Path
    evaluation: dict[str, Any]
    seconds: float


# --- sub-models -------------------------------------------------------------------------------


def _text_weights(examples: Sequence[TextExample]) -> list[float]:
    """Each source, and each class within a source, weighs the same in total, whatever its size.

    Without this the SMS set (13% spam) would pull the content model's zero point towards "ham"
    on every other platform.
    """
    sizes: dict[tuple[str, int], int] = {}
    for e in examples:
        sizes[e.source, e.label] = sizes.get((e.source, e.label), 0) + 1
    return [len(examples) / (len(sizes) * sizes[e.source, e.label]) for e in examples]


def train_text(examples: Sequence[TextExample], docs: Sequence[TextDoc] | None = None):
    docs = docs if docs is not None else [TextDoc.of(e.text) for e in examples]
    return fit_text_model(docs, [e.label for e in examples], _text_weights(examples))


def train_profile(examples: Sequence[ProfileExample]) -> TreeEnsemble:
    X = np.array([profile_vector(e.author, e.at) for e in examples], dtype=float)
    return fit_trees(X, [e.label for e in examples], PROFILE_FEATURES, additive=False, max_iter=300)


# Hard negatives are few (a handful per community) but each has its own false-positive target:
# they weigh this many times an ordinary account, so the model learns what sets them apart.
HARD_NEGATIVE_WEIGHT = 4.0


# Inputs hidden in a copy of every training row, and that copy's share of the row's weight (see
# :func:`train_account`).
DROPPED_WITH_AGE = ("log_age_days",)
AGE_HIDDEN_SHARE = 0.5


def train_account(rows: Sequence[AccountRow]) -> TreeEnsemble:
    """The account model. Every row is also shown with the account's age unknown, sharing the
    row's weight: the simulator's scripts are mostly young accounts, so without this the model
    learns "old, so human" above all, while in the wild aged accounts are bought and taken over.
    With the age hidden half the time, behaviour has to carry the verdict too."""
    X = np.array([r.vector for r in rows], dtype=float)
    hidden = X.copy()
    for name in DROPPED_WITH_AGE:
        hidden[:, ACCOUNT_FEATURES.index(name)] = np.nan
    monotonic = [MONOTONIC.get(f, 0) for f in ACCOUNT_FEATURES]
    weights = [r.weight * (HARD_NEGATIVE_WEIGHT if r.kind in HARD_NEGATIVE_KINDS else 1.0) for r in rows]
    labels = [r.label for r in rows]
    return fit_trees(
        np.vstack([X, hidden]), labels + labels, ACCOUNT_FEATURES, additive=True, monotonic=monotonic, max_iter=300,
        learning_rate=0.05, max_leaf_nodes=6, min_samples_leaf=40, l2=2.0,
        sample_weight=[w * (1 - AGE_HIDDEN_SHARE) for w in weights] + [w * AGE_HIDDEN_SHARE for w in weights],
    )  # fmt: skip


# --- workers (top-level functions: they run in other processes) -------------------------------


def _seed_rows(detector: Detector, seed: int, snapshots: bool) -> list[AccountRow]:
    rows: list[AccountRow] = []
    for data, keywords in replays(training_community(seed)):
        rows.extend(replay_rows(detector, data, keywords=keywords, snapshots=snapshots).rows)
    return rows


def _calibration_seed(detector: Detector, seed: int) -> tuple[list[AccountRow], list[list[float]], list[int]]:
    """Account rows, and reply inputs (with the account's raw score first) for the reply model."""
    rows: list[AccountRow] = []
    reply_x: list[list[float]] = []
    reply_y: list[int] = []
    for data, keywords in replays(training_community(seed)):
        result = replay_rows(detector, data, keywords=keywords, snapshots=True)
        rows.extend(result.rows)
        collected: list = []
        replay = Replay(detector, keywords, on_reply=lambda s, a, into=collected: into.append(s))
        for post in data.posts:
            replay.add(post)
        verdicts = replay.verdicts()
        for signals in collected:
            if signals.self_reply or signals.account_id not in data.labels:
                continue
            verdict = verdicts[signals.account_id]
            reply_x.append(Detector.reply_vector(signals, verdict))
            reply_y.append(data.labels[signals.account_id][0])
    return rows, reply_x, reply_y


def _evaluation_seed(detector: Detector, seed: int, varied: bool) -> dict[str, dict[str, list[Any]]]:
    data = training_community(seed, varied=varied)
    return {mode: score_labelled(detector, data.posts, data.labels, kw) for mode, kw in (("keywords", data.keywords), ("no_keywords", ()))}


# --- the pipeline ----------------------------------------------------------------------------


def train(
    data_dir: Path | None = None,
    out_dir: Path | None = None,
    *,
    workers: int = 2,
    log: Log | None = None,
    evaluate: bool = True,
    user_labelled: UserLabelled | None = None,
    executor: Executor | None = None,
) -> TrainResult:
    """Train, evaluate and write ``botwatch-detector.json.gz`` and ``MODEL_CARD.md`` to ``out_dir``.

    ``data_dir`` defaults to :func:`~detector.classifier.datasets.default_data_dir`; ``out_dir``
    to the checkout's ``models/``. ``log`` receives one line per stage. ``user_labelled``: accounts
    people labelled, which join the account model's training rows (see ``user_labels``).
    ``executor`` runs the per-community work (default: ``workers`` spawned processes).
    """
    from detector.classifier import cross_validation as cv

    started = time.perf_counter()
    say = log or (lambda _: None)
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    out_dir = Path(out_dir) if out_dir is not None else default_model_path().parent

    youtube, sms = load_youtube(data_dir), load_sms(data_dir)
    cresci17, cresci15 = load_cresci2017(data_dir), load_cresci2015(data_dir)
    texts = youtube + sms
    text = train_text(texts)
    profile = train_profile(cresci17 + cresci15)
    say(f"content model: {len(text.weights):,} n-gram weights from {len(youtube):,} comments and {len(sms):,} SMS")
    say(f"profile model: {len(profile.trees)} trees from {len(cresci17) + len(cresci15):,} profiles")
    stage = Detector(text=text, profile=profile)

    # "spawn": a forked child of a process that has run OpenMP (scikit-learn's trees) can hang.
    if executor is None:
        executor = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    with executor:
        rows = [r for rs in executor.map(_seed_rows, [stage] * len(TRAIN_SEEDS), TRAIN_SEEDS, [True] * len(TRAIN_SEEDS)) for r in rs]
        labelled = user_rows(stage, user_labelled) if user_labelled is not None else []
        account = train_account(rows + labelled)
        say(f"account model: {len(account.trees)} trees from {len(rows):,} rows of {len(TRAIN_SEEDS)} simulated communities"
            + (f" and {len(labelled):,} rows of {len({r.account_id for r in labelled})} accounts people labelled" if labelled else ""))

        uncalibrated = replace_models(stage, account=account)
        cal_rows: list[AccountRow] = []
        reply_x: list[list[float]] = []
        reply_y: list[int] = []
        for rows_i, x_i, y_i in executor.map(_calibration_seed, [uncalibrated] * len(CALIBRATION_SEEDS), CALIBRATION_SEEDS):
            cal_rows += rows_i
            reply_x += x_i
            reply_y += y_i
        raw = account.raw_batch(np.array([r.vector for r in cal_rows]))
        platt = fit_platt(raw, [r.label for r in cal_rows])
        finals = [i for i, r in enumerate(cal_rows) if r.final]
        final_scores = [platt.probability(raw[i]) for i in finals]
        final_y = [cal_rows[i].label for i in finals]
        bot = threshold_for_precision(final_y, final_scores, BOT_PRECISION, floor=BOT_FLOOR, ceiling=0.97)
        thresholds = Thresholds(bot=bot, suspect=min(SUSPECT_THRESHOLD, bot - 0.1))
        # Reply inputs were made with the uncalibrated account score: calibrate it now.
        for x in reply_x:
            x[0] = max(min(platt.logodds(x[0]), 12.0), -12.0)
        reply = _fit_reply(reply_x, reply_y)
        say(f"calibration: score = sigmoid({platt.a:.3f} * raw + {platt.b:.3f}); thresholds bot {thresholds.bot}, suspect {thresholds.suspect}")

        version = _version(text, profile, account, platt, reply)
        detector = Detector(
            text=text, profile=profile, account=account, calibration=platt, reply=reply, thresholds=thresholds, version=version,
            info={"train_seeds": list(TRAIN_SEEDS), "calibration_seeds": list(CALIBRATION_SEEDS), "evaluation_seeds": list(EVALUATION_SEEDS),
                  **({"user_labelled_accounts": len({r.account_id for r in labelled})} if labelled else {})},
        )  # fmt: skip
        evaluation: dict[str, Any] = {"thresholds": {"bot": thresholds.bot, "suspect": thresholds.suspect}}
        if evaluate:
            for name, seeds, varied in (("simulated", EVALUATION_SEEDS, False), ("varied", VARIED_EVALUATION_SEEDS, True)):
                sim = list(executor.map(_evaluation_seed, [detector] * len(seeds), seeds, [varied] * len(seeds)))
                for mode in ("keywords", "no_keywords"):
                    evaluation[f"{name}_{mode}"] = report(pool_results(s[mode] for s in sim), detector, 0.0)
                say(f"evaluated on {name} seeds " + ", ".join(map(str, seeds)))
            evaluation.update(cv.data_set_evaluation(youtube, sms, cresci17, cresci15, executor))
            say("evaluated content and profile models by grouped cross-validation")

    out_dir.mkdir(parents=True, exist_ok=True)
    model_path = out_dir / DEFAULT_NAME
    detector.save(model_path)
    seconds = time.perf_counter() - started
    card_path = out_dir / "MODEL_CARD.md"
    card_path.write_text(card.render(detector, evaluation, seconds=seconds, sizes=_sizes(youtube, sms, cresci17, cresci15)), encoding="utf-8")
    say(f"wrote {model_path} and {card_path} in {seconds:.0f} s")
    return TrainResult(detector, model_path, card_path, evaluation, seconds)


def replace_models(detector: Detector, **models: Any) -> Detector:
    """A copy of a (partly trained) detector with some sub-models set."""
    return Detector(
        text=models.get("text", detector.text), profile=models.get("profile", detector.profile),
        account=models.get("account", detector.account), calibration=models.get("calibration", detector.calibration),
        reply=models.get("reply", detector.reply), thresholds=detector.thresholds, version=detector.version,
    )  # fmt: skip


def _fit_reply(x: Sequence[Sequence[float]], y: Sequence[int]) -> LinearModel:
    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit(np.asarray(x, dtype=float), np.asarray(y))
    return LinearModel(REPLY_FEATURES, tuple(float(w) for w in model.coef_[0]), float(model.intercept_[0]))


def _version(*parts: Any) -> str:
    """A digest of the weights: two artifacts with one version are the same model."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part.to_json() if hasattr(part, "to_json") else part).encode())
    return f"bw{FORMAT_VERSION}-{digest.hexdigest()[:12]}"


def _sizes(youtube, sms, cresci17, cresci15) -> dict[str, Any]:
    def count(items) -> dict[str, int]:
        return {"rows": len(items), "positives": sum(e.label for e in items)}

    return {"youtube": count(youtube), "sms": count(sms), "cresci2017": count(cresci17), "cresci2015": count(cresci15)}


def main() -> None:
    """``python -m detector.classifier.train [--data DIR] [--out DIR]`` (until the CLI has it)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m detector.classifier.train", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="folder with the training data sets")
    parser.add_argument("--out", type=Path, default=None, help="where to write the artifact and model card (default: models/)")
    parser.add_argument("--no-evaluation", action="store_true", help="skip cross-validation and simulated evaluation")
    args = parser.parse_args()
    train(args.data, args.out, evaluate=not args.no_evaluation, log=lambda line: print(line, flush=True))


if __name__ == "__main__":
    main()
