"""Mastodon REST API entities as plain dicts, shaped as Mastodon 4.3 serialises them.

Pure functions: no I/O, no clock. The simulated community and the test server build every JSON
body from these, so that clients (Mastodon.py, botwatch's normaliser, a researcher's own
script) see what a real server would send: Snowflake ids as strings, ``created_at`` with
milliseconds and ``Z``, an account's ``created_at`` at midnight UTC and ``last_status_at`` as a
date, status HTML with the same ``h-card`` mentions, ``hashtag`` links and shortened links with
``invisible``/``ellipsis`` spans that Mastodon's ``TextFormatter`` writes.

References: docs.joinmastodon.org/entities/{Status,Account,Context,Instance,V1_Instance,
Notification,Search,Error,PreviewCard,MediaAttachment,Tag} and Mastodon's
``app/lib/text_formatter.rb`` and ``lib/mastodon/snowflake.rb``.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, Sequence

MASTODON_VERSION = "4.3.2"
API_VERSIONS = {"mastodon": 2}
SNOWFLAKE_SHIFT = 16
_LINK_DISPLAY_LIMIT = 30


# ---------------------------------------------------------------- ids and times


def snowflake(ms: int, low: int = 0) -> int:
    """A Mastodon Snowflake: creation time in ms since the epoch above 16 low bits.

    Mastodon fills the low bits with a hash and a sequence; any 16-bit value keeps the
    property clients rely on, ``id >> 16 == created_at_ms``.
    """
    if not 0 <= low < (1 << SNOWFLAKE_SHIFT):
        raise ValueError(f"low bits out of range: {low}")
    return (ms << SNOWFLAKE_SHIFT) | low


def snowflake_ms(snowflake_id: int | str) -> int:
    """The creation time (ms since the epoch) encoded in a Snowflake id."""
    return int(snowflake_id) >> SNOWFLAKE_SHIFT


def ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def datetime_to_ms(when: datetime) -> int:
    if when.tzinfo is None:
        raise ValueError("naive datetime: give an aware UTC datetime")
    return int(round(when.timestamp() * 1000))


def iso_datetime(ms: int) -> str:
    """``2019-12-08T03:48:33.901Z``: Mastodon's Datetime format."""
    when = ms_to_datetime(ms)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def iso_midnight(ms: int) -> str:
    """An account's ``created_at``: since Mastodon 3.4 it resolves to midnight UTC of that day."""
    return ms_to_datetime(ms).strftime("%Y-%m-%dT00:00:00.000Z")


def iso_date(ms: int) -> str:
    """``last_status_at``: a date only, since Mastodon 3.1."""
    return ms_to_datetime(ms).strftime("%Y-%m-%d")


# ---------------------------------------------------------------- HTML as TextFormatter renders it

# A link runs to whitespace; the literal ``u00a0`` that broken spam scripts glue to their URLs
# ends it (twitter-text, which Mastodon uses, would not take it as part of the domain).
_LINK = re.compile(r"https?://[^\s<>\"\u00a0]+?(?=u00a0|[.,;:!?)\]'\"]*(?:\s|$|\u00a0))", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w/@])@([A-Za-z0-9_]+)(?:@([A-Za-z0-9.-]+\.[A-Za-z]{2,}))?")
_HASHTAG = re.compile(r"(?<![\w/&#])#([A-Za-z_][A-Za-z0-9_]*)")
_TOKENS = re.compile(f"{_LINK.pattern}|{_MENTION.pattern}|{_HASHTAG.pattern}", re.IGNORECASE)


def link_html(url: str) -> str:
    """A link shortened for display: scheme and ``www.`` invisible, the rest cut at 30 characters."""
    match = re.match(r"(https?://(?:www\.)?)(.*)", url, re.IGNORECASE | re.DOTALL)
    prefix, rest = (match.group(1), match.group(2)) if match else ("", url)
    shown, hidden = rest[:_LINK_DISPLAY_LIMIT], rest[_LINK_DISPLAY_LIMIT:]
    css = "ellipsis" if hidden else ""
    return (
        f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener" translate="no">'
        f'<span class="invisible">{html.escape(prefix)}</span><span class="{css}">{html.escape(shown)}</span>'
        f'<span class="invisible">{html.escape(hidden)}</span></a>'
    )


