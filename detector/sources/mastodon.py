"""The Mastodon source: finds the posts a watch cares about, and the replies under them.

Full-text search only works on servers that run it, and only finds posts whose authors opted in,
so every route that exists is used, each with its own checkpoint:

======================  ==========================================  ===============================
route                   endpoint                                    counts when
======================  ==========================================  ===============================
``hashtag:<tag>``       ``/api/v1/timelines/tag/:tag``              always (the server matched it)
``brand-posts:<acct>``  ``/api/v1/accounts/:id/statuses``           always (by the brand)
``brand-mentions:<a>``  ``/api/v1/notifications?types[]=mention``   always (mentions the brand);
                                                                    only when the token is <a>'s
``search:<keyword>``    ``/api/v2/search?type=statuses``            always (server matched it);
                                                                    needs a token and server support
``public``              ``/api/v1/timelines/public``                a keyword, hashtag or brand
                                                                    matches client-side
======================  ==========================================  ===============================

Timeline, account and notification routes page *forward* from their checkpoint with
``min_id`` (the server returns the posts immediately newer than it, oldest first), following
the Link header's ``prev`` cursor; every page is yielded with the checkpoint that covers it.
Search has no forward cursor (results come newest first, paged by ``offset``), so its
checkpoint is ``floor`` when idle and ``floor~top~offset`` while a window of results newer than
``floor`` is being read: the window's top becomes the new floor once it has been read to the end.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator, Mapping

import requests

from detector.config import InstanceConfig, WatchConfig
from detector.errors import InputError, MalformedResponse
from detector.logs import get_logger
from detector.normalise.mastodon import PLATFORM, normalise_status, parse_time
from detector.records import Post, Provenance
from detector.sources.backoff import RetryPolicy
from detector.sources.base import Match, Page
from detector.sources.mastodon_client import (
    ApiResponse,
    EndpointUnsupported,
    MastodonClient,
    RequestRefused,
    link_param,
    preview,
)
from detector.sources.matching import WatchMatcher, same_account
from detector.sources.ratelimit import Clock, RateLimiter, Sleep

log = get_logger("detector.sources.mastodon")

SOURCE = "mastodon-api"
STATUS_LIMIT = 40  # the API's maximum page size for statuses
NOTIFICATION_LIMIT = 80  # and for notifications (4.1+; older servers return fewer, which is fine)
BACKLOG_PAGES = 100  # pages of mentions the first poll of a watch may read back to its `since`
# A page shorter than asked for ends a route's walk for this poll. A server that caps pages
# below these only slows the walk down (more polls to catch up); nothing is skipped.
UNKNOWN_ACCOUNT_RETRY = 3600.0  # seconds before asking again for a brand account that was not found
_ROUTE_GONE = {400, 403, 404, 410, 422, 501}  # answers that mean "not here", not "try again"


def snowflake_at(moment: datetime) -> str:
    """The smallest Mastodon status id created at ``moment`` (ids are ``ms << 16``)."""
    if moment.tzinfo is None:
        raise ValueError("snowflake_at needs an aware datetime")
    return str(int(moment.timestamp() * 1000) << 16)


def snowflake_time(status_id: str) -> datetime | None:
    """When a Mastodon status id was made, or None for ids that are not Snowflakes."""
    if not status_id.isdigit() or int(status_id) < 1 << 40:
        return None
    return datetime.fromtimestamp((int(status_id) >> 16) / 1000, timezone.utc)


def id_order(value: str) -> tuple[int, int | str]:
    """Sort key for API ids: numeric ids by value, anything else after them as text."""
    return (0, int(value)) if value.isdigit() else (1, value)


@dataclass(frozen=True)
class Route:
    """One discovery route of a watch. ``vouches`` is what the server matched for us, if anything."""

    name: str
    kind: str  # "hashtag" | "brand-posts" | "brand-mentions" | "search" | "public"
    arg: str = ""
    vouches: Match | None = None


class _RouteUnavailable(Exception):
    """This route cannot be read on this server (or with this token); the others go on."""


class MastodonSource:
    """Discovery and reply fetching on one Mastodon server; thread-safe, one per server.

    Build one per ``[instances.*]`` entry and share it across that server's watches: the
    rate-limit budget, the probed version, the brand-account ids and what the server turned out
    not to support are all per server. (Sources built separately for the same server still share
    the rate limiter, through :func:`~detector.sources.ratelimit.shared_limiter`.)
    """

    platform = PLATFORM

    def __init__(
        self,
        instance: InstanceConfig,
        *,
        session: requests.Session | None = None,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy = RetryPolicy(),
        rng: random.Random | None = None,
        page_size: int = STATUS_LIMIT,
    ) -> None:
        self.config = instance
        self.status_limit = page_size
        self.notification_limit = min(2 * page_size, NOTIFICATION_LIMIT)
        self.instance = instance.host
        self.client = MastodonClient(
            instance, session=session, clock=clock, sleep=sleep, limiter=limiter, retry=retry, rng=rng
        )
        self._clock = clock
        self._lock = threading.Lock()  # guards the caches below
        self._lookup_lock = threading.Lock()  # one lookup at a time, so concurrent watches ask once
        self._account_ids: dict[str, tuple[str | None, float]] = {}
        self._me: str | None = None
        self._me_known = False
        self._search_unsupported: str | None = None

    # -- discovery ---------------------------------------------------------------------------

    def routes(self, watch: WatchConfig) -> list[Route]:
        """The routes ``watch`` is read through, cheapest and most precise first.

        Routes the server cannot serve are still listed; :meth:`discover` skips them and says why.
        """
        routes: list[Route] = []
        if "hashtags" in watch.routes:
            routes += [_route("hashtag", t, hashtags=(t,)) for t in watch.hashtags]
        if "brand" in watch.routes:
            for acct in watch.brand_accounts:
                routes += [_route("brand-posts", acct, brand_accounts=(acct,)),
                           _route("brand-mentions", acct, brand_accounts=(acct,))]
        if "search" in watch.routes:
            routes += [_route("search", k, keywords=(k,)) for k in watch.keywords]
        if "public" in watch.routes and (watch.keywords or watch.brand_accounts):
            routes.append(Route("public", "public"))
        return routes

    def discover(self, watch: WatchConfig, checkpoints: Mapping[str, str], *, since: datetime) -> Iterator[Page]:
        """Pages of posts that count for ``watch``; see :class:`~detector.sources.base.Source`.

        A route the server cannot serve (no such account, search disabled, an endpoint too new
        for the server, a feed that needs a login) is skipped with a ``source.route_unavailable``
        event. A route whose answer is malformed is skipped for this poll and the others go on;
        the first :class:`MalformedResponse` is raised once all routes have had their turn.
        :class:`RateLimited` and :class:`SourceError` (server down) end discovery at once: the
        pages yielded so far stand, and the rest resumes from its checkpoints next poll.
        """
        if watch.instance != self.config.name:
            raise ValueError(f"watch {watch.name} polls {watch.instance}, not {self.config.name}")
        matcher = WatchMatcher(watch, self.instance)
        failures: list[MalformedResponse] = []
        for route in self.routes(watch):
            walk = self._walkers[route.kind]
            try:
                yield from walk(self, route, checkpoints.get(route.name), since, matcher, watch)
            except _RouteUnavailable as exc:
                log.info("source.route_unavailable", instance=self.config.name, watch=watch.name,
                         route=route.name, reason=str(exc))
            except MalformedResponse as exc:
                log.error("source.route_failed", instance=self.config.name, watch=watch.name,
                          route=route.name, error=str(exc))
                failures.append(exc)
        if failures:
            raise failures[0]

    def _timeline(self, route: Route, checkpoint: str | None, since: datetime, matcher: WatchMatcher,
                  watch: WatchConfig) -> Iterator[Page]:
        if route.kind == "hashtag":
            endpoint = f"GET /api/v1/timelines/tag/{route.arg}"
            fetch: Callable[[str], ApiResponse] = lambda cursor: self._get(
                endpoint, lambda api: api.timeline_hashtag(route.arg, min_id=cursor, limit=self.status_limit))
        elif route.kind == "public":
            endpoint = "GET /api/v1/timelines/public"
            fetch = lambda cursor: self._get(
                endpoint, lambda api: api.timeline_public(min_id=cursor, limit=self.status_limit))
        else:
            account_id = self._account_id(route.arg)
            endpoint = f"GET /api/v1/accounts/{account_id}/statuses"
            fetch = lambda cursor: self._get(
                endpoint, lambda api: api.account_statuses(account_id, min_id=cursor, limit=self.status_limit,
                                                           exclude_reblogs=True))
        start = checkpoint or snowflake_at(since)
        yield from self._forward(route, start, fetch, self.status_limit, matcher, watch, endpoint)

    def _mentions(self, route: Route, checkpoint: str | None, since: datetime, matcher: WatchMatcher,
                  watch: WatchConfig) -> Iterator[Page]:
        me = self._token_account()
        if me is None or not same_account(me, route.arg, self.instance):
            raise _RouteUnavailable(f"the access token is not {route.arg}'s, so its mentions cannot be read")
        endpoint = "GET /api/v1/notifications"

        def fetch(cursor: str | None = None, *, max_id: str | None = None) -> ApiResponse:
            return self._get(endpoint, lambda api: api.notifications(
                types=["mention"], min_id=cursor, max_id=max_id, limit=self.notification_limit))

        if checkpoint is None:
            # notification ids are not Snowflakes: find `since` by walking back from the newest
            checkpoint, backlog = self._notifications_since(fetch, since, endpoint, route, watch)
            for chunk in _chunks(backlog, self.notification_limit):
                yield self._page(route, chunk, max(map(_id, chunk), key=id_order), matcher, watch)
            if not backlog:
                yield Page(route.name, (), checkpoint)
            return
        yield from self._forward(route, checkpoint, fetch, self.notification_limit, matcher, watch, endpoint)

    def _notifications_since(self, fetch: Callable[..., ApiResponse], since: datetime, endpoint: str,
                             route: Route, watch: WatchConfig) -> tuple[str, list[dict[str, Any]]]:
        """Mention notifications made at or after ``since``, oldest first, and the newest
        notification id seen (the checkpoint when there are none). This happens once per watch and
        ``since`` bounds it, so it reads past the per-poll page budget (mentions older than the
        checkpoint could never be read later); only beyond :data:`BACKLOG_PAGES` pages are older
        ones left, with a ``source.backlog_truncated`` event."""
        backlog: list[dict[str, Any]] = []
        newest_seen: str | None = None
        max_id: str | None = None
        pages = max(self.config.max_pages, BACKLOG_PAGES)
        for _ in range(pages):
            items = self._items(fetch(max_id=max_id), endpoint)
            if not items:
                break
            newest_seen = newest_seen or max(map(_id, items), key=id_order)
            recent = [n for n in items if _created(n) is None or _created(n) >= since]
            backlog += recent
            if len(recent) < len(items) or len(items) < self.notification_limit:
                break
            max_id = min(map(_id, items), key=id_order)
        else:
            log.warning("source.backlog_truncated", instance=self.config.name, watch=watch.name, route=route.name,
                        pages=pages)
        unique = {_id(n): n for n in backlog}
        return newest_seen or "0", [unique[i] for i in sorted(unique, key=id_order)]

    def _forward(self, route: Route, cursor: str, fetch: Callable[[str], ApiResponse], limit: int,
                 matcher: WatchMatcher, watch: WatchConfig, endpoint: str) -> Iterator[Page]:
        """Page forward from ``cursor`` with ``min_id``, one checkpointed page at a time."""
        for _ in range(self.config.max_pages):
            reply = fetch(cursor)
            items = self._items(reply, endpoint)
            if not items:
                return
            newest = link_param(reply.links, "prev", "min_id")
            if newest is None or id_order(newest) <= id_order(cursor):
                newest = max(map(_id, items), key=id_order)
            if id_order(newest) <= id_order(cursor):
                log.warning("source.stuck", instance=self.config.name, watch=watch.name, route=route.name,
                            cursor=cursor)
                return  # the server ignores min_id or repeats itself; the next poll tries again
            yield self._page(route, items, newest, matcher, watch, above=cursor)
            cursor = newest
            if len(items) < limit:
                return
        made = snowflake_time(cursor) if route.kind != "brand-mentions" else None
        log.warning("source.behind", instance=self.config.name, watch=watch.name, route=route.name,
                    pages=self.config.max_pages, lag_seconds=round(self._clock() - made.timestamp()) if made else None)

    def _search(self, route: Route, checkpoint: str | None, since: datetime, matcher: WatchMatcher,
                watch: WatchConfig) -> Iterator[Page]:
        if self.config.token is None:
            raise _RouteUnavailable("statuses search needs an access token")
        if self._search_unsupported:
            raise _RouteUnavailable(self._search_unsupported)
        floor, top, offset = _search_state(checkpoint, since)
        endpoint = "GET /api/v2/search"
        for _ in range(self.config.max_pages):
            try:
                reply = self._get(endpoint, lambda api, offset=offset: api.search_v2(
                    route.arg, resolve=False, result_type="statuses", min_id=floor, offset=offset or None,
                    limit=self.status_limit))
            except _RouteUnavailable as exc:
                self._search_unsupported = f"the server does not support statuses search ({exc})"
                raise _RouteUnavailable(self._search_unsupported) from None
            statuses = reply.data.get("statuses") if isinstance(reply.data, dict) else None
            if not isinstance(statuses, list) or not all(isinstance(s, dict) and "id" in s for s in statuses):
                raise self._malformed(endpoint, reply, "expected an object with a list of statuses")
            offset += len(statuses)
            fresh = [s for s in statuses if id_order(_id(s)) > id_order(floor)]
            top = max([_id(s) for s in fresh] + ([top] if top else []), key=id_order, default=None)
            done = len(statuses) < self.status_limit
            checkpoint = (top or floor) if done else f"{floor}~{top or floor}~{offset}"
            yield self._page(route, fresh, checkpoint, matcher, watch)
            if done:
                return
        log.warning("source.behind", instance=self.config.name, watch=watch.name, route=route.name,
                    pages=self.config.max_pages, lag_seconds=None)

    _walkers: Mapping[str, Callable[..., Iterator[Page]]] = {
        "hashtag": _timeline,
        "public": _timeline,
        "brand-posts": _timeline,
        "brand-mentions": _mentions,
        "search": _search,
    }

    # -- replies -----------------------------------------------------------------------------

    def context(self, post: Post) -> list[Post]:
        """The descendants of ``post`` (every reply in its thread below it), oldest first.

        A post that is gone (deleted, or no longer visible to us) has none: ``[]``, with a
        ``source.context_gone`` event.
        """
        if post.platform != PLATFORM or post.instance != self.instance:
            raise ValueError(f"post {post.key} is not from {self.instance}")
        endpoint = f"GET /api/v1/statuses/{post.id}/context"
        try:
            reply = self.client.call(endpoint, lambda api: api.status_context(post.id))
        except RequestRefused as exc:
            if exc.status in (404, 410):
                log.info("source.context_gone", instance=self.config.name, post=post.id)
                return []
            raise
        descendants = reply.data.get("descendants") if isinstance(reply.data, dict) else None
        if not isinstance(descendants, list):
            raise self._malformed(endpoint, reply, "expected an object with a list of descendants")
        provenance = self._provenance(f"context:{post.id}")
        replies = [p for p in (self._normalise(raw, provenance) for raw in descendants) if p is not None]
        return sorted(replies, key=lambda p: (p.created_at, id_order(p.id)))

    # -- helpers -----------------------------------------------------------------------------

    def _get(self, endpoint: str, send: Callable[[Any], object]) -> ApiResponse:
        """A discovery request: answers meaning "this route does not exist here" become
        :class:`_RouteUnavailable`; everything else is the client's to raise."""
        try:
            return self.client.call(endpoint, send)
        except EndpointUnsupported as exc:
            raise _RouteUnavailable(str(exc)) from None
        except RequestRefused as exc:
            if exc.status in _ROUTE_GONE or (exc.status == 401 and self.config.token is None):
                raise _RouteUnavailable(str(exc)) from None
            raise

    def _items(self, reply: ApiResponse, endpoint: str) -> list[dict[str, Any]]:
        data = reply.data
        if not isinstance(data, list) or not all(isinstance(i, dict) and isinstance(i.get("id"), (str, int)) for i in data):
            raise self._malformed(endpoint, reply, "expected a list of objects with ids")
        return data

    def _malformed(self, endpoint: str, reply: ApiResponse, expected: str) -> MalformedResponse:
        return MalformedResponse(
            f"{self.config.name}: {endpoint}: {expected}, got "
            f"{preview(self.client.scrub(json.dumps(reply.data)))!r}",
            hint="the server answered JSON of another shape; the route is retried next poll",
        )

    def _page(self, route: Route, items: Iterable[dict[str, Any]], checkpoint: str, matcher: WatchMatcher,
              watch: WatchConfig, *, above: str | None = None) -> Page:
        provenance = self._provenance(route.name)
        posts: dict[str, Post] = {}
        matches: dict[str, Match] = {}
        count = 0
        for item in items:
            count += 1
            if above is not None and id_order(_id(item)) <= id_order(above):
                continue  # a server that ignores min_id, or repeats ids across pages
            status = item.get("status") if route.kind == "brand-mentions" else item
            if not isinstance(status, Mapping):
                continue
            post = self._normalise(status, provenance)
            if post is None or post.id in posts:
                continue
            match = matcher.match(post, route.name, given=route.vouches)
            if match:
                posts[post.id] = post
                matches[post.id] = match
        log.info("source.page", instance=self.config.name, watch=watch.name, route=route.name, count=count,
                 matched=len(posts), checkpoint=checkpoint)
        ordered = tuple(sorted(posts.values(), key=lambda p: id_order(p.id)))  # oldest first, like the pages
        return Page(route.name, ordered, checkpoint, matches)

    def _normalise(self, status: Mapping[str, Any], provenance: Provenance) -> Post | None:
        """A status as a Post (a boost as the boosted post); one that cannot be read is logged
        and skipped, so one bad status never blocks a route."""
        if isinstance(status.get("reblog"), Mapping):
            status = status["reblog"]
        try:
            return normalise_status(status, instance=self.instance, provenance=provenance)
        except InputError as exc:
            log.warning("source.bad_status", instance=self.config.name, route=provenance.route,
                        status_id=str(status.get("id")), error=preview(str(exc), 300))
            return None

    def _provenance(self, route: str) -> Provenance:
        return Provenance(source=SOURCE, route=route, fetched_at=datetime.fromtimestamp(self._clock(), timezone.utc))

    def _account_id(self, acct: str) -> str:
        """The id of a brand account on this server (``accounts/lookup``), cached."""
        with self._lookup_lock:
            return self._account_id_locked(acct)

    def _account_id_locked(self, acct: str) -> str:
        with self._lock:
            known = self._account_ids.get(acct)
        if known and (known[0] is not None or self._clock() < known[1]):
            if known[0] is None:
                raise _RouteUnavailable(f"no account {acct} on {self.instance}")
            return known[0]
        try:
            reply = self._get("GET /api/v1/accounts/lookup", lambda api: api.account_lookup(acct))
        except _RouteUnavailable:
            with self._lock:
                self._account_ids[acct] = (None, self._clock() + UNKNOWN_ACCOUNT_RETRY)
            raise _RouteUnavailable(f"no account {acct} on {self.instance}") from None
        account_id = reply.data.get("id") if isinstance(reply.data, dict) else None
        if not isinstance(account_id, (str, int)):
            raise self._malformed("GET /api/v1/accounts/lookup", reply, "expected an Account")
        with self._lock:
            self._account_ids[acct] = (str(account_id), 0.0)
        return str(account_id)

    def _token_account(self) -> str | None:
        """The acct of the token's account (``verify_credentials``), or None without a token."""
        if self.config.token is None:
            return None
        with self._lookup_lock:
            return self._token_account_locked()

    def _token_account_locked(self) -> str | None:
        with self._lock:
            if self._me_known:
                return self._me
        try:
            reply = self._get("GET /api/v1/accounts/verify_credentials",
                              lambda api: api.account_verify_credentials())
        except _RouteUnavailable:
            acct = None
        else:
            acct = reply.data.get("acct") if isinstance(reply.data, dict) else None
            if not isinstance(acct, str):
                raise self._malformed("GET /api/v1/accounts/verify_credentials", reply, "expected an Account")
        with self._lock:
            self._me, self._me_known = acct, True
        return acct


def _route(kind: str, arg: str, **vouched: tuple[str, ...]) -> Route:
    name = f"{kind}:{arg}"
    return Route(name, kind, arg, Match(name, **vouched))


def _search_state(checkpoint: str | None, since: datetime) -> tuple[str, str | None, int]:
    """``(floor, top, offset)`` of a search checkpoint; a new or unreadable one starts at ``since``."""
    if checkpoint:
        parts = checkpoint.split("~")
        if len(parts) == 1 and parts[0].isdigit():
            return parts[0], None, 0
        if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit() and parts[2].isdigit():
            return parts[0], parts[1], int(parts[2])
        log.warning("source.bad_checkpoint", checkpoint=preview(checkpoint, 80), restart_at=since.isoformat())
    return snowflake_at(since), None, 0


def _id(item: Mapping[str, Any]) -> str:
    return str(item["id"])


def _created(notification: Mapping[str, Any]) -> datetime | None:
    try:
        return parse_time(notification.get("created_at"), field="notification.created_at")
    except InputError:
        return None


def _chunks(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


