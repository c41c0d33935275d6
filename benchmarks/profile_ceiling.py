"""How far profile signals can go on cresci-2017, and why botwatch stops short of it.

botwatch's profile model reads only fields every platform has (see detector/features/account.py).
This measures, with the same grouped 5-fold split as the model card, what the Twitter-only fields
of the cresci CSVs add on top: first the numeric ones (favourites, listed counts, profile flags),
then the categorical ones (language, time zone, theme colours). The last group names the crawl
(Italian retweet spambots versus genuine accounts from elsewhere) rather than scripted behaviour,
and none of it exists on Mastodon or Bluesky: it is the price of portability, shown in numbers.

    python benchmarks/profile_ceiling.py      # ~2 min on 2 cores; needs BOTWATCH_TRAINING_DATA or ../shared/data
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold

from detector.classifier.datasets import open_csv, default_data_dir, load_cresci2017
from detector.features.account import profile_vector

NUMERIC = ("favourites_count", "listed_count", "geo_enabled", "default_profile", "profile_use_background_image", "verified", "protected", "utc_offset")
CATEGORICAL = ("lang", "time_zone", "profile_background_color", "profile_link_color", "profile_text_color", "profile_sidebar_fill_color")


def _number(value: str | None) -> float:
    try:
        return float(value) if value not in (None, "", "NULL") else float("nan")
    except ValueError:
        return float("nan")


def _grouped_f1(X: np.ndarray, y: np.ndarray, groups: list[str]) -> tuple[float, float]:
    scores = np.zeros(len(y))
    for train, test in StratifiedGroupKFold(5, shuffle=True, random_state=0).split(X, y, groups):
        model = HistGradientBoostingClassifier(max_iter=300, random_state=0).fit(X[train], y[train])
        scores[test] = model.predict_proba(X[test])[:, 1]
    return f1_score(y, scores > 0.5), roc_auc_score(y, scores)


def main() -> None:
    root = default_data_dir()
    examples = load_cresci2017(root)
    folder = root / "cresci2017_users_ss1_genuine"
    raw = {row["id"]: row for name in ("spam_user.csv", "genuine_users.csv") for row in open_csv(folder / name)}
    rows = [raw[e.author.id] for e in examples]
    y = np.array([e.label for e in examples])
    groups = [e.group for e in examples]
    portable = np.array([profile_vector(e.author, e.at) for e in examples])
    numeric = np.array([[_number(r.get(k)) for k in NUMERIC] for r in rows])
    codes = {k: {v: i for i, v in enumerate(sorted({r.get(k) or "" for r in rows}))} for k in CATEGORICAL}
    categorical = np.array([[codes[k][r.get(k) or ""] for k in CATEGORICAL] for r in rows], dtype=float)
    print(f"cresci-2017 social spambots #1 vs genuine: {len(y)} accounts, {int(y.sum())} bots; stratified 5-fold grouped by account")
    print(f"{'profile fields':<66} {'F1':>6} {'ROC AUC':>8} {'seconds':>8}")
    for name, X in (
        ("botwatch's portable fields (the shipped profile model's input)", portable),
        ("+ Twitter-only numeric fields", np.hstack([portable, numeric])),
        ("+ Twitter-only categorical fields (language, time zone, colours)", np.hstack([portable, numeric, categorical])),
    ):
        started = time.perf_counter()
        f1, auc = _grouped_f1(X, y, groups)
        print(f"{name:<66} {f1:>6.3f} {auc:>8.3f} {time.perf_counter() - started:>8.1f}")


if __name__ == "__main__":
    main()
