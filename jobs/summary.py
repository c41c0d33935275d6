"""The daily summary job: one summary per watch and day, in the configured time zone.

Days are whole local days (so a DST day has 23 or 25 hours). The job summarises every finished
day since the watch's last summary, so a service that was down at summary time catches up on
its next run, and the store keeps at most one summary per watch and day, so running the job
twice (a coalesced missed run plus the regular one, or two workers) writes each day once.
"""

from __future__ import annotations

import os
import tempfile
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from detector.config import WatchConfig
from detector.logs import get_logger
from detector.reports.daily import DailySummary, SummaryReply, summarise_day
from detector.reports.render import to_data, to_json, to_markdown
from detector.store.records import ReportReply

log = get_logger("botwatch.summary")
MAX_CATCH_UP_DAYS = 31


def day_window(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants where local ``day`` starts and the next one starts."""
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


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


def summarise(store, watch: WatchConfig, day: date, zone: ZoneInfo, model_version: str) -> DailySummary:
    start, end = day_window(day, zone)
    rows = store.replies_between(watch.name, start, end, model_version)
    try:
        replies = [summary_reply(row) for row in rows]
    finally:
        close = getattr(rows, "close", None)
        if close:
            close()
    return summarise_day(
        watch.name, day, replies, keywords=watch.keywords + watch.hashtags, timezone=zone.key, model_version=model_version
    )


def report_paths(reports_dir: Path, watch: str, day: date) -> tuple[Path, Path]:
    folder = reports_dir / watch
    return folder / f"{day.isoformat()}.md", folder / f"{day.isoformat()}.json"


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp") as handle:
        handle.write(text)
        temporary = Path(handle.name)
    os.replace(temporary, path)


def write_summary(store, reports_dir: Path, watch: WatchConfig, day: date, zone: ZoneInfo, model_version: str) -> bool:
    """Summarise and store one day; ``False`` if it already had a summary (nothing is redone)."""
    existing = store.summary(watch.name, day)
    if existing is None:
        summary = summarise(store, watch, day, zone, model_version)
        created = store.save_summary(watch.name, day, to_markdown(summary), to_data(summary))
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
    """Summarise every finished day of every watch that has none yet."""
    config, store = runtime.config, runtime.store
    now = now or runtime.clock()
    today = now.astimezone(config.timezone).date()
    written = []
    for watch in config.watches.values():
        started = store.watch_started_at(watch.name)
        days = due_days(store.last_summary_day(watch.name), started.astimezone(config.timezone).date() if started else None, today)
        for day in days:
            if write_summary(store, config.reports_dir, watch, day, config.timezone, runtime.detector.version):
                written.append((watch.name, day))
    return written
