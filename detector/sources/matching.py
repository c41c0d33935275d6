"""Does a post count for a watch? Keywords, hashtags and brand accounts, decided on records.

Pure: the Mastodon source uses it to filter the public timeline client-side and to say which
keyword or account made every post count, and the Twitter/X and Bluesky sources can use it as is.

Keywords match whole words, case-insensitively, in the post's plain text and content warning,
after Unicode NFKC folding and with zero-width characters removed (so "ＶＡＣＵＵＭ" and
"vac\u200buum" are "vacuum", but "vacuumrus" and "@VacuumRus" are not). A multi-word keyword
matches across any run of whitespace.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable

from detector.config import WatchConfig
from detector.records import Post
from detector.sources.base import Match

_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u180e\u200b\u200c\u200d\u2060\ufeff"))


def fold(text: str) -> str:
    """The form keywords are compared in: NFKC, case-folded, without invisible characters."""
    return unicodedata.normalize("NFKC", text).translate(_INVISIBLE).casefold()


def keyword_pattern(keyword: str) -> re.Pattern[str]:
    """Whole-word pattern for a keyword; words may be joined by any whitespace."""
    words = fold(keyword).split()
    if not words:
        raise ValueError("empty keyword")
    return re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, words)) + r"(?!\w)")


def same_account(acct: str, wanted: str, host: str) -> bool:
    """Is ``acct`` (as the server shows it: ``user`` or ``user@remote``) the account ``wanted``?

    A local account may be named with this server's host too (``acme@mastodon.social``).
    """
    acct, wanted = acct.lower().lstrip("@"), wanted.lower().lstrip("@")
    if acct == wanted:
        return True
    local = f"@{host.lower()}"
    return acct + local == wanted or wanted + local == acct


class WatchMatcher:
    """Decides for one watch on one server; compile once, call per post."""

    def __init__(self, watch: WatchConfig, host: str) -> None:
        self.watch = watch
        self.host = host
        self._keywords = [(k, keyword_pattern(k)) for k in watch.keywords if k.strip()]
        self._hashtags = {fold(h.lstrip("#")): h for h in watch.hashtags}

    def keywords_in(self, text: str) -> tuple[str, ...]:
        folded = fold(text)
        return tuple(k for k, pattern in self._keywords if pattern.search(folded))

    def brands_in(self, accts: Iterable[str]) -> tuple[str, ...]:
        accts = list(accts)
        return tuple(b for b in self.watch.brand_accounts if any(same_account(a, b, self.host) for a in accts))

    def match(self, post: Post, route: str, *, given: Match | None = None) -> Match:
        """Everything in ``post`` that makes it count, plus what the route vouches for (``given``).

        Routes where the server did the matching (a hashtag timeline, a search, a brand's posts
        or mentions) pass ``given`` so the post counts even when our stricter check disagrees
        (a search stems "vacuums" to "vacuum"; we do not).
        """
        text = post.text if not post.spoiler_text else f"{post.spoiler_text}\n{post.text}"
        keywords = self.keywords_in(text)
        tags = {fold(t) for t in post.hashtags}
        hashtags = tuple(h for tag, h in self._hashtags.items() if tag in tags)
        brands = self.brands_in([post.author.acct, *(m.acct for m in post.mentions)])
        if given is not None:
            keywords = _union(keywords, given.keywords)
            hashtags = _union(hashtags, given.hashtags)
            brands = _union(brands, given.brand_accounts)
        return Match(route, keywords, hashtags, brands)


def _union(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(first + second))