def mention_html(username: str, profile_url: str) -> str:
    return (
        f'<span class="h-card" translate="no"><a href="{html.escape(profile_url)}" class="u-url mention">'
        f"@<span>{html.escape(username)}</span></a></span>"
    )


def hashtag_html(tag: str, host: str) -> str:
    return (
        f'<a href="https://{host}/tags/{html.escape(tag.lower())}" class="mention hashtag" rel="tag">'
        f"#<span>{html.escape(tag)}</span></a>"
    )


def _inline_html(text: str, host: str, profiles: Mapping[str, str]) -> str:
    """One line of text with links, known mentions and hashtags turned into anchors."""
    out: list[str] = []
    position = 0
    for match in _TOKENS.finditer(text):
        token = match.group(0)
        if token[0] == "@":
            acct = token[1:].lower()
            url = profiles.get(acct)
            if url is None:  # Mastodon only links accounts it resolved
                continue
            piece = mention_html(token[1:].split("@", 1)[0], url)
        elif token[0] == "#":
            piece = hashtag_html(token[1:], host)
        else:
            piece = link_html(token)
        out.append(html.escape(text[position : match.start()], quote=False))
        out.append(piece)
        position = match.end()
    out.append(html.escape(text[position:], quote=False))
    return "".join(out)


def render_content(text: str, *, host: str, profiles: Mapping[str, str] | None = None) -> str:
    """Plain status text as Mastodon's HTML: ``<p>`` per paragraph, ``<br />`` per line break.

    ``profiles`` maps a lower-case ``acct`` (``user`` or ``user@host``) to its profile URL;
    mentions of other names stay plain text, as Mastodon leaves unresolvable ones.
    """
    profiles = profiles or {}
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip("\n")) if p.strip()]
    if not paragraphs:
        return ""
    return "".join(
        "<p>" + "<br />".join(_inline_html(line, host, profiles) for line in paragraph.split("\n")) + "</p>"
        for paragraph in paragraphs
    )


def extract_hashtags(text: str) -> list[str]:
    """Hashtags in the order they appear, deduplicated case-insensitively (as Mastodon stores them)."""
    seen: dict[str, str] = {}
    for match in _TOKENS.finditer(text):
        token = match.group(0)
        if token[0] == "#":
            seen.setdefault(token[1:].lower(), token[1:])
    return list(seen.values())


def extract_links(text: str) -> list[str]:
    return [m.group(0) for m in _TOKENS.finditer(text) if m.group(0)[0] not in "@#"]


# ---------------------------------------------------------------- entities


def default_avatar(host: str) -> str:
    return f"https://{host}/avatars/original/missing.png"


def default_header(host: str) -> str:
    return f"https://{host}/headers/original/missing.png"


def field_entity(name: str, value_html: str, verified_at_ms: int | None = None) -> dict[str, Any]:
    return {"name": name, "value": value_html, "verified_at": iso_datetime(verified_at_ms) if verified_at_ms else None}


