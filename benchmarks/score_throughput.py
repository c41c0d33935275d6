"""Throughput of ``botwatch score`` against the plain pipeline a user would otherwise write.

    python benchmarks/score_throughput.py [--replies 200000] [--file PATH] [--profile]

Generates (once) a Status JSONL archive from simulated communities (about 1.9 KB a line, real
API entities with embedded accounts), then times in this process:

1. ``detector.offline.score_file`` with the shipped model, watched keywords "vacuum", "hoover";
2. the plain pipeline: ``json.loads``, a regex that strips tags, ``HashingVectorizer`` on
   character 2-4-grams, ``LogisticRegression.predict_proba`` in batches of 4,096 (trained on the
   YouTube and SMS sets), scoring replies only, with no accounts, reasons or output;
3. parsing alone with orjson.

Prints replies per second of wall time for each, the ratio, and peak memory (max RSS).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import re
import resource
import sys
import time
from datetime import timedelta
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from detector.classifier.datasets import default_data_dir, load_sms, load_youtube  # noqa: E402
from detector.classifier.detector import Detector  # noqa: E402
from detector.mastodon_server.community import SimParams, simulate  # noqa: E402
from detector.offline import score_file  # noqa: E402


def generate(path: Path, replies: int) -> None:
    """Concatenate simulated communities (distinct seeds and weeks, so ids never collide)."""
    written = 0
    seed = 9000
    with path.open("w", encoding="utf-8") as out:
        while written < replies:
            params = SimParams.training(seed)
            params = SimParams.training(seed, start=params.start + timedelta(days=15 * (seed - 9000)))
            for status in simulate(params).statuses_json():
                out.write(json.dumps(status, ensure_ascii=False, separators=(",", ":")) + "\n")
                written += status["in_reply_to_id"] is not None
            seed += 1


def plain_pipeline(path: Path) -> tuple[int, float]:
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.linear_model import LogisticRegression

    data = default_data_dir()
    examples = load_youtube(data) + load_sms(data)
    vectorizer = HashingVectorizer(analyzer="char", ngram_range=(2, 4), n_features=2**20, alternate_sign=False)
    model = LogisticRegression(max_iter=1000).fit(vectorizer.transform([e.text for e in examples]), [e.label for e in examples])
    tags = re.compile(r"<[^>]+>")
    started = time.perf_counter()
    batch: list[str] = []
    count = 0
    with path.open("rb") as handle:
        for line in handle:
            status = json.loads(line)
            if status.get("in_reply_to_id") is None:
                continue
            batch.append(tags.sub(" ", status["content"]))
            if len(batch) == 4096:
                model.predict_proba(vectorizer.transform(batch))
                count += len(batch)
                batch = []
    if batch:
        model.predict_proba(vectorizer.transform(batch))
        count += len(batch)
    return count, time.perf_counter() - started


def parse_only(path: Path) -> tuple[int, float]:
    started = time.perf_counter()
    count = 0
    with path.open("rb") as handle:
        for line in handle:
            count += orjson.loads(line)["in_reply_to_id"] is not None
    return count, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replies", type=int, default=200_000)
    parser.add_argument("--file", type=Path, default=Path("/tmp/botwatch-bench.jsonl"))
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile of botwatch score")
    args = parser.parse_args()
    if not args.file.exists():
        print(f"generating {args.file} ...", file=sys.stderr)
        generate(args.file, args.replies)
    size = args.file.stat().st_size
    lines = sum(1 for _ in args.file.open("rb"))
    print(f"input: {args.file} — {lines:,} lines, {size / 2**20:.0f} MB, {size / lines:,.0f} bytes a line")

    detector = Detector.load()
    out = args.file.with_suffix(".replies.jsonl"), args.file.with_suffix(".accounts.jsonl")
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    summary = score_file(args.file, *out, detector=detector, keywords=("vacuum", "hoover"))
    if profiler:
        profiler.disable()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ours = summary.replies / summary.seconds
    print(f"botwatch score: {summary.replies:,} replies, {summary.accounts:,} accounts in {summary.seconds:.1f} s = {ours:,.0f} replies/s; peak RSS {rss:,.0f} MB")
    count, seconds = plain_pipeline(args.file)
    plain = count / seconds
    print(f"plain pipeline: {count:,} replies in {seconds:.1f} s = {plain:,.0f} replies/s")
    count, seconds = parse_only(args.file)
    print(f"orjson parsing alone: {count / seconds:,.0f} replies/s ({lines / seconds:,.0f} lines/s)")
    print(f"ratio botwatch / plain: {ours / plain:.2f}")
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
