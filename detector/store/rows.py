"""How records map onto table rows and back: the one place that knows both shapes.

Reads select columns under prefixed labels (``p_text``, ``a_acct``, ``parent_text``) so that a
post, its author and the posts it relates to come back in one row without name clashes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql import ColumnElement

from detector.records import Author, Mention, ParentInfo, Post, Provenance
from detector.store.coltypes import dump_json, safe_text
from detector.store.records import AccountScore, ReplyScore

MAX_COUNT = 2**63 - 1  # a hostile follower count must not make a whole page fail to store
POST_FIELDS = (
    "platform", "instance", "post_id", "created_at", "text", "url", "uri", "language", "parent_id",
    "parent_author_id", "mentions", "hashtags", "links", "link_domains", "visibility", "sensitive",
    "spoiler_text", "is_reblog", "source", "route", "fetched_at",
)  # fmt: skip
AUTHOR_FIELDS = (
    "platform", "instance", "account_id", "acct", "display_name", "created_at", "followers", "following",
    "statuses", "bot", "bio", "default_avatar", "url", "last_status_at",
)  # fmt: skip
REPLY_SCORE_FIELDS = ("score", "label", "reasons", "features", "scored_at")
ACCOUNT_SCORE_FIELDS = ("score", "label", "reasons", "evidence", "replies", "scored_at")


def clean_key(key: tuple[str, str, str]) -> tuple[str, str, str]:
    """A key as stored (see :func:`safe_text`), so that lookups match what upserts wrote."""
    return (safe_text(key[0]), safe_text(key[1]), safe_text(key[2]))


def author_key(author: Author) -> tuple[str, str, str]:
    return clean_key((author.platform, author.instance, author.id))


def fetched_at(post: Post, default: datetime) -> datetime:
    """When the post was fetched: its provenance says, else the caller's time."""
    provenance = post.provenance
    return provenance.fetched_at if provenance is not None and provenance.fetched_at is not None else default


def _count(value: int | None) -> int | None:
    return None if value is None else min(max(value, 0), MAX_COUNT)


# ---- records to rows ------------------------------------------------------------------------


def account_row(author: Author, seen_at: datetime) -> dict[str, Any]:
    platform, instance, account_id = author_key(author)
    return {
        "platform": platform, "instance": instance, "account_id": account_id, "acct": author.acct,
        "display_name": author.display_name, "created_at": author.created_at,
        "followers": _count(author.followers), "following": _count(author.following),
        "statuses": _count(author.statuses), "bot": author.bot, "bio": author.bio,
        "default_avatar": author.default_avatar, "url": author.url, "last_status_at": author.last_status_at,
        "seen_at": seen_at, "first_seen_at": seen_at,
    }  # fmt: skip


def post_row(post: Post, account_id: int, when: datetime) -> dict[str, Any]:
    platform, instance, post_id = clean_key(post.key)
    provenance = post.provenance
    return {
        "platform": platform, "instance": instance, "post_id": post_id, "account_id": account_id,
        "created_at": post.created_at, "text": post.text, "url": post.url, "uri": post.uri,
        "language": post.language, "parent_id": post.parent_id, "parent_author_id": post.parent_author_id,
        "mentions": [[m.id, m.acct] for m in post.mentions], "hashtags": list(post.hashtags),
        "links": list(post.links), "link_domains": list(post.link_domains), "visibility": post.visibility,
        "sensitive": post.sensitive, "spoiler_text": post.spoiler_text, "is_reblog": post.is_reblog,
        "source": provenance.source if provenance else None,
        "route": provenance.route if provenance else None,
        "fetched_at": fetched_at(post, when), "raw": None if post.raw is None else dump_json(post.raw),
    }  # fmt: skip


def trigger_link_row(
    watch_id: int, post_id: int, author_id: int, post: Post, seen_at: datetime, route: str
) -> dict[str, Any]:
    return {
        "watch_id": watch_id, "post_id": post_id, "role": "trigger", "route": route, "trigger_post_id": None,
        "created_at": post.created_at, "first_seen_at": seen_at, "author_id": author_id,
    }  # fmt: skip


def reply_link_row(
    watch_id: int, post_id: int, author_id: int, post: Post, seen_at: datetime, trigger_id: int
) -> dict[str, Any]:
    return {
        "watch_id": watch_id, "post_id": post_id, "role": "reply", "route": None,
        "trigger_post_id": trigger_id, "created_at": post.created_at, "first_seen_at": seen_at,
        "author_id": author_id,
    }  # fmt: skip


def tracked_row(watch_id: int, post_id: int, due: datetime, until: datetime) -> dict[str, Any]:
    return {
        "watch_id": watch_id, "post_id": post_id, "next_check_at": due, "track_until": until, "checks": 0,
        "last_checked_at": None, "added_at": due,
    }  # fmt: skip


