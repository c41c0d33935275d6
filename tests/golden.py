"""Golden outputs of ``botwatch score``: what the test in ``test_golden_scoring.py`` compares with.

Regenerate (after a deliberate change of normalisation, features or the shipped model) with::

    .venv/bin/python -m tests.golden

Inputs: a simulated community (fixed seed, a few thousand replies, generated on the fly; its
SHA-256 is recorded so that a change of the simulator is reported as such) and the hand-written
archive in ``tests/data/mastodon_docs_statuses.jsonl`` (odd HTML, bad lines, a boost), each
scored forwards and backwards (parents after their replies).

What is pinned, per input and direction:

- ``records``: every normalised :class:`~detector.records.Post` (all fields but ``raw``);
- ``signals_model_free``, ``signals``: every reply's
  :class:`~detector.features.behaviour.ReplySignals`, apart from and then only its content score;
- ``activities``, ``vectors``: each account's behaviour state and account-model input;
- ``replies``, ``accounts``: the two output files of ``botwatch score``.

Each item is stored as a short digest of its JSON with the floats taken out, plus those floats,
so the test can compare numbers to 1e-9 and name the first item that differs. ``records`` and the
model-free part of ``signals`` do not depend on the model; everything else is pinned against the
artifact whose SHA-256 is recorded, and the test skips it (saying how to regenerate) when
``models/`` holds another one, so retraining never breaks the suite.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import math
import tempfile
from pathlib import Path
from typing import Any

import orjson

from detector.classifier.artifact import default_model_path
from detector.classifier.detector import Detector
from detector.classifier.replay import Replay
from detector.features.behaviour import from_ms
from detector.mastodon_server import SimParams, simulate
from detector.offline import read_statuses, score_file

DATA = Path(__file__).parent / "data"
GOLDEN = DATA / "golden_scoring.json.gz"
DOCS_ARCHIVE = DATA / "mastodon_docs_statuses.jsonl"
SIM = {"seed": 9001, "days": 2.0}
KEYWORDS = ("vacuum", "hoover")
WINDOW = 500  # small, so that eviction from the replay's windows is exercised too
_MODEL_SIGNALS = ("content_logodds", "content_terms")  # the only signals the model computes
MODEL_FREE = ("records", "signals_model_free")  # sections that do not depend on the model


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_simulated(path: Path) -> Path:
    simulate(SimParams(seed=SIM["seed"], days=SIM["days"])).write_jsonl(path)
    return path


def reversed_copy(path: Path, out: Path) -> Path:
    out.write_bytes(b"".join(reversed(path.read_bytes().splitlines(keepends=True))))
    return out


def split_floats(value: Any) -> tuple[Any, list[float]]:
    """``value`` with every float replaced by ``"<f>"``, and the floats in order."""
    floats: list[float] = []

    def walk(v: Any) -> Any:
        if isinstance(v, float):
            floats.append(v)
            return "<f>"
        if isinstance(v, dict):
            return {str(k): walk(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [walk(x) for x in v]
        if dataclasses.is_dataclass(v):
            return walk({f.name: getattr(v, f.name) for f in dataclasses.fields(v)})
        if hasattr(v, "isoformat"):
            return v.isoformat()
        if hasattr(v, "to_json"):
            return walk(v.to_json())
        return v

    return walk(value), floats


def item(key: str, value: Any) -> list[Any]:
    """``[key, digest of the float-free skeleton, float, float, ...]`` (NaN stored as null)."""
    skeleton, floats = split_floats(value)
    digest = hashlib.sha256(orjson.dumps(skeleton, option=orjson.OPT_SORT_KEYS)).hexdigest()[:10]
    return [key, digest, *(None if math.isnan(f) else f for f in floats)]


def _post_fields(post: Any) -> dict[str, Any]:
    return {f.name: getattr(post, f.name) for f in dataclasses.fields(post) if f.name != "raw"}


def compute(path: Path, detector: Detector, *, with_records: bool = True) -> dict[str, list[list[Any]]]:
    """Every pinned section for one archive (see the module docstring); ``records`` only if asked."""
    records, free, signals = [], [], []
    replay = Replay(detector, KEYWORDS, window=WINDOW)
    for post in read_statuses(path):
        if with_records:
            records.append(item(post.id, _post_fields(post)))
        s = replay.add(post)
        if s is not None:
            fields = {f.name: getattr(s, f.name) for f in dataclasses.fields(s)}
            free.append(item(s.reply_id, {k: v for k, v in fields.items() if k not in _MODEL_SIGNALS}))
            signals.append(item(s.reply_id, {k: fields[k] for k in _MODEL_SIGNALS}))
    coordination = replay.coordination()
    activities, vectors = [], []
    for author, activity in replay.replying_accounts():
        activities.append(item(author.id, activity.to_json()))
        inputs = detector.account_inputs(author, activity, at=from_ms(activity.last_ms), coordination=coordination)
        vectors.append(item(author.id, inputs.vector))
    with tempfile.TemporaryDirectory() as tmp:
        replies_out, accounts_out = Path(tmp) / "r.jsonl", Path(tmp) / "a.jsonl"
        score_file(path, replies_out, accounts_out, detector=detector, keywords=KEYWORDS, window=WINDOW)
        replies = [item(row["status_id"], row) for row in map(orjson.loads, replies_out.read_bytes().splitlines())]
        accounts = [item(row["account_id"], row) for row in map(orjson.loads, accounts_out.read_bytes().splitlines())]
    return {
        **({"records": records} if with_records else {}), "signals_model_free": free, "signals": signals, "activities": activities,
        "vectors": vectors, "replies": replies, "accounts": accounts,
    }  # fmt: skip


def build(detector: Detector, workdir: Path) -> dict[str, Any]:
    simulated = write_simulated(workdir / "simulated.jsonl")
    inputs = {
        "simulated": simulated,
        "simulated-reversed": reversed_copy(simulated, workdir / "simulated-reversed.jsonl"),
        "docs": DOCS_ARCHIVE,
        "docs-reversed": reversed_copy(DOCS_ARCHIVE, workdir / "docs-reversed.jsonl"),
    }
    return {
        "simulation": {**SIM, "sha256": file_sha256(simulated)},
        "model_sha256": file_sha256(default_model_path()),
        # The reversed copies hold the same posts: their records are not pinned twice.
        "inputs": {name: compute(path, detector, with_records="reversed" not in name) for name, path in inputs.items()},
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        golden = build(Detector.load(), Path(tmp))
    GOLDEN.write_bytes(gzip.compress(orjson.dumps(golden), compresslevel=9, mtime=0))
    counts = {name: {k: len(v) for k, v in sections.items()} for name, sections in golden["inputs"].items()}
    print(f"wrote {GOLDEN} ({GOLDEN.stat().st_size:,} bytes): {counts}")


if __name__ == "__main__":
    main()
