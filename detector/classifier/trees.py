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
from bisect import bisect_left
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Callable, Sequence

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


def _path(node: tuple[Any, ...], x: Sequence[float]) -> tuple[float, list[float]]:
    """The leaf value a row reaches in a :meth:`Tree.nested` tree, and the steps on the way."""
    steps = []
    while node[0] >= 0:
        v = x[node[0]]
        if v <= node[1] or (v != v and node[2]):  # v != v: NaN, which goes where missing values went
            steps.append(node[5])
            node = node[3]
        else:
            steps.append(node[6])
            node = node[4]
    return node[1], steps


@dataclass(frozen=True)
class _StepFunctions:
    """An additive ensemble (every tree splits on one feature) as one step function per feature.

    The thresholds of a feature's trees cut its axis into intervals (and NaN) inside which each
    of those trees ends in the same leaf, so every interval's leaves and the feature's part are
    worked out once, by walking the trees; scoring a row is then one bisection per feature, not
    a walk per tree. A part is the walk's own sum of steps in tree order and the raw score adds
    the leaves in tree order, so the numbers are :meth:`TreeEnsemble.explain`'s to the last bit.
    """

    features: tuple[str, ...]
    baseline: float
    # (feature, sorted thresholds, (part, leaves) for each interval then for NaN) per feature
    groups: tuple[tuple[int, list[float], tuple[tuple[float, tuple[float, ...]], ...]], ...]
    in_tree_order: Callable[[list[float]], tuple[float, ...]]  # the groups' leaves, one after another

    @classmethod
    def of(cls, ensemble: "TreeEnsemble") -> "_StepFunctions | None":
        """The step functions of an ensemble; ``None`` when a tree splits on several features."""
        if len(ensemble.trees) < 2:
            return None  # itemgetter of a single index returns the item, not a tuple
        members: dict[int, list[int]] = {}
        bounds: dict[int, set[float]] = {}
        for i, tree in enumerate(ensemble.trees):
            splits = [(f, t) for f, t, left in zip(tree.feature, tree.threshold, tree.left) if left != -1]
            if len({f for f, _ in splits}) > 1:
                return None
            feature = splits[0][0] if splits else 0  # a lone leaf is the same in every group
            members.setdefault(feature, []).append(i)
            bounds.setdefault(feature, set()).update(t for _, t in splits)
        groups = []
        for feature, trees in members.items():
            axis = sorted(bounds[feature])
            roots = [ensemble._roots[i] for i in trees]
            # One value per interval: each threshold stands for the values up to it from the one below.
            probes = [[value] * len(ensemble.features) for value in (*axis, math.inf, math.nan)]
            groups.append((feature, axis, tuple(_outcome(roots, x) for x in probes)))
        position = {tree: k for k, tree in enumerate(i for trees in members.values() for i in trees)}
        in_tree_order = itemgetter(*(position[i] for i in range(len(ensemble.trees))))
        return cls(ensemble.features, ensemble.baseline, tuple(groups), in_tree_order)

    def explain(self, x: Sequence[float]) -> tuple[float, dict[str, float]]:
        parts = [0.0] * len(self.features)
        leaves: list[float] = []
        for feature, axis, outcomes in self.groups:
            v = x[feature]
            parts[feature], chosen = outcomes[-1] if v != v else outcomes[bisect_left(axis, v)]
            leaves += chosen
        total = self.baseline
        for leaf in self.in_tree_order(leaves):
            total += leaf
        return total, dict(zip(self.features, parts))


def _outcome(roots: Sequence[tuple[Any, ...]], x: Sequence[float]) -> tuple[float, tuple[float, ...]]:
    """The part of their feature and the leaves of trees on one feature, walked in order."""
    part = 0.0
    leaves = []
    for root in roots:
        leaf, steps = _path(root, x)
        for step in steps:
            part += step
        leaves.append(leaf)
    return part, tuple(leaves)


@dataclass(frozen=True)
class TreeEnsemble:
    """A binary classifier's raw score (log-odds) as ``baseline + sum(tree leaves)``."""

    features: tuple[str, ...]
    baseline: float
    trees: tuple[Tree, ...]
    _roots: tuple[tuple[Any, ...], ...] = field(init=False, repr=False, compare=False)  # the trees as Tree.nested()
    _steps: _StepFunctions | None = field(init=False, repr=False, compare=False)  # when the model is additive

    def __post_init__(self) -> None:
        # Frozen: derived once, here.
        object.__setattr__(self, "_roots", tuple(tree.nested() for tree in self.trees))
        object.__setattr__(self, "_steps", _StepFunctions.of(self))

    def explain(self, x: Sequence[float]) -> tuple[float, dict[str, float]]:
        """:meth:`raw` and :meth:`contributions` of one row in a single walk down each tree.

        Scoring an account needs both, and the walks are most of its cost. The arithmetic is
        the two methods' own, in the same order, so the numbers are the same to the last bit.
        An additive model is evaluated as step functions instead (:class:`_StepFunctions`).
        """
        if self._steps is not None:
            return self._steps.explain(x)
        total = self.baseline
        parts = [0.0] * len(self.features)
        for node in self._roots:
            f = node[0]
            while f >= 0:  # _path, inlined and without the list: this runs for every tree of every account
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
