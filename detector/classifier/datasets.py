"""Loaders for the labelled data the models learn from, as botwatch's own records.

Third-party sets (see ``/work/shared/data/README.md`` and the model card for citations):

- YouTube Spam Collection (Alberto, Lochter & Almeida 2015; CC BY 4.0): comments on five music
  videos; grouped by video, so evaluation can hold whole videos out.
- SMS Spam Collection v.1 (Almeida, Gómez Hidalgo & Yamakami 2011; CC BY 4.0): grouped by
  folded text, so the same spam template never sits on both sides of a split.
- cresci-2017 social spambots #1 and genuine accounts (Cresci et al. 2017) and the cresci-2015
  "BAS" fake-follower baseline (Cresci et al. 2015): Twitter profiles, research use only, read
  from where they lie and never copied into the repository. Each row is turned into an
  :class:`~detector.records.Author` so that the profile model reads exactly what it reads on
  Mastodon. Ages are taken at the data set's ``updated`` date, one date for both classes: the
  ``crawled_at`` dates differ by class (spambots crawled in 2014, genuine accounts in 2015) and
  would leak the label.

Every loader raises :class:`~detector.errors.InputError` naming the file when it is missing or
not the expected shape.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from detector.errors import InputError
from detector.features.text import fold
from detector.normalise.html import parse_html
from detector.records import Author

DATA_ENV = "BOTWATCH_TRAINING_DATA"


def default_data_dir() -> Path:
    """``$BOTWATCH_TRAINING_DATA``, else ``../shared/data`` next to the repository."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


@dataclass(frozen=True, slots=True)
class TextExample:
    text: str
    label: int  # 1 = spam
    group: str  # what must not be split across train and test
    source: str


@dataclass(frozen=True, slots=True)
class ProfileExample:
    author: Author
    at: datetime  # when the profile was observed
    label: int  # 1 = bot
    group: str
    source: str
    kind: str


def open_csv(path: Path) -> Iterator[dict[str, str]]:
    """Rows of a data-set CSV, with a hint saying where the data should be when it is missing."""
    if not path.is_file():
        raise InputError(f"{path}: training data not found", hint=f"set {DATA_ENV} to the folder holding the data sets")
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        yield from csv.DictReader(handle)


def _require(row: dict[str, str], path: Path, *names: str) -> None:
    missing = [n for n in names if n not in row]
    if missing:
        raise InputError(f"{path}: expected columns {', '.join(missing)}")


def load_youtube(root: Path) -> list[TextExample]:
    """YouTube comments; ``group`` is the video (the file name's id part)."""
    folder = root / "youtube_spam_collection"
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise InputError(f"{folder}: no YouTube Spam Collection CSV files", hint=f"set {DATA_ENV}")
    out = []
    for path in files:
        video = path.stem.split("-", 1)[-1]
        for row in open_csv(path):
            _require(row, path, "CONTENT", "CLASS")
            # Comments carry HTML (<br />, <a href>, entities) and a trailing U+FEFF.
            text = parse_html(row["CONTENT"]).text
            out.append(TextExample(text, int(row["CLASS"]), f"youtube:{video}", "youtube"))
    return out


def load_sms(root: Path) -> list[TextExample]:
    """SMS messages; ``group`` is the folded text, so repeated templates stay on one side."""
    path = root / "sms_spam_collection" / "SMSSpamCollection"
    if not path.is_file():
        raise InputError(f"{path}: training data not found", hint=f"set {DATA_ENV}")
    out = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            label, sep, text = line.rstrip("\n").partition("\t")
            if not sep or label not in ("ham", "spam"):
                raise InputError(f"{path}:{number}: expected 'ham|spam<TAB>text'")
            out.append(TextExample(text, int(label == "spam"), "sms:" + " ".join(fold(text).split()), "sms"))
    return out


def _twitter_time(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        return None


def _count(value: str) -> int | None:
    try:
        return max(int(float(value)), 0)
    except ValueError:
        return None


def _flag(value: str) -> bool:
    return value.strip() in ("1", "1.0", "True", "true")


def twitter_author(row: dict[str, str]) -> Author:
    """A Twitter v1.1 user row (as the cresci CSVs hold it) as an :class:`Author`."""
    return Author(
        platform="twitter",
        instance="twitter.com",
        id=row["id"],
        acct=row["screen_name"],
        display_name=row.get("name", ""),
        created_at=_twitter_time(row.get("created_at", "")),
        followers=_count(row.get("followers_count", "")),
        following=_count(row.get("friends_count", "")),
        statuses=_count(row.get("statuses_count", "")),
        bot=None,
        bio=row.get("description", "") or "",
        default_avatar=_flag(row.get("default_profile_image", "")),
    )


def _observed(value: str, path: Path) -> datetime:
    try:
        return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)
    except ValueError:
        raise InputError(f"{path}: 'updated' is not a date: {value!r}") from None


def load_cresci2017(root: Path) -> list[ProfileExample]:
    """cresci-2017 social spambots #1 (label 1) and genuine accounts (label 0)."""
    folder = root / "cresci2017_users_ss1_genuine"
    out = []
    for name, label, kind in (("spam_user.csv", 1, "social_spambot_1"), ("genuine_users.csv", 0, "genuine")):
        path = folder / name
        for row in open_csv(path):
            _require(row, path, "id", "screen_name", "created_at", "updated")
            author = twitter_author(row)
            out.append(ProfileExample(author, _observed(row["updated"], path), label, f"cresci2017:{row['id']}", "cresci2017", kind))
    return out


def load_cresci2015(root: Path) -> list[ProfileExample]:
    """cresci-2015 BAS: humans (E13, TFP) label 0, fake followers (INT, FSF, TWT) label 1."""
    folder = root / "cresci2015_bas_users"
    fake_path = folder / "FAK_user_ids.csv"
    fake = {}
    for row in open_csv(fake_path):
        _require(row, fake_path, "id", "dataset")
        fake[row["id"]] = row["dataset"]
    path = folder / "bas_users.csv"
    out = []
    for row in open_csv(path):
        _require(row, path, "id", "screen_name", "created_at", "updated", "dataset")
        label = int(row["id"] in fake)
        kind = f"fake_follower_{fake[row['id']]}" if label else f"human_{row['dataset'].lower()}"
        out.append(ProfileExample(twitter_author(row), _observed(row["updated"], path), label, f"cresci2015:{row['id']}", "cresci2015", kind))
    return out
