"""One poll of one watch: discover posts, collect the replies under them, score what is new.

Every step stores before it moves on: a discovery page with its route checkpoint, a post's
replies with its next check time, a batch of scores with the accounts' behaviour state, each in
one transaction. A crash or SIGTERM between steps therefore loses nothing and a rerun repeats
at most the step in hand, which the store's upserts make harmless.

Replies under a post keep arriving for hours, so each discovered post is re-checked on a
widening schedule (1, 2, 4, ... poll intervals after discovery) until ``lookback_hours`` after it
was posted; scripted replies come in seconds to minutes, human ones over hours.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Protocol

from detector.config import WatchConfig
from detector.logs import get_logger
from jobs.scoring import score_pending

log = get_logger("botwatch.poll")
CONTEXTS_PER_POLL = 500


class PollProgress(Protocol):
    """What a progress display wants to hear about; every method is optional to act on."""

    def discovered(self, route: str, count: int) -> None: ...
    def contexts_due(self, count: int) -> None: ...
    def context_done(self, replies: int) -> None: ...
    def scored(self, count: int) -> None: ...


class _Silent:
    def discovered(self, route: str, count: int) -> None:
        pass

    def contexts_due(self, count: int) -> None:
        pass

    def context_done(self, replies: int) -> None:
        pass

    def scored(self, count: int) -> None:
        pass


class _Halt:
    """Set once SIGTERM came or the lease was lost; stays set (a lost lease is not asked again)."""

    def __init__(self, stop: threading.Event, held: Callable[[], bool] | None) -> None:
        self._stop, self._held, self._lost = stop, held, False

    def is_set(self) -> bool:
        if not self._lost and self._held is not None and not self._stop.is_set():
            self._lost = not self._held()
        return self._lost or self._stop.is_set()


@dataclass(frozen=True)
class PollResult:
    watch: str
    pages: int
    posts_new: int
    contexts: int
    replies_new: int
    replies_scored: int
    stopped_early: bool


def next_check_at(created_at: datetime, checks_done: int, now: datetime, interval: float, lookback_hours: float) -> datetime | None:
    """When to look at a post's replies again, or ``None`` once its window has closed."""
    until = created_at + timedelta(hours=lookback_hours)
    if now >= until:
        return None
    step = timedelta(seconds=interval * (2 ** min(checks_done, 10)))
    return min(now + step, until)


def poll_watch(runtime, watch: WatchConfig, *, progress: PollProgress | None = None, stop: threading.Event | None = None,
               held: Callable[[], bool] | None = None) -> PollResult:
    """Run one poll of ``watch`` with the runtime's store, source and detector.

    ``held`` (several workers on one database) says whether this worker still holds the watch's
    lease; it is asked between steps, and the poll stops like on SIGTERM once it says no.
    """
    progress = progress or _Silent()
    stop = _Halt(stop or runtime.stop, held)
    store = runtime.store
    source = runtime.sources[watch.instance]
    now = runtime.clock()
    log.info("poll.started", watch=watch.name, instance=watch.instance)

    pages = posts_new = 0
    checkpoints = store.checkpoints(watch.name)
    for page in source.discover(watch, checkpoints, since=now - timedelta(hours=watch.lookback_hours)):
        posts_new += store.save_discovered(
            watch.name, page.route, page.posts, page.checkpoint, fetched_at=now, track_until_hours=watch.lookback_hours
        )
        pages += 1
        progress.discovered(page.route, len(page.posts))
        if stop.is_set():
            break

    contexts = replies_new = 0
    if not stop.is_set():
        due = store.due_tracked(watch.name, now, limit=CONTEXTS_PER_POLL)
        progress.contexts_due(len(due))
        for tracked in due:
            if stop.is_set():
                break
            replies = source.context(tracked.post)
            nxt = next_check_at(tracked.post.created_at, tracked.checks, now, watch.interval_seconds, watch.lookback_hours)
            added = store.save_replies(watch.name, tracked.post.key, replies, checked_at=now, next_check_at=nxt)
            contexts += 1
            replies_new += added
            progress.context_done(added)

    scored = 0 if stop.is_set() else score_pending(runtime, watch, now=now, progress=progress)
    result = PollResult(watch.name, pages, posts_new, contexts, replies_new, scored, stop.is_set())
    log.info(
        "poll.finished", watch=watch.name, pages=pages, posts_new=posts_new, contexts=contexts,
        replies_new=replies_new, replies_scored=scored, stopped_early=result.stopped_early,
    )
    return result
