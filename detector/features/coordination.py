"""Coordination: several accounts posting one template, found through their fingerprints.

Each account's activity keeps the fingerprints of the templates it used
(:class:`~detector.features.behaviour.AccountActivity`); this index holds them for many accounts,
bucketed by SimHash bands, so "which other accounts use this template?" costs a few dictionary
look-ups rather than a comparison with every account. Templates of fewer than
:data:`~detector.features.templates.MIN_TEMPLATE_WORDS` words are never fingerprinted, and only
templates an account reused and that are long enough to be a script count (:data:`MIN_REUSE`,
:data:`MIN_WORDS`), so that people who all write "thanks!" or "how did you find out?" are not a
campaign.

It grows with the number of accounts (at most ``MAX_TEMPLATES`` fingerprints each), not replies;
the service rebuilds it from the activities of recently active accounts, and ``botwatch score``
from every account in the archive. Buckets are capped, so a template used by a thousand accounts
reports "at least" the cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping

from detector.features.behaviour import AccountActivity, Template
from detector.features.templates import bands, same_template
from detector.features.text import fold, plain_words

BUCKET_CAP = 256
# Only templates an account itself used at least twice: a campaign's accounts each repeat their
# script, while people share stock phrases ("let me know how it goes") once in a while.
MIN_REUSE = 2
MIN_WORDS = 6  # and long enough to be a script rather than a stock phrase ("are you a bot?")


def _scripted(template: Template) -> bool:
    return template.count >= MIN_REUSE and _long_enough(template.text)


@lru_cache(maxsize=1 << 16)
def _long_enough(text: str) -> bool:
    """Whether a template's text is long enough to be a script; cached because folding the text
    is most of building the index, and :meth:`CoordinationIndex.sharing` asks again per account."""
    return len(plain_words(fold(text))) >= MIN_WORDS


@dataclass(frozen=True)
class Coordination:
    """Other accounts sharing a template with one account, with the template they share."""

    accounts: tuple[str, ...]
    template: str | None

    @property
    def count(self) -> int:
        return len(self.accounts)


class CoordinationIndex:
    """Template fingerprints of many accounts, bucketed by band (see the module docstring)."""

    def __init__(self) -> None:
        self._buckets: dict[int, list[tuple[str, int]]] = {}

    def add(self, account_id: str, fingerprints: Iterable[int]) -> None:
        for fingerprint in fingerprints:
            if not fingerprint:
                continue
            for key in bands(fingerprint):
                bucket = self._buckets.setdefault(key, [])
                if len(bucket) < BUCKET_CAP and (account_id, fingerprint) not in bucket:
                    bucket.append((account_id, fingerprint))

    def add_activity(self, account_id: str, activity: AccountActivity) -> None:
        self.add(account_id, (t.fingerprint for t in activity.templates if _scripted(t)))

    @classmethod
    def build(cls, activities: Mapping[str, AccountActivity]) -> "CoordinationIndex":
        index = cls()
        for account_id, activity in activities.items():
            index.add_activity(account_id, activity)
        return index

    def sharing(self, account_id: str, activity: AccountActivity) -> Coordination:
        """Other accounts that used one of this account's templates (the most shared one's text)."""
        best: set[str] = set()
        best_text = None
        for template in activity.templates:
            if not _scripted(template):
                continue
            others = {
                other
                for key in bands(template.fingerprint)
                for other, fingerprint in self._buckets.get(key, ())
                if other != account_id and same_template(fingerprint, template.fingerprint)
            }
            if len(others) > len(best):
                best, best_text = others, template.text
        return Coordination(tuple(sorted(best)), best_text)
