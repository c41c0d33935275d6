"""The retention job: keep the database as large as ``retention_days`` of data, not all time.

Raw API JSON is most of a post's bytes and only exports read it, so it goes first
(``raw_retention_days``); rows go after ``retention_days``: posts with their links, tracking and
reply scores, then accounts no post is by any more and not seen since, with their scores and
behaviour state. Kept always: people's labels, checkpoints, summaries, and everything a day
still waiting for its summary needs, i.e. rows are only deleted before the first day of any
watch that has no summary yet (see :func:`rows_cutoff`; parents and triggers of kept replies
stay too, see :meth:`Store.prune_posts`).

Deletes go in batches of :data:`BATCH`, each its own short transaction, so the poller and the
reports never wait long for a lock, and a SIGTERM stops the job between two batches.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from apscheduler.triggers.interval import IntervalTrigger

from detector.config import Config, WatchConfig
from detector.logs import get_logger
from jobs.summary import MAX_CATCH_UP_DAYS, day_window, summary_due_at

log = get_logger("botwatch.retention")
BATCH = 2_000
RUN_AFTER_SUMMARY = timedelta(hours=1)


@dataclass(frozen=True)
class Pruned:
    """What one run removed, and the instants it removed before (``None``: not configured)."""

    raw: int = 0
    posts: int = 0
    accounts: int = 0
    rows_before: datetime | None = None
    raw_before: datetime | None = None


def rows_cutoff(store, watches: Iterable[WatchConfig], *, now: datetime, zone: ZoneInfo, retention_days: int) -> datetime:
    """``now - retention_days``, moved back to the start of the earliest day a watch still has
    to summarise (the summary job catches up at most :data:`MAX_CATCH_UP_DAYS` back)."""
    cutoff = now - timedelta(days=retention_days)
    today = now.astimezone(zone).date()
    for watch in watches:
        started = store.watch_started_at(watch.name)
        if started is None:
            continue
        last = store.last_summary_day(watch.name)
        pending = last + timedelta(days=1) if last is not None else started.astimezone(zone).date()
        pending = max(pending, today - timedelta(days=MAX_CATCH_UP_DAYS))
        cutoff = min(cutoff, day_window(pending, zone)[0])
    return cutoff


def prune(
    store,
    watches: Iterable[WatchConfig],
    *,
    now: datetime,
    zone: ZoneInfo,
    retention_days: int | None,
    raw_retention_days: int | None,
    batch: int = BATCH,
    stop: threading.Event | None = None,
) -> Pruned:
    """Prune raw JSON, then posts, then accounts, each in batches until none is left."""
    stop = stop or threading.Event()
    rows_before = None if retention_days is None else rows_cutoff(store, watches, now=now, zone=zone,
                                                                  retention_days=retention_days)
    raw_before = None if raw_retention_days is None else now - timedelta(days=raw_retention_days)

    def drain(step, before) -> int:
        total = 0
        while before is not None and not stop.is_set():
            done = step(before, batch)
            total += done
            if done < batch:
                break
        return total

    raw = drain(store.prune_raw, raw_before)
    posts = drain(store.prune_posts, rows_before)
    accounts = drain(store.prune_accounts, rows_before)
    return Pruned(raw, posts, accounts, rows_before, raw_before)


def run_retention(runtime, *, now: datetime | None = None) -> Pruned:
    """The scheduled job: prune by the runtime's config and log ``retention.pruned``."""
    config: Config = runtime.config
    now = now or runtime.clock()
    pruned = prune(runtime.store, config.watches.values(), now=now, zone=config.timezone,
                   retention_days=config.retention_days, raw_retention_days=config.raw_retention_days,
                   stop=runtime.stop)
    log.info(
        "retention.pruned", raw=pruned.raw, posts=pruned.posts, accounts=pruned.accounts,
        rows_before=pruned.rows_before.isoformat() if pruned.rows_before else None,
        raw_before=pruned.raw_before.isoformat() if pruned.raw_before else None,
        stopped_early=runtime.stop.is_set(),
    )  # fmt: skip
    return pruned


def retention_trigger(config: Config, now: datetime) -> IntervalTrigger:
    """Daily, an hour after ``summary_time`` (UTC interval, for the reason in jobs.summary)."""
    today = now.astimezone(config.timezone).date()
    anchor = summary_due_at(today - timedelta(days=2), config.summary_time, config.timezone) + RUN_AFTER_SUMMARY
    return IntervalTrigger(days=1, start_date=anchor, timezone=timezone.utc)