def reply_score_row(score: ReplyScore, post_id: int, model_version: str) -> dict[str, Any]:
    return {
        "post_id": post_id, "model_version": model_version, "score": float(score.score), "label": score.label,
        "reasons": list(score.reasons), "features": dict(score.features), "scored_at": score.scored_at,
    }  # fmt: skip


def account_score_row(score: AccountScore, account_id: int, model_version: str) -> dict[str, Any]:
    return {
        "account_id": account_id, "model_version": model_version, "score": float(score.score),
        "label": score.label, "reasons": list(score.reasons), "evidence": dict(score.evidence),
        "replies": score.replies, "scored_at": score.scored_at,
    }  # fmt: skip


# ---- selecting ------------------------------------------------------------------------------


def prefixed(table: Any, prefix: str, names: Iterable[str]) -> list[ColumnElement[Any]]:
    return [table.c[name].label(f"{prefix}_{name}") for name in names]


def post_columns(p: Any, a: Any) -> list[ColumnElement[Any]]:
    """A post (``p``) and its author (``a``), for :func:`post_from`."""
    return prefixed(p, "p", POST_FIELDS) + prefixed(a, "a", AUTHOR_FIELDS)


def parent_columns(p: Any, a: Any, prefix: str) -> list[ColumnElement[Any]]:
    """What :class:`ParentInfo` holds of a post and its author, for :func:`parent_from`."""
    return prefixed(p, prefix, ("post_id", "created_at", "text", "hashtags")) + prefixed(
        a, prefix, ("account_id", "acct")
    )


def is_parent(parent: Any, child: Any) -> ColumnElement[bool]:
    return and_(
        parent.c.platform == child.c.platform,
        parent.c.instance == child.c.instance,
        parent.c.post_id == child.c.parent_id,
    )


# ---- rows to records ------------------------------------------------------------------------


def post_from(m: RowMapping) -> Post:
    """The post of :func:`post_columns`, with ``p_raw`` as its raw JSON if selected."""
    author = Author(
        platform=m["a_platform"], instance=m["a_instance"], id=m["a_account_id"], acct=m["a_acct"],
        display_name=m["a_display_name"], created_at=m["a_created_at"], followers=m["a_followers"],
        following=m["a_following"], statuses=m["a_statuses"], bot=m["a_bot"], bio=m["a_bio"],
        default_avatar=m["a_default_avatar"], url=m["a_url"], last_status_at=m["a_last_status_at"],
    )  # fmt: skip
    provenance = (
        None if m["p_source"] is None else Provenance(m["p_source"], m["p_route"] or "", m["p_fetched_at"])
    )
    raw = m.get("p_raw")
    return Post(
        platform=m["p_platform"], instance=m["p_instance"], id=m["p_post_id"], created_at=m["p_created_at"],
        author=author, text=m["p_text"], url=m["p_url"], uri=m["p_uri"], language=m["p_language"],
        parent_id=m["p_parent_id"], parent_author_id=m["p_parent_author_id"],
        mentions=tuple(Mention(mention_id, acct) for mention_id, acct in m["p_mentions"]),
        hashtags=tuple(m["p_hashtags"]), links=tuple(m["p_links"]), link_domains=tuple(m["p_link_domains"]),
        visibility=m["p_visibility"], sensitive=m["p_sensitive"], spoiler_text=m["p_spoiler_text"],
        is_reblog=m["p_is_reblog"], provenance=provenance, raw=None if raw is None else json.loads(raw),
    )  # fmt: skip


def parent_from(m: RowMapping, prefix: str) -> ParentInfo | None:
    """The post of :func:`parent_columns`, ``None`` when the outer join found none."""
    if m[f"{prefix}_post_id"] is None:
        return None
    return ParentInfo(
        id=m[f"{prefix}_post_id"],
        created_at=m[f"{prefix}_created_at"],
        author_id=m[f"{prefix}_account_id"],
        author_acct=m[f"{prefix}_acct"],
        text=m[f"{prefix}_text"],
        hashtags=tuple(m[f"{prefix}_hashtags"]),
    )


def reply_score_from(m: RowMapping, prefix: str, post: Post) -> ReplyScore | None:
    if m[f"{prefix}_score"] is None:
        return None
    s = {name: m[f"{prefix}_{name}"] for name in REPLY_SCORE_FIELDS}
    return ReplyScore(post.key, s["score"], s["label"], s["scored_at"], tuple(s["reasons"]), s["features"])


def account_score_from(m: RowMapping, prefix: str, author: Author) -> AccountScore | None:
    if m[f"{prefix}_score"] is None:
        return None
    s = {name: m[f"{prefix}_{name}"] for name in ACCOUNT_SCORE_FIELDS}
    key = (author.platform, author.instance, author.id)
    return AccountScore(
        key, s["score"], s["label"], s["scored_at"], tuple(s["reasons"]), s["evidence"], s["replies"]
    )
