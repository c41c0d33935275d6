"""The daily summary of one watch: pure computation over the day's scored replies.

Community managers read it for who to act on (top flagged accounts with evidence they can
check); researchers read the shares, which carry Wilson 95% intervals because a day's sample is
often small.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable, Collection, Iterable, Sequence

FLAGGED = "bot"
LABELS = ("bot", "suspect", "human")
_URL = re.compile(r"https?://\S+")
_MENTION = re.compile(r"(?<!\w)@[\w.@-]+")


@dataclass(frozen=True, slots=True)
class SummaryReply:
    """One reply seen under a watched post that day, with its own and its account's verdict.

    ``reply_label`` is ``unscored`` when no model has scored it yet (it is then counted apart).
    ``trigger_text`` is the watched post the reply was found under, where the keyword is.
    """

    reply_id: str
    reply_url: str | None
    created_at: datetime
    text: str
    account_id: str
    acct: str
    reply_label: str
    reply_score: float
    account_label: str
    account_score: float
    account_reasons: tuple[str, ...] = ()
    parent_id: str | None = None
    parent_created_at: datetime | None = None
    parent_text: str = ""
    parent_acct: str | None = None
    trigger_text: str = ""


@dataclass(frozen=True, slots=True)
class Share:
    """A proportion with its Wilson score interval (95%)."""

    count: int
    total: int
    low: float
    high: float

    @property
    def value(self) -> float:
        return self.count / self.total if self.total else 0.0


@dataclass(frozen=True, slots=True)
class SampleReply:
    id: str
    url: str | None
    text: str
    latency_seconds: float | None
    parent_acct: str | None


@dataclass(frozen=True, slots=True)
class FlaggedAccount:
    account_id: str
    acct: str
    score: float
    label: str
    replies: int
    distinct_targets: int
    median_latency_seconds: float | None
    template: str | None
    template_count: int
    trigger_keyword: str | None
    trigger_count: int
    reasons: tuple[str, ...]
    samples: tuple[SampleReply, ...]


@dataclass(frozen=True, slots=True)
class DailySummary:
    watch: str
    day: date
    timezone: str
    model_version: str
    replies_seen: int
    accounts_seen: int
    replies_by_label: dict[str, int]
    accounts_by_label: dict[str, int]
    flagged_account_reply_share: Share
    flagged_reply_share: Share
    top_accounts: tuple[FlaggedAccount, ...] = field(default=())
    unscored: int = 0


def wilson_interval(count: int, total: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval: sane at 0 and n, unlike the normal approximation."""
    if total <= 0:
        return (0.0, 0.0)
    p = count / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    margin = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return (max(0.0, min(p, centre - margin)), min(1.0, max(p, centre + margin)))


def share(count: int, total: int) -> Share:
    return Share(count, total, *wilson_interval(count, total))


def template_of(text: str) -> str:
    """A reply's wording with mentions, links and spacing removed: what a script repeats."""
    text = _MENTION.sub("", _URL.sub("<link>", text.lower()))
    return " ".join(text.split())


def keyword_in(text: str, keywords: Sequence[str]) -> str | None:
    """The first watched keyword the text mentions as a word (``vacuums`` counts for ``vacuum``)."""
    lowered = text.lower()
    for keyword in keywords:
        if re.search(rf"(?<!\w){re.escape(keyword.lower())}", lowered):
            return keyword
    return None


def _latency(reply: SummaryReply) -> float | None:
    if reply.parent_created_at is None:
        return None
    return max(0.0, (reply.created_at - reply.parent_created_at).total_seconds())


def _flagged_account(replies: list[SummaryReply], keywords: Sequence[str], samples: int) -> FlaggedAccount:
    latest = max(replies, key=lambda r: r.created_at)
    latencies = [lat for lat in map(_latency, replies) if lat is not None]
    templates = Counter(template_of(r.text) for r in replies if r.text)
    template, template_count = templates.most_common(1)[0] if templates else (None, 0)
    triggers = Counter(k for k in (keyword_in(r.trigger_text or r.parent_text, keywords) for r in replies) if k)
    trigger, trigger_count = triggers.most_common(1)[0] if triggers else (None, 0)
    chosen = sorted(replies, key=lambda r: r.created_at)[:samples]
    return FlaggedAccount(
        account_id=latest.account_id,
        acct=latest.acct,
        score=latest.account_score,
        label=latest.account_label,
        replies=len(replies),
        distinct_targets=len({r.parent_acct for r in replies if r.parent_acct}),
        median_latency_seconds=statistics.median(latencies) if latencies else None,
        template=template if template_count > 1 else None,
        template_count=template_count if template_count > 1 else 0,
        trigger_keyword=trigger,
        trigger_count=trigger_count,
        reasons=latest.account_reasons,
        samples=tuple(SampleReply(r.reply_id, r.reply_url, r.text, _latency(r), r.parent_acct) for r in chosen),
    )


