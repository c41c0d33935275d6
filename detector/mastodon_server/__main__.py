"""Run the simulated Mastodon instance standalone.

    python -m detector.mastodon_server --seed 1 --port 8080

prints the base URL and the access tokens of the accounts a poller needs, then serves until
Ctrl-C. ``--jsonl`` / ``--labels`` write the community as a Status archive and its ground truth
instead of (or before) serving.

    python -m detector.mastodon_server simulate --seed 3301 --seed 3302 --out DIR

writes, for each seed, the training-sized community as ``DIR/statuses-SEED.jsonl`` and its
ground truth as ``DIR/labels-SEED.csv``: the input of ``botwatch evaluate``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from detector.mastodon_server.community import SimParams, simulate
from detector.mastodon_server.server import MastodonTestServer, SimClock


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m detector.mastodon_server", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1, help="community seed (default 1)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    parser.add_argument("--training", action="store_true", help="the ~50k-status training community instead of the demo one")
    parser.add_argument("--days", type=float, help="length of the simulated window in days")
    parser.add_argument("--humans", type=int, help="number of ordinary human accounts")
    parser.add_argument("--now", action="store_true",
                        help="simulate the window ending now and serve on the real clock (for live pollers)")
    parser.add_argument("--clock", choices=("start", "end"), default="end",
                        help="where the server clock starts when not --now: all statuses visible (end) or none (start)")
    parser.add_argument("--rate-limit", type=int, default=300, help="requests per window (default 300)")
    parser.add_argument("--rate-window", type=int, default=300, help="window in seconds (default 300)")
    parser.add_argument("--no-search", action="store_true", help="serve without full-text search")
    parser.add_argument("--trailing-slash-404", action="store_true", help="404 /api/v1/instance/ (Mastodon.py trap)")
    parser.add_argument("--jsonl", metavar="PATH", help="write every status as one API Status per line")
    parser.add_argument("--labels", metavar="PATH", help="write account_id,is_bot,kind")
    parser.add_argument("--no-serve", action="store_true", help="only write the files")
    return parser


def _simulate_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m detector.mastodon_server simulate",
                                     description="Write labelled simulated communities for botwatch evaluate.")
    parser.add_argument("--seed", type=int, action="append", required=True,
                        help="community seed (repeatable); the model was trained on none of 3301-3303 and 3401-3403")
    parser.add_argument("--out", type=Path, required=True, help="folder for statuses-SEED.jsonl and labels-SEED.csv")
    parser.add_argument("--varied", action="store_true",
                        help="draw the behaviour parameters at random per seed, as training does (harder communities)")
    parser.add_argument("--days", type=float, help="length of the simulated window in days (default 14)")
    return parser


def simulate_files(argv: list[str]) -> int:
    """``simulate``: one statuses JSONL and one labels CSV per seed, and the keywords to evaluate with."""
    args = _simulate_parser().parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    overrides = {} if args.days is None else {"days": args.days}
    for seed in args.seed:
        if args.varied:  # the training code's parameter draws, so evaluation matches what the model met
            from detector.classifier.simulated import varied_params

            params = varied_params(seed)
            params = dataclasses.replace(params, **overrides)
        else:
            params = SimParams.training(seed, **overrides)
        community = simulate(params)
        statuses, labels = args.out / f"statuses-{seed}.jsonl", args.out / f"labels-{seed}.csv"
        count = community.write_jsonl(statuses)
        community.write_labels_csv(labels)
        print(f"seed {seed}: {count} statuses in {statuses}, {len(community.accounts)} labels in {labels}; "
              f"keywords {','.join(params.keywords)}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["simulate"]:
        return simulate_files(argv[1:])
    args = _parser().parse_args(argv)
    overrides = {k: v for k, v in (("days", args.days), ("humans", args.humans)) if v is not None}
    if args.now:
        days = overrides.get("days", 14.0 if args.training else SimParams.days)
        start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=days)
        overrides["start"] = start
    params = SimParams.training(args.seed, **overrides) if args.training else SimParams(seed=args.seed, **overrides)
    community = simulate(params)
    summary = community.summary()
    print(f"community: seed {params.seed}, {summary['accounts']} accounts, {summary['statuses']} statuses "
          f"({summary['replies']} replies), {params.start.isoformat()} .. {params.end.isoformat()}", file=sys.stderr)
    if args.jsonl:
        print(f"wrote {community.write_jsonl(args.jsonl)} statuses to {args.jsonl}", file=sys.stderr)
    if args.labels:
        print(f"wrote {community.write_labels_csv(args.labels)} labels to {args.labels}", file=sys.stderr)
    if args.no_serve:
        return 0
    clock = time.time if args.now else SimClock((community.start_ms if args.clock == "start" else community.end_ms) / 1000)
    server = MastodonTestServer(community, clock=clock, host=args.host, port=args.port, rate_limit=args.rate_limit,
                                rate_window=args.rate_window, search_enabled=not args.no_search,
                                instance_trailing_slash_404=args.trailing_slash_404)
    server.start()
    print(f"base_url: {server.base_url}")
    for acct in ("botwatch", params.watched_brand.lower(), f"{params.watched_brand.lower()}_support"):
        if acct in server.tokens:
            print(f"token {acct}: {server.tokens[acct]}")
    hints = f"all local tokens: GET {server.base_url}/_test/tokens; faults: POST {server.base_url}/_test/faults"
    if not args.now:
        hints += f'; clock: POST {server.base_url}/_test/clock {{"advance": seconds}}'
    print(hints)
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
