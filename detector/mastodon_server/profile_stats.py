"""Measure the account-profile distributions that the simulated community draws from.

The simulator's account ages, follower/following counts and statuses per day come from the
cresci Twitter datasets (Cresci et al. 2015, "Fame for sale", and Cresci et al. 2017, "The
paradigm-shift of social spambots"). Those files may not be redistributed, so the simulator
carries only the quantiles this script prints; ``docs/simulation.md`` records the output and the
command, so anyone with the data can check them:

    python -m detector.mastodon_server.profile_stats /path/to/shared/data
"""

from __future__ import annotations

import csv
import sys
from datetime import datetime
from pathlib import Path
from typing import Iterable, Sequence

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
_TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"


def quantiles(values: Iterable[float], points: Sequence[float] = QUANTILES) -> list[float]:
    """Nearest-rank quantiles (no interpolation: the figures are counts)."""
    ordered = sorted(values)
    if not ordered:
        return []
    return [ordered[min(len(ordered) - 1, int(p * len(ordered)))] for p in points]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        return list(csv.DictReader(handle))


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _age_days(row: dict[str, str]) -> int | None:
    """Days between account creation and the crawl (the profile's age when it was observed)."""
    observed = row.get("crawled_at") or row.get("updated") or ""
    try:
        created = datetime.strptime(row["created_at"], _TWITTER_TIME)
        seen = datetime.strptime(observed[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=created.tzinfo)
    except (KeyError, ValueError):
        return None
    return max((seen - created).days, 0)


def profile_summary(rows: list[dict[str, str]]) -> dict[str, list[float] | float | int]:
    """Quantiles of the profile fields the simulator uses, for one group of accounts."""
    followers = [v for r in rows if (v := _int(r.get("followers_count"))) is not None]
    friends = [v for r in rows if (v := _int(r.get("friends_count"))) is not None]
    statuses = [v for r in rows if (v := _int(r.get("statuses_count"))) is not None]
    ages = [a for r in rows if (a := _age_days(r)) is not None]
    per_day = [
        s / max(a, 1) for r in rows if (s := _int(r.get("statuses_count"))) is not None and (a := _age_days(r)) is not None
    ]
    default_image = sum(1 for r in rows if r.get("default_profile_image") in ("1", "True", "true"))
    empty_bio = sum(1 for r in rows if not (r.get("description") or "").strip() or r.get("description") == "NULL")
    return {
        "accounts": len(rows),
        "followers": quantiles(followers),
        "following": quantiles(friends),
        "statuses": quantiles(statuses),
        "age_days": quantiles(ages),
        "statuses_per_day": [round(x, 2) for x in quantiles(per_day)],
        "default_avatar_share": round(default_image / max(len(rows), 1), 3),
        "empty_bio_share": round(empty_bio / max(len(rows), 1), 3),
    }


def measure(data_dir: Path) -> dict[str, dict]:
    """Summaries for cresci-2017 genuine vs social spambots #1 and cresci-2015 humans vs fakes."""
    out: dict[str, dict] = {}
    c17 = data_dir / "cresci2017_users_ss1_genuine"
    if c17.is_dir():
        out["cresci2017 genuine"] = profile_summary(_rows(c17 / "genuine_users.csv"))
        out["cresci2017 social spambots #1"] = profile_summary(_rows(c17 / "spam_user.csv"))
    c15 = data_dir / "cresci2015_bas_users"
    if c15.is_dir():
        rows = _rows(c15 / "bas_users.csv")
        fake = {line.split(",")[0].strip().strip('"') for line in (c15 / "FAK_user_ids.csv").read_text().splitlines()[1:]}
        out["cresci2015 humans (E13, TFP)"] = profile_summary([r for r in rows if r["id"] not in fake])
        out["cresci2015 fake followers (INT, FSF, TWT)"] = profile_summary([r for r in rows if r["id"] in fake])
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    data_dir = Path(args[0] if args else "../shared/data")
    for group, summary in measure(data_dir).items():
        print(f"{group}:")
        for key, value in summary.items():
            print(f"  {key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
