"""The scheduler's job store keeps JSON, refuses foreign callables and survives restarts."""

from datetime import datetime, time, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from detector.config import parse_config
from jobs.jobstore import JsonJobStore, UnsafeJobState, job_state_from_json
from jobs.service import JOB_TABLE, LOCAL, SUMMARY_JOB, Runtime, Service, poll_job_id

DOC = {
    "botwatch": {"timezone": "Europe/Berlin", "summary_time": "06:30"},
    "instances": {"main": {"url": "https://social.example"}},
    "watches": {"vacuums": {"keywords": ["vacuum"], "interval": "5m"}, "coffee": {"keywords": ["espresso"], "interval": 60}},
}


def make_service(engine, document=DOC, now=datetime(2026, 11, 24, 12, tzinfo=timezone.utc)):
    config = parse_config(document, environ={})
    runtime = Runtime(config=config, store=SimpleNamespace(engine=engine), detector=None, sources={}, clock=lambda: now)
    return Service(runtime)


@pytest.fixture
def engine(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
    yield engine
    engine.dispose()


def stored_rows(engine):
    with engine.connect() as connection:
        return {row.id: row.job_state for row in connection.execute(sa.text(f"SELECT id, job_state FROM {JOB_TABLE}"))}


def test_jobs_are_stored_as_json_with_the_configured_schedule(engine):
    service = make_service(engine)
    service.scheduler.start(paused=True)
    service.sync_jobs()
    rows = stored_rows(engine)
    assert set(rows) == {SUMMARY_JOB}  # poll jobs live in each worker's memory (see jobs.service)
    state = job_state_from_json(rows[SUMMARY_JOB])
    trigger = state["trigger"]  # a short interval aligned to 06:30 Berlin time (see jobs.summary)
    assert trigger.interval == timedelta(minutes=15)
    assert trigger.start_date.astimezone(ZoneInfo("Europe/Berlin")).time() == time(6, 30)
    poll = service.scheduler.get_job(poll_job_id("vacuums"), jobstore=LOCAL)
    assert poll.args == ("vacuums",) and poll.trigger.interval == timedelta(minutes=5)
    assert poll.next_run_time == datetime(2026, 11, 24, 12, tzinfo=timezone.utc)
    service.scheduler.shutdown(wait=False)


def test_restart_keeps_missed_run_times_and_reschedules_changed_watches(engine):
    first = make_service(engine)
    first.scheduler.start(paused=True)
    first.sync_jobs()
    # a poll job an older botwatch kept in the shared store
    first.scheduler.add_job("jobs.service:run_poll", "interval", args=["coffee"], id=poll_job_id("coffee"), minutes=1)
    first.scheduler.shutdown(wait=False)
    assert set(stored_rows(engine)) == {poll_job_id("coffee"), SUMMARY_JOB}
    before = {k: job_state_from_json(v)["next_run_time"] for k, v in stored_rows(engine).items()}

    changed = {**DOC, "watches": {"vacuums": {"keywords": ["vacuum"], "interval": "10m"}}}
    later = datetime(2026, 11, 25, 9, tzinfo=timezone.utc)
    second = make_service(engine, changed, now=later)
    second.scheduler.start(paused=True)
    second.sync_jobs()
    after = {k: job_state_from_json(v) for k, v in stored_rows(engine).items()}
    assert set(after) == {SUMMARY_JOB}  # the old shared poll job is gone
    assert after[SUMMARY_JOB]["next_run_time"] == before[SUMMARY_JOB]  # missed: runs once on resume
    polls = {job.id: job for job in second.scheduler.get_jobs(jobstore=LOCAL) if job.id.startswith("poll:")}
    assert set(polls) == {poll_job_id("vacuums")}
    assert polls[poll_job_id("vacuums")].trigger.interval == timedelta(minutes=10)
    assert polls[poll_job_id("vacuums")].next_run_time == later
    second.scheduler.shutdown(wait=False)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda s: s.replace("jobs.service:run_daily_summary", "os:system"),
        lambda s: s.replace('"kind": "interval"', '"kind": "date"'),
        lambda s: "\x80\x04\x95 not json",  # a pickle would start like this
    ],
)
def test_tampered_rows_are_dropped_not_executed(engine, tamper):
    service = make_service(engine)
    service.scheduler.start(paused=True)
    service.sync_jobs()
    job_id = SUMMARY_JOB
    raw = stored_rows(engine)[job_id].decode()
    with engine.begin() as connection:
        connection.execute(sa.text(f"UPDATE {JOB_TABLE} SET job_state = :s WHERE id = :i"), {"s": tamper(raw).encode("latin-1"), "i": job_id})
    store = JsonJobStore(engine=engine, tablename=JOB_TABLE)
    with pytest.raises((UnsafeJobState, ValueError)):
        store._reconstitute_job(stored_rows(engine)[job_id])
    service.scheduler.shutdown(wait=False)



@pytest.mark.postgres
def test_workers_starting_together_on_postgresql_all_get_the_jobs_table(postgres_url):
    """Several ``botwatch run`` processes starting at once each create the table if missing;
    PostgreSQL fails all but one of concurrent CREATE TABLEs, even with a check first."""
    import threading

    from detector.store import db

    engine = db.make_engine(postgres_url)
    failures: list[BaseException] = []
    try:
        for _ in range(5):
            with engine.begin() as connection:
                connection.execute(sa.text(f"DROP TABLE IF EXISTS {JOB_TABLE}"))
            gate = threading.Barrier(6)

            def start() -> None:
                store = JsonJobStore(engine=engine, tablename=JOB_TABLE)
                gate.wait()
                try:
                    store.start(SimpleNamespace(), "default")
                except BaseException as exc:  # collected: a thread's exception would vanish
                    failures.append(exc)

            threads = [threading.Thread(target=start) for _ in range(6)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        engine.dispose()
    assert failures == []
