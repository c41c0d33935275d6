"""Stress copy of a labelled Status archive: every scripted account three years older.

Scripts run on bought, aged and taken-over accounts as well as on new ones. The simulator's
scripts are mostly young, so this measures what the model card states: how much recall the
account model loses when account age stops giving scripts away. Only the scripted accounts'
``created_at`` changes; every post, every time and every other account stay as they were.

    python -m detector.mastodon_server simulate --seed 3301 --out /tmp/sim
    python benchmarks/aged_accounts.py /tmp/sim/statuses-3301.jsonl /tmp/sim/labels-3301.csv /tmp/sim/aged-3301.jsonl
    botwatch evaluate /tmp/sim/aged-3301.jsonl /tmp/sim/labels-3301.csv --keywords vacuum,hoover
"""

from __future__ import annotations

import argparse
import csv
from datetime import datetime, timedelta
from pathlib import Path

import orjson

AGED_BY = timedelta(days=3 * 365)


def scripted_ids(labels: Path) -> set[str]:
    with labels.open(newline="") as handle:
        return {row[0] for row in csv.reader(handle) if len(row) > 1 and row[1].strip() == "1"}


def aged(created_at: str) -> str:
    moment = datetime.fromisoformat(created_at.replace("Z", "+00:00")) - AGED_BY
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("statuses", type=Path)
    parser.add_argument("labels", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    scripted = scripted_ids(args.labels)
    with args.statuses.open("rb") as lines, args.out.open("wb") as out:
        for number, line in enumerate(lines, 1):
            try:
                out.write(orjson.dumps(age_scripted(orjson.loads(line), scripted)) + b"\n")
            except (orjson.JSONDecodeError, KeyError, ValueError, TypeError, AttributeError) as exc:
                # A stress copy with a line missing or half-changed would measure something else.
                raise SystemExit(f"{args.statuses}:{number}: not a Status entity with a valid created_at ({exc})") from None


def age_scripted(status: dict, scripted: set[str]) -> dict:
    """The status with its account (and a boosted status's account) aged if scripted."""
    for account in (status["account"], (status.get("reblog") or {}).get("account")):
        if account and account.get("id") in scripted and account.get("created_at"):
            account["created_at"] = aged(account["created_at"])
    return status


if __name__ == "__main__":
    main()
