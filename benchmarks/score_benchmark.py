"""Benchmark of ``botwatch score`` against the plain pipeline a user would otherwise write.

    python benchmarks/score_benchmark.py [--replies 200000] [--profile]

Generates (once, cached in ``benchmarks/data/``) a Status JSONL archive from the simulated
community with at least ``--replies`` replies (about 2 KB a line, as real statuses with embedded
accounts are), then times, each in a fresh process so peak memory is its own:

- ``parse``: orjson.loads of every line, nothing else (the floor);
- ``plain``: json.loads, a tag-stripping regex, HashingVectorizer on character 2-4-grams and
  LogisticRegression.predict_proba in batches of 4,096 (``plain_pipeline.py``), text only;
- ``botwatch``: ``detector.offline.score_file`` with the shipped model: content, account and
  behaviour signals, coordination, reasons, both output files;
- ``botwatch-half``: the same on the first half of the file, to show how memory grows.

Prints replies per second of wall time (and of CPU time, which depends less on what else the
machine runs) and peak RSS for each, the ratio botwatch/plain, and with ``--profile`` the top
entries of a cProfile run of botwatch.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
PER_DAY_REPLIES = 150_793 / 40  # measured: SimParams.training(seed, days=40, humans=1200)


def generate(target_replies: int) -> Path:
    """The cached archive with at least ``target_replies`` replies, generated if missing."""
    from detector.mastodon_server import SimParams, simulate

    path = DATA / f"statuses-{target_replies}.jsonl"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    days = math.ceil(target_replies / PER_DAY_REPLIES * 1.05)
    while True:
        community = simulate(SimParams.training(seed=4242, days=days, humans=1200))
        replies = sum(1 for s in community.statuses if s.is_reply)
        if replies >= target_replies:
            break
        days = math.ceil(days * target_replies / replies * 1.05)
    partial = path.with_suffix(".partial")
    community.write_jsonl(partial)
    community.write_labels_csv(DATA / f"labels-{target_replies}.csv")
    partial.rename(path)
    return path


def first_half(path: Path) -> Path:
    """The first half of the archive's lines, copied line by line: the benchmark process must stay
    small, because a child's peak RSS counts the parent's memory it was forked with."""
    half = path.with_name(path.stem + "-half.jsonl")
    if not half.exists():
        with path.open("rb") as lines:
            count = sum(1 for _ in lines)
        with path.open("rb") as lines, half.open("wb") as out:
            for line, _ in zip(lines, range(count // 2)):
                out.write(line)
    return half


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def work_parse(path: Path) -> dict:
    import orjson

    started, cpu = time.perf_counter(), time.process_time()
    replies = 0
    with path.open("rb") as lines:
        for line in lines:
            if orjson.loads(line).get("in_reply_to_id") is not None:
                replies += 1
    return {"seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu, "replies": replies}


def work_plain(path: Path) -> dict:
    sys.path.insert(0, str(HERE))
    import plain_pipeline

    texts, labels = [], []
    bots = {row.split(",")[0] for row in (DATA / f"labels-{path.stem.split('-')[1]}.csv").read_text().splitlines()[1:] if row.split(",")[1] == "1"}
    with path.open(encoding="utf-8") as lines:
        for line, _ in zip(lines, range(20_000)):
            status = json.loads(line)
            texts.append(plain_pipeline.TAGS.sub(" ", status["content"]))
            labels.append(int(status["account"]["id"] in bots))
    model = plain_pipeline.fit(texts, labels)  # not timed: the user's model exists already
    with tempfile.TemporaryDirectory() as tmp:
        started, cpu = time.perf_counter(), time.process_time()
        replies = plain_pipeline.score(path, model, Path(tmp) / "out.jsonl")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"seconds": seconds, "cpu_seconds": cpu, "replies": replies}


def work_botwatch(path: Path, profile: bool = False) -> dict:
    from detector.classifier.detector import Detector
    from detector.offline import score_file

    detector = Detector.load()
    with tempfile.TemporaryDirectory() as tmp:
        profiler = cProfile.Profile() if profile else None
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        summary = score_file(path, Path(tmp) / "replies.jsonl", Path(tmp) / "accounts.jsonl", detector=detector,
                             keywords=("vacuum", "hoover"))
        if profiler:
            profiler.disable()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    result = {"seconds": seconds, "cpu_seconds": cpu, "replies": summary.replies, "accounts": summary.accounts}
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        result["profile"] = out.getvalue()
    return result


WORKERS = {"parse": work_parse, "plain": work_plain, "botwatch": work_botwatch}


def run_worker(kind: str, path: Path, profile: bool = False) -> dict:
    """Run one measurement in a fresh interpreter and return its result."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--input", str(path)]
    if profile:
        command.append("--profile")
    output = subprocess.run(command, check=True, capture_output=True, text=True, cwd=HERE.parent).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replies", type=int, default=200_000, help="replies in the generated archive")
    parser.add_argument("--profile", action="store_true", help="also profile botwatch and print the top entries")
    parser.add_argument("--json", type=Path, help="write the results here too")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        result = work_botwatch(args.input, args.profile) if args.worker == "botwatch" else WORKERS[args.worker](args.input)
        result["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(result))
        return

    path = generate(args.replies)
    size = path.stat().st_size
    lines = sum(1 for _ in path.open("rb"))
    print(f"archive: {path} ({lines:,} lines, {size / lines / 1024:.2f} KB a line)")
    results = {
        "parse": run_worker("parse", path),
        "plain": run_worker("plain", path),
        "botwatch": run_worker("botwatch", path),
        "botwatch-half": run_worker("botwatch", first_half(path)),
    }
    print(f"{'pipeline':<14} {'replies':>9} {'seconds':>8} {'replies/s':>10} {'CPU s':>8} {'per CPU s':>10} {'peak MB':>8}")
    for name, r in results.items():
        print(f"{name:<14} {r['replies']:>9,} {r['seconds']:>8.2f} {r['replies'] / r['seconds']:>10,.0f} "
              f"{r['cpu_seconds']:>8.2f} {r['replies'] / r['cpu_seconds']:>10,.0f} {r['peak_rss_mb']:>8.0f}")
    ratio = (results["botwatch"]["replies"] / results["botwatch"]["seconds"]) / (results["plain"]["replies"] / results["plain"]["seconds"])
    cpu_ratio = results["plain"]["cpu_seconds"] / results["botwatch"]["cpu_seconds"]
    # On a shared machine wall time depends on what else runs; CPU time much less so.
    print(f"botwatch / plain throughput: {ratio:.2f}x by wall time, {cpu_ratio:.2f}x by CPU time")
    grow = results["botwatch"]["peak_rss_mb"] - results["botwatch-half"]["peak_rss_mb"]
    print(f"botwatch peak memory, full file minus half file: {grow:+.0f} MB "
          f"({results['botwatch']['accounts']:,} vs {results['botwatch-half']['accounts']:,} accounts)")
    if args.profile:
        print(run_worker("botwatch", path, profile=True)["profile"])
    if args.json:
        args.json.write_text(json.dumps({"lines": lines, "bytes": size, "results": results, "ratio": ratio, "cpu_ratio": cpu_ratio}, indent=2))


if __name__ == "__main__":
    main()
