"""Clock jumps and time zones around the daily summary: exactly one summary per watch and day,
covering the right local day, written once the day is due.

The summary job runs on the service's trigger (:func:`jobs.summary.summary_trigger`); here its
fire times are computed by APScheduler itself and the job is called at each of them with an
injected clock and a real store, through DST change days in Berlin and New York, a service that
was down at summary time, and clocks that jump forward and back.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from detector.config import parse_config
from detector.store import Store
from jobs.summary import CHECK_EVERY, day_window, summary_due_at, summary_trigger, write_due_summaries
from tests.conftest import T0, make_author, make_post

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
MODEL = "test-model"
_numbers = itertools.count()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def local(zone: ZoneInfo, *parts: int, fold: int = 0) -> datetime:
    return datetime(*parts, tzinfo=zone, fold=fold).astimezone(UTC)


@pytest.fixture
def make_runtime(tmp_path):
    opened = []

    def make(zone: ZoneInfo, summary_time: str, now: datetime):
        clock = Clock(now)
        document = {"botwatch": {"timezone": zone.key, "summary_time": summary_time, "state_dir": str(tmp_path)},
                    "instances": {"m": {"url": "https://social.example"}},
                    "watches": {"w": {"keywords": ["vacuum"]}, "v": {"keywords": ["hoover"]}}}
        config = parse_config(document, environ={})
        store = Store.open(f"sqlite:///{tmp_path / 'clock.sqlite3'}", create=True, clock=clock)
        opened.append(store)
        return SimpleNamespace(config=config, store=store, detector=SimpleNamespace(version=MODEL), clock=clock)

    yield make
    for store in opened:
        store.close()


def add_replies(runtime, watch: str, moments: list[datetime]) -> None:
    """One trigger post, and a reply under it at each moment (stored as fetched at that moment)."""
    store = runtime.store
    for moment in moments:
        number, i = next(_numbers), 0
        minutes = (moment - T0).total_seconds() / 60
        trigger = make_post(f"{watch}-t{number}-{i}", minutes=minutes - 1, text="my vacuum broke")
        reply = make_post(f"{watch}-r{number}-{i}", minutes=minutes, parent=trigger, text="buy ours",
                          author=make_author("9", "spammer"))
        store.save_discovered(watch, f"route{number}", [trigger], str(number), fetched_at=moment,
                              track_until_hours=48)
        store.save_replies(watch, trigger.key, [reply], checked_at=moment, next_check_at=None)


def summaries(runtime, watch: str) -> dict[date, int]:
    """Stored summaries of ``watch``: day -> replies it covers (all unscored here)."""
    with runtime.store.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT s.day, s.data FROM summaries s JOIN watches w ON w.id = s.watch_id WHERE w.name = ?", (watch,)
        ).all()
    return {date.fromisoformat(str(day)): json.loads(data)["unscored"] for day, data in rows}


def fire_times(trigger, start: datetime, end: datetime) -> list[datetime]:
    """What APScheduler would run between ``start`` and ``end``."""
    times, previous, now = [], None, start
    while (fire := trigger.get_next_fire_time(previous, now)) is not None and fire <= end:
        times.append(fire.astimezone(UTC))
        previous, now = fire, fire + timedelta(seconds=1)
    return times


# DST change days: Berlin 2026-03-29 (23 h) and 2026-10-25 (25 h); New York 2026-03-08 and 2026-11-01.
CASES = [
    (BERLIN, date(2026, 3, 29), [(0, 30), (1, 59), (3, 0), (23, 59)]),
    (BERLIN, date(2026, 10, 25), [(0, 30), (2, 30), (2, 30, 1), (23, 59)]),
    (NEW_YORK, date(2026, 3, 8), [(0, 30), (1, 59), (3, 0), (23, 59)]),
    (NEW_YORK, date(2026, 11, 1), [(0, 30), (1, 30), (1, 30, 1), (23, 59)]),
]


@pytest.mark.parametrize("summary_time", ["00:15", "02:30", "06:00"])
@pytest.mark.parametrize(("zone", "change_day", "clock_times"), CASES, ids=lambda v: str(v))
def test_dst_days_get_one_summary_each_covering_the_local_day(make_runtime, zone, change_day, clock_times,
                                                              summary_time):
    first_day = change_day - timedelta(days=2)
    start = local(zone, first_day.year, first_day.month, first_day.day, 0, 5)
    runtime = make_runtime(zone, summary_time, start)
    per_day: dict[date, int] = {}
    for offset in range(5):  # replies on each day, around midnight and the change itself
        day = first_day + timedelta(days=offset)
        moments = [local(zone, day.year, day.month, day.day, *hm[:2], fold=hm[2] if len(hm) > 2 else 0)
                   for hm in clock_times]
        moments = [m for m in moments if m.astimezone(zone).date() == day]  # 02:30 that a spring day skips
        add_replies(runtime, "w", moments)
        per_day[day] = len(moments)
    end = start + timedelta(days=5)
    trigger = summary_trigger(runtime.config, start)
    runs = fire_times(trigger, start, end)
    written_at: dict[date, datetime] = {}
    for fire in runs:
        runtime.clock.now = fire
        for _, day in write_due_summaries(runtime):
            written_at[day] = fire
    wanted = {first_day + timedelta(days=n) for n in range(5)
              if summary_due_at(first_day + timedelta(days=n), runtime.config.summary_time, zone) <= end}
    assert summaries(runtime, "w") == {day: per_day[day] for day in wanted}
    assert set(written_at) == wanted  # each written once (a second write would have to replace it)
    for day, when in written_at.items():
        due = summary_due_at(day, runtime.config.summary_time, zone)
        assert due <= when < due + CHECK_EVERY  # on time: at summary_time, or the first run after it
    hours = (day_window(change_day, zone)[1] - day_window(change_day, zone)[0]) / timedelta(hours=1)
    assert hours in (23, 25)


def test_summary_runs_land_on_summary_time_whatever_the_offset(make_runtime):
    runtime = make_runtime(BERLIN, "06:30", local(BERLIN, 2026, 3, 20, 12, 0))
    trigger = summary_trigger(runtime.config, runtime.clock())
    runs = fire_times(trigger, local(BERLIN, 2026, 3, 25, 0, 0), local(BERLIN, 2026, 4, 2, 0, 0))
    at_summary_time = [r.astimezone(BERLIN).date() for r in runs if r.astimezone(BERLIN).time() == time(6, 30)]
    assert at_summary_time == [date(2026, 3, 25) + timedelta(days=n) for n in range(8)]  # 29 March too


def test_apscheduler_cron_skips_the_day_after_spring_forward():
    """Why the summary does not use a daily cron trigger (APScheduler 3.11; issue #606 upstream)."""
    cron = CronTrigger(hour=0, minute=15, timezone=BERLIN)
    runs = fire_times(cron, local(BERLIN, 2026, 3, 28, 0, 0), local(BERLIN, 2026, 4, 1, 0, 0))
    days = [r.astimezone(BERLIN).date() for r in runs]
    assert date(2026, 3, 30) not in days and date(2026, 3, 31) in days  # a day lost: would be a late summary


def test_service_down_at_summary_time_catches_up_each_day_once(make_runtime):
    runtime = make_runtime(BERLIN, "06:00", local(BERLIN, 2026, 3, 27, 9, 0))
    for watch in ("w", "v"):
        add_replies(runtime, watch, [local(BERLIN, 2026, 3, 27, 10, 0), local(BERLIN, 2026, 3, 28, 10, 0),
                                     local(BERLIN, 2026, 3, 29, 10, 0), local(BERLIN, 2026, 3, 30, 10, 0)])
    runtime.clock.now = local(BERLIN, 2026, 3, 31, 5, 0)  # started again after three days down
    assert sorted(write_due_summaries(runtime)) == [("v", date(2026, 3, 27)), ("v", date(2026, 3, 28)),
                                                    ("v", date(2026, 3, 29)), ("w", date(2026, 3, 27)),
                                                    ("w", date(2026, 3, 28)), ("w", date(2026, 3, 29))]
    assert write_due_summaries(runtime) == []  # the coalesced missed run and the regular one: once
    runtime.clock.now = local(BERLIN, 2026, 3, 31, 6, 0)  # 30 March is due now
    assert sorted(write_due_summaries(runtime)) == [("v", date(2026, 3, 30)), ("w", date(2026, 3, 30))]
    assert summaries(runtime, "w") == {date(2026, 3, 27): 1, date(2026, 3, 28): 1, date(2026, 3, 29): 1,
                                       date(2026, 3, 30): 1}


def test_a_clock_that_ran_ahead_then_came_back(make_runtime):
    """NTP steps a clock that ran five days ahead back: the early summaries are redone once each
    day is really due, with the replies that arrived meanwhile, and later days are not held up."""
    real = local(BERLIN, 2026, 10, 20, 12, 0)
    runtime = make_runtime(BERLIN, "00:15", real - timedelta(days=2))
    add_replies(runtime, "w", [real - timedelta(days=1), real - timedelta(hours=1)])
    runtime.clock.now = real + timedelta(days=5)  # the clock jumps ahead
    early = write_due_summaries(runtime)
    assert [d for w, d in early if w == "w"] == [date(2026, 10, 18) + timedelta(days=n) for n in range(7)]
    runtime.clock.now = real  # and back: the days written "in the future" that are due now are redone
    assert write_due_summaries(runtime) == [("w", date(2026, 10, 18)), ("w", date(2026, 10, 19))]
    assert write_due_summaries(runtime) == []
    add_replies(runtime, "w", [real + timedelta(hours=3), real + timedelta(days=1, hours=3)])  # the day goes on
    for hours in range(0, 8 * 24, 1):  # a week of real time, a run every hour
        runtime.clock.now = real + timedelta(hours=hours)
        write_due_summaries(runtime)
    counts = summaries(runtime, "w")
    assert counts[date(2026, 10, 19)] == 1  # written before the jump: right all along
    assert counts[date(2026, 10, 20)] == 2 and counts[date(2026, 10, 21)] == 1  # redone with the late replies
    assert set(counts) == {date(2026, 10, 18) + timedelta(days=n) for n in range(10)}  # one per day, none missing
    runtime.clock.now = real + timedelta(days=8)
    assert write_due_summaries(runtime) == []


def test_a_clock_that_goes_back_writes_nothing_twice(make_runtime):
    runtime = make_runtime(NEW_YORK, "00:15", local(NEW_YORK, 2026, 11, 1, 0, 20))
    add_replies(runtime, "w", [local(NEW_YORK, 2026, 11, 1, 1, 30), local(NEW_YORK, 2026, 11, 1, 1, 30, fold=1)])
    runtime.clock.now = local(NEW_YORK, 2026, 11, 2, 0, 15)
    assert ("w", date(2026, 11, 1)) in write_due_summaries(runtime)
    for back in (timedelta(minutes=30), timedelta(hours=5), timedelta(seconds=1)):  # steps back, then on again
        runtime.clock.now = local(NEW_YORK, 2026, 11, 2, 0, 15) - back
        assert write_due_summaries(runtime) == []
        runtime.clock.now = local(NEW_YORK, 2026, 11, 2, 0, 30)
        assert write_due_summaries(runtime) == []
    assert summaries(runtime, "w") == {date(2026, 11, 1): 2}  # both 01:30s of the 25-hour day
