"""Account signals from the profile alone: pure functions of an :class:`Author` at a moment.

Every value here exists on Mastodon, Twitter/X (the cresci data the profile model learns from)
and Bluesky alike, so one model reads them all; platform-only fields (Twitter's favourites and
listed counts, profile colours, language) are left out on purpose, because a model that leans
on them cannot score a Mastodon account. Counts are the snapshot the source saw; the age is
taken when the reply was posted, not when it was scored, so re-scoring an archive years later
gives the same answer.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

from detector.records import Author

# Order matters: it is the column order of the profile model's input.
PROFILE_FEATURES = (
    "log_age_days",
    "log_statuses",
    "log_followers",
    "log_following",
    "log_statuses_per_day",
    "follow_balance",
    "default_avatar",
    "empty_bio",
    "bio_has_link",
    "handle_digit_run",
    "handle_length",
    "name_is_handle",
    "brand_like_name",
)
NAN = float("nan")
_DIGIT_RUN = re.compile(r"\d+")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_LINK = re.compile(r"https?://|www\.|\b[a-z0-9-]+\.(?:com|net|org|ly|io|shop|store)\b", re.I)
# Words that name a business rather than a person. Generic commerce English; the watched
# keywords (a product name in the handle, like @VacuumRus) are added at scoring time.
_BUSINESS = re.compile(
    r"(?:^|[^a-z])(?:shop|store|official|deals?|sales?|outlet|market|mart|inc|llc|ltd|corp|company|co"
    r"|services?|solutions?|marketing|media|digital|agency|ventures?|group|brand|boutique|direct"
    r"|online|supply|supplies|wholesale|depot|hq|reviews?|offers?|promo|discounts?|express|factory"
    r"|emporium|traders?|trading|repairs?|rentals?|clinic|studio|labs?|r ?us)(?:$|[^a-z])"
)
_CAMEL_PARTS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


@dataclass(frozen=True, slots=True)
class ProfileSnapshot:
    """The profile facts a reason can quote, next to the model's feature vector."""

    age_days: float | None
    statuses: int | None
    followers: int | None
    following: int | None
    statuses_per_day: float | None
    default_avatar: bool | None
    empty_bio: bool
    bio_has_link: bool
    handle_digit_run: int
    handle_length: int
    name_is_handle: bool
    brand_like_name: bool
    bot_flag: bool | None

    def vector(self) -> list[float]:
        """The profile model's input, in :data:`PROFILE_FEATURES` order (NaN = unknown)."""
        return [
            _log(self.age_days),
            _log(self.statuses),
            _log(self.followers),
            _log(self.following),
            _log(self.statuses_per_day),
            NAN if self.followers is None or self.following is None else math.log1p(self.followers) - math.log1p(self.following),
            NAN if self.default_avatar is None else float(self.default_avatar),
            float(self.empty_bio),
            float(self.bio_has_link),
            float(self.handle_digit_run),
            float(self.handle_length),
            float(self.name_is_handle),
            float(self.brand_like_name),
        ]


def _log(value: float | None) -> float:
    return NAN if value is None else math.log1p(max(value, 0.0))


def split_name(name: str) -> list[str]:
    """Words of a handle or display name, splitting CamelCase: 'VacuumRus' → ['vacuum', 'rus']."""
    return [part.lower() for part in _CAMEL_PARTS.findall(name)]


def brand_like(handle: str, display_name: str) -> bool:
    """Whether a handle or display name reads as a business ('Pacific Vacuum' is not, alone)."""
    spaced = " ".join(split_name(handle) + ["|"] + split_name(display_name))
    return bool(_BUSINESS.search(spaced))


def longest_digit_run(handle: str) -> int:
    return max((len(run) for run in _DIGIT_RUN.findall(handle)), default=0)


def name_is_handle(handle: str, display_name: str) -> bool:
    """An empty display name, or one that only repeats the handle: set up by a script, typically."""
    name = _NOT_ALNUM.sub("", display_name.lower())
    return not name or name == _NOT_ALNUM.sub("", handle.lower())


def age_days(author: Author, at: datetime) -> float | None:
    """Account age in days when ``at`` happened; ``None`` when the creation date is unknown."""
    if author.created_at is None:
        return None
    return max((at - author.created_at).total_seconds() / 86400.0, 0.0)


def profile_snapshot(author: Author, at: datetime) -> ProfileSnapshot:
    age = age_days(author, at)
    per_day = None
    if age is not None and author.statuses is not None:
        per_day = author.statuses / max(age, 1.0)
    handle = author.handle
    bio = author.bio.strip()
    return ProfileSnapshot(
        age_days=age,
        statuses=author.statuses,
        followers=author.followers,
        following=author.following,
        statuses_per_day=per_day,
        default_avatar=author.default_avatar,
        empty_bio=not bio,
        bio_has_link=bool(_LINK.search(bio)),
        handle_digit_run=longest_digit_run(handle),
        handle_length=len(handle),
        name_is_handle=name_is_handle(handle, author.display_name),
        brand_like_name=brand_like(handle, author.display_name),
        bot_flag=author.bot,
    )


def profile_vector(author: Author, at: datetime) -> list[float]:
    """The profile model's input for ``author`` at ``at`` (see :data:`PROFILE_FEATURES`)."""
    return profile_snapshot(author, at).vector()
