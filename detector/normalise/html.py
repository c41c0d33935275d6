"""Plain text, links, mentions and hashtags out of the HTML that Mastodon (and others) serve.

A small tokenizer rather than ``html.parser``: post HTML is a handful of tags (p, br, a, span),
it may be broken or hostile, and the offline scorer runs it on every line of an archive, so it
must be fast and must never fail. Unknown tags are dropped, their text kept; the contents of
``script``, ``style`` and ``template`` are dropped entirely.

Mastodon shortens long links for display (``<span class="invisible">https://</span>`` and an
ellipsis); the plain text uses the full ``href`` instead, so that a link reads the same whatever
server rendered it.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_TOKEN = re.compile(
    r"<!--.*?(?:-->|$)"  # comment (possibly unterminated)
    r"|<[/!?]?[a-zA-Z][^>]*$"  # a tag cut off by the end of the input: dropped, as browsers do
    r"|<(/?)([a-zA-Z][a-zA-Z0-9:-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>"  # tag with attributes
    r"|[^<]+"  # text
    r"|<",  # a lone '<' that opens no tag
    re.DOTALL,
)
# A name starts only where no name character precedes it, and nothing gives back what it matched:
# without both, a 100 KB run of name characters with no "=" costs quadratic time (minutes).
_ATTR = re.compile(
    r"(?<![-a-zA-Z0-9_:.])([a-zA-Z_:][-a-zA-Z0-9_:.]*+)\s*+=\s*+(?:\"([^\"]*+)\"|'([^']*+)'|([^\s\"'=<>`]++))"
)
_URL = re.compile(r"\bhttps?://[^\s<>\"'\u00a0]+", re.IGNORECASE)
_DROP_CONTENT = frozenset({"script", "style", "template", "noscript", "iframe", "object"})
_BLOCK_END = frozenset({"p", "div", "blockquote", "li", "pre", "h1", "h2", "h3", "h4", "h5", "h6"})
_TRAILING_PUNCT = ".,;:!?)]}'\""
# Characters that change how text renders but carry no words: zero-width, bidi controls, BOM.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# What :func:`_clean_any` changes besides runs of ASCII spaces, tabs and carriage returns.
_UNUSUAL = re.compile("[\u00a0\u2000-\u200f\u202a-\u202f\u205f\u2060-\u2064\u2066-\u2069\u3000\ufeff]")
# Whitespace (as str.strip sees it: the same Py_UNICODE_ISSPACE) that a line's strip would remove.
_SPACE_AT_LINE_END = re.compile(r"[^\S\n]\n|\n[^\S\n]")

# The fast path (:func:`_parse_simple`) for markup made only of the tags Mastodon writes. Attribute
# values may not hold '<' or '>', so a tag ends at the first '>' here exactly as it does for _TOKEN.
# Possessive, and an anchor's content stops at the next anchor tag: linear time on any input.
_SIMPLE_ATTRS = r"""(?:\s(?:[^<>"']++|"[^"<>]*+"|'[^'<>]*+')*+)?"""
_SIMPLE_P_END = re.compile(rf"</p{_SIMPLE_ATTRS}>")
_SIMPLE_BR = re.compile(rf"</?br{_SIMPLE_ATTRS}>")
_SIMPLE_OTHER = re.compile(rf"</?(?:p|span){_SIMPLE_ATTRS}>")
_SIMPLE_ANCHOR = re.compile(rf"<a({_SIMPLE_ATTRS})>((?:[^<]++|<(?!/?a[\s>/]))*+)</a>")
_SPAN_TAG = re.compile(rf"</?span{_SIMPLE_ATTRS}>")


@dataclass(slots=True)  # not frozen: that would cost an object.__setattr__ per field on every post
class ParsedHTML:
    """What a post's HTML says, in the parts features need."""

    text: str
    links: tuple[str, ...]
    mention_names: tuple[str, ...]
    hashtags: tuple[str, ...]


def _attributes(raw: str) -> dict[str, str]:
    return {m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "") for m in _ATTR.finditer(raw)}


def clean_text(text: str) -> str:
    """Fold spacing and drop invisible characters, keeping line breaks (templates show in them)."""
    if "  " in text or "\t" in text or "\r" in text or (not text.isascii() and _UNUSUAL.search(text)):
        return _clean_any(text)
    # Nothing invisible, no runs of spaces (the usual case): only the line ends to trim. When the
    # only line breaks are at the ends (one paragraph), that trimming leaves just the stripped text.
    stripped = text.strip()
    if "\n" not in stripped or (_SPACE_AT_LINE_END.search(text) is None and "\n\n\n" not in text):
        return stripped
    return _BLANK_LINES.sub("\n\n", "\n".join([line.strip() for line in text.split("\n")])).strip()


def _clean_any(text: str) -> str:
    """:func:`clean_text` for any text."""
    text = _INVISIBLE.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def urls_in_text(text: str) -> list[str]:
    """Bare URLs in plain text (for sources without markup), trailing punctuation trimmed."""
    if "://" not in text:
        return []
    # Every URL holds "://", so none starts more than len("https") before the first one; the
    # search starts there (\b still sees the character before it), not at the top of the post.
    start = max(text.find("://") - len("https"), 0)
    return [m.group(0).rstrip(_TRAILING_PUNCT) for m in _URL.finditer(text, start)]


@functools.lru_cache(maxsize=65_536)
def link_domain(url: str) -> str | None:
    """The host a link points to, lower case and without ``www.``; ``None`` if there is none.

    Cached: scripts post the same few links thousands of times, and splitting a URL is slow.
    """
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".").lower()
    return host[4:] if host.startswith("www.") else host


def parse_html(markup: str) -> ParsedHTML:
    """Turn post HTML into plain text plus the links, mentions and hashtags it contains.

    Never raises: whatever the input, the result is text without tags.
    """
    simple = _parse_simple(markup)
    return simple if simple is not None else _parse_tokens(markup)


def _parse_simple(markup: str) -> ParsedHTML | None:
    """:func:`parse_html` for markup of p, br, span and anchors holding only spans (what Mastodon
    writes), without comments, and with entities only inside anchors; ``None`` for anything else.

    An archive's every line goes through here, and a regex substitution per anchor and one for
    the remaining tags cost far less than a Python step per token. The result is the one
    :func:`_parse_tokens` gives (the fuzz tests compare both on hostile fragments).
    """
    if "<!" in markup:
        return None
    # Entities outside anchors would have to be decoded one text token at a time: not done here.
    entities = markup.count("&")
    links: list[str] = []
    mentions: list[str] = []
    hashtags: list[str] = []
    if "<a" in markup:
        nested = False

        def anchor(match: re.Match[str]) -> str:
            nonlocal nested, entities
            classified = _simple_anchor(match.group(1), match.group(2))
            if classified is None:
                nested = True
                return ""
            if entities:
                entities -= match.group(0).count("&")
            text, kind, value = classified
            _record(kind, value, links, mentions, hashtags)
            return text

        markup = _SIMPLE_ANCHOR.sub(anchor, markup)
        if nested:
            return None
    if entities:
        return None
    if "<" in markup:
        if "</p" in markup:
            markup = _SIMPLE_P_END.sub("\n\n", markup)
        if "<br" in markup or "</br" in markup:
            markup = _SIMPLE_BR.sub("\n", markup)
        markup = _SIMPLE_OTHER.sub("", markup)
        if "<" in markup:
            return None
    text = clean_text(markup)
    for url in urls_in_text(text):
        if url not in links:
            links.append(url)
    return ParsedHTML(text, tuple(links), tuple(mentions), tuple(hashtags))


def _parse_tokens(markup: str) -> ParsedHTML:
    """:func:`parse_html` for any markup: one token at a time."""
    out: list[str] = []
    links: list[str] = []
    mentions: list[str] = []
    hashtags: list[str] = []
    dropping: str | None = None  # inside <script> etc.: ignore until its end tag
    anchor: dict[str, str] | None = None  # attributes of the <a> we are inside
    anchor_text: list[str] = []

    for match in _TOKEN.finditer(markup):
        token = match.group(0)
        name = match.group(2)
        if name is None:
            if token.startswith("<!--") or (len(token) > 1 and token[0] == "<"):
                continue
            if dropping is None:
                (anchor_text if anchor is not None else out).append(html.unescape(token))
            continue
        name = name.lower()
        closing = match.group(1) == "/"
        if dropping is not None:
            if closing and name == dropping:
                dropping = None
            continue
        if name in _DROP_CONTENT and not closing:
            if not match.group(3).rstrip().endswith("/"):
                dropping = name
            continue
        if name == "br":
            (anchor_text if anchor is not None else out).append("\n")
        elif name in _BLOCK_END and closing:
            out.append("\n\n")
        elif name == "a" and not closing:
            if anchor is not None:  # unclosed <a>: close the previous one first
                out.append(_finish_anchor(anchor, anchor_text, links, mentions, hashtags))
            anchor, anchor_text = _attributes(match.group(3)), []
        elif name == "a" and closing and anchor is not None:
            out.append(_finish_anchor(anchor, anchor_text, links, mentions, hashtags))
            anchor, anchor_text = None, []
    if anchor is not None:
        out.append(_finish_anchor(anchor, anchor_text, links, mentions, hashtags))

    text = clean_text("".join(out))
    for url in urls_in_text(text):
        if url not in links:
            links.append(url)
    return ParsedHTML(text, tuple(links), tuple(mentions), tuple(hashtags))


def _finish_anchor(
    attrs: dict[str, str], parts: list[str], links: list[str], mentions: list[str], hashtags: list[str]
) -> str:
    """Text an anchor contributes, recording what it points to."""
    text, kind, value = _classify_anchor(attrs, "".join(parts).strip())
    _record(kind, value, links, mentions, hashtags)
    return text


@functools.lru_cache(maxsize=65_536)
def _simple_anchor(raw_attributes: str, content: str) -> tuple[str, str | None, str] | None:
    """:func:`_classify_anchor` of an anchor as the fast path sees it, ``None`` if its content
    holds a tag other than span (the tokenizer decides then); cached, because the same mentions,
    hashtags and links come back on line after line of an archive."""
    pieces = _SPAN_TAG.split(content) if "<" in content else [content]
    if any("<" in piece for piece in pieces):
        return None
    # Decoded piece by piece, as the tokenizer decodes each text token between the spans.
    shown = "".join([html.unescape(piece) for piece in pieces]) if "&" in content else "".join(pieces)
    return _classify_anchor(_attributes(raw_attributes), shown.strip())


def _classify_anchor(attrs: dict[str, str], shown: str) -> tuple[str, str | None, str]:
    """An anchor's text, and what it is (``hashtag``, ``mention``, ``link`` or ``None``) with its value."""
    classes = attrs.get("class", "").split()
    rel = attrs.get("rel", "").split()
    href = attrs.get("href", "").strip()
    if "hashtag" in classes or "tag" in rel or (shown.startswith("#") and len(shown) > 1):
        return shown, "hashtag", shown.lstrip("#").strip().lower()
    if "mention" in classes or (shown.startswith("@") and len(shown) > 1):
        return shown, "mention", shown.lstrip("@")
    if href.lower().startswith(("http://", "https://")):
        return href, "link", href
    return shown, None, ""


def _record(kind: str | None, value: str, links: list[str], mentions: list[str], hashtags: list[str]) -> None:
    if kind == "hashtag":
        if value:
            hashtags.append(value)
    elif kind == "mention":
        mentions.append(value)
    elif kind == "link" and value not in links:
        links.append(value)
