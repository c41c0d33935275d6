"""``botwatch run``: APScheduler 3 with a persistent job store, one poll job per watch and the daily
summary, until SIGTERM.

The job store lives in botwatch's own database (as JSON, see :mod:`jobs.jobstore`), so after
downtime the scheduler knows which runs were missed: each job runs once on start (coalesced),
not once per missed interval. Jobs already in the store keep their schedule when the config
has not changed; changed or removed watches are rescheduled or dropped.

SIGTERM (systemd's stop) sets the stop event: poll jobs finish the page or context in hand,
store it, and return; the scheduler then shuts down after the running jobs end.
"""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from detector.config import Config
from detector.errors import BotwatchError
from detector.logs import get_logger
from jobs import notify
from jobs.jobstore import JsonJobStore, trigger_to_json
from jobs.retention import retention_trigger
from jobs.summary import summary_trigger

log = get_logger("botwatch.service")
JOB_TABLE = "scheduler_jobs"
SUMMARY_JOB = "daily-summary"
RETENTION_JOB = "retention"
WATCHDOG_PING_SECONDS = 10.0

_current: "Service | None" = None


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Runtime:
    """What the jobs need, built once per process: config, store, model, one source per instance."""

    config: Config
    store: Any
    detector: Any
    sources: Mapping[str, Any]
    clock: Callable[[], datetime] = utcnow
    stop: threading.Event = field(default_factory=threading.Event)
    scoring_lock: threading.Lock = field(default_factory=threading.Lock)
    coordination: Any = None  # jobs.scoring.CoordinationCache, kept between polls


def build_runtime(config: Config, *, create_db: bool = False, clock: Callable[[], datetime] = utcnow,
                  sources: Mapping[str, Any] | None = None) -> Runtime:
    """Open the store, load the model and make one source per instance: what every job shares.

    ``create_db`` migrates the database to the current schema (the embedded SQLite default and
    the demo); otherwise a schema this version does not know stops the start with a hint.
    """
    from detector.classifier.detector import Detector
    from detector.classifier.verdicts import Thresholds
    from detector.sources.mastodon import MastodonSource
    from detector.store import Store

    detector = Detector.load(config.model_path)
    if config.scoring.bot_threshold is not None or config.scoring.suspect_threshold is not None:
        detector.thresholds = Thresholds(
            config.scoring.bot_threshold if config.scoring.bot_threshold is not None else detector.thresholds.bot,
            config.scoring.suspect_threshold if config.scoring.suspect_threshold is not None else detector.thresholds.suspect,
        )
    store = Store.open(config.database_url, create=create_db or _new_sqlite(config.database_url.reveal()), clock=clock)
    if sources is None:
        sources = {name: MastodonSource(instance) for name, instance in config.instances.items()}
    return Runtime(config=config, store=store, detector=detector, sources=sources, clock=clock)


def _new_sqlite(url: str) -> bool:
    """A SQLite file that does not exist yet: the zero-set-up default, created on first start."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and bool(parsed.database) and not Path(parsed.database).exists()


def run_poll(watch: str) -> None:
    """Scheduler entry point for a watch's poll (a module-level name, as persistent stores need)."""
    _require_current().poll(watch)


def run_daily_summary() -> None:
    """Scheduler entry point for the daily summary."""
    _require_current().daily_summary()


def run_retention_job() -> None:
    """Scheduler entry point for the daily retention job."""
    _require_current().retention()


def _require_current() -> "Service":
    if _current is None:
        raise RuntimeError("no botwatch service is running in this process")
    return _current


def poll_job_id(watch: str) -> str:
    return f"poll:{watch}"


