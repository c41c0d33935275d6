"""Gradient-boosted trees as plain data: evaluated and explained without scikit-learn at run time.

Models are trained with scikit-learn's ``HistGradientBoostingClassifier`` and exported here to
arrays of numbers (:meth:`TreeEnsemble.from_sklearn`), so the shipped artifact is JSON that
cannot run code, does not depend on the scikit-learn version that reads it, and is fast to
evaluate one account at a time. Export reads the fitted predictors' node table, a private
structure of scikit-learn: training checks that the export reproduces ``decision_function``
exactly, so a change there fails loudly at training time, never silently at scoring time.

:meth:`TreeEnsemble.contributions` splits a prediction into per-feature parts (Saabas 2014: each
split on a path moves the expected value; the move is credited to the split's feature). For
models trained with ``interaction_cst="no_interactions"`` every tree uses one feature, and the
parts are exact: the model is a sum of one shape function per feature, which is what reasons
quote.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from detector.classifier.validate import check_list, check_number, check_object, raise_model


@dataclass(frozen=True)
class Tree:
    """One regression tree; node 0 is the root, ``left[i] == -1`` marks a leaf.

    ``value`` holds every node's expected output (a leaf's own value; an internal node's mean
    over the training rows that reached it), which is what :meth:`TreeEnsemble.contributions` needs.
    """

    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    missing_left: tuple[bool, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    value: tuple[float, ...]

    def leaf(self, x: Sequence[float]) -> int:
        node = 0
        left, right, feature, threshold, missing_left = self.left, self.right, self.feature, self.threshold, self.missing_left
        while left[node] != -1:
            v = x[feature[node]]
            if v != v:  # NaN
                node = left[node] if missing_left[node] else right[node]
            else:
                node = left[node] if v <= threshold[node] else right[node]
        return node

    def nested(self) -> tuple[Any, ...]:
        """The tree as nested tuples, which Python walks faster than index look-ups in six arrays.

        A node is ``(feature, threshold, missing_left, left, right, left_step, right_step)``, the
        steps being how much going down to that child moves the expected value; a leaf is
        ``(-1, value)``. Built from the last node back: children always come after their parent.
        """
        nodes: list[tuple[Any, ...]] = [()] * len(self.left)
        for i in reversed(range(len(self.left))):
            left, right, value = self.left[i], self.right[i], self.value
            if left == -1:
                nodes[i] = (-1, value[i])
            else:
                steps = (value[left] - value[i], value[right] - value[i])
                nodes[i] = (self.feature[i], self.threshold[i], self.missing_left[i], nodes[left], nodes[right], *steps)
        return nodes[0]

    def to_json(self) -> list[list[Any]]:
        return [list(self.feature), list(self.threshold), [int(b) for b in self.missing_left], list(self.left), list(self.right), list(self.value)]

    @classmethod
    def from_json(cls, data: Any, n_features: int, where: str) -> "Tree":
        rows = check_list(data, where, length=6)
        feature, threshold, missing, left, right, value = (check_list(r, f"{where}[{i}]") for i, r in enumerate(rows))
        size = len(feature)
        if not size or any(len(r) != size for r in (threshold, missing, left, right, value)):
            raise_model(where, "arrays of unequal or zero length")
        tree = cls(
            tuple(int(check_number(f, where)) for f in feature),
            tuple(float(check_number(t, where)) for t in threshold),
            tuple(bool(check_number(m, where)) for m in missing),
            tuple(int(check_number(c, where)) for c in left),
            tuple(int(check_number(c, where)) for c in right),
            tuple(float(check_number(v, where)) for v in value),
        )
        for i in range(size):
            if tree.left[i] == -1:
                continue
            # Children strictly after their parent: walking down always ends (no cycles).
            if not (i < tree.left[i] < size and i < tree.right[i] < size and 0 <= tree.feature[i] < n_features):
                raise_model(where, f"node {i} points outside the tree or the feature list")
        return tree


@dataclass(frozen=True)
class TreeEnsemble:
    """A binary classifier's raw score (log-odds) as ``baseline + sum(tree leaves)``."""

    features: tuple[str, ...]
    baseline: float
    trees: tuple[Tree, ...]
    _roots: tuple[tuple[Any, ...], ...] = field(init=False, repr=False, compare=False)  # the trees as Tree.nested()

    def __post_init__(self) -> None:
        object.__setattr__(self, "_roots", tuple(tree.nested() for tree in self.trees))  # frozen: set once, here

    def explain(self, x: Sequence[float]) -> tuple[float, dict[str, float]]:
        """:meth:`raw` and :meth:`contributions` of one row in a single walk down each tree.

        Scoring an account needs both, and the walks are most of its cost. The arithmetic is
        the two methods' own, in the same order, so the numbers are the same to the last bit.
        """
        total = self.baseline
        parts = [0.0] * len(self.features)
        for node in self._roots:
            f = node[0]
            while f >= 0:
                v = x[f]
                if v <= node[1] or (v != v and node[2]):  # v != v: NaN, which goes where missing values went
                    parts[f] += node[5]
                    node = node[3]
                else:
                    parts[f] += node[6]
                    node = node[4]
                f = node[0]
            total += node[1]
        return total, dict(zip(self.features, parts))

    def raw(self, x: Sequence[float]) -> float:
        return self.explain(x)[0]

    def raw_batch(self, X: np.ndarray) -> np.ndarray:
        """Raw scores of many rows at once (vectorised over rows, one tree at a time)."""
        X = np.asarray(X, dtype=float)
        out = np.full(X.shape[0], self.baseline)
        rows = np.arange(X.shape[0])
        for tree in self.trees:
            left, right = np.asarray(tree.left), np.asarray(tree.right)
            feature, threshold = np.asarray(tree.feature), np.asarray(tree.threshold)
            missing_left, value = np.asarray(tree.missing_left), np.asarray(tree.value)
            node = np.zeros(X.shape[0], dtype=np.int64)
            active = left[node] != -1
            while active.any():
                n = node[active]
                v = X[rows[active], feature[n]]
                go_left = np.where(np.isnan(v), missing_left[n], v <= threshold[n])
                node[active] = np.where(go_left, left[n], right[n])
                active = left[node] != -1
            out += value[node]
        return out

    def expected(self) -> float:
        """The mean raw score over the training data: where every explanation starts."""
        return self.baseline + sum(tree.value[0] for tree in self.trees)

    def contributions(self, x: Sequence[float]) -> dict[str, float]:
        """How much each feature moved this row's raw score away from :meth:`expected`."""
        return self.explain(x)[1]

    def to_json(self) -> dict[str, Any]:
        return {"features": list(self.features), "baseline": self.baseline, "trees": [t.to_json() for t in self.trees]}

    @classmethod
    def from_json(cls, data: Any, where: str, features: Sequence[str] | None = None) -> "TreeEnsemble":
        obj = check_object(data, where, ("features", "baseline", "trees"))
        names = tuple(str(f) for f in check_list(obj["features"], f"{where}.features"))
        if features is not None and names != tuple(features):
            raise_model(f"{where}.features", f"the model reads {list(names)}, this botwatch computes {list(features)}")
        trees = tuple(Tree.from_json(t, len(names), f"{where}.trees[{i}]") for i, t in enumerate(check_list(obj["trees"], f"{where}.trees")))
        return cls(names, float(check_number(obj["baseline"], f"{where}.baseline")), trees)

    @classmethod
    def from_sklearn(cls, model: Any, features: Sequence[str]) -> "TreeEnsemble":
        """Export a fitted binary ``HistGradientBoostingClassifier`` (see the module docstring)."""
        baseline = float(np.ravel(model._baseline_prediction)[0])
        trees = []
        for (predictor,) in model._predictors:
            nodes = predictor.nodes
            if np.any(nodes["is_categorical"]):
                raise ValueError("categorical splits are not supported by the export")
            left = [-1 if leaf else int(c) for leaf, c in zip(nodes["is_leaf"], nodes["left"])]
            right = [-1 if leaf else int(c) for leaf, c in zip(nodes["is_leaf"], nodes["right"])]
            value = [float(v) for v in nodes["value"]]
            counts = [float(c) for c in nodes["count"]]
            # Internal nodes: count-weighted mean of their children, children first.
            for i in sorted(range(len(nodes)), key=lambda i: -int(nodes["depth"][i])):
                if left[i] != -1:
                    l, r = left[i], right[i]
                    value[i] = (counts[l] * value[l] + counts[r] * value[r]) / max(counts[l] + counts[r], 1.0)
            trees.append(
                Tree(
                    tuple(int(f) for f in nodes["feature_idx"]),
                    tuple(float(t) if math.isfinite(t) else math.copysign(1e300, t) for t in nodes["num_threshold"]),
                    tuple(bool(m) for m in nodes["missing_go_to_left"]),
                    tuple(left),
                    tuple(right),
                    tuple(value),
                )
            )
        return cls(tuple(features), baseline, tuple(trees))
