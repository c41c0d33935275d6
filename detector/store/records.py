"""What the :class:`~detector.store.Store` takes and gives besides :mod:`detector.records`.

Scores are the store's own small types: the scoring job converts the classifier's verdicts into
them, so that the store does not depend on the classifier (nor the classifier on the store).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from detector.records import ParentInfo, Post
from detector.store.tables import MODEL_LABELS, USER_LABELS

PostKey = tuple[str, str, str]  # (platform, instance, post id)
AccountKey = tuple[str, str, str]  # (platform, instance, account id)


def _check_score(score: float, label: str) -> None:
    if not (isinstance(score, (int, float)) and math.isfinite(score) and 0.0 <= score <= 1.0):
        raise ValueError(f"score must be a number in 0..1, got {score!r}")
    if label not in MODEL_LABELS:
        raise ValueError(f"label must be one of {', '.join(MODEL_LABELS)}, got {label!r}")


@dataclass(frozen=True, slots=True)
class ReplyScore:
    """One model version's verdict on one reply; ``features`` are the inputs, kept for audits."""

    post_key: PostKey
    score: float
    label: str
    scored_at: datetime
    reasons: tuple[str, ...] = ()
    features: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_score(self.score, self.label)


@dataclass(frozen=True, slots=True)
class AccountScore:
    """One model version's verdict on an account, over ``replies`` replies, with its evidence."""

    account_key: AccountKey
    score: float
    label: str
    scored_at: datetime
    reasons: tuple[str, ...] = ()
    evidence: Mapping[str, Any] = field(default_factory=dict)
    replies: int = 0

    def __post_init__(self) -> None:
        _check_score(self.score, self.label)


@dataclass(frozen=True, slots=True)
class Label:
    """A person's verdict on an account (``bot`` or ``human``), which overrides the model's."""

    label: str
    note: str
    by: str
    at: datetime

    def __post_init__(self) -> None:
        if self.label not in USER_LABELS:
            raise ValueError(f"label must be one of {', '.join(USER_LABELS)}, got {self.label!r}")


@dataclass(frozen=True, slots=True)
class TrackedPost:
    """A post whose replies are due to be fetched; ``checks`` counts the fetches done so far."""

    post: Post
    checks: int
    next_check_at: datetime
    track_until: datetime
    last_checked_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReplyForScoring:
    """A stored reply not yet scored by a model version, with its parent when that is stored."""

    watch: str
    post: Post
    parent: ParentInfo | None


@dataclass(frozen=True, slots=True)
class ReportReply:
    """One reply of a watch's day, as the daily summary needs it.

    ``parent`` is the post it answers; ``trigger`` the tracked post under which it was found (the
    post that matched the watch's keywords: the same as ``parent`` for a direct reply); either is
    ``None`` when not stored. ``found_at`` is when botwatch first saw the reply.
    """

    watch: str
    post: Post
    parent: ParentInfo | None
    trigger: ParentInfo | None
    found_at: datetime
    reply_score: ReplyScore | None
    account_score: AccountScore | None


@dataclass(frozen=True, slots=True)
class Summary:
    """A stored daily summary: the Markdown shown to people and the JSON for programs."""

    watch: str
    day: date
    markdown: str
    data: Mapping[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AccountTotal:
    """One account's scored replies in a time range, with its verdict."""

    account_id: str
    acct: str
    label: str
    score: float
    replies: int


@dataclass(frozen=True, slots=True)
class ReplyTotals:
    """Replies in a time range counted in the database.

    ``replies_by_label``: scored replies by their label (``unscored``: the others);
    ``accounts_by_label`` and ``replies_by_account_label``: the accounts with scored replies,
    and those replies, by the account's label (``None``: the account has no score); ``top``:
    accounts with the label asked for, most replies first, then highest score, acct and id.
    """

    replies_by_label: Mapping[str, int]
    unscored: int
    accounts_by_label: Mapping[str | None, int]
    replies_by_account_label: Mapping[str | None, int]
    top: tuple[AccountTotal, ...]
