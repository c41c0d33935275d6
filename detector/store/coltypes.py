"""Column types that make SQLite and PostgreSQL store the same values and give the same ones back.

Two differences would otherwise leak into botwatch:

* Time zones. PostgreSQL keeps ``timestamptz``; SQLite keeps text and hands back naive
  datetimes. :class:`UTCDateTime` refuses naive input (its zone is a guess), stores UTC on both
  and always returns aware UTC datetimes.
* Hostile text. PostgreSQL text columns reject NUL characters and no driver can encode a lone
  UTF-16 surrogate (``"\\ud800"`` from a JSON escape) as UTF-8, while SQLite would keep both.
  :class:`SafeText` replaces each of them with U+FFFD on both databases, so a post never fails to
  store because of its content and both databases hold the same text. Nothing is lost: the raw
  JSON (see :func:`dump_json`) keeps the original, escaped.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import DateTime, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def safe_text(value: str) -> str:
    """``value`` with NUL and lone surrogates replaced by U+FFFD (unchanged, and fast, otherwise)."""
    if _UNSTORABLE.search(value) is None:
        return value
    return _UNSTORABLE.sub(REPLACEMENT, value)


class SafeText(TypeDecorator[str]):
    """Text that every backend accepts; see the module docstring."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else safe_text(value)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: botwatch stores aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _json_default(value: Any) -> Any:
    """Mastodon.py hands over dicts whose dates are already datetimes; keep them as ISO text."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def dump_json(value: Any) -> str:
    """Compact one-line JSON, readable UTF-8 where possible and lossless always.

    Control characters (NUL included) are escaped by JSON itself. A lone surrogate cannot be
    written as UTF-8, so a document holding one is written with ASCII escapes instead, which
    keep it exactly. The result never contains a newline, so it is a valid JSONL line.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    if _UNSTORABLE.search(text) is not None:
        text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), default=_json_default)
    return text
