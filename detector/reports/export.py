"""Raw data out, for researchers: stored replies with their scores, as JSONL or CSV.

JSONL keeps the reply exactly as the API sent it (``status``) next to botwatch's verdicts, so
that anything can be re-derived later; CSV is flat, one reply per row, for spreadsheets and R.

Post text and profile fields are hostile input. A spreadsheet runs a cell that starts with
``=``, ``+``, ``-`` or ``@`` (or a tab or line break before one) as a formula, so such cells are
prefixed with ``'`` (OWASP's advice for CSV injection): the text still reads the same, and
nothing runs when the file is opened. JSON needs no such care; its escapes cover everything,
lone surrogates included.

Pure: rows in, text out. :mod:`detector.cli.export_cmd` streams them from the store.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Any

from detector.store.coltypes import dump_json
from detector.store.records import ReportReply

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
CSV_COLUMNS = (
    "watch", "platform", "instance", "reply_id", "reply_url", "created_at", "found_at", "text", "language",
    "account_id", "acct", "display_name", "account_created_at", "followers", "following", "statuses",
    "bot_flag", "parent_id", "parent_acct", "trigger_id", "trigger_acct", "model_version", "reply_score",
    "reply_label", "reply_reasons", "account_score", "account_label", "account_replies", "account_reasons",
)  # fmt: skip
REASON_SEPARATOR = " | "


def defuse(cell: str) -> str:
    """A CSV cell a spreadsheet shows as text, never evaluates."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def export_record(row: ReportReply, model_version: str) -> dict[str, Any]:
    """One JSONL document: the raw Status and botwatch's verdicts on the reply and its author."""
    post, reply_score, account_score = row.post, row.reply_score, row.account_score
    return {
        "watch": row.watch,
        "platform": post.platform,
        "instance": post.instance,
        "id": post.id,
        "account_id": post.author.id,
        "found_at": _iso(row.found_at),
        "trigger_id": row.trigger.id if row.trigger else None,
        "model_version": model_version,
        "reply_score": None if reply_score is None else {
            "score": reply_score.score, "label": reply_score.label, "reasons": list(reply_score.reasons),
            "features": dict(reply_score.features), "scored_at": _iso(reply_score.scored_at),
        },
        "account_score": None if account_score is None else {
            "score": account_score.score, "label": account_score.label, "reasons": list(account_score.reasons),
            "replies": account_score.replies, "evidence": dict(account_score.evidence),
            "scored_at": _iso(account_score.scored_at),
        },
        "status": post.raw,  # None once retention has pruned the raw JSON
    }  # fmt: skip


def csv_record(row: ReportReply, model_version: str) -> list[str]:
    """One CSV row in :data:`CSV_COLUMNS` order; every text cell defused."""
    post, author = row.post, row.post.author
    reply_score, account_score = row.reply_score, row.account_score
    values: list[Any] = [
        row.watch, post.platform, post.instance, post.id, post.url, _iso(post.created_at), _iso(row.found_at),
        post.text, post.language, author.id, author.acct, author.display_name, _iso(author.created_at),
        author.followers, author.following, author.statuses, author.bot, post.parent_id,
        row.parent.author_acct if row.parent else None, row.trigger.id if row.trigger else None,
        row.trigger.author_acct if row.trigger else None, model_version,
        reply_score.score if reply_score else None, reply_score.label if reply_score else "unscored",
        REASON_SEPARATOR.join(reply_score.reasons) if reply_score else None,
        account_score.score if account_score else None, account_score.label if account_score else "unscored",
        account_score.replies if account_score else None,
        REASON_SEPARATOR.join(account_score.reasons) if account_score else None,
    ]  # fmt: skip
    return [_cell(value) for value in values]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return defuse(str(value))


def jsonl_lines(rows: Iterable[ReportReply], model_version: str) -> Iterator[str]:
    """JSONL lines (with their newline); readable UTF-8, or ASCII escapes where UTF-8 cannot go."""
    for row in rows:
        yield dump_json(export_record(row, model_version)) + "\n"


def write_csv(rows: Iterable[ReportReply], out: IO[str], model_version: str) -> int:
    """Write a header and one row per reply to ``out``; returns the number of replies."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(csv_record(row, model_version))
        count += 1
    return count


def write_jsonl(rows: Iterable[ReportReply], out: IO[str], model_version: str) -> int:
    count = 0
    for line in jsonl_lines(rows, model_version):
        out.write(line)
        count += 1
    return count
