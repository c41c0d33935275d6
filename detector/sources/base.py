"""What every source yields, and the protocol the poll job drives them through.

Mastodon is the first source; Twitter/X and Bluesky implement the same :class:`Source`. The
poll job only ever sees :class:`Page` s of :class:`~detector.records.Post` records.

Checkpoints are how a source resumes. Each discovery *route* (a hashtag timeline, the public
timeline, a search, a brand account's posts or mentions) has one, an opaque string the job stores
per watch and route. A page's ``checkpoint`` is the route's checkpoint *after* that page: store
the page's posts and its checkpoint in one transaction, and a crash re-fetches at most that one
page (upserts make that harmless) and never skips one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator, Mapping, Protocol, runtime_checkable

from detector.config import WatchConfig
from detector.records import Post


@dataclass(frozen=True, slots=True)
class Match:
    """Why a post counts for a watch: the route that found it and what it matched there.

    ``keywords`` and ``hashtags`` are the watch's own spellings (lower case); ``brand_accounts``
    the watch's brand accounts that wrote the post or are mentioned in it.
    """

    route: str
    keywords: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    brand_accounts: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.keywords or self.hashtags or self.brand_accounts)

    @property
    def reasons(self) -> tuple[str, ...]:
        """``("keyword:vacuum", "hashtag:vacuum", "brand:acme")``: compact, stable, for storage."""
        return (
            tuple(f"keyword:{k}" for k in self.keywords)
            + tuple(f"hashtag:{h}" for h in self.hashtags)
            + tuple(f"brand:{b}" for b in self.brand_accounts)
        )


@dataclass(frozen=True)
class Page:
    """One page of one discovery route, oldest-first after the route's checkpoint.

    ``posts`` are the posts that count for the watch (a page of the public timeline may have
    none and still move the checkpoint); ``matches`` says why each does, keyed by post id.
    ``checkpoint`` is the route's checkpoint once these posts are stored; ``None`` means
    "unchanged" (store nothing for the route).
    """

    route: str
    posts: tuple[Post, ...]
    checkpoint: str | None
    matches: Mapping[str, Match] = field(default_factory=dict)

    def match(self, post: Post) -> Match:
        return self.matches.get(post.id) or Match(self.route)


@runtime_checkable
class Source(Protocol):
    """A platform's posts, found by watch and resumed from per-route checkpoints."""

    platform: str
    instance: str

    def discover(self, watch: WatchConfig, checkpoints: Mapping[str, str], *, since: datetime) -> Iterator[Page]:
        """Pages of posts that count for ``watch``, every route in turn.

        ``checkpoints`` maps route names to what the job stored; a route without one starts at
        ``since`` (an aware datetime). Each route yields at most the source's page budget per
        call and resumes from its checkpoint on the next.
        """
        ...

    def context(self, post: Post) -> list[Post]:
        """The replies under ``post`` (its descendants), each normalised."""
        ...
