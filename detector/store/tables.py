"""The database tables, as SQLAlchemy declarative classes named ``…Row``.

Posts and accounts have integer surrogate keys so that the large tables (``watch_posts``,
``reply_scores``) stay narrow and join fast at a million replies; their natural keys
``(platform, instance, id)`` are unique constraints, which is what every upsert conflicts on.
Ids are text: Snowflakes exceed 2**63 on some platforms and other platforms use strings.

Key indexes lead with the id, the selective column: with ``(platform, instance, ...)`` first,
PostgreSQL without statistics yet (a new database, before autovacuum's first ANALYZE) took the
parent-id index for the parent join and spent seconds filtering it.

Alembic owns the schema (``migrations/``); a change here needs a new revision, and
``tests/test_store_migrations.py`` fails until the two agree.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from detector.store.coltypes import SafeText, UTCDateTime

# Named constraints let later migrations drop or alter them by name, also on SQLite (batch mode).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MODEL_LABELS = ("bot", "suspect", "human")
USER_LABELS = ("bot", "human")
ROLES = ("trigger", "reply")

# BIGINT on PostgreSQL, but INTEGER on SQLite, where only INTEGER PRIMARY KEY is the rowid alias
# that autoincrements.
Id = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON(none_as_null=True)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class WatchRow(Base):
    """A watch from the config, by name; the row other tables hang off, and its lease: which
    worker polls it (``lease_owner``) until when, and ``lease_epoch``, raised on every change of
    owner so that a worker that lost the watch cannot renew it by mistake."""

    __tablename__ = "watches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(SafeText, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(Text)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_epoch: Mapped[int] = mapped_column(Integer, server_default="0")


class WorkerRow(Base):
    """A live ``botwatch run`` process and its heartbeat: the number of live workers sets each
    one's fair share of the watches. Rows past ``expires_at`` belong to dead workers."""

    __tablename__ = "workers"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AccountRow(Base):
    """The latest profile snapshot of an account (``seen_at`` says when it was taken)."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("account_id", "instance", "platform"), Index(None, "seen_at"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform: Mapped[str] = mapped_column(SafeText)
    instance: Mapped[str] = mapped_column(SafeText)
    account_id: Mapped[str] = mapped_column(SafeText)
    acct: Mapped[str] = mapped_column(SafeText)
    display_name: Mapped[str] = mapped_column(SafeText, default="")
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    followers: Mapped[int | None] = mapped_column(BigInteger)
    following: Mapped[int | None] = mapped_column(BigInteger)
    statuses: Mapped[int | None] = mapped_column(BigInteger)
    bot: Mapped[bool | None] = mapped_column(Boolean)
    bio: Mapped[str] = mapped_column(SafeText, default="")
    default_avatar: Mapped[bool | None] = mapped_column(Boolean)
    url: Mapped[str | None] = mapped_column(SafeText)
    last_status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PostRow(Base):
    """A post with everything :class:`detector.records.Post` holds, and the raw API JSON as text.

    ``raw`` is nullable so that retention can prune it before the rows themselves.
    """

    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("post_id", "instance", "platform"),
        Index(None, "parent_id", "instance", "platform"),
        Index(None, "account_id", "created_at"),
        Index(None, "created_at"),
        # Who wrote a post, without reading its wide row (raw JSON): the summary's counts by account.
        Index(None, "id", "account_id"),
        # Retention drops raw JSON oldest first: only the posts that still have it, so the
        # search stays as short as the raw-JSON horizon however long the rows are kept.
        Index(
            "ix_posts_created_at_raw_kept",
            "created_at",
            sqlite_where=text("raw IS NOT NULL"),
            postgresql_where=text("raw IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform: Mapped[str] = mapped_column(SafeText)
    instance: Mapped[str] = mapped_column(SafeText)
    post_id: Mapped[str] = mapped_column(SafeText)
    account_id: Mapped[int] = mapped_column(Id, ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    text: Mapped[str] = mapped_column(SafeText)
    url: Mapped[str | None] = mapped_column(SafeText)
    uri: Mapped[str | None] = mapped_column(SafeText)
    language: Mapped[str | None] = mapped_column(SafeText)
    parent_id: Mapped[str | None] = mapped_column(SafeText)
    parent_author_id: Mapped[str | None] = mapped_column(SafeText)
    mentions: Mapped[list[Any]] = mapped_column(Json)  # [[id, acct], ...]
    hashtags: Mapped[list[str]] = mapped_column(Json)
    links: Mapped[list[str]] = mapped_column(Json)
    link_domains: Mapped[list[str]] = mapped_column(Json)
    visibility: Mapped[str | None] = mapped_column(SafeText)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    spoiler_text: Mapped[str] = mapped_column(SafeText, default="")
    is_reblog: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str | None] = mapped_column(SafeText)
    route: Mapped[str | None] = mapped_column(SafeText)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    raw: Mapped[str | None] = mapped_column(Text)


class WatchPostRow(Base):
    """Which watch found which post, and how.

    ``role`` is ``trigger`` (found by a discovery ``route``) or ``reply`` (found in the context
    of the tracked post ``trigger_post_id``). ``created_at`` copies the post's, so that a day of
    one watch's replies is one index range; ``author_id`` copies the post's ``account_id``, so
    that the daily summary counts a day per author, and finds an author's replies in a watch,
    without reading ``posts``.
    """

    __tablename__ = "watch_posts"
    __table_args__ = (
        CheckConstraint(_one_of("role", ROLES), name="role"),
        # post_id last: a day of a watch's replies is read from the index alone (the summary's
        # counts, the scorer's search for unscored replies).
        Index(None, "watch_id", "role", "created_at", "post_id"),
        Index(None, "post_id"),
        Index(None, "trigger_post_id"),
        Index(None, "author_id", "watch_id", "role", "created_at", "post_id"),
    )

    watch_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("watches.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[int] = mapped_column(Id, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    route: Mapped[str | None] = mapped_column(SafeText)
    trigger_post_id: Mapped[int | None] = mapped_column(Id, ForeignKey("posts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    author_id: Mapped[int | None] = mapped_column(Id)  # NULL only in a migration's eye: always written


class TrackedPostRow(Base):
    """A post whose replies are re-fetched until ``track_until``; ``next_check_at`` NULL = done."""

    __tablename__ = "tracked_posts"
    __table_args__ = (Index(None, "watch_id", "next_check_at"), Index(None, "post_id"))

    watch_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("watches.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[int] = mapped_column(Id, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    track_until: Mapped[datetime] = mapped_column(UTCDateTime)
    checks: Mapped[int] = mapped_column(Integer, default=0)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CheckpointRow(Base):
    """Where a discovery route of a watch got to; written with the posts it covers."""

    __tablename__ = "checkpoints"

    watch_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("watches.id", ondelete="CASCADE"), primary_key=True
    )
    route: Mapped[str] = mapped_column(SafeText, primary_key=True)
    value: Mapped[str] = mapped_column(SafeText)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ScoringCursorRow(Base):
    """How far the scorer of a watch got: every reply of the watch posted before
    ``scored_before`` has a score by ``model_version`` (NULL: nothing is known yet).

    It keeps the search for unscored replies from reading every scored reply again each poll.
    Storing a reply posted before it moves it back, in the same transaction.
    """

    __tablename__ = "scoring_cursors"

    watch_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("watches.id", ondelete="CASCADE"), primary_key=True
    )
    model_version: Mapped[str] = mapped_column(SafeText, primary_key=True)
    scored_before: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AccountActivityRow(Base):
    """The classifier's incremental behaviour state for one account, opaque JSON to the store."""

    __tablename__ = "account_activity"

    account_id: Mapped[int] = mapped_column(
        Id, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[dict[str, Any]] = mapped_column(Json)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReplyScoreRow(Base):
    """One model version's verdict on one reply."""

    __tablename__ = "reply_scores"
    __table_args__ = (
        CheckConstraint(_one_of("label", MODEL_LABELS), name="label"),
        CheckConstraint("score >= 0 AND score <= 1", name="score"),
    )

    post_id: Mapped[int] = mapped_column(Id, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    model_version: Mapped[str] = mapped_column(SafeText, primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    label: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[str]] = mapped_column(Json)
    features: Mapped[dict[str, Any]] = mapped_column(Json)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AccountScoreRow(Base):
    """One model version's latest verdict on one account, with the evidence behind it."""

    __tablename__ = "account_scores"
    __table_args__ = (
        CheckConstraint(_one_of("label", MODEL_LABELS), name="label"),
        CheckConstraint("score >= 0 AND score <= 1", name="score"),
    )

    account_id: Mapped[int] = mapped_column(
        Id, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    model_version: Mapped[str] = mapped_column(SafeText, primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    label: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[str]] = mapped_column(Json)
    evidence: Mapped[dict[str, Any]] = mapped_column(Json)
    replies: Mapped[int] = mapped_column(Integer)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AccountLabelRow(Base):
    """A person's verdict on an account. Keyed naturally: accounts may be labelled before seen."""

    __tablename__ = "account_labels"
    __table_args__ = (CheckConstraint(_one_of("label", USER_LABELS), name="label"),)

    platform: Mapped[str] = mapped_column(SafeText, primary_key=True)
    instance: Mapped[str] = mapped_column(SafeText, primary_key=True)
    account_id: Mapped[str] = mapped_column(SafeText, primary_key=True)
    label: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(SafeText, default="")
    labelled_by: Mapped[str] = mapped_column(SafeText)
    labelled_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SummaryRow(Base):
    """The daily summary of one watch: exactly one row per watch and day."""

    __tablename__ = "summaries"

    watch_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("watches.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    markdown: Mapped[str] = mapped_column(SafeText)
    data: Mapped[dict[str, Any]] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# Core handles: the repository writes statements against tables, not ORM entities (no identity
# map or unit of work to pay for on a million rows).
WATCHES: Table = WatchRow.__table__  # type: ignore[assignment]
ACCOUNTS: Table = AccountRow.__table__  # type: ignore[assignment]
POSTS: Table = PostRow.__table__  # type: ignore[assignment]
WATCH_POSTS: Table = WatchPostRow.__table__  # type: ignore[assignment]
TRACKED: Table = TrackedPostRow.__table__  # type: ignore[assignment]
CHECKPOINTS: Table = CheckpointRow.__table__  # type: ignore[assignment]
ACTIVITY: Table = AccountActivityRow.__table__  # type: ignore[assignment]
SCORING_CURSORS: Table = ScoringCursorRow.__table__  # type: ignore[assignment]
REPLY_SCORES: Table = ReplyScoreRow.__table__  # type: ignore[assignment]
ACCOUNT_SCORES: Table = AccountScoreRow.__table__  # type: ignore[assignment]
LABELS: Table = AccountLabelRow.__table__  # type: ignore[assignment]
SUMMARIES: Table = SummaryRow.__table__  # type: ignore[assignment]
WORKERS: Table = WorkerRow.__table__  # type: ignore[assignment]
