"""The model card's table of what the account model learned to read, on trees small enough to
work out by hand."""

from detector.classifier.card import signal_influence
from detector.classifier.trees import Tree, TreeEnsemble


def stump(feature: int, cut: float, low: float, high: float, *, missing_left: bool) -> Tree:
    return Tree(feature=(feature, 0, 0), threshold=(cut, 0.0, 0.0), missing_left=(missing_left, False, False),
                left=(1, -1, -1), right=(2, -1, -1), value=((low + high) / 2, low, high))  # fmt: skip


def test_span_is_the_range_of_the_summed_shape_function_unknown_values_included():
    ensemble = TreeEnsemble(
        features=("latency", "age", "unused"),
        baseline=0.3,
        trees=(
            stump(0, 1.0, -1.0, 2.0, missing_left=True),  # v <= 1: -1, above: +2, unknown: -1
            stump(0, 3.0, 0.0, 1.0, missing_left=False),  # v <= 3: 0, above: +1, unknown: +1
            stump(1, 10.0, 0.5, -0.5, missing_left=True),
        ),
    )
    # latency: -1 (v <= 1), 2 (1 < v <= 3), 3 (v > 3), 0 (unknown) -> span 4
    assert signal_influence(ensemble) == [("latency", 2, 4.0), ("age", 1, 1.0), ("unused", 0, 0.0)]


def test_an_unknown_value_can_reach_further_than_any_known_one():
    ensemble = TreeEnsemble(features=("x",), baseline=0.0, trees=(
        stump(0, 1.0, 0.0, 0.5, missing_left=False),  # unknown takes the high side: +0.5
        stump(0, 0.5, 0.3, 0.0, missing_left=True),  # unknown takes the low side: +0.3
    ))  # fmt: skip
    # known: v <= 0.5: 0.3, 0.5 < v <= 1: 0, v > 1: 0.5; unknown: 0.8 -> span 0.8, not 0.5
    [(name, trees, span)] = signal_influence(ensemble)
    assert (name, trees) == ("x", 2) and abs(span - 0.8) < 1e-12