@dataclass(frozen=True, slots=True)
class AccountDay:
    """One account's scored replies of the day, counted, with its latest verdict."""

    account_id: str
    acct: str
    label: str
    score: float
    replies: int


@dataclass(frozen=True, slots=True)
class DayTotals:
    """A day's replies counted: what the summary needs besides the top accounts' replies.

    ``replies_by_label`` counts scored replies by their label, ``unscored`` the others;
    ``accounts_by_label`` counts the accounts with scored replies by the account's label, and
    ``flagged_replies`` their replies for flagged accounts; ``top`` are the flagged accounts in
    the summary's order (most replies, highest score, acct, id), at least as many as it lists.
    """

    replies_by_label: dict[str, int]
    unscored: int
    accounts_by_label: dict[str, int]
    flagged_replies: int
    top: tuple[AccountDay, ...]


def top_order(account: AccountDay) -> tuple[int, float, str, str]:
    return (-account.replies, -account.score, account.acct, account.account_id)


def day_totals(replies: Iterable[SummaryReply]) -> DayTotals:
    """Count a day's replies in memory (what the store does in SQL for a stored day)."""
    labels: Counter[str] = Counter()
    unscored = 0
    latest: dict[str, SummaryReply] = {}
    counts: Counter[str] = Counter()
    for reply in replies:
        if reply.reply_label not in LABELS:
            unscored += 1
            continue
        labels[reply.reply_label] += 1
        counts[reply.account_id] += 1
        seen = latest.get(reply.account_id)
        if seen is None or reply.created_at > seen.created_at:
            latest[reply.account_id] = reply
    accounts = [AccountDay(r.account_id, r.acct, r.account_label, r.account_score, counts[r.account_id])
                for r in latest.values()]
    flagged = sorted((a for a in accounts if a.label == FLAGGED), key=top_order)
    return DayTotals(dict(labels), unscored, dict(Counter(a.label for a in accounts)),
                     sum(a.replies for a in flagged), tuple(flagged))


def summarise_day(
    watch: str,
    day: date,
    replies: Iterable[SummaryReply],
    *,
    keywords: Sequence[str] = (),
    timezone: str = "UTC",
    model_version: str = "",
    top: int = 10,
    samples: int = 3,
) -> DailySummary:
    """Summarise one watch's day. ``replies`` are that day's replies, each once."""
    replies = list(replies)

    def details(account_ids: Collection[str]) -> Iterable[SummaryReply]:
        return (r for r in replies if r.account_id in account_ids)

    return summarise_totals(watch, day, day_totals(replies), details, keywords=keywords, timezone=timezone,
                            model_version=model_version, top=top, samples=samples)


def summarise_totals(
    watch: str,
    day: date,
    totals: DayTotals,
    details: Callable[[Collection[str]], Iterable[SummaryReply]],
    *,
    keywords: Sequence[str] = (),
    timezone: str = "UTC",
    model_version: str = "",
    top: int = 10,
    samples: int = 3,
) -> DailySummary:
    """Summarise one watch's day from its counts; ``details(account_ids)`` gives the day's
    replies of those accounts, asked for the ``top`` flagged accounts only, whose evidence
    (samples, latencies, templates, triggers) needs every reply."""
    total = sum(totals.replies_by_label.values())
    chosen = totals.top[:top]
    wanted = {account.account_id for account in chosen}
    by_account: dict[str, list[SummaryReply]] = defaultdict(list)
    for reply in details(wanted) if wanted else ():
        if reply.reply_label in LABELS and reply.account_id in wanted:
            by_account[reply.account_id].append(reply)
    return DailySummary(
        watch=watch,
        day=day,
        timezone=timezone,
        model_version=model_version,
        replies_seen=total,
        accounts_seen=sum(totals.accounts_by_label.values()),
        replies_by_label={label: totals.replies_by_label.get(label, 0) for label in LABELS},
        accounts_by_label={label: totals.accounts_by_label.get(label, 0) for label in LABELS},
        flagged_account_reply_share=share(totals.flagged_replies, total),
        flagged_reply_share=share(totals.replies_by_label.get(FLAGGED, 0), total),
        top_accounts=tuple(_flagged_account(by_account[a.account_id], keywords, samples) for a in chosen),
        unscored=totals.unscored,
    )
