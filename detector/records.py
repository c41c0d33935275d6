"""Platform-neutral records: the one shape every source yields and everything downstream reads.

A source (Mastodon today; Twitter/X, twarc2 archives and Bluesky next) turns its API's JSON into
these records, which nothing changes once built. Features, scoring, summaries and the store never look at platform JSON,
except the store, which keeps ``raw`` so that nothing fetched is ever lost and records can be
re-derived when normalisation improves.

Identity is ``(platform, instance, id)``: ids are only unique within the server that issued
them (the same remote status has a different id on every Mastodon instance that knows it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

# Records are hashable and compare by value, as frozen dataclasses would, but are not frozen: a
# frozen dataclass sets each field through object.__setattr__, which made building a Post (done
# for every line of an archive) cost 2.5 µs instead of 0.25. Nothing assigns to a record's field.
_record = dataclass(slots=True, unsafe_hash=True)


@_record
class Mention:
    """An account named in a post; ``acct`` is ``user`` for local and ``user@host`` for remote."""

    id: str
    acct: str


@_record
class Author:
    """The account that wrote a post, as the source saw it when the post was fetched.

    Counts are snapshots: they drift, so the store keeps the latest and features use the
    value at scoring time. ``None`` means the platform did not say (not zero).
    """

    platform: str
    instance: str
    id: str
    acct: str
    display_name: str = ""
    created_at: datetime | None = None
    followers: int | None = None
    following: int | None = None
    statuses: int | None = None
    bot: bool | None = None
    bio: str = ""
    default_avatar: bool | None = None
    url: str | None = None
    last_status_at: datetime | None = None

    @property
    def handle(self) -> str:
        """``acct`` without a remote host: what brand-name patterns are matched against."""
        return self.acct.split("@", 1)[0]


@_record
class Provenance:
    """Where and when a record was fetched: researchers need it to reproduce a collection."""

    source: str  # "mastodon-api", "jsonl-archive", ...
    route: str  # "hashtag:vacuum", "public", "search:vacuum", "context:1234", "file:archive.jsonl"
    fetched_at: datetime | None = None


@_record
class Post:
    """One post (a status, tweet or skeet), normalised.

    ``text`` is plain text with HTML removed and entities decoded, mentions kept as ``@acct``;
    ``parent_id`` is the post this one replies to (``None`` for a top-level post).
    """

    platform: str
    instance: str
    id: str
    created_at: datetime
    author: Author
    text: str
    url: str | None = None
    uri: str | None = None
    language: str | None = None
    parent_id: str | None = None
    parent_author_id: str | None = None
    mentions: tuple[Mention, ...] = ()
    hashtags: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    link_domains: tuple[str, ...] = ()
    visibility: str | None = None
    sensitive: bool = False
    spoiler_text: str = ""
    is_reblog: bool = False
    provenance: Provenance | None = None
    raw: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def is_reply(self) -> bool:
        return self.parent_id is not None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.platform, self.instance, self.id)


@_record
class ParentInfo:
    """What a reply's parent post contributes to scoring the reply.

    Kept apart from :class:`Post` so that scorers can get it from wherever the parent lives (the
    store, an archive's compact index, or a Snowflake id alone when only the time is known).
    """

    id: str
    created_at: datetime | None
    author_id: str | None = None
    author_acct: str | None = None
    text: str = ""
    hashtags: tuple[str, ...] = ()

    @classmethod
    def of(cls, post: Post) -> "ParentInfo":
        return cls(post.id, post.created_at, post.author.id, post.author.acct, post.text, post.hashtags)