class Service:
    """Owns the scheduler for one process."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        config = runtime.config
        workers = max(2, min(len(config.watches) + 1, 8))
        self.scheduler = BackgroundScheduler(
            jobstores={"default": JsonJobStore(engine=runtime.store.engine, tablename=JOB_TABLE)},
            executors={"default": ThreadPoolExecutor(max_workers=workers)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=config.timezone,
        )

    def poll(self, watch_name: str) -> None:
        from jobs.poll import poll_watch

        watch = self.runtime.config.watches.get(watch_name)
        if watch is None:
            log.warning("poll.unknown_watch", watch=watch_name)
            return
        try:
            poll_watch(self.runtime, watch)
        except BotwatchError as exc:
            log.warning("poll.failed", watch=watch_name, error=str(exc), error_type=type(exc).__name__, hint=exc.hint)
        except Exception:  # a bug must not kill the scheduler thread or other watches
            log.exception("poll.crashed", watch=watch_name)

    def daily_summary(self) -> None:
        from jobs.summary import write_due_summaries

        try:
            write_due_summaries(self.runtime)
        except BotwatchError as exc:
            log.warning("summary.failed", error=str(exc), error_type=type(exc).__name__, hint=exc.hint)
        except Exception:
            log.exception("summary.crashed")

    def retention(self) -> None:
        from jobs.retention import run_retention

        try:
            run_retention(self.runtime)
        except BotwatchError as exc:
            log.warning("retention.failed", error=str(exc), error_type=type(exc).__name__, hint=exc.hint)
        except Exception:
            log.exception("retention.crashed")

    def desired_jobs(self) -> dict[str, dict[str, Any]]:
        config = self.runtime.config
        jobs: dict[str, dict[str, Any]] = {
            poll_job_id(w.name): {
                "func": "jobs.service:run_poll",
                "args": [w.name],
                "trigger": IntervalTrigger(seconds=w.interval_seconds, timezone=timezone.utc),
                "name": f"poll {w.name}",
            }
            for w in config.watches.values()
        }
        jobs[SUMMARY_JOB] = {
            "func": "jobs.service:run_daily_summary",
            "args": [],
            "trigger": summary_trigger(config, self.runtime.clock()),  # not a cron trigger: see jobs.summary
            "name": "daily summary",
        }
        if config.retention_days is not None or config.raw_retention_days is not None:
            jobs[RETENTION_JOB] = {
                "func": "jobs.service:run_retention_job",
                "args": [],
                "trigger": retention_trigger(config, self.runtime.clock()),
                "name": "retention",
            }
        return jobs

    def sync_jobs(self) -> None:
        """Make the stored jobs match the config, keeping the schedule of unchanged ones."""
        desired = self.desired_jobs()
        for job in self.scheduler.get_jobs():
            want = desired.get(job.id)
            if want is None:
                self.scheduler.remove_job(job.id)
                log.info("service.job_removed", job=job.id)
            elif _same_schedule(job.trigger, want["trigger"]) and list(job.args) == want["args"]:
                desired.pop(job.id)
        now = self.runtime.clock()
        for job_id, spec in desired.items():
            # polls start at once; the summary and retention at their time
            first = now if job_id not in (SUMMARY_JOB, RETENTION_JOB) else None
            self.scheduler.add_job(
                spec["func"], spec["trigger"], args=spec["args"], id=job_id, name=spec["name"],
                replace_existing=True, **({"next_run_time": first} if first else {}),
            )
            log.info("service.job_scheduled", job=job_id)

    def start(self) -> None:
        global _current
        _current = self
        self.scheduler.start(paused=True)
        self.sync_jobs()
        self.scheduler.resume()
        log.info("service.started", watches=sorted(self.runtime.config.watches), timezone=self.runtime.config.timezone.key)

    def shutdown(self) -> None:
        global _current
        self.runtime.stop.set()
        log.info("service.stopping")
        self.scheduler.pause()  # no new runs while the ones in hand finish
        self.scheduler.shutdown(wait=True)
        _current = None
        log.info("service.stopped")

    def run_until_stopped(self) -> None:
        """Start, tell systemd we are ready, ping its watchdog, and stop cleanly on SIGTERM/SIGINT."""
        stop = self.runtime.stop

        def on_signal(signum: int, _frame: Any) -> None:
            log.info("service.signal", signal=signal.Signals(signum).name)
            stop.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        ping_every = min(WATCHDOG_PING_SECONDS, notify.watchdog_interval() or WATCHDOG_PING_SECONDS)
        try:
            self.start()
            notify.ready()
            while not stop.wait(ping_every):
                if self.scheduler.running:
                    notify.watchdog()
            notify.stopping()
        finally:
            if self.scheduler.running:
                self.shutdown()
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _same_schedule(current: Any, wanted: Any) -> bool:
    a, b = trigger_to_json(current), trigger_to_json(wanted)
    a.pop("start_date", None)
    b.pop("start_date", None)
    return a == b
