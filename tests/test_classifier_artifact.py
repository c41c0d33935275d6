"""The model file is data, never code: tampered, foreign or wrong-version files give a ModelError."""

import gzip
import json
import os
import pickle

import numpy as np
import pytest

from detector.classifier.artifact import FORMAT_VERSION, _digest, read_artifact
from detector.classifier.detector import ACCOUNT_FEATURES, REPLY_FEATURES, Detector, LinearModel
from detector.classifier.fit import Platt, TextDoc, fit_text_model, fit_trees
from detector.classifier.verdicts import Thresholds
from detector.errors import ModelError
from detector.features.account import PROFILE_FEATURES


def tiny_detector() -> Detector:
    """A detector trained in a second on made-up data: enough to test persistence."""
    rng = np.random.default_rng(1)
    texts = ["win a free prize now", "click to subscribe", "see you at lunch", "nice song"] * 5
    text = fit_text_model([TextDoc.of(t) for t in texts], [1, 1, 0, 0] * 5)
    Xp = rng.normal(size=(200, len(PROFILE_FEATURES)))
    profile = fit_trees(Xp, (Xp[:, 0] > 0).astype(int), PROFILE_FEATURES, additive=False, max_iter=5)
    Xa = rng.normal(size=(200, len(ACCOUNT_FEATURES)))
    account = fit_trees(Xa, (Xa[:, 1] > 0).astype(int), ACCOUNT_FEATURES, additive=True, max_iter=5)
    reply = LinearModel(REPLY_FEATURES, (1.0, 0.3, 0.5, 0.5, 0.5, 0.2), -1.0)
    return Detector(text=text, profile=profile, account=account, calibration=Platt(1.5, -0.2), reply=reply,
                    thresholds=Thresholds(0.8, 0.5), version="test-1")  # fmt: skip


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.json.gz"
    tiny_detector().save(path)
    return path


def _rewrite(path, target, change):
    document = json.loads(gzip.decompress(path.read_bytes()))
    change(document)
    target.write_bytes(gzip.compress(json.dumps(document).encode()))
    return target


def test_round_trip_gives_the_same_model(saved):
    original = tiny_detector()
    loaded = Detector.load(saved)
    assert loaded.version == "test-1" and loaded.thresholds == Thresholds(0.8, 0.5)
    x = [0.3] * len(ACCOUNT_FEATURES)
    assert loaded.account.raw(x) == pytest.approx(original.account.raw(x))
    assert loaded.text.weights == original.text.weights


def test_saving_twice_gives_identical_bytes(tmp_path):
    tiny_detector().save(tmp_path / "a.json.gz")
    tiny_detector().save(tmp_path / "b.json.gz")
    assert (tmp_path / "a.json.gz").read_bytes() == (tmp_path / "b.json.gz").read_bytes()


def test_thresholds_can_be_overridden(saved):
    assert Detector.load(saved, thresholds=Thresholds(0.95, 0.6)).thresholds.bot == 0.95


def test_edited_weights_fail_the_checksum(saved, tmp_path):
    def edit(doc):
        doc["payload"]["reply_model"]["bias"] = 5.0

    with pytest.raises(ModelError, match="checksum"):
        Detector.load(_rewrite(saved, tmp_path / "edited.json.gz", edit))


def test_another_format_version_is_refused_with_what_to_do(saved, tmp_path):
    def bump(doc):
        doc["format_version"] = FORMAT_VERSION + 1

    with pytest.raises(ModelError, match=f"version {FORMAT_VERSION + 1}") as caught:
        Detector.load(_rewrite(saved, tmp_path / "future.json.gz", bump))
    assert "botwatch train" in caught.value.hint


def test_a_consistent_but_malformed_payload_names_the_field(saved, tmp_path):
    def break_field(doc):
        doc["payload"]["calibration"] = ["a", 1]
        doc["sha256"] = _digest(doc["payload"])

    with pytest.raises(ModelError, match="calibration"):
        Detector.load(_rewrite(saved, tmp_path / "bad.json.gz", break_field))


class _Exploit:
    def __reduce__(self):
        return (os.system, (f"touch {os.environ['BOTWATCH_EXPLOIT_MARKER']}",))


@pytest.mark.parametrize("compress", [True, False])
def test_a_pickle_is_never_unpickled(tmp_path, monkeypatch, compress):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("BOTWATCH_EXPLOIT_MARKER", str(marker))
    data = pickle.dumps(_Exploit())
    path = tmp_path / "model.json.gz"
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(ModelError, match="not a botwatch model"):
        Detector.load(path)
    assert not marker.exists()


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(ModelError, match="no model file"):
        read_artifact(tmp_path / "absent.json.gz")
    other = tmp_path / "other.json.gz"
    other.write_bytes(gzip.compress(b'{"hello": "world"}'))
    with pytest.raises(ModelError, match="header"):
        read_artifact(other)
