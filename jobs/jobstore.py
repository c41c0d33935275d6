"""APScheduler's SQLAlchemy job store, with JSON job state in place of pickles.

The stock store unpickles whatever is in its table, so anyone who can write to the database can
run code in the service. Here job state is JSON, the callable must be one of botwatch's own jobs,
and only the two trigger kinds botwatch uses (interval and cron) are accepted. A row that does
not pass is logged and dropped; the service re-creates its jobs from the config on start.

APScheduler 3 calls :meth:`~JsonJobStore.get_next_run_time` and ``update_job`` from its
scheduling loop outside any error handling: a database that went away raised there and killed
the scheduler thread for good, while the service went on pinging systemd's watchdog. Here those
two log the failure and carry on (the next run time becomes "retry shortly"), like APScheduler
already does for ``get_due_jobs``.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.job import Job
from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import datetime_to_utc_timestamp
from sqlalchemy.exc import DBAPIError, IntegrityError, ProgrammingError, SQLAlchemyError

from detector.logs import get_logger
from detector.store import db

ALLOWED_FUNCS = frozenset(
    {"jobs.service:run_poll", "jobs.service:run_daily_summary", "jobs.service:run_retention_job"}
)
RETRY_AFTER = timedelta(seconds=10)  # APScheduler's own jobstore_retry_interval
log = get_logger("botwatch.scheduler")


class UnsafeJobState(ValueError):
    """A stored job is not one botwatch would have written."""


def _zone_key(tz: Any) -> str:
    key = getattr(tz, "key", None) or getattr(tz, "zone", None) or str(tz)
    ZoneInfo(key)  # must round-trip
    return key


def trigger_to_json(trigger: Any) -> dict[str, Any]:
    if isinstance(trigger, IntervalTrigger):
        return {
            "kind": "interval",
            "seconds": trigger.interval.total_seconds(),
            "start_date": trigger.start_date.isoformat() if trigger.start_date else None,
            "timezone": _zone_key(trigger.timezone),
            "jitter": trigger.jitter,
        }
    if isinstance(trigger, CronTrigger):
        fields = {f.name: str(f) for f in trigger.fields if not f.is_default}
        return {"kind": "cron", "fields": fields, "timezone": _zone_key(trigger.timezone), "jitter": trigger.jitter}
    raise UnsafeJobState(f"trigger {type(trigger).__name__} is not one botwatch uses")


def trigger_from_json(data: dict[str, Any]) -> IntervalTrigger | CronTrigger:
    zone = ZoneInfo(str(data["timezone"]))
    if data.get("kind") == "interval":
        start = datetime.fromisoformat(data["start_date"]) if data.get("start_date") else None
        return IntervalTrigger(seconds=float(data["seconds"]), start_date=start, timezone=zone, jitter=data.get("jitter"))
    if data.get("kind") == "cron":
        allowed = {"second", "minute", "hour", "day", "month", "year", "week", "day_of_week"}
        fields = {str(k): str(v) for k, v in dict(data["fields"]).items() if k in allowed}
        return CronTrigger(**fields, timezone=zone, jitter=data.get("jitter"))
    raise UnsafeJobState(f"trigger kind {data.get('kind')!r} is not one botwatch uses")


def _plain(value: Any) -> Any:
    """Job args are names and numbers; anything else cannot come from botwatch."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _plain(v) for k, v in value.items()}
    raise UnsafeJobState(f"job argument of type {type(value).__name__} cannot be stored as JSON")


