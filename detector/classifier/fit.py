"""Fitting the sub-models: scikit-learn in, plain-data models (``text_model``, ``trees``) out.

Every fit is deterministic (fixed seeds, single-threaded solvers) so that ``botwatch train`` run
twice gives the same artifact. The hyper-parameters are fixed here, chosen once by grouped
cross-validation on the training sets (see the model card), not re-tuned per run.

scikit-learn and SciPy are imported inside the fitting functions: scoring imports this module
for :class:`Platt` only, and importing them costs over a second of CPU that scoring never uses.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from detector.classifier.text_model import TextModel, dense_vector, sparse_keys
from detector.classifier.trees import TreeEnsemble
from detector.features.text import TextSignals, fold, text_signals, tokens

TEXT_C = 4.0  # inverse L2 strength of the content model
TEXT_MIN_DF = 2  # a feature must occur in this many training texts
_WEIGHT_DIGITS = 5


@dataclass(frozen=True)
class TextDoc:
    """A text prepared for the content model: folded tokens and structural signals."""

    words: list[str]
    signals: TextSignals

    @property
    def dense(self) -> list[float]:
        return dense_vector(self.signals)

    @classmethod
    def of(cls, text: str) -> "TextDoc":
        folded = fold(text)
        return cls(tokens(folded), text_signals(text, folded=folded))


def fit_text_model(docs: Sequence[TextDoc], labels: Sequence[int], weights: Sequence[float] | None = None) -> TextModel:
    """Logistic regression over the content model's features (see ``text_model``)."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    doc_keys = [Counter(sparse_keys(d.words)) for d in docs]
    df = Counter(k for keys in doc_keys for k in keys)
    vocab = sorted(k for k, n in df.items() if n >= TEXT_MIN_DF)
    index = {k: i for i, k in enumerate(vocab)}
    rows, cols, vals = [], [], []
    for r, keys in enumerate(doc_keys):
        kept = {k: c for k, c in keys.items() if k in index}
        norm = math.sqrt(sum(kept.values())) or 1.0
        for k, c in kept.items():
            rows.append(r)
            cols.append(index[k])
            vals.append(c / norm)
    X_sparse = sparse.csr_matrix((vals, (rows, cols)), shape=(len(docs), len(vocab)))
    dense = np.array([d.dense for d in docs], dtype=float)
    # Max-abs scaling, not standardising: a rare binary feature (a shortener in 1% of texts)
    # standardised would reach 50 and make the problem ill-conditioned.
    mean = np.zeros(dense.shape[1])
    scale = np.abs(dense).max(axis=0)
    scale[scale < 1e-9] = 1.0
    X = sparse.hstack([X_sparse, sparse.csr_matrix((dense - mean) / scale)]).tocsr()
    model = LogisticRegression(C=TEXT_C, max_iter=5000, solver="liblinear", random_state=0)
    model.fit(X, np.asarray(labels), sample_weight=None if weights is None else np.asarray(weights))
    coef = model.coef_[0]
    n = len(vocab)
    # Every vocabulary entry is kept, even near 0: each one counts in the length normaliser.
    kept = {k: round(float(coef[i]), _WEIGHT_DIGITS) for k, i in index.items()}
    return TextModel(kept, float(model.intercept_[0]), [float(w) for w in coef[n:]], [float(m) for m in mean], [float(s) for s in scale])


def fit_trees(
    X: np.ndarray,
    y: Sequence[int],
    features: Sequence[str],
    *,
    additive: bool,
    monotonic: Sequence[int] | None = None,
    max_iter: int = 200,
    learning_rate: float = 0.05,
    max_leaf_nodes: int = 8,
    min_samples_leaf: int = 20,
    l2: float = 1.0,
    sample_weight: Sequence[float] | None = None,
) -> TreeEnsemble:
    """Gradient-boosted trees, exported to plain data and checked against scikit-learn.

    ``additive`` forbids interactions (one feature per tree): the model is then a sum of one
    curve per feature, which is exact to explain and harder to overfit on small simulated data.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(
        max_iter=max_iter,
        learning_rate=learning_rate,
        max_leaf_nodes=max_leaf_nodes,
        min_samples_leaf=min_samples_leaf,
        l2_regularization=l2,
        interaction_cst="no_interactions" if additive else None,
        monotonic_cst=list(monotonic) if monotonic is not None else None,
        early_stopping=False,
        random_state=0,
    )
    X = np.asarray(X, dtype=float)
    model.fit(X, np.asarray(y), sample_weight=None if sample_weight is None else np.asarray(sample_weight))
    exported = TreeEnsemble.from_sklearn(model, features)
    drift = float(np.max(np.abs(exported.raw_batch(X) - model.decision_function(X)))) if len(X) else 0.0
    if drift > 1e-6:
        raise RuntimeError(f"tree export does not reproduce scikit-learn (max difference {drift:.3g}); check the scikit-learn version")
    return exported


@dataclass(frozen=True)
class Platt:
    """``sigmoid(a * raw + b)``: maps a model's raw log-odds to calibrated probabilities."""

    a: float
    b: float

    def logodds(self, raw: float) -> float:
        return self.a * raw + self.b

    def probability(self, raw: float) -> float:
        z = self.a * raw + self.b
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0


def fit_platt(raw: Sequence[float], y: Sequence[int]) -> Platt:
    """Platt scaling fitted on data the model was not trained on."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000)
    model.fit(np.asarray(raw, dtype=float).reshape(-1, 1), np.asarray(y))
    return Platt(float(model.coef_[0][0]), float(model.intercept_[0]))
