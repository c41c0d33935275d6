"""Metrics for a set of scores against labels: what the model card and ``botwatch evaluate`` print."""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


def _rate(num: int, den: int) -> float | None:
    return None if den == 0 else num / den


def binary_metrics(y: Sequence[int], scores: Sequence[float], threshold: float) -> dict[str, Any]:
    """ROC AUC, PR AUC (average precision) and precision/recall/F1 at ``threshold``."""
    y_arr = np.asarray(y, dtype=int)
    s_arr = np.asarray(scores, dtype=float)
    pred = s_arr >= threshold
    tp = int(np.sum(pred & (y_arr == 1)))
    fp = int(np.sum(pred & (y_arr == 0)))
    fn = int(np.sum(~pred & (y_arr == 1)))
    precision, recall = _rate(tp, tp + fp), _rate(tp, tp + fn)
    f1 = None if not precision or not recall else 2 * precision * recall / (precision + recall)
    both = 0 < y_arr.sum() < len(y_arr)
    return {
        "n": int(len(y_arr)),
        "positives": int(y_arr.sum()),
        "roc_auc": float(roc_auc_score(y_arr, s_arr)) if both else None,
        "pr_auc": float(average_precision_score(y_arr, s_arr)) if both else None,
        "threshold": threshold,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "false_positive_rate": _rate(fp, int(np.sum(y_arr == 0))),
    }


def per_kind(y: Sequence[int], scores: Sequence[float], kinds: Sequence[str], threshold: float) -> dict[str, dict[str, Any]]:
    """Per kind: recall for scripted kinds, false-positive rate for the others, at ``threshold``."""
    out: dict[str, dict[str, Any]] = {}
    for kind in sorted(set(kinds)):
        idx = [i for i, k in enumerate(kinds) if k == kind]
        flagged = sum(1 for i in idx if scores[i] >= threshold)
        is_bot = bool(y[idx[0]])
        out[kind] = {"n": len(idx), "is_bot": is_bot, "flagged": flagged, ("recall" if is_bot else "false_positive_rate"): flagged / len(idx)}
    return out


def calibration_table(y: Sequence[int], scores: Sequence[float], bins: int = 10) -> list[dict[str, Any]]:
    """Mean score against the observed share of positives, per score decile band."""
    rows = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        idx = [i for i, s in enumerate(scores) if low <= s < high or (b == bins - 1 and s == 1.0)]
        if idx:
            rows.append({
                "band": f"{low:.1f}-{high:.1f}",
                "n": len(idx),
                "mean_score": float(np.mean([scores[i] for i in idx])),
                "observed": float(np.mean([y[i] for i in idx])),
            })  # fmt: skip
    return rows


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