def job_to_json(job: Job) -> str:
    state = job.__getstate__()
    if state["func"] not in ALLOWED_FUNCS:
        raise UnsafeJobState(f"job function {state['func']!r} is not one of botwatch's jobs")
    next_run = state["next_run_time"]
    grace = state["misfire_grace_time"]
    return json.dumps(
        {
            "version": 1,
            "id": state["id"],
            "func": state["func"],
            "trigger": trigger_to_json(state["trigger"]),
            "executor": state["executor"],
            "args": _plain(list(state["args"])),
            "kwargs": _plain(dict(state["kwargs"])),
            "name": state["name"],
            "misfire_grace_time": grace,
            "coalesce": state["coalesce"],
            "max_instances": state["max_instances"],
            "next_run_time": next_run.isoformat() if next_run else None,
        }
    )


def job_state_from_json(raw: bytes | str) -> dict[str, Any]:
    data = json.loads(raw)
    if not isinstance(data, dict) or data.get("version") != 1:
        raise UnsafeJobState("unknown job state version")
    if data.get("func") not in ALLOWED_FUNCS:
        raise UnsafeJobState(f"job function {data.get('func')!r} is not one of botwatch's jobs")
    next_run = data.get("next_run_time")
    return {
        "version": 1,
        "id": str(data["id"]),
        "func": data["func"],
        "trigger": trigger_from_json(data["trigger"]),
        "executor": str(data["executor"]),
        "args": tuple(_plain(data.get("args") or [])),
        "kwargs": dict(_plain(data.get("kwargs") or {})),
        "name": str(data["name"]),
        "misfire_grace_time": data.get("misfire_grace_time"),
        "coalesce": bool(data["coalesce"]),
        "max_instances": int(data["max_instances"]),
        "next_run_time": datetime.fromisoformat(next_run) if next_run else None,
    }


class JsonJobStore(SQLAlchemyJobStore):
    """A :class:`SQLAlchemyJobStore` whose rows hold JSON, checked before anything is imported."""

    def start(self, scheduler: Any, alias: str) -> None:
        """Create the jobs table if missing; when several workers start at once, one of them wins.

        PostgreSQL's ``CREATE TABLE`` is not safe against a concurrent one even after checking
        (the loser fails on the table's row type), so a worker that loses looks again."""
        try:
            super().start(scheduler, alias)
        except (IntegrityError, ProgrammingError):
            super().start(scheduler, alias)

    def add_job(self, job: Job) -> None:
        insert = self.jobs_t.insert().values(
            id=job.id, next_run_time=datetime_to_utc_timestamp(job.next_run_time), job_state=job_to_json(job).encode()
        )
        with self.engine.begin() as connection:
            try:
                connection.execute(insert)
            except IntegrityError:
                raise ConflictingIdError(job.id) from None

    def get_next_run_time(self) -> datetime | None:
        try:
            return super().get_next_run_time()
        except SQLAlchemyError as exc:
            self._unavailable(exc, "next_run_time")
            return datetime.now(timezone.utc) + RETRY_AFTER

    def update_job(self, job: Job) -> None:
        try:
            self._update_job(job)
        except SQLAlchemyError as exc:  # the job runs again when due, which every botwatch job allows
            self._unavailable(exc, "update_job")

    def _unavailable(self, exc: SQLAlchemyError, operation: str) -> None:
        problem = db.describe(exc, self.engine.url) if isinstance(exc, DBAPIError) else None
        log.warning("scheduler.store_unavailable", operation=operation,
                    error=str(problem) if problem else type(exc).__name__, hint=problem.hint if problem else None)

    def _update_job(self, job: Job) -> None:
        update = (
            self.jobs_t.update()
            .values(next_run_time=datetime_to_utc_timestamp(job.next_run_time), job_state=job_to_json(job).encode())
            .where(self.jobs_t.c.id == job.id)
        )
        with self.engine.begin() as connection:
            if connection.execute(update).rowcount == 0:
                raise JobLookupError(job.id)

    def _reconstitute_job(self, job_state: bytes) -> Job:
        state = job_state_from_json(job_state)
        state["jobstore"] = self
        job = Job.__new__(Job)
        job.__setstate__(state)
        job._scheduler = self._scheduler
        job._jobstore_alias = self._alias
        return job

