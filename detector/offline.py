"""``botwatch score``: score an archive of Mastodon statuses, streaming.

Input: one Status entity per line, exactly as the API returns it (``GET /api/v1/statuses/:id``,
timelines, contexts...), parents and replies mixed in any order. Output: one line per reply
(``status_id, account_id, score, label, reasons``) and one per replying account (``account_id,
acct, score, label, replies, reasons`` plus ``evidence``), ids as the strings the API gave.

How it stays within memory whatever the archive's length:

1. One pass over the input feeds every status to a :class:`~detector.classifier.replay.Replay`:
   per-account state (bounded per account) plus bounded windows of recent parents and of replies
   waiting for their parent. Parent times come from the parent itself when it was seen, else from
   its Snowflake id (``id >> 16`` is its creation time in ms); only the parent's *text* needs the
   parent to be in the window. Each reply's signals are spilled to a temporary file as one short
   JSON row.
2. Every account is scored once its whole activity is known (with coordination across accounts),
   and the accounts file is written.
3. The spill file is read back and each reply is scored with its account's verdict.

So memory grows with the number of accounts, never with the number of lines. Bad lines (not
JSON, not a Status) are reported with their line number through ``on_bad_line`` and counted in the
summary, never dropped silently; if more than ``max_bad_share`` of the lines read (and at least
``min_bad_to_abort`` of them) are bad, the input is not a Status archive and scoring stops with
an :class:`~detector.errors.InputError`.
"""

from __future__ import annotations

import operator
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import orjson

from detector.classifier.detector import Detector
from detector.classifier.replay import DEFAULT_WINDOW, Replay
from detector.errors import InputError
from detector.features.behaviour import ReplySignals
from detector.normalise.mastodon import normalise_account, normalise_status
from detector.records import Author, Post, Provenance

Progress = Callable[[str, int, int], None]  # (stage, done, total): "reading" bytes, "writing" replies
_PROGRESS_EVERY = 2048
_KEPT_BAD_LINES = 100
# Archive lines are a few KB: with the default 8 KB buffer reading them cost 1.1 us a line, 0.45 here.
_READ_BUFFER = 1 << 18


@dataclass
class ScoreSummary:
    """What a run did, for the CLI's closing message and for tests."""

    lines: int = 0
    statuses: int = 0
    replies: int = 0
    accounts: int = 0
    flagged_accounts: int = 0
    flagged_replies: int = 0
    bad_lines: int = 0
    bad_examples: list[tuple[int, str]] = field(default_factory=list)
    late_parents: int = 0
    seconds: float = 0.0

    @property
    def replies_per_second(self) -> float:
        return self.replies / self.seconds if self.seconds else 0.0


_ACCOUNT_KEY = ("acct", "display_name", "note", "avatar", "bot", "created_at", "followers_count", "following_count",
                "statuses_count", "last_status_at")  # fmt: skip
_account_key = operator.itemgetter(*_ACCOUNT_KEY)  # one C call when every field is there (the usual case)


class AuthorCache:
    """Normalised accounts by id, reused while the account's JSON is unchanged.

    An archive repeats each account on every line it posted; normalising it (its bio's HTML,
    its dates) once instead of each time is a large part of what keeps scoring fast.
    """

    def __init__(self, limit: int = 200_000) -> None:
        self._authors: dict[str, tuple[tuple[Any, ...], Author]] = {}
        self._limit = limit

    def get(self, account: Any, instance: str) -> Author | None:
        if not isinstance(account, dict):
            return None  # let normalisation report the problem
        try:
            key = _account_key(account)
        except KeyError:
            key = tuple(account.get(k) for k in _ACCOUNT_KEY)
        account_id = account.get("id")
        hit = self._authors.get(account_id) if isinstance(account_id, str) else None
        if hit is not None and hit[0] == key:
            return hit[1]
        author = normalise_account(account, instance=instance)
        if len(self._authors) >= self._limit:
            self._authors.clear()
        self._authors[author.id] = (key, author)
        return author


def parse_status_line(line: bytes, *, instance: str, provenance: Provenance | None = None, authors: AuthorCache | None = None) -> Post:
    """One archive line as a :class:`Post`; :class:`InputError` saying what is wrong otherwise."""
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"not JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise InputError(f"expected a Status object, got a JSON {type(data).__name__}")
    if "account" not in data or "created_at" not in data:
        raise InputError("not a Status entity (no 'account' or 'created_at')")
    try:
        author = None if authors is None else authors.get(data["account"], instance)
    except InputError as exc:
        raise InputError(f"status {data.get('id')!r}: {exc}") from None
    return normalise_status(data, instance=instance, provenance=provenance, keep_raw=False, author=author)


