"""The model file: gzip-compressed JSON with a format version and a checksum, never a pickle.

Loading a model must not be a way to run code, because a model path is something a user (or an
attacker who can write to ``models/``) can point anywhere. JSON holds only numbers and strings,
and :mod:`orjson` parses it without executing anything. On top of that:

- ``format`` and ``format_version`` must be this botwatch's, or loading stops with a
  :class:`ModelError` that says which version made the file and what to do;
- ``sha256`` covers the payload, so a truncated, corrupted or hand-edited file is refused
  before any of it is used;
- each sub-model then checks its own fields (``validate``), naming the one that is wrong.
"""

from __future__ import annotations

import gzip
import hashlib
import sys
import zlib
from pathlib import Path
from typing import Any

import orjson

from detector.errors import ModelError

FORMAT = "botwatch-detector"
FORMAT_VERSION = 1
DEFAULT_NAME = "botwatch-detector.json.gz"
MAX_BYTES = 64 * 1024 * 1024  # a model is a few MB; refuse to inflate anything near this


def default_model_path() -> Path:
    """The shipped model: ``models/`` of the botwatch checkout (editable installs, the source
    tree), else ``<prefix>/share/botwatch/models/`` where a wheel install puts it."""
    checkout = Path(__file__).resolve().parents[2] / "models" / DEFAULT_NAME
    if checkout.exists():
        return checkout
    installed = Path(sys.prefix) / "share" / "botwatch" / "models" / DEFAULT_NAME
    return installed if installed.exists() else checkout


def _digest(payload: Any) -> str:
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def write_artifact(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` with its header; byte-identical for identical payloads (mtime 0)."""
    document = {"format": FORMAT, "format_version": FORMAT_VERSION, "sha256": _digest(payload), "payload": payload}
    data = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as handle:
        handle.write(data)
    tmp.replace(path)


def read_artifact(path: Path) -> dict[str, Any]:
    """The checked payload of a model file, or :class:`ModelError` saying what is wrong."""
    hint = "retrain with `botwatch train`, or restore models/ from the botwatch release"
    try:
        with gzip.open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ModelError(f"{path}: no model file there", hint=hint) from None
    except (OSError, EOFError, zlib.error) as exc:
        raise ModelError(f"{path}: not a botwatch model file (not gzip-compressed JSON: {exc})", hint=hint) from None
    if len(data) > MAX_BYTES:
        raise ModelError(f"{path}: larger than {MAX_BYTES // 2**20} MB uncompressed; not a botwatch model", hint=hint)
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ModelError(f"{path}: not a botwatch model file (bad JSON: {exc})", hint=hint) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelError(f"{path}: not a botwatch model file (no '{FORMAT}' header)", hint=hint)
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelError(
            f"{path}: model format version {version!r}; this botwatch reads version {FORMAT_VERSION}",
            hint="retrain with `botwatch train`, or use the botwatch release that made this model",
        )
    payload = document.get("payload")
    if not isinstance(payload, dict) or document.get("sha256") != _digest(payload):
        raise ModelError(f"{path}: checksum mismatch: the file was modified or damaged after training", hint=hint)
    return payload