def account_entity(
    *,
    id: str,
    username: str,
    instance_host: str,
    account_host: str | None = None,
    display_name: str = "",
    note_html: str = "",
    created_ms: int,
    bot: bool = False,
    locked: bool = False,
    discoverable: bool | None = True,
    indexable: bool = False,
    group: bool = False,
    avatar: str | None = None,
    header: str | None = None,
    followers_count: int = 0,
    following_count: int = 0,
    statuses_count: int = 0,
    last_status_ms: int | None = None,
    fields: Sequence[Mapping[str, Any]] = (),
    hide_collections: bool | None = None,
    noindex: bool = False,
) -> dict[str, Any]:
    """An Account. ``account_host`` is ``None`` for a local account, the remote domain otherwise.

    Remote accounts have ``acct = user@domain`` and a profile URL on their own server;
    ``noindex`` is only sent for local accounts, as Mastodon does.
    """
    home = account_host or instance_host
    acct = username if account_host is None else f"{username}@{account_host}"
    avatar_url = avatar or default_avatar(instance_host)
    header_url = header or default_header(instance_host)
    entity: dict[str, Any] = {
        "id": id,
        "username": username,
        "acct": acct,
        "display_name": display_name,
        "locked": locked,
        "bot": bot,
        "discoverable": discoverable,
        "indexable": indexable,
        "group": group,
        "created_at": iso_midnight(created_ms),
        "note": note_html,
        "url": f"https://{home}/@{username}",
        "uri": f"https://{home}/users/{username}",
        "avatar": avatar_url,
        "avatar_static": avatar_url,
        "header": header_url,
        "header_static": header_url,
        "followers_count": followers_count,
        "following_count": following_count,
        "statuses_count": statuses_count,
        "last_status_at": iso_date(last_status_ms) if last_status_ms is not None else None,
        "hide_collections": hide_collections,
        "emojis": [],
        "roles": [],
        "fields": [dict(f) for f in fields],
    }
    if account_host is None:
        entity["noindex"] = noindex
    return entity


def credential_account_entity(account: Mapping[str, Any], *, note_source: str, privacy: str = "public") -> dict[str, Any]:
    """What ``verify_credentials`` returns: the Account plus ``source`` and ``role``."""
    entity = dict(account)
    entity["source"] = {
        "privacy": privacy,
        "sensitive": False,
        "language": "en",
        "note": note_source,
        "fields": [{"name": f["name"], "value": f["value"], "verified_at": f["verified_at"]} for f in account["fields"]],
        "follow_requests_count": 0,
        "hide_collections": bool(account.get("hide_collections")),
        "discoverable": account.get("discoverable"),
        "indexable": account.get("indexable", False),
        "attribution_domains": [],
    }
    entity["role"] = {"id": "-99", "name": "", "permissions": "0", "color": "", "highlighted": False}
    return entity


def mention_entity(account: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": account["id"], "username": account["username"], "url": account["url"], "acct": account["acct"]}


def tag_entity(name: str, host: str) -> dict[str, Any]:
    """A Status::Tag: ``name`` as written (Mastodon keeps the display case), URL lower-cased."""
    return {"name": name, "url": f"https://{host}/tags/{name.lower()}"}


def application_entity(name: str, website: str | None = None) -> dict[str, Any]:
    return {"name": name, "website": website}


def preview_card_entity(
    url: str, *, title: str, description: str = "", provider_name: str = "", image: str | None = None,
    published_ms: int | None = None, language: str | None = "en",
) -> dict[str, Any]:
    return {
        "url": url,
        "title": title,
        "description": description,
        "language": language,
        "type": "link",
        "author_name": "",
        "author_url": "",
        "provider_name": provider_name,
        "provider_url": "",
        "html": "",
        "width": 400 if image else 0,
        "height": 210 if image else 0,
        "image": image,
        "image_description": "",
        "embed_url": "",
        "blurhash": None,
        "published_at": iso_datetime(published_ms) if published_ms is not None else None,
        "authors": [],
    }


def media_attachment_entity(
    *, id: str, host: str, description: str | None, blurhash: str = "UFHx~^00xu%M~qxu%MM{00Rj?bRj", width: int = 1200,
    height: int = 900,
) -> dict[str, Any]:
    """An image attachment; ``description`` (alt text) may be ``None``, as it often is."""
    path = f"/system/media_attachments/files/{id[:3]}/{id[3:6]}/{id[6:9]}"
    return {
        "id": id,
        "type": "image",
        "url": f"https://{host}{path}/original/{id}.jpg",
        "preview_url": f"https://{host}{path}/small/{id}.jpg",
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": {
            "original": {"width": width, "height": height, "size": f"{width}x{height}", "aspect": round(width / height, 6)},
            "small": {"width": 400, "height": 300, "size": "400x300", "aspect": 1.333333},
        },
        "description": description,
        "blurhash": blurhash,
    }


