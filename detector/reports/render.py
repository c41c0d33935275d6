"""Daily summaries as Markdown (for people) and JSON (for programs).

Post text is hostile input: in Markdown every character that could open markup, a link or raw
HTML is backslash-escaped (CommonMark allows that for all ASCII punctuation), and samples are cut
to a readable length.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from detector.reports.daily import DailySummary, FlaggedAccount, Share
from detector.wording import count, share

# What can open markup, a link, raw HTML or an entity inside a line; "#", "+" and "-" only matter
# at the start of a line, which escaped text never is.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")
# Characters that act on whoever reads the report rather than being read: terminal escape
# sequences (ESC and the other C0/C1 controls; `botwatch report` prints to a terminal) and the
# bidi embeddings, overrides and isolates that reorder a line ("Trojan Source").
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
SAMPLE_CHARS = 280


def md_escape(text: str, limit: int | None = None) -> str:
    """Text safe to put inside a Markdown line: one line, no markup, no raw HTML, no links, no
    control characters."""
    text = " ".join(_UNSAFE.sub("", text).split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return _MD_SPECIAL.sub(r"\\\1", text)


def safe_url(url: str | None) -> str | None:
    """An http(s) URL with anything that could break out of ``<...>`` percent-encoded."""
    if not url or not url.lower().startswith(("https://", "http://")):
        return None
    return quote(url, safe=":/?#@!$&'*+,;=%~-._")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def percent(part: Share) -> str:
    return f"{part.value:.1%} (95% CI {part.low:.1%}–{part.high:.1%}, {part.count} of {part.total})"


def _account_md(rank: int, account: FlaggedAccount) -> list[str]:
    lines = [
        f"### {rank}. @{md_escape(account.acct)} — score {account.score:.2f}, "
        f"{count(account.replies, 'reply', 'replies')} to {count(account.distinct_targets, 'person', 'people')}",
        "",
        f"- median reply latency: {duration(account.median_latency_seconds)}",
    ]
    if account.trigger_keyword:
        lines.append(
            f"- trigger keyword: '{md_escape(account.trigger_keyword)}' in "
            f"{share(account.trigger_count, account.replies, 'parent post', 'parent posts')}"
        )
    if account.template:
        lines.append(f"- same wording in {count(account.template_count, 'reply', 'replies')}: \"{md_escape(account.template, 160)}\"")
    lines += [f"- {md_escape(reason)}" for reason in account.reasons]
    lines.append("- evidence:")
    for sample in account.samples:
        url = safe_url(sample.url)
        where = f" <{url}>" if url else ""
        target = f" after @{md_escape(sample.parent_acct)}" if sample.parent_acct else ""
        lines.append(
            f"  - {duration(sample.latency_seconds)}{target}: \"{md_escape(sample.text, SAMPLE_CHARS)}\"{where}"
        )
    lines.append("")
    return lines


def to_markdown(summary: DailySummary) -> str:
    replies, accounts = summary.replies_by_label, summary.accounts_by_label
    lines = [
        f"# botwatch daily summary: {md_escape(summary.watch)}, {summary.day.isoformat()} ({summary.timezone})",
        "",
        f"Model {md_escape(summary.model_version or 'unknown')}.",
        "",
        "| | replies | accounts |",
        "|---|---:|---:|",
        f"| seen | {summary.replies_seen} | {summary.accounts_seen} |",
        f"| flagged as bot | {replies['bot']} | {accounts['bot']} |",
        f"| suspect | {replies['suspect']} | {accounts['suspect']} |",
        f"| human | {replies['human']} | {accounts['human']} |",
        "",
        f"Replies written by flagged accounts: {percent(summary.flagged_account_reply_share)}.",
        "",
    ]
    if summary.unscored:
        lines += [f"{summary.unscored} replies were not scored yet and are not counted above.", ""]
    if summary.top_accounts:
        lines += ["## Flagged accounts", ""]
        for rank, account in enumerate(summary.top_accounts, 1):
            lines += _account_md(rank, account)
    else:
        lines += ["No account was flagged.", ""]
    return "\n".join(lines)


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Share):
        return {"count": value.count, "total": value.total, "value": value.value, "ci95": [value.low, value.high]}
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def to_data(summary: DailySummary) -> dict[str, Any]:
    """The summary as plain JSON-able data (what the store keeps and the .json file holds)."""
    return _plain(summary)


def to_json(data: DailySummary | dict[str, Any]) -> str:
    plain = to_data(data) if isinstance(data, DailySummary) else data
    return json.dumps(plain, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
