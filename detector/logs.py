"""structlog, configured once: JSON lines under systemd or when asked, a console view on a terminal.

Events have stable names and keys (``event="poll.fetched", watch=..., count=...``) so that
journald queries and dashboards keep working across versions. Nothing that could hold a secret
is ever bound to a logger: configs are logged by name, never whole.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Any, TextIO

import structlog

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
MAX_FIELD_CHARS = 2000
# One lock for every line written, by structlog and by the stdlib handler alike: with a lock each,
# two threads' lines came out spliced into one (seen with APScheduler's warnings beside a poll's).
_WRITE_LOCK = threading.RLock()


class _Lines:
    """structlog's output: one whole line per event under the shared write lock."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def msg(self, message: str) -> None:
        with _WRITE_LOCK:
            self._stream.write(message + "\n")
            self._stream.flush()

    log = debug = info = warn = warning = error = critical = exception = fatal = failure = msg


class _LockedStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The stdlib handler, writing under the same lock as :class:`_Lines`."""

    def createLock(self) -> None:  # noqa: N802 (logging's name)
        self.lock = _WRITE_LOCK


def _truncate_long_values(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Keep error bodies (a whole malformed HTML page, say) from flooding the journal."""
    for key, value in event_dict.items():
        if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
            event_dict[key] = value[:MAX_FIELD_CHARS] + f"… [{len(value) - MAX_FIELD_CHARS} more chars]"
    return event_dict


def configure_logging(fmt: str = "auto", level: str = "info", stream: TextIO | None = None) -> None:
    """Set up structlog for the process. ``auto`` means JSON unless writing to a terminal."""
    stream = stream or sys.stdout
    if fmt == "auto":
        under_journal = bool(os.environ.get("JOURNAL_STREAM") or os.environ.get("INVOCATION_ID"))
        fmt = "json" if under_journal or not stream.isatty() else "console"
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    _route_stdlib_logging(stream, renderer, shared, _LEVELS.get(level, logging.INFO))
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            _truncate_long_values,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.INFO)),
        logger_factory=lambda *_: _Lines(stream),
        cache_logger_on_first_use=False,
    )


def _route_stdlib_logging(stream: TextIO, renderer: Any, shared: list[Any], level: int) -> None:
    """Libraries that log through ``logging`` (APScheduler, Alembic) come out in the same format."""
    handler = _LockedStreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                _truncate_long_values,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # APScheduler narrates every run at INFO; botwatch logs its own job events.
    logging.getLogger("apscheduler").setLevel(max(level, logging.WARNING))


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name) if name else structlog.get_logger()