def status_entity(
    *,
    id: str,
    created_ms: int,
    account: Mapping[str, Any],
    content: str,
    instance_host: str,
    in_reply_to_id: str | None = None,
    in_reply_to_account_id: str | None = None,
    visibility: str = "public",
    language: str | None = "en",
    sensitive: bool = False,
    spoiler_text: str = "",
    mentions: Sequence[Mapping[str, Any]] = (),
    tags: Sequence[Mapping[str, Any]] = (),
    media_attachments: Sequence[Mapping[str, Any]] = (),
    card: Mapping[str, Any] | None = None,
    application: Mapping[str, Any] | None = None,
    replies_count: int = 0,
    reblogs_count: int = 0,
    favourites_count: int = 0,
    viewer: bool = False,
) -> dict[str, Any]:
    """A Status with its Account embedded.

    ``uri`` and ``url`` point at the author's own server (a remote status keeps its origin's
    URLs); ``application`` is only shown for local statuses. ``viewer`` adds the fields Mastodon
    includes when the request carries a user token (``favourited``, ``reblogged``, ...).
    """
    acct: str = account["acct"]
    home = acct.split("@", 1)[1] if "@" in acct else instance_host
    username = account["username"]
    entity: dict[str, Any] = {
        "id": id,
        "created_at": iso_datetime(created_ms),
        "in_reply_to_id": in_reply_to_id,
        "in_reply_to_account_id": in_reply_to_account_id,
        "sensitive": sensitive,
        "spoiler_text": spoiler_text,
        "visibility": visibility,
        "language": language,
        "uri": f"https://{home}/users/{username}/statuses/{id}",
        "url": f"https://{home}/@{username}/{id}",
        "replies_count": replies_count,
        "reblogs_count": reblogs_count,
        "favourites_count": favourites_count,
        "quotes_count": 0,
        "edited_at": None,
        "content": content,
        "reblog": None,
        "quote": None,
        "account": dict(account),
        "media_attachments": [dict(m) for m in media_attachments],
        "mentions": [dict(m) for m in mentions],
        "tags": [dict(t) for t in tags],
        "emojis": [],
        "card": dict(card) if card is not None else None,
        "poll": None,
    }
    if "@" not in acct and application is not None:
        entity["application"] = dict(application)
    if viewer:
        entity.update(favourited=False, reblogged=False, muted=False, bookmarked=False, pinned=False, filtered=[])
    return entity


