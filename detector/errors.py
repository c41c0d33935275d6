"""Every exception botwatch raises on purpose, in one place.

The library raises these; the CLI turns them into one-line messages with a fix
(``detector.cli.errors``) and the scheduler logs them and carries on with other jobs.
Messages never contain access tokens.
"""

from __future__ import annotations


class BotwatchError(Exception):
    """Base class: anything botwatch reports to a person rather than as a traceback."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class ConfigError(BotwatchError):
    """The configuration file is missing, unreadable, or a key has a wrong value."""


class SourceError(BotwatchError):
    """A source could not fetch: network, HTTP status, rate limit or unusable response."""


class RateLimited(SourceError):
    """The server said to slow down; ``retry_at`` is a POSIX time when it is worth asking again."""

    def __init__(self, message: str, *, retry_at: float) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class MalformedResponse(SourceError):
    """The server answered with something that is not the JSON the API promises."""


class InputError(BotwatchError):
    """A file given to botwatch (a JSONL archive, a labels CSV) has a line it cannot use."""


class StoreError(BotwatchError):
    """The database is unreachable, locked, or its schema is not the one this version expects."""


class SchemaMismatch(StoreError):
    """The database schema is older or newer than this version of botwatch.

    ``found`` is the revision in the database (``None``: no botwatch schema yet), ``needed`` the
    one this version expects; the hint says what to run.
    """

    def __init__(self, message: str, *, found: str | None, needed: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.found = found
        self.needed = needed


class ModelError(BotwatchError):
    """A model artifact is missing, tampered with, or made by an incompatible version."""
