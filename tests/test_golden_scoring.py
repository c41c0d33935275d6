"""``botwatch score`` gives the same records, features and scores as when the golden file was written.

This is what keeps speed work honest: a faster path must produce every normalised field, every
signal and every score of the slow one (numbers to 1e-9). After a deliberate change, regenerate
with ``.venv/bin/python -m tests.golden`` (see ``tests/golden.py``) and say why in the commit.
"""

import gzip
import math

import orjson
import pytest

from detector.classifier.artifact import default_model_path
from detector.classifier.detector import Detector
from tests import golden

REGENERATE = "regenerate with: .venv/bin/python -m tests.golden"


@pytest.fixture(scope="module")
def expected():
    return orjson.loads(gzip.decompress(golden.GOLDEN.read_bytes()))


@pytest.fixture(scope="module")
def actual(expected, tmp_path_factory):
    result = golden.build(Detector.load(), tmp_path_factory.mktemp("golden"))
    if result["simulation"]["sha256"] != expected["simulation"]["sha256"]:
        pytest.fail(f"the simulator's output for seed {golden.SIM['seed']} changed, so the golden inputs did; {REGENERATE}")
    return result


def same_number(a, b) -> bool:
    if a is None or b is None:  # NaN is stored as null
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def mismatches(want: list, got: list) -> list[str]:
    """Readable differences between two lists of golden items (``[key, digest, floats...]``)."""
    if [w[0] for w in want] != [g[0] for g in got]:
        return [f"keys or their order differ: {len(want)} expected, {len(got)} found; first expected {[w[0] for w in want[:3]]}, found {[g[0] for g in got[:3]]}"]
    out = []
    for w, g in zip(want, got):
        if w[1] != g[1]:
            out.append(f"{w[0]}: non-numeric fields differ")
        elif len(w) != len(g) or not all(same_number(a, b) for a, b in zip(w[2:], g[2:])):
            out.append(f"{w[0]}: numbers differ: expected {w[2:]}, found {g[2:]}")
    return out


def compare(expected, actual, sections) -> None:
    problems = []
    for name, want in expected["inputs"].items():
        got = actual["inputs"][name]
        for section in sections:
            if section in want:
                problems += [f"{name}/{section}: {p}" for p in mismatches(want[section], got[section])[:5]]
    assert not problems, "\n".join(problems[:20]) + f"\n(if the change is deliberate, {REGENERATE})"


def test_golden_covers_a_few_thousand_replies(expected):
    replies = sum(len(sections["replies"]) for sections in expected["inputs"].values())
    assert replies >= 2000
    assert expected["inputs"]["docs"]["records"] and expected["inputs"]["simulated"]["accounts"]


def test_records_and_model_free_signals_match_golden(expected, actual):
    compare(expected, actual, golden.MODEL_FREE)


def test_features_and_scores_match_golden_for_the_shipped_model(expected, actual):
    if golden.file_sha256(default_model_path()) != expected["model_sha256"]:
        pytest.skip(f"models/ holds another artifact than the golden scores were made with; {REGENERATE}")
    compare(expected, actual, [s for s in next(iter(expected["inputs"].values())) if s not in golden.MODEL_FREE])


def test_a_changed_number_is_caught():
    item = golden.item("x", {"score": 0.5, "label": "bot"})
    assert mismatches([item], [golden.item("x", {"score": 0.5 + 1e-12, "label": "bot"})]) == []
    assert mismatches([item], [golden.item("x", {"score": 0.5 + 1e-6, "label": "bot"})])
    assert mismatches([item], [golden.item("x", {"score": 0.5, "label": "human"})])
