"""Load benchmark: botwatch's store at a million replies, on SQLite and on PostgreSQL.

    python benchmarks/load_benchmark.py --backend both --replies 1000000 --watches 100

For each backend it fills an empty store (``load_fill.py``: ``--replies`` replies on the measured
day across ``--watches`` watches, plus ``--history`` replies over the ``--history-days`` days
before it, all scored, raw JSON kept), then measures:

- ``poll``: polls of one of the loaded watches against the local Mastodon test server (the
  simulated community, in this process): CPU seconds of the polling thread (``time.thread_time``:
  botwatch's parsing, scoring and SQLite work; PostgreSQL's server process is not in it) per
  1,000 statuses stored, beside the same polls against an empty store;
- ``summary``: wall seconds of the daily summary of the measured day, every watch (what the
  summary job does at ``summary_time``), and of the busiest single watch;
- ``size``: the database on disk (SQLite file with its WAL; PostgreSQL ``pg_total_relation_size``
  summed over the schema's tables);
- ``retention``: the retention job with ``--retention-days`` / ``--raw-retention-days``: wall
  seconds, rows pruned, and the size afterwards (before and after VACUUM, since neither database
  returns freed pages to the file system by itself: they are reused by new rows).

With ``--explain`` it prints the query plans (``EXPLAIN ANALYZE`` on PostgreSQL, ``EXPLAIN QUERY
PLAN`` on SQLite) of the statements the summary and the scorer's unscored-reply query run.

``--keep SCHEMA`` fills a PostgreSQL schema, times the summary and leaves the schema behind;
``--reuse SCHEMA`` times the summary on it again (after migrating it to the current head), so a
change to the summary can be measured without refilling. Drop that schema yourself at the end.

PostgreSQL comes from ``--postgres-url`` (default ``$BOTWATCH_TEST_POSTGRES_URL`` or
127.0.0.1:5432/test); the benchmark works in a schema of its own and drops it at the end. SQLite
goes to a temporary directory (``--workdir`` to choose), deleted at the end. Results are printed
as a table and written as JSON to ``--output`` (default ``benchmarks/results/load-<backend>.json``).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import os
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Iterator
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_fill import Plan, fill  # noqa: E402

from detector.config import WatchConfig, parse_config  # noqa: E402
from detector.store import Store  # noqa: E402

HERE = Path(__file__).resolve().parent
DAY = date(2026, 3, 10)
POLL_HOURS = (24, 24.5, 25, 25.5, 26)  # into the simulated community's two days: a backlog, then routine polls
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    results = []
    if (args.keep or args.reuse) and backends != ["postgres"]:
        raise SystemExit("--keep and --reuse work on --backend postgres only")
    if args.keep or args.reuse:
        return summary_only(args)
    for backend in backends:
        with _database(backend, args, "empty") as (url, _):
            print(f"[{backend}] empty-store poll baseline", file=sys.stderr)
            baseline = measure_poll(url)
        with _database(backend, args, "data") as (url, size_of):
            result = run(backend, url, size_of, args)
        result["poll_empty"] = baseline
        results.append(result)
        _write(result, args.output or HERE / "results" / f"load-{backend}-{args.replies}.json")
    print(table(results))
    return 0


def _write(result: dict[str, Any], output: str | Path) -> None:
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"wrote {output}", file=sys.stderr)


def summary_only(args: argparse.Namespace) -> int:
    """Fill once and time the summary many times: ``--keep SCHEMA`` fills that PostgreSQL schema
    and leaves it behind, ``--reuse SCHEMA`` measures an earlier ``--keep``'s schema again (the
    schema upgraded to the current migration head first). Poll and retention are not run (the
    retention job deletes what the next measurement needs). Drop the schema yourself at the end."""
    from detector.classifier.detector import Detector

    history = args.replies // 4 if args.history is None else args.history
    plan = Plan(args.replies, history, args.history_days, args.watches, DAY, Detector.load().version)
    url = _schema_url(args.postgres_url, args.keep or args.reuse)
    result: dict[str, Any] = {"backend": "postgres", "plan": asdict(plan), "started": datetime.now(UTC).isoformat()}
    if args.keep:
        admin = create_engine(make_url(args.postgres_url).set(drivername="postgresql+psycopg"))
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{args.keep}" CASCADE; CREATE SCHEMA "{args.keep}"'))
        admin.dispose()
        store = Store.open(url, create=True)
        started = time.perf_counter()
        result["fill"] = {"rows": fill(store.engine, plan, progress=lambda day, c: print(
            f"[postgres] filled {day}: {c.get('posts', 0):,} posts", file=sys.stderr))}
        _after_fill(store.engine)
        result["fill"]["seconds"] = round(time.perf_counter() - started, 1)
        print(f"[postgres] filled in {result['fill']['seconds']} s, kept in schema {args.keep}", file=sys.stderr)
    else:
        started = time.perf_counter()
        store = Store.open(url, create=True)  # migrations written since the fill run on the loaded rows
        result["upgrade_seconds"] = round(time.perf_counter() - started, 1)
    result["summary"] = measure_summary(store, plan, args.repeat)
    print(f"[postgres] summary: {result['summary']}", file=sys.stderr)
    if args.explain:
        result["explain"] = explain(store, plan)
    store.close()
    _write(result, args.output or HERE / "results" / f"load-postgres-{args.replies}-summary.json")
    return 0


def _schema_url(server_url: str, schema: str) -> str:
    server = make_url(server_url).set(drivername="postgresql+psycopg")
    return server.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--replies", type=int, default=1_000_000, help="replies on the measured day")
    parser.add_argument("--watches", type=int, default=100)
    parser.add_argument("--history", type=int, help="replies on the days before (default: a quarter of --replies)")
    parser.add_argument("--history-days", type=int, default=60)
    parser.add_argument("--retention-days", type=int, default=30)
    parser.add_argument("--raw-retention-days", type=int, default=7)
    parser.add_argument("--postgres-url", default=os.environ.get("BOTWATCH_TEST_POSTGRES_URL", DEFAULT_PG))
    parser.add_argument("--workdir", type=Path, help="where the SQLite file goes (default: a temporary directory)")
    parser.add_argument("--output", help="JSON results file")
    parser.add_argument("--explain", action="store_true", help="print the hot queries' plans")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the loaded polls")
    parser.add_argument("--repeat", type=int, default=3, help="summary timings to take (the median is reported)")
    kept = parser.add_mutually_exclusive_group()
    kept.add_argument("--keep", metavar="SCHEMA", help="PostgreSQL: fill this schema, time the summary, keep it")
    kept.add_argument("--reuse", metavar="SCHEMA", help="PostgreSQL: time the summary on a schema kept by --keep")
    return parser


@contextmanager
def _database(backend: str, args: argparse.Namespace, name: str) -> Iterator[tuple[str, Any]]:
    """An empty database of the backend, its URL and a function measuring its size in bytes."""
    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="botwatch-load-", dir=args.workdir))
        path = folder / f"{name}.sqlite3"

        def sqlite_size() -> int:
            return sum(p.stat().st_size for p in folder.glob(f"{name}.sqlite3*"))

        try:
            yield f"sqlite:///{path}", sqlite_size
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    server = make_url(args.postgres_url).set(drivername="postgresql+psycopg")
    schema = f"botwatch_load_{name}_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE; CREATE SCHEMA "{schema}"'))
    url = server.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)

    def pg_size() -> int:
        with admin.connect() as conn:
            return int(conn.scalar(text(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :s AND c.relkind = 'r'"
            ), {"s": schema}))

    try:
        yield url, pg_size
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def run(backend: str, url: str, size_of, args: argparse.Namespace) -> dict[str, Any]:
    from detector.classifier.detector import Detector

    version = Detector.load().version
    history = args.replies // 4 if args.history is None else args.history
    plan = Plan(args.replies, history, args.history_days, args.watches, DAY, version)
    result: dict[str, Any] = {"backend": backend, "plan": asdict(plan), "started": datetime.now(UTC).isoformat()}

    store = Store.open(url, create=True)
    started = time.perf_counter()
    counts = fill(store.engine, plan, progress=lambda day, c: print(
        f"[{backend}] filled {day}: {c.get('posts', 0):,} posts", file=sys.stderr))
    _after_fill(store.engine)
    result["fill"] = {"seconds": round(time.perf_counter() - started, 1), "rows": counts}
    result["size_bytes"] = size_of()
    print(f"[{backend}] filled in {result['fill']['seconds']} s, {result['size_bytes'] / 1e9:.2f} GB", file=sys.stderr)

    result["summary"] = measure_summary(store, plan, args.repeat)
    print(f"[{backend}] summary: {result['summary']}", file=sys.stderr)
    if args.explain:
        result["explain"] = explain(store, plan)
    store.close()

    result["poll_loaded"] = measure_poll(url, args.profile)
    print(f"[{backend}] poll: {result['poll_loaded']}", file=sys.stderr)

    store = Store.open(url)
    result["retention"] = measure_retention(store, plan, args, size_of)
    store.close()
    print(f"[{backend}] retention: {result['retention']}", file=sys.stderr)
    return result


def _after_fill(engine) -> None:
    """What a running database has and bulk loading skipped: sequences past the loaded ids
    (PostgreSQL), planner statistics and, on PostgreSQL, the visibility map that index-only
    scans need (autovacuum does both within minutes of a bulk load on a running server)."""
    with engine.begin() as conn:
        if conn.dialect.name != "postgresql":
            conn.execute(text("ANALYZE"))
            return
        for table in ("accounts", "posts", "watches"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT max(id) FROM {table}))"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


# ---- (a) poll -------------------------------------------------------------------------------


def measure_poll(url: str, profile: bool = False) -> dict[str, Any]:
    """Poll the simulated community as watch ``load-000`` at :data:`POLL_HOURS` (the first poll
    reads a day's backlog, the others what came in the last half hour), each timed alone."""
    from detector.mastodon_server import MastodonTestServer, SimParams, simulate
    from detector.sources import MastodonSource
    from jobs.poll import poll_watch
    from jobs.service import build_runtime

    # The community's two days end where the loaded data ends, so the store's recent accounts
    # are recent to the poller too (the coordination index reads the last week's).
    params = SimParams(seed=1, start=datetime.combine(DAY, datetime.min.time(), tzinfo=UTC))
    community = simulate(params)
    with MastodonTestServer(community, rate_limit=1_000_000) as server:
        start = params.start + timedelta(hours=24)
        server.set_time(start)
        document = {
            "botwatch": {"database_url": url, "timezone": "UTC"},
            "instances": {"sim": {"url": server.base_url, "max_pages": 50}},
            "watches": {"load-000": {
                "instance": "sim", "keywords": list(params.keywords), "hashtags": list(params.hashtags),
                "brand_accounts": [params.watched_brand.lower()], "lookback_hours": 48, "interval": "5m",
            }},
        }  # fmt: skip
        environ = {"BOTWATCH_TOKEN_SIM": server.token_for(params.watched_brand.lower())}
        config = parse_config(document, environ=environ)
        sources = {"sim": MastodonSource(config.instances["sim"], clock=server.clock)}
        runtime = build_runtime(config, create_db=True, sources=sources,
                                clock=lambda: datetime.fromtimestamp(server.clock(), UTC))
        polls = []
        try:
            for hours in POLL_HOURS:
                server.set_time(params.start + timedelta(hours=hours))
                profiler = cProfile.Profile() if profile else None
                t0, w0 = time.thread_time(), time.perf_counter()
                polled = profiler.runcall(poll_watch, runtime, config.watches["load-000"]) if profiler else \
                    poll_watch(runtime, config.watches["load-000"])
                cpu = time.thread_time() - t0
                wall = time.perf_counter() - w0
                if profiler:
                    pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
                polls.append({"hours": hours, "statuses": polled.posts_new + polled.replies_new,
                              "contexts": polled.contexts, "cpu_seconds": round(cpu, 3), "wall_seconds": round(wall, 3)})
        finally:
            runtime.store.close()
    statuses = sum(p["statuses"] for p in polls)
    cpu = sum(p["cpu_seconds"] for p in polls)
    later = polls[1:]
    return {"statuses": statuses, "cpu_seconds": round(cpu, 2), "cpu_per_1000": round(cpu / max(statuses, 1) * 1000, 3),
            "first_poll_cpu_seconds": polls[0]["cpu_seconds"],
            "later_poll_cpu_seconds": round(sum(p["cpu_seconds"] for p in later) / len(later), 3), "polls": polls}


# ---- (b) summary ----------------------------------------------------------------------------


def _watch(name: str) -> WatchConfig:
    return WatchConfig(name=name, instance="load", keywords=("vacuum",), hashtags=("vacuum",))


def measure_summary(store: Store, plan: Plan, repeat: int) -> dict[str, Any]:
    """Median wall seconds of summarising the measured day for every watch, and for one."""
    from jobs.summary import day_counts, summarise, top_replies

    zone = ZoneInfo("UTC")
    watches = [_watch(name) for name in plan.watch_names()]
    runs, single = [], []
    for _ in range(repeat):
        started = time.perf_counter()  # as the summary job does it: the day read once for all watches
        counts = day_counts(store, watches, plan.day, zone, plan.model_version)
        evidence = top_replies(store, counts, plan.day, zone, plan.model_version)
        replies = 0
        for watch in watches:
            summary = summarise(store, watch, plan.day, zone, plan.model_version, counts[watch.name],
                                evidence[watch.name])
            replies += summary.replies_seen
        runs.append(time.perf_counter() - started)
        started = time.perf_counter()
        summarise(store, _watch(plan.watch_names()[0]), plan.day, zone, plan.model_version)
        single.append(time.perf_counter() - started)
    return {"replies": replies, "all_watches_seconds": round(sorted(runs)[len(runs) // 2], 2),
            "all_watches_runs": [round(r, 2) for r in runs],
            "one_watch_seconds": round(sorted(single)[len(single) // 2], 3)}


# ---- (c) retention --------------------------------------------------------------------------


def measure_retention(store: Store, plan: Plan, args: argparse.Namespace, size_of) -> dict[str, Any]:
    from jobs.retention import prune

    now = datetime.combine(plan.day + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(minutes=30)
    watches = [_watch(name) for name in plan.watch_names()]
    started = time.perf_counter()
    pruned = prune(store, watches, now=now, zone=ZoneInfo("UTC"), retention_days=args.retention_days,
                   raw_retention_days=args.raw_retention_days)
    seconds = time.perf_counter() - started
    size = size_of()
    vacuum_started = time.perf_counter()
    _vacuum(store)
    return {"seconds": round(seconds, 1), "pruned": asdict(pruned), "size_bytes": size,
            "size_after_vacuum_bytes": size_of(), "vacuum_seconds": round(time.perf_counter() - vacuum_started, 1),
            "rows_left": store.counts()}


def _vacuum(store: Store) -> None:
    engine = store.engine
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()  # outside SQLAlchemy's BEGIN: VACUUM refuses a transaction
        try:
            raw.execute("VACUUM")
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM FULL")


# ---- plans ----------------------------------------------------------------------------------


def explain(store: Store, plan: Plan) -> dict[str, list[str]]:
    """The plans of every SELECT the summary of one watch and one unscored-reply query run."""
    from jobs.summary import summarise

    captured: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    engine = store.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        summarise(store, _watch(plan.watch_names()[0]), plan.day, ZoneInfo("UTC"), plan.model_version)
        store.unscored_replies(plan.watch_names()[0], plan.model_version, 500)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    plans = {}
    with engine.connect() as conn:
        for statement, parameters in captured:
            if "FROM watches" in statement and "JOIN" not in statement:
                continue  # the watch-id lookup
            rows = conn.exec_driver_sql(prefix + statement, parameters).all()
            plans[statement] = [" | ".join(str(v) for v in row) for row in rows]
    for statement, lines in plans.items():
        print("\n" + statement + "\n  " + "\n  ".join(lines), file=sys.stderr)
    return plans


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| backend | replies (day / history) | fill s | size GB | summary all watches s | one watch s | "
        "poll CPU s/1000 statuses (loaded / empty) | routine poll CPU s (loaded / empty) | retention s | "
        "size after retention GB (after VACUUM) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        plan, ret = r["plan"], r["retention"]
        lines.append(
            f"| {r['backend']} | {plan['replies']:,} / {plan['history']:,} | {r['fill']['seconds']} | "
            f"{r['size_bytes'] / 1e9:.2f} | {r['summary']['all_watches_seconds']} | {r['summary']['one_watch_seconds']} | "
            f"{r['poll_loaded']['cpu_per_1000']} / {r['poll_empty']['cpu_per_1000']} | "
            f"{r['poll_loaded']['later_poll_cpu_seconds']} / {r['poll_empty']['later_poll_cpu_seconds']} | {ret['seconds']} | "
            f"{ret['size_bytes'] / 1e9:.2f} ({ret['size_after_vacuum_bytes'] / 1e9:.2f}) |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