def context_entity(ancestors: Iterable[Mapping[str, Any]], descendants: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    return {"ancestors": list(ancestors), "descendants": list(descendants)}


def notification_entity(
    *, id: str, type: str, created_ms: int, account: Mapping[str, Any], status: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "id": id,
        "type": type,
        "group_key": f"ungrouped-{id}",
        "created_at": iso_datetime(created_ms),
        "account": dict(account),
    }
    if status is not None:
        entity["status"] = dict(status)
    return entity


def search_entity(
    accounts: Iterable[Mapping[str, Any]] = (), statuses: Iterable[Mapping[str, Any]] = (),
    hashtags: Iterable[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    return {"accounts": list(accounts), "statuses": list(statuses), "hashtags": list(hashtags)}


def error_entity(error: str, description: str | None = None) -> dict[str, Any]:
    """Mastodon's Error: ``{"error": ...}``, with ``error_description`` only for OAuth errors."""
    entity: dict[str, Any] = {"error": error}
    if description is not None:
        entity["error_description"] = description
    return entity


# ---------------------------------------------------------------- instance


_MEDIA_TYPES = [
    "image/jpeg", "image/png", "image/gif", "image/heic", "image/heif", "image/webp", "image/avif",
    "video/webm", "video/mp4", "video/quicktime", "video/ogg", "audio/wave", "audio/wav", "audio/ogg",
    "audio/mpeg", "audio/mp3", "audio/webm", "audio/flac", "audio/aac", "audio/m4a", "audio/mp4",
]
_RULES = [
    {"id": "1", "text": "No spam or unsolicited advertising.", "hint": ""},
    {"id": "2", "text": "Declare automated accounts with the bot flag.", "hint": ""},
    {"id": "3", "text": "Be kind; no harassment.", "hint": ""},
]


def instance_v1_entity(
    *, host: str, title: str, description: str, version: str = MASTODON_VERSION, user_count: int, status_count: int,
    domain_count: int, contact_account: Mapping[str, Any] | None, email: str | None = None,
) -> dict[str, Any]:
    """``GET /api/v1/instance`` (V1::Instance, deprecated since 4.0 but still served)."""
    return {
        "uri": host,
        "title": title,
        "short_description": description,
        "description": description,
        "email": email or f"admin@{host}",
        "version": version,
        "urls": {"streaming_api": f"wss://{host}"},
        "stats": {"user_count": user_count, "status_count": status_count, "domain_count": domain_count},
        "thumbnail": f"https://{host}/packs/media/images/preview.png",
        "languages": ["en"],
        "registrations": False,
        "approval_required": False,
        "invites_enabled": False,
        "configuration": {
            "accounts": {"max_featured_tags": 10},
            "statuses": {"max_characters": 500, "max_media_attachments": 4, "characters_reserved_per_url": 23},
            "media_attachments": {
                "supported_mime_types": _MEDIA_TYPES, "image_size_limit": 16777216, "image_matrix_limit": 33177600,
                "video_size_limit": 103809024, "video_frame_rate_limit": 120, "video_matrix_limit": 8294400,
            },
            "polls": {"max_options": 4, "max_characters_per_option": 50, "min_expiration": 300, "max_expiration": 2629746},
        },
        "contact_account": dict(contact_account) if contact_account else None,
        "rules": [dict(r) for r in _RULES],
    }


def instance_v2_entity(
    *, host: str, title: str, description: str, version: str = MASTODON_VERSION, active_month: int,
    contact_account: Mapping[str, Any] | None, email: str | None = None,
) -> dict[str, Any]:
    """``GET /api/v2/instance``, including ``api_versions`` (4.3+) that Mastodon.py reads."""
    return {
        "domain": host,
        "title": title,
        "version": version,
        "source_url": "https://github.com/mastodon/mastodon",
        "description": description,
        "usage": {"users": {"active_month": active_month}},
        "thumbnail": {"url": f"https://{host}/packs/media/images/preview.png", "blurhash": None, "versions": {}},
        "icon": [],
        "languages": ["en"],
        "configuration": {
            "urls": {"streaming": f"wss://{host}", "status": None, "about": f"https://{host}/about",
                     "privacy_policy": f"https://{host}/privacy-policy", "terms_of_service": None},
            "vapid": {"public_key": ""},
            "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
            "statuses": {"max_characters": 500, "max_media_attachments": 4, "characters_reserved_per_url": 23},
            "media_attachments": {
                "supported_mime_types": _MEDIA_TYPES, "description_limit": 1500, "image_size_limit": 16777216,
                "image_matrix_limit": 33177600, "video_size_limit": 103809024, "video_frame_rate_limit": 120,
                "video_matrix_limit": 8294400,
            },
            "polls": {"max_options": 4, "max_characters_per_option": 50, "min_expiration": 300, "max_expiration": 2629746},
            "translation": {"enabled": False},
            "timelines_access": {
                "live_feeds": {"local": "public", "remote": "public"},
                "hashtag_feeds": {"local": "public", "remote": "public"},
                "trending_link_feeds": {"local": "public", "remote": "public"},
            },
        },
        "registrations": {"enabled": False, "approval_required": False, "message": None, "url": None,
                          "min_age": None, "reason_required": False},
        "api_versions": dict(API_VERSIONS),
        "contact": {"email": email or f"admin@{host}", "account": dict(contact_account) if contact_account else None},
        "rules": [dict(r) for r in _RULES],
    }
