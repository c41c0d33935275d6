"""Verdicts, labels and the overrides people put on them.

A verdict is the model's calibrated ``score`` (0..1), a ``label`` from thresholds, and
``reasons``: sentences with numbers a person can check, strongest first. Overrides (an allowlist
entry, a user's own label) change the label and say so in the first reason; the model's score
is kept, so a researcher can still see what the model thought.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Mapping, Sequence, TypeVar

LABELS = ("bot", "suspect", "human")


@dataclass(frozen=True)
class Thresholds:
    """``score >= bot`` → bot, ``score >= suspect`` → suspect, else human."""

    bot: float
    suspect: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.suspect < self.bot <= 1.0:
            raise ValueError(f"thresholds must satisfy 0 <= suspect < bot <= 1, got suspect={self.suspect}, bot={self.bot}")

    def label(self, score: float) -> str:
        return "bot" if score >= self.bot else "suspect" if score >= self.suspect else "human"


@dataclass(frozen=True)
class AccountVerdict:
    account_id: str
    acct: str
    score: float
    label: str
    reasons: tuple[str, ...]
    replies: int
    logodds: float  # the calibrated log-odds behind ``score``, which reply scores build on
    evidence: Mapping[str, Any] = field(default_factory=dict)
    override: str | None = None  # "allowlist" | "user:bot" | "user:human" when a person decided
    templates: tuple[int, ...] = ()  # fingerprints of templates it reused, to recognise them in replies

    @cached_property  # stored in the instance's __dict__ directly, which frozen allows (no slots)
    def reply_headline(self) -> str:
        """The first reason of each of its replies, worded once per account rather than per reply."""
        head = f"from @{self.acct}, an account scored {self.label} ({self.score:.2f})"
        return head + (f": {self.reasons[0]}" if self.reasons else "")

    def to_json(self) -> dict[str, Any]:
        """The ``botwatch score --accounts`` line (plus evidence and override)."""
        out: dict[str, Any] = {
            "account_id": self.account_id,
            "acct": self.acct,
            "score": round(self.score, 4),
            "label": self.label,
            "replies": self.replies,
            "reasons": list(self.reasons),
            "evidence": dict(self.evidence),
        }
        if self.override:
            out["override"] = self.override
        return out


@dataclass
class ReplyVerdict:
    """Treat it as read-only; not ``frozen`` because it is built once per reply, and a frozen
    dataclass's ``__init__`` costs several times more (``object.__setattr__`` per field)."""

    status_id: str
    account_id: str
    score: float
    label: str
    reasons: tuple[str, ...]
    override: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``botwatch score --output`` line."""
        return {
            "status_id": self.status_id,
            "account_id": self.account_id,
            "score": round(self.score, 4),
            "label": self.label,
            "reasons": list(self.reasons),
        }


V = TypeVar("V", AccountVerdict, ReplyVerdict)


def apply_override(
    verdict: V, *, allowlisted: bool = False, user_label: str | None = None, note: str | None = None, by: str | None = None
) -> V:
    """The verdict with a person's decision applied; unchanged when there is none.

    The allowlist wins over everything (a watch's own staff are never flagged); a user's label
    wins over the model. The model's score stays, and the first reason says who decided
    ("labelled bot by ana: sells vacuums under every post").
    """
    if allowlisted:
        reason = f"{_ALLOWLISTED} never flagged (model score {verdict.score:.2f})"
        return replace(verdict, label="human", reasons=(reason, *verdict.reasons), override="allowlist")
    if user_label is not None:
        reason = _user_label_reason(verdict.score, user_label, note, by)
        return replace(verdict, label=user_label, reasons=(reason, *verdict.reasons), override=f"user:{user_label}")
    return verdict


_ALLOWLISTED = "on the watch's allowlist:"
_USER_LABELLED = ("labelled bot by ", "labelled human by ")


def _user_label_reason(score: float, user_label: str, note: str | None, by: str | None) -> str:
    if user_label not in ("bot", "human"):
        raise ValueError(f"a user label is 'bot' or 'human', got {user_label!r}")
    return f"labelled {user_label} by {by or 'a user'}" + (f": {note}" if note else "") + f" (model score {score:.2f})"


def restate(
    score: float, label: str, reasons: Sequence[str], thresholds: Thresholds, *,
    user_label: str | None = None, note: str | None = None, by: str | None = None,
) -> tuple[str, list[str]]:
    """A stored account verdict with a person's new label (or its removal) applied at once.

    Without this a label would only show from the account's next scored reply, and a day's
    summary could still list an account someone had just cleared. An allowlisted verdict stays
    as it is (the allowlist wins); an earlier person's label is replaced, never stacked.
    """
    if reasons and reasons[0].startswith(_ALLOWLISTED):
        return label, list(reasons)
    model_reasons = list(reasons[1:] if reasons and reasons[0].startswith(_USER_LABELLED) else reasons)
    if user_label is None:
        return thresholds.label(score), model_reasons
    return user_label, [_user_label_reason(score, user_label, note, by), *model_reasons]
