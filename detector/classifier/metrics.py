"""Metrics for a set of scores against labels: what the model card and ``botwatch evaluate`` print."""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np


def _rate(num: int, den: int) -> float | None:
    return None if den == 0 else num / den


def binary_metrics(
    y: Sequence[int], scores: Sequence[float], threshold: float, weights: Sequence[float] | None = None
) -> dict[str, Any]:
    """ROC AUC, PR AUC (average precision) and precision/recall/F1 at ``threshold``.

    ``weights`` count each row that many times (a :class:`ScoreTally` passes one row per
    distinct score with its count).
    """
    # Imported here: the CLI imports this module for fmt(), and `botwatch score` should not pay
    # scikit-learn's import time (about 0.75 s of CPU) for numbers it never computes.
    from sklearn.metrics import average_precision_score, roc_auc_score

    y_arr = np.asarray(y, dtype=int)
    s_arr = np.asarray(scores, dtype=float)
    w_arr = np.ones(len(y_arr)) if weights is None else np.asarray(weights, dtype=float)
    pred = s_arr >= threshold
    tp = int(np.sum(w_arr[pred & (y_arr == 1)]))
    fp = int(np.sum(w_arr[pred & (y_arr == 0)]))
    fn = int(np.sum(w_arr[~pred & (y_arr == 1)]))
    positives, n = int(np.sum(w_arr[y_arr == 1])), int(np.sum(w_arr))
    precision, recall = _rate(tp, tp + fp), _rate(tp, tp + fn)
    f1 = None if not precision or not recall else 2 * precision * recall / (precision + recall)
    both = 0 < positives < n
    return {
        "n": n,
        "positives": positives,
        "roc_auc": float(roc_auc_score(y_arr, s_arr, sample_weight=w_arr)) if both else None,
        "pr_auc": float(average_precision_score(y_arr, s_arr, sample_weight=w_arr)) if both else None,
        "threshold": threshold,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "false_positive_rate": _rate(fp, n - positives),
    }


def per_kind(
    y: Sequence[int], scores: Sequence[float], kinds: Sequence[str], threshold: float, weights: Sequence[float] | None = None
) -> dict[str, dict[str, Any]]:
    """Per kind: recall for scripted kinds, false-positive rate for the others, at ``threshold``."""
    w = [1] * len(y) if weights is None else weights
    out: dict[str, dict[str, Any]] = {}
    for kind in sorted(set(kinds)):
        idx = [i for i, k in enumerate(kinds) if k == kind]
        n = int(sum(w[i] for i in idx))
        flagged = int(sum(w[i] for i in idx if scores[i] >= threshold))
        is_bot = bool(y[idx[0]])
        out[kind] = {"n": n, "is_bot": is_bot, "flagged": flagged, ("recall" if is_bot else "false_positive_rate"): flagged / n}
    return out


def calibration_table(
    y: Sequence[int], scores: Sequence[float], bins: int = 10, weights: Sequence[float] | None = None
) -> list[dict[str, Any]]:
    """Mean score against the observed share of positives, per score decile band."""
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    s_arr, y_arr = np.asarray(scores, dtype=float), np.asarray(y, dtype=float)
    rows = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        mask = ((s_arr >= low) & (s_arr < high)) | ((b == bins - 1) & (s_arr == 1.0))
        n = float(np.sum(w[mask]))
        if n:
            rows.append({
                "band": f"{low:.1f}-{high:.1f}",
                "n": int(n),
                "mean_score": float(np.sum(w[mask] * s_arr[mask]) / n),
                "observed": float(np.sum(w[mask] * y_arr[mask]) / n),
            })  # fmt: skip
    return rows


class ScoreTally:
    """Labelled scores counted by (label, kind, score to 4 decimals): memory bounded by the
    number of distinct scores, not of rows, so a reply-level evaluation of any archive fits.

    Every metric of the report comes out exact for scores rounded as ``botwatch score`` writes
    them (4 decimals). Tallies add up, so per-community tallies pool into one.
    """

    DIGITS = 4

    def __init__(self) -> None:
        self.counts: dict[tuple[int, str, float], int] = {}

    def add(self, label: int, kind: str, score: float) -> None:
        key = (int(label), kind, round(float(score), self.DIGITS))
        self.counts[key] = self.counts.get(key, 0) + 1

    def merge(self, other: "ScoreTally") -> "ScoreTally":
        for key, count in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + count
        return self

    def __len__(self) -> int:
        return sum(self.counts.values())

    def _columns(self) -> tuple[list[int], list[float], list[str], list[int]]:
        keys = sorted(self.counts)
        return [k[0] for k in keys], [k[2] for k in keys], [k[1] for k in keys], [self.counts[k] for k in keys]

    def metrics(self, threshold: float) -> dict[str, Any]:
        y, s, _, w = self._columns()
        return binary_metrics(y, s, threshold, w)

    def per_kind(self, threshold: float) -> dict[str, dict[str, Any]]:
        y, s, kinds, w = self._columns()
        return per_kind(y, s, kinds, threshold, w)

    def calibration(self, bins: int = 10) -> list[dict[str, Any]]:
        y, s, _, w = self._columns()
        return calibration_table(y, s, bins, w)


def threshold_for_precision(y: Sequence[int], scores: Sequence[float], precision: float, *, floor: float, ceiling: float) -> float:
    """The lowest threshold (2 decimals) whose precision reaches ``precision``, within bounds."""
    y_arr, s_arr = np.asarray(y), np.asarray(scores)
    for t in np.arange(floor, ceiling + 1e-9, 0.01):
        pred = s_arr >= t
        if pred.sum() and (y_arr[pred] == 1).mean() >= precision:
            return round(float(t), 2)
    return ceiling


def fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def summary_line(m: Mapping[str, Any]) -> str:
    return (
        f"ROC AUC {fmt(m['roc_auc'])}, PR AUC {fmt(m['pr_auc'])}, P {fmt(m['precision'])} R {fmt(m['recall'])} "
        f"F1 {fmt(m['f1'])} at {m['threshold']:.2f} (n={m['n']}, positives={m['positives']})"
    )
