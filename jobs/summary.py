"""The daily summary job: one summary per watch and day, in the configured time zone.

Days are whole local days (so a DST day has 23 or 25 hours). A day's summary is due at
``summary_time`` on the next local day (a time that day skips, in a spring-forward gap, means the
same instant an hour later; a time it has twice means the first). The job summarises every day
that is due and has no summary yet, so a service that was down at summary time catches up on its
next run, and the store keeps at most one summary per watch and day, so running the job more
often (a coalesced missed run, two workers, the regular short interval) writes each day once.

The job runs on a short UTC interval aligned to ``summary_time`` (:func:`summary_trigger`), not on
APScheduler's daily cron trigger: 3.11's cron skips the day after a spring-forward change for
times before the change (a 00:15 summary in Berlin fires on 29 March, then 31 March), and an
interval in UTC has no DST days at all.

Clocks jump. A summary whose ``created_at`` lies in the future was written by a clock that ran
ahead (or ours went back since): the day may not have been over, so once it really is due the
day is summarised again, replacing that row. Until then such rows never stop later days.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.triggers.interval import IntervalTrigger

from detector.config import Config, WatchConfig
from detector.logs import get_logger
from detector.reports.daily import FLAGGED, AccountDay, DailySummary, DayTotals, SummaryReply, summarise_totals
from detector.reports.render import to_data, to_json, to_markdown
from detector.store.records import ReplyTotals, ReportReply

log = get_logger("botwatch.summary")
MAX_CATCH_UP_DAYS = 31
TOP = 10  # flagged accounts listed with their evidence
CHECK_EVERY = timedelta(minutes=15)  # divides every UTC offset in use, so runs land on summary_time


def day_window(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants where local ``day`` starts and the next one starts."""
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def summary_due_at(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant when ``day``'s summary is due: ``at`` on the next local day."""
    return datetime.combine(day + timedelta(days=1), at, tzinfo=zone).astimezone(timezone.utc)


def summary_trigger(config: Config, now: datetime) -> IntervalTrigger:
    """Every :data:`CHECK_EVERY` in UTC, one of the runs at each day's ``summary_time``."""
    today = now.astimezone(config.timezone).date()
    anchor = summary_due_at(today - timedelta(days=2), config.summary_time, config.timezone)
    return IntervalTrigger(seconds=CHECK_EVERY.total_seconds(), start_date=anchor, timezone=timezone.utc)


def due_days(last_done: date | None, started: date | None, today: date) -> list[date]:
    """Finished days without a summary: after the last one, or from the watch's first day."""
    if last_done is not None:
        first = last_done + timedelta(days=1)
    elif started is not None:
        first = started
    else:
        return []
    first = max(first, today - timedelta(days=MAX_CATCH_UP_DAYS))
    return [first + timedelta(days=n) for n in range((today - first).days)]


def summary_reply(row: ReportReply) -> SummaryReply:
    post, parent, trigger = row.post, row.parent, row.trigger
    reply_score, account_score = row.reply_score, row.account_score
    return SummaryReply(
        reply_id=post.id,
        reply_url=post.url,
        created_at=post.created_at,
        text=post.text,
        account_id=post.author.id,
        acct=post.author.acct,
        reply_label=reply_score.label if reply_score else "unscored",
        reply_score=reply_score.score if reply_score else 0.0,
        account_label=account_score.label if account_score else "unscored",
        account_score=account_score.score if account_score else 0.0,
        account_reasons=tuple(account_score.reasons) if account_score else (),
        parent_id=post.parent_id,
        parent_created_at=parent.created_at if parent else None,
        parent_text=parent.text if parent else "",
        parent_acct=parent.author_acct if parent else None,
        trigger_text=trigger.text if trigger else "",
    )


def day_totals(totals: ReplyTotals) -> DayTotals:
    """The store's counts as the summary's (an account without a score is ``unscored``)."""
    return DayTotals(
        replies_by_label=dict(totals.replies_by_label),
        unscored=totals.unscored,
        accounts_by_label={label or "unscored": n for label, n in totals.accounts_by_label.items()},
        flagged_replies=totals.replies_by_account_label.get(FLAGGED, 0),
        top=tuple(AccountDay(a.account_id, a.acct, a.label, a.score, a.replies) for a in totals.top),
    )


def day_counts(store, watches: list[WatchConfig], day: date, zone: ZoneInfo, model_version: str) -> dict[str, ReplyTotals]:
    """The counts of ``day`` for several watches at once: the day is read once for all of them."""
    start, end = day_window(day, zone)
    names = [watch.name for watch in watches]
    return store.watches_reply_totals(names, start, end, model_version, top_label=FLAGGED, top=TOP)


def top_replies(store, counts: Mapping[str, ReplyTotals], day: date, zone: ZoneInfo,
                model_version: str) -> dict[str, list[SummaryReply]]:
    """The day's replies of each watch's top accounts (what its summary shows as evidence), read
    for all the watches at once rather than one watch at a time."""
    start, end = day_window(day, zone)
    wanted = {watch: [account.account_id for account in totals.top[:TOP]] for watch, totals in counts.items()}
    found = store.replies_by_accounts(wanted, start, end, model_version)
    return {watch: [summary_reply(row) for row in rows] for watch, rows in found.items()}


def summarise(store, watch: WatchConfig, day: date, zone: ZoneInfo, model_version: str,
              counts: ReplyTotals | None = None, replies: Sequence[SummaryReply] | None = None) -> DailySummary:
    """Summarise a stored day: counted in the database (``counts``, from :func:`day_counts`,
    if the caller has them already), only the top accounts' replies read (``replies``, from
    :func:`top_replies`, if the caller has them already)."""
    start, end = day_window(day, zone)

    def details(account_ids):
        if replies is not None:
            return [reply for reply in replies if reply.account_id in account_ids]
        rows = store.replies_between(watch.name, start, end, model_version, account_ids=account_ids)
        try:
            return [summary_reply(row) for row in rows]
        finally:
            rows.close()

    if counts is None:
        counts = store.reply_totals(watch.name, start, end, model_version, top_label=FLAGGED, top=TOP)
    totals = day_totals(counts)
    return summarise_totals(watch.name, day, totals, details, keywords=watch.keywords + watch.hashtags,
                            timezone=zone.key, model_version=model_version, top=TOP)


def report_paths(reports_dir: Path, watch: str, day: date) -> tuple[Path, Path]:
    folder = reports_dir / watch
    return folder / f"{day.isoformat()}.md", folder / f"{day.isoformat()}.json"


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp") as handle:
        handle.write(text)
        temporary = Path(handle.name)
    os.replace(temporary, path)


def write_summary(store, reports_dir: Path, watch: WatchConfig, day: date, zone: ZoneInfo, model_version: str,
                  *, replace: bool = False, counts: ReplyTotals | None = None,
                  replies: Sequence[SummaryReply] | None = None) -> bool:
    """Summarise and store one day; ``False`` if it already had a summary (nothing is redone)
    unless ``replace``."""
    existing = store.summary(watch.name, day)
    if existing is None or replace:
        summary = summarise(store, watch, day, zone, model_version, counts, replies)
        created = store.save_summary(watch.name, day, to_markdown(summary), to_data(summary), replace=replace)
    else:
        created = False
    stored = store.summary(watch.name, day)
    md_path, json_path = report_paths(reports_dir, watch.name, day)
    if created or not md_path.exists() or not json_path.exists():
        _write_atomically(md_path, stored.markdown)
        _write_atomically(json_path, to_json(dict(stored.data)))
    if created:
        log.info("summary.written", watch=watch.name, day=day.isoformat(), path=str(md_path))
    return created


def write_due_summaries(runtime, *, now: datetime | None = None) -> list[tuple[str, date]]:
    """Summarise every due day of every watch that has none yet (or one from a clock ahead),
    counting each day once for all the watches it is due for (and reading their top accounts'
    replies once)."""
    config, store = runtime.config, runtime.store
    now = now or runtime.clock()
    today = now.astimezone(config.timezone).date()
    due: dict[date, list[tuple[WatchConfig, bool]]] = {}
    for watch in config.watches.values():
        started = store.watch_started_at(watch.name)
        if started is None:
            continue
        first = started.astimezone(config.timezone).date()
        for day, replace in _days_to_write(store, watch.name, first, today, now):
            if summary_due_at(day, config.summary_time, config.timezone) <= now:
                due.setdefault(day, []).append((watch, replace))
    version = runtime.detector.version
    written = []
    for day in sorted(due):
        counts = day_counts(store, [watch for watch, _ in due[day]], day, config.timezone, version)
        replies = top_replies(store, counts, day, config.timezone, version)
        for watch, replace in due[day]:
            if write_summary(store, config.reports_dir, watch, day, config.timezone, version, replace=replace,
                             counts=counts[watch.name], replies=replies[watch.name]):
                written.append((watch.name, day))
                if replace:
                    log.warning("summary.rewritten", watch=watch.name, day=day.isoformat(),
                                reason="written earlier by a clock that was ahead")
    order = list(config.watches)
    return sorted(written, key=lambda item: (order.index(item[0]), item[1]))


def _days_to_write(store, watch: str, first: date, today: date, now: datetime) -> list[tuple[date, bool]]:
    """``(day, replace)`` pairs before ``today``: days without a summary, and, after the clock
    went back, days whose summary was written "later" than now."""
    last = store.last_summary_day(watch)
    latest = store.summary(watch, last) if last is not None else None
    if latest is None or latest.created_at <= now:  # the usual case: two queries
        return [(day, False) for day in due_days(last, first, today)]
    days = due_days(None, first, today)
    return [(day, existing is not None) for day in days
            if (existing := store.summary(watch, day)) is None or existing.created_at > now]
