"""``botwatch run``: APScheduler 3 with a persistent job store, one poll job per watch and the daily
summary, until SIGTERM.

The job store lives in botwatch's own database (as JSON, see :mod:`jobs.jobstore`), so after
downtime the scheduler knows which runs were missed: each job runs once on start (coalesced),
not once per missed interval. Jobs already in the store keep their schedule when the config
has not changed; changed or removed watches are rescheduled or dropped.

SIGTERM (systemd's stop) sets the stop event: poll jobs finish the page or context in hand,
store it, and return; the scheduler then shuts down after the running jobs end, and the worker
gives its watch leases up so that other workers take them over at once.

Several workers may share one database (:mod:`jobs.leases`). Poll jobs and the lease refresh
therefore live in each process's memory: a poll job in the shared store would run in whichever
process woke first, not in the one holding the watch. The daily summary stays in the shared
store: any worker may write it, because the store keeps one summary per watch and day whoever
writes it, and a summary only reads what every worker stored.
"""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Mapping

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from detector.config import Config
from detector.errors import BotwatchError
from detector.logs import get_logger
from jobs import notify
from jobs.jobstore import JsonJobStore, trigger_to_json
from jobs.leases import LeaseKeeper
from jobs.retention import retention_trigger
from jobs.summary import summary_trigger

if TYPE_CHECKING:
    from detector.classifier.detector import Detector
    from detector.classifier.verdicts import Thresholds

log = get_logger("botwatch.service")
JOB_TABLE = "scheduler_jobs"
SUMMARY_JOB = "daily-summary"
LEASE_JOB = "leases"
SHARED, LOCAL = "default", "local"  # job stores: in the database, in this process's memory
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
    from detector.sources.mastodon import MastodonSource
    from detector.store import Store

    detector = Detector.load(config.model_path)
    detector.thresholds = thresholds_for(config, detector)
    store = Store.open(config.database_url, create=create_db or _new_sqlite(config.database_url.reveal()), clock=clock)
    if sources is None:
        sources = {name: MastodonSource(instance) for name, instance in config.instances.items()}
    return Runtime(config=config, store=store, detector=detector, sources=sources, clock=clock)


def thresholds_for(config: Config, detector: Detector | None = None) -> Thresholds:
    """The model's thresholds with the config's overrides (``[scoring]``) applied."""
    from detector.classifier.detector import Detector
    from detector.classifier.verdicts import Thresholds

    model = detector.thresholds if detector is not None else Detector.load(config.model_path).thresholds
    bot, suspect = config.scoring.bot_threshold, config.scoring.suspect_threshold
    if bot is None and suspect is None:
        return model
    return Thresholds(bot if bot is not None else model.bot, suspect if suspect is not None else model.suspect)


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


def run_lease_refresh() -> None:
    """Scheduler entry point for this worker's lease refresh."""
    _require_current().refresh_leases()


def poll_job_id(watch: str) -> str:
    return f"poll:{watch}"


class Service:
    """Owns the scheduler for one process."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        config = runtime.config
        workers = max(2, min(len(config.watches) + 2, 8))
        self.leases = LeaseKeeper(runtime.store, list(config.watches), ttl_seconds=config.lease_ttl_seconds,
                                  clock=runtime.clock)
        self.scheduler = BackgroundScheduler(
            jobstores={SHARED: JsonJobStore(engine=runtime.store.engine, tablename=JOB_TABLE), LOCAL: MemoryJobStore()},
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
        if not self.leases.refreshed:  # a poll run by hand, before the service's start
            self.refresh_leases()
        try:
            if not self.leases.holds(watch_name):
                return  # another worker polls it
            with self.leases.polling(watch_name):
                poll_watch(self.runtime, watch, held=lambda: self.leases.holds(watch_name))
        except BotwatchError as exc:
            log.warning("poll.failed", watch=watch_name, error=str(exc), error_type=type(exc).__name__, hint=exc.hint)
        except Exception:  # a bug must not kill the scheduler thread or other watches
            log.exception("poll.crashed", watch=watch_name)

    def refresh_leases(self) -> None:
        try:
            got = self.leases.refresh()
        except BotwatchError as exc:
            log.warning("lease.refresh_failed", worker=self.leases.worker, error=str(exc),
                        error_type=type(exc).__name__, hint=exc.hint)
            return
        now = self.runtime.clock()
        for watch in got:  # poll a watch just got now, not an interval later
            if self.scheduler.get_job(poll_job_id(watch), jobstore=LOCAL) is not None:
                self.scheduler.modify_job(poll_job_id(watch), jobstore=LOCAL, next_run_time=now)

    def daily_summary(self) -> None:
        from jobs.summary import write_due_summaries

        self._guarded("summary", write_due_summaries)

    def retention(self) -> None:
        from jobs.retention import run_retention

        self._guarded("retention", run_retention)

    def _guarded(self, name: str, job: Callable[[Runtime], Any]) -> None:
        """Run a daily job; a failure is logged (``<name>.failed`` or ``.crashed``) and the job
        simply runs again at its next time, instead of taking the scheduler thread down."""
        try:
            job(self.runtime)
        except BotwatchError as exc:
            log.warning(f"{name}.failed", error=str(exc), error_type=type(exc).__name__, hint=exc.hint)
        except Exception:
            log.exception(f"{name}.crashed")

    def desired_jobs(self) -> dict[str, dict[str, Any]]:
        config = self.runtime.config
        jobs: dict[str, dict[str, Any]] = {
            poll_job_id(w.name): {
                "func": "jobs.service:run_poll",
                "args": [w.name],
                "trigger": IntervalTrigger(seconds=w.interval_seconds, timezone=timezone.utc),
                "name": f"poll {w.name}",
                "jobstore": LOCAL,
            }
            for w in config.watches.values()
        }
        jobs[LEASE_JOB] = {
            "func": "jobs.service:run_lease_refresh",
            "args": [],
            "trigger": IntervalTrigger(seconds=self.leases.refresh_seconds, timezone=timezone.utc),
            "name": "lease refresh",
            "jobstore": LOCAL,
        }
        jobs[SUMMARY_JOB] = {
            "func": "jobs.service:run_daily_summary",
            "args": [],
            "trigger": summary_trigger(config, self.runtime.clock()),  # not a cron trigger: see jobs.summary
            "name": "daily summary",
            "jobstore": SHARED,
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
            if want is None or job._jobstore_alias != want["jobstore"]:  # a poll job stored by an older botwatch
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
                jobstore=spec["jobstore"], replace_existing=True, **({"next_run_time": first} if first else {}),
            )
            log.info("service.job_scheduled", job=job_id)

    def start(self) -> None:
        global _current
        _current = self
        self.scheduler.start(paused=True)
        self.sync_jobs()
        self.refresh_leases()  # before the first polls, which poll only what this worker holds
        self.scheduler.resume()
        log.info("service.started", watches=sorted(self.runtime.config.watches), timezone=self.runtime.config.timezone.key,
                 worker=self.leases.worker, holds=self.leases.held())

    def shutdown(self) -> None:
        global _current
        self.runtime.stop.set()
        log.info("service.stopping")
        self.scheduler.pause()  # no new runs while the ones in hand finish
        self.scheduler.shutdown(wait=True)
        try:
            self.leases.release_all()
        except BotwatchError as exc:  # they expire by themselves
            log.warning("lease.release_failed", worker=self.leases.worker, error=str(exc), hint=exc.hint)
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