def read_statuses(
    path: Path,
    *,
    instance: str = "archive",
    on_bad_line: Callable[[str], None] | None = None,
    progress: Progress | None = None,
    max_bad_share: float = 0.1,
    min_bad_to_abort: int = 100,
    summary: ScoreSummary | None = None,
) -> Iterator[Post]:
    """The statuses of a JSONL archive as posts, bad lines reported and skipped (see module docs)."""
    summary = summary if summary is not None else ScoreSummary()
    provenance = Provenance(source="jsonl-archive", route=f"file:{path.name}")
    authors = AuthorCache()
    try:
        handle = path.open("rb", buffering=_READ_BUFFER)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    with handle:
        total = path.stat().st_size if path.is_file() else 0
        done = 0
        for number, line in enumerate(handle, 1):
            done += len(line)
            summary.lines = number
            if progress is not None and number % _PROGRESS_EVERY == 0:
                progress("reading", done, total)
            if line.isspace():  # (never empty: iterating a file yields at least the newline)
                continue
            try:
                post = parse_status_line(line, instance=instance, provenance=provenance, authors=authors)
            except InputError as exc:
                summary.bad_lines += 1
                message = f"{path}:{number}: {exc}"
                if len(summary.bad_examples) < _KEPT_BAD_LINES:
                    summary.bad_examples.append((number, str(exc)))
                if on_bad_line is not None:
                    on_bad_line(message)
                if summary.bad_lines >= min_bad_to_abort and summary.bad_lines > max_bad_share * number:
                    raise InputError(
                        f"{path}: {summary.bad_lines} of the first {number} lines are not Mastodon statuses; stopped",
                        hint="the input must hold one Status entity per line, as the API returns it",
                    ) from None
                continue
            summary.statuses += 1
            yield post
        if progress is not None:
            progress("reading", done, total)


def score_file(
    input_path: Path,
    replies_out: Path,
    accounts_out: Path,
    *,
    detector: Detector,
    keywords: Sequence[str] = (),
    progress: Progress | None = None,
    on_bad_line: Callable[[str], None] | None = None,
    instance: str = "archive",
    window: int = DEFAULT_WINDOW,
    max_bad_share: float = 0.1,
) -> ScoreSummary:
    """Score every reply and replying account of a Status JSONL archive (see the module docstring)."""
    started = time.perf_counter()
    input_path, replies_out, accounts_out = Path(input_path), Path(replies_out), Path(accounts_out)
    summary = ScoreSummary()
    replay = Replay(detector, keywords, window=window)
    dumps = orjson.dumps
    with tempfile.TemporaryFile(prefix="botwatch-score-", dir=replies_out.parent if replies_out.parent.exists() else None) as spill:
        write_spill = spill.write
        for post in read_statuses(input_path, instance=instance, on_bad_line=on_bad_line, progress=progress, max_bad_share=max_bad_share, summary=summary):
            signals = replay.add(post)
            if signals is not None:
                write_spill(dumps(signals.to_row()))
                write_spill(b"\n")
        summary.replies = replay.replies
        summary.late_parents = replay.late_parents
        verdicts = replay.verdicts()
        summary.accounts = len(verdicts)
        _write_lines(accounts_out, (v.to_json() for v in verdicts.values()))
        summary.flagged_accounts = sum(1 for v in verdicts.values() if v.label != "human")
        spill.seek(0)
        _write_lines(replies_out, _reply_lines(spill, detector, verdicts, summary, progress))
    summary.seconds = time.perf_counter() - started
    return summary


def _reply_lines(spill: Any, detector: Detector, verdicts: dict, summary: ScoreSummary, progress: Progress | None) -> Iterator[dict[str, Any]]:
    loads = orjson.loads
    for done, raw in enumerate(spill, 1):
        signals = ReplySignals.from_row(loads(raw))
        verdict = detector.score_reply(signals, verdicts[signals.account_id])
        summary.flagged_replies += verdict.label != "human"
        if progress is not None and done % _PROGRESS_EVERY == 0:
            progress("writing", done, summary.replies)
        yield verdict.to_json()
    if progress is not None:
        progress("writing", summary.replies, summary.replies)


def _write_lines(path: Path, rows: Iterator[dict[str, Any]]) -> None:
    """JSON lines to ``path`` (``-`` is not special here: the CLI owns stdout)."""
    try:
        handle = path.open("wb")
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror})") from None
    with handle:
        for row in rows:
            handle.write(orjson.dumps(row))
            handle.write(b"\n")
