"""Sources: one module per platform, each yielding :mod:`detector.records` records in :class:`Page` s.

``base`` holds what every source shares (:class:`Page`, :class:`Match`, the :class:`Source`
protocol); ``mastodon`` the Mastodon source, over ``mastodon_client`` (every request, with
``ratelimit`` and ``backoff``); ``matching`` decides which posts count for a watch.
"""

from detector.sources.base import Match, Page, Source
from detector.sources.mastodon import MastodonSource

__all__ = ["Match", "MastodonSource", "Page", "Source"]
