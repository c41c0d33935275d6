"""Mastodon API entities (Status, Account) to botwatch records.

Input is the JSON exactly as the API returns it (a dict from ``json.loads``; Mastodon.py's
``AttribAccessDict`` is a dict too, though it has already turned dates into datetimes, which is
accepted as well). Fields the spec marks nullable may be null; fields it marks required but that
are missing or unusable raise :class:`~detector.errors.InputError` naming the field, so a bad
line in an archive is reported rather than scored as garbage.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Any

from detector.errors import InputError
from detector.normalise.html import clean_text, link_domain, parse_html
from detector.records import Author, Mention, Post, Provenance

PLATFORM = "mastodon"
_DEFAULT_AVATAR_MARKERS = ("/avatars/original/missing.png", "missing.png")


def parse_time(value: Any, *, field: str) -> datetime:
    """An API timestamp (``2019-12-08T03:48:33.901Z`` or a bare date) as an aware UTC datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    if not isinstance(value, str) or not value:
        raise InputError(f"{field}: expected an ISO 8601 timestamp, got {_preview(value)}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{field}: expected an ISO 8601 timestamp, got {_preview(value)}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _optional_time(value: Any, *, field: str) -> datetime | None:
    if value is None or value == "":
        return None
    return parse_time(value, field=field)


def _preview(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _id(value: Any, *, field: str) -> str:
    """Ids are strings in the API; accept ints (some archives store them so) but nothing else."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise InputError(f"{field}: expected a non-empty id string, got {_preview(value)}")


def _optional_id(value: Any, *, field: str) -> str | None:
    return None if value is None else _id(value, field=field)


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    """An array field; anything else (null, or a server's odd scalar) counts as empty."""
    return value if isinstance(value, list) else []


def _is_mapping(value: Any) -> bool:
    """A JSON object. Nearly always a dict (or null, for a missing card): both are answered before
    asking the ABC, which costs ~6x more."""
    return isinstance(value, dict) or (value is not None and isinstance(value, Mapping))


def _require_mapping(value: Any, *, field: str) -> Mapping[str, Any]:
    if not _is_mapping(value):
        raise InputError(f"{field}: expected a JSON object, got {_preview(value)}")
    return value


def normalise_account(data: Mapping[str, Any], *, instance: str) -> Author:
    """A Mastodon Account entity as an :class:`Author`."""
    data = _require_mapping(data, field="account")
    avatar = _str(data.get("avatar")) or _str(data.get("avatar_static"))
    acct = _str(data.get("acct")) or _str(data.get("username"))
    if not acct:
        raise InputError("account.acct: missing (and no username either)")
    return Author(
        platform=PLATFORM,
        instance=instance,
        id=_id(data.get("id"), field="account.id"),
        acct=acct,
        display_name=clean_text(_str(data.get("display_name"))),
        created_at=_optional_time(data.get("created_at"), field="account.created_at"),
        followers=_count(data.get("followers_count")),
        following=_count(data.get("following_count")),
        statuses=_count(data.get("statuses_count")),
        bot=data.get("bot") if isinstance(data.get("bot"), bool) else None,
        bio=parse_html(_str(data.get("note"))).text,
        default_avatar=(any(marker in avatar for marker in _DEFAULT_AVATAR_MARKERS) if avatar else None),
        url=_str(data.get("url")) or None,
        last_status_at=_optional_time(data.get("last_status_at"), field="account.last_status_at"),
    )


def normalise_status(
    data: Mapping[str, Any],
    *,
    instance: str,
    provenance: Provenance | None = None,
    keep_raw: bool = True,
    author: Author | None = None,
) -> Post:
    """A Mastodon Status entity as a :class:`Post`.

    A boost (``reblog`` set) is kept as the booster's post with ``is_reblog``; the boosted
    status is a separate record the caller may normalise too. ``author``, when given, is used
    instead of normalising ``data["account"]`` again: archive readers that see one account on
    thousands of lines keep its normalised form (see ``detector.offline``).
    """
    data = _require_mapping(data, field="status")
    status_id = _id(data.get("id"), field="status.id")
    try:
        if author is None:
            author = normalise_account(_require_mapping(data.get("account"), field="status.account"), instance=instance)
        parsed = parse_html(_str(data.get("content")))
        mentions = _mentions(data.get("mentions"))  # before the fields below: a bad id is reported first
        links = _with_card(parsed.links, data.get("card"))
        # Positional, in field order: calling a class with keywords builds a dict of them first, and
        # that made a Post cost 1.4 us instead of 0.33. Each line names the field it fills.
        return Post(
            PLATFORM,  # platform
            instance,  # instance
            status_id,  # id
            parse_time(data.get("created_at"), field="status.created_at"),  # created_at
            author,  # author
            parsed.text,  # text
            _str(data.get("url")) or None,  # url
            _str(data.get("uri")) or None,  # uri
            _str(data.get("language")) or None,  # language
            _optional_id(data.get("in_reply_to_id"), field="status.in_reply_to_id"),  # parent_id
            _optional_id(data.get("in_reply_to_account_id"), field="status.in_reply_to_account_id"),  # parent_author_id
            mentions,  # mentions
            _hashtags(data.get("tags"), parsed.hashtags),  # hashtags
            links,  # links
            _domains(links),  # link_domains
            _str(data.get("visibility")) or None,  # visibility
            bool(data.get("sensitive")),  # sensitive
            clean_text(_str(data.get("spoiler_text"))),  # spoiler_text
            data.get("reblog") is not None,  # is_reblog
            provenance,  # provenance
            data if keep_raw else None,  # raw
        )
    except InputError as exc:
        raise InputError(f"status {status_id}: {exc}") from None


def _mentions(value: Any) -> tuple[Mention, ...]:
    """The ``mentions`` array as records (entries that are not objects are skipped)."""
    return tuple([
        Mention(_id(m.get("id"), field="status.mentions[].id"), _str(m.get("acct")) or _str(m.get("username")))
        for m in _list(value)
        if _is_mapping(m)
    ])


def _hashtags(tags: Any, from_html: tuple[str, ...]) -> tuple[str, ...]:
    """The ``tags`` array's names, then the content's hashtags: lower case, each once, in order."""
    if not tags and not from_html:
        return ()  # the usual reply: no hashtag at all
    names = [_str(t.get("name")).lower() for t in _list(tags) if _is_mapping(t)]
    return tuple(dict.fromkeys([name for name in names if name] + list(from_html)))


def _with_card(links: tuple[str, ...], card: Any) -> tuple[str, ...]:
    """The content's links plus the preview card's, which servers may show without linking it."""
    if _is_mapping(card) and _str(card.get("url")) and card["url"] not in links:
        return links + (card["url"],)
    return links


def _domains(links: tuple[str, ...]) -> tuple[str, ...]:
    """The hosts the links point to, each once, in order."""
    if not links:
        return ()
    return tuple(dict.fromkeys([domain for domain in map(link_domain, links) if domain]))
