"""Feeding a stream of posts through a :class:`Detector`, as the service would see them arrive.

``botwatch score``, training and evaluation all read archives of statuses in whatever order the
archive holds them. :class:`Replay` keeps what the per-account scoring needs and nothing that
grows with the number of posts:

- each account's latest profile and its :class:`AccountActivity` (grows with accounts);
- a window of the most recent ``window`` posts as compact :class:`ParentSummary` records, so a
  reply whose parent came earlier in the file gets the parent's time, keyword and topic;
- a window of replies whose parent had not been seen yet, so that a parent arriving *after* its
  replies (archives paged newest first) still counts for the keyword trigger of those replies.

A reply whose parent is outside both windows (or not in the archive at all) still gets its
latency, from the parent's Snowflake id; only the parent's text is then unknown.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Callable, Sequence

from detector.classifier.detector import Detector, post_text
from detector.classifier.verdicts import AccountVerdict
from detector.features.behaviour import AccountActivity, ParentSummary, ReplySignals, parent_facts, snowflake_ms
from detector.features.coordination import CoordinationIndex
from detector.features.text import FoldedText
from detector.records import Author, ParentInfo, Post

DEFAULT_WINDOW = 100_000


@dataclass(frozen=True, slots=True)
class _Waiting:
    """A reply whose parent has not been seen yet."""

    account_id: str
    handle: str
    reply_ms: int
    terms: frozenset[str]


class Replay:
    """Posts in, per-account activities and per-reply signals out (see the module docstring)."""

    def __init__(
        self,
        detector: Detector,
        keywords: Sequence[str] = (),
        *,
        window: int = DEFAULT_WINDOW,
        on_reply: Callable[[ReplySignals, AccountActivity], None] | None = None,
    ) -> None:
        self.detector = detector
        self.keywords = tuple(keywords)
        self.window = window
        self.on_reply = on_reply
        self.authors: dict[str, Author] = {}
        self.activities: dict[str, AccountActivity] = {}
        self._parents: dict[str, ParentSummary] = {}
        self._waiting: dict[str, list[_Waiting]] = {}
        self._waiting_count = 0
        self.posts = 0
        self.replies = 0
        self.late_parents = 0

    def add(self, post: Post) -> ReplySignals | None:
        """One post; returns the reply's signals, or ``None`` for a post that is not a reply."""
        if post.is_reblog:
            return None  # a boost repeats someone else's post; it says nothing of the booster's replies
        self.posts += 1
        self.authors[post.author.id] = post.author
        view = FoldedText.of(post_text(post))
        summary = self.detector.summarise(ParentInfo.of(post), self.keywords, view=view)
        self._remember(summary)
        waiting = self._waiting.pop(post.id, None)
        if waiting:
            self._resolve(summary, waiting)
        if not post.is_reply:
            return None
        self.replies += 1
        activity = self.activities.get(post.author.id)
        if activity is None:
            activity = self.activities[post.author.id] = self.detector.new_activity()
        parent = self._parents.get(post.parent_id)  # type: ignore[arg-type]
        signals = self.detector.observe(activity, post, parent, self.keywords, view=view)
        if parent is None and not signals.self_reply:
            self._wait(post, signals, view.topics)
        if self.on_reply is not None:
            self.on_reply(signals, activity)
        return signals

    def _remember(self, summary: ParentSummary) -> None:
        parents = self._parents
        parents[summary.id] = summary
        if len(parents) > self.window:
            del parents[next(iter(parents))]  # oldest first: dicts keep insertion order

    def _wait(self, reply: Post, signals: ReplySignals, topics: set[str]) -> None:
        entry = _Waiting(reply.author.id, reply.author.handle, signals.created_ms, frozenset(topics))
        self._waiting.setdefault(reply.parent_id, []).append(entry)  # type: ignore[arg-type]
        self._waiting_count += 1
        while self._waiting_count > self.window:
            oldest = next(iter(self._waiting))
            self._waiting_count -= len(self._waiting.pop(oldest))

    def _resolve(self, parent: ParentSummary, waiting: list[_Waiting]) -> None:
        """A parent seen after its replies: count what its text says for each of them."""
        self._waiting_count -= len(waiting)
        parent_ms = parent.created_ms if parent.created_ms is not None else snowflake_ms(parent.id)
        for entry in waiting:
            activity = self.activities.get(entry.account_id)
            if activity is None:
                continue
            latency = None if parent_ms is None else max(entry.reply_ms - parent_ms, 0) / 1000.0
            activity.add_parent(parent_facts(entry.terms, parent, entry.handle), parent.author_id, latency)
            self.late_parents += 1

    # --- results ---------------------------------------------------------------------------

    def coordination(self) -> CoordinationIndex:
        return CoordinationIndex.build(self.activities)

    def replying_accounts(self) -> Iterator[tuple[Author, AccountActivity]]:
        """Accounts that replied (to others or in their own threads), in the order they first did."""
        for account_id, activity in self.activities.items():
            yield self.authors[account_id], activity

    def verdicts(self, coordination: CoordinationIndex | None = None) -> dict[str, AccountVerdict]:
        """Every replying account's verdict (coordination across all of them by default)."""
        index = self.coordination() if coordination is None else coordination
        return {author.id: self.detector.score_account(author, activity, coordination=index) for author, activity in self.replying_accounts()}
