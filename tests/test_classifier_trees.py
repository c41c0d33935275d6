"""Tree export: plain data that reproduces scikit-learn exactly, explains itself, and is checked on load."""

import json

import numpy as np
import pytest

from detector.classifier.fit import fit_trees
from detector.classifier.trees import TreeEnsemble
from detector.errors import ModelError


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 3))
    X[::5, 1] = np.nan
    y = (X[:, 0] + np.nan_to_num(X[:, 1]) + rng.normal(scale=0.5, size=600) > 0).astype(int)
    return X, y


@pytest.mark.parametrize("additive", [True, False])
def test_export_matches_scikit_learn_and_survives_json(data, additive):
    X, y = data
    model = fit_trees(X, y, ("a", "b", "c"), additive=additive, max_iter=40)  # checks against sklearn itself
    again = TreeEnsemble.from_json(json.loads(json.dumps(model.to_json())), "m", ("a", "b", "c"))
    assert np.allclose(again.raw_batch(X), model.raw_batch(X))
    assert again.raw(X[7]) == pytest.approx(model.raw_batch(X[7:8])[0])


def test_contributions_add_up_to_the_score(data):
    X, y = data
    model = fit_trees(X, y, ("a", "b", "c"), additive=True, max_iter=40)
    for row in X[:20]:
        parts = model.contributions(row)
        assert model.expected() + sum(parts.values()) == pytest.approx(model.raw(row))
    # A monotone increasing feature: its part grows with it.
    model = fit_trees(X, y, ("a", "b", "c"), additive=True, monotonic=[1, 0, 0], max_iter=40)
    low, high = model.contributions([-2.0, 0.0, 0.0])["a"], model.contributions([2.0, 0.0, 0.0])["a"]
    assert high > low


def test_malformed_trees_are_refused(data):
    X, y = data
    good = fit_trees(X, y, ("a", "b", "c"), additive=True, max_iter=3).to_json()
    looping = json.loads(json.dumps(good))
    looping["trees"][0][3][0] = 0  # root's left child is the root: would loop forever
    with pytest.raises(ModelError, match=r"trees\[0\].*points outside"):
        TreeEnsemble.from_json(looping, "m")
    wrong_feature = json.loads(json.dumps(good))
    wrong_feature["trees"][1][0][0] = 99
    with pytest.raises(ModelError, match="feature list"):
        TreeEnsemble.from_json(wrong_feature, "m")
    with pytest.raises(ModelError, match="features"):
        TreeEnsemble.from_json(good, "m", ("a", "b", "other"))
    text = json.loads(json.dumps(good))
    text["baseline"] = "0.5"
    with pytest.raises(ModelError, match="baseline"):
        TreeEnsemble.from_json(text, "m")
