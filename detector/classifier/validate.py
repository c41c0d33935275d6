"""Checks for model files: every problem becomes a :class:`ModelError` naming where it is.

A model file is data a user can replace. It is read as JSON (never unpickled), and each part is
checked for shape and type before use, so that a damaged or hand-edited file fails with a message
like ``account_model.trees[3][1]: expected a number, got 'x'`` instead of a traceback later.
"""

from __future__ import annotations

import math
from typing import Any, NoReturn, Sequence

from detector.errors import ModelError


def raise_model(where: str, problem: str) -> NoReturn:
    raise ModelError(f"{where}: {problem}", hint="retrain with `botwatch train` or reinstall the shipped model")


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def check_object(data: Any, where: str, keys: Sequence[str] = ()) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise_model(where, f"expected an object, got {_preview(data)}")
    missing = [k for k in keys if k not in data]
    if missing:
        raise_model(where, f"missing {', '.join(missing)}")
    return data


def check_list(data: Any, where: str, length: int | None = None) -> list[Any]:
    if not isinstance(data, list):
        raise_model(where, f"expected a list, got {_preview(data)}")
    if length is not None and len(data) != length:
        raise_model(where, f"expected {length} items, got {len(data)}")
    return data


def check_number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise_model(where, f"expected a finite number, got {_preview(value)}")
    return value


def check_numbers(values: Any, where: str, length: int | None = None) -> list[float]:
    return [float(check_number(v, where)) for v in check_list(values, where, length)]


def check_str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise_model(where, f"expected a string, got {_preview(value)}")
    return value
