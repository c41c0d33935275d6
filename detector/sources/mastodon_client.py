"""Every request botwatch sends to a Mastodon server goes through :class:`MastodonClient`.

It wraps Mastodon.py 2.3.3 so that botwatch, not the library, owns each wait, retry and time
limit, and so that the JSON the server sent is kept exactly:

- Mastodon.py is built with ``ratelimit_method="throw"``: in ``wait``/``pace`` mode it retries a
  429 itself with no cap, ignores ``Retry-After`` and blocks the calling thread. The shared
  :class:`~detector.sources.ratelimit.RateLimiter` decides instead.
- ``request_timeout`` comes from the config (the library's default is 300 s).
- Mastodon.py is given an explicit ``mastodon_version`` from our own probe of ``/api/v2/instance``
  then ``/api/v1/instance``: left to itself, 2.3.3 asks ``/api/v1/instance/`` (trailing slash,
  which some servers 404), swallows the failure, and ``verify_minimum_version(cached=True)``
  calls the failed check again, without end. ``version_check_mode="created"`` makes it use that
  version (with ``"none"`` it stays at 1.0.0 and falls back to the removed v1 search).
- A response hook on the requests session sees every response first: it feeds the rate
  limiter and records the response, whose body is parsed here into plain JSON. Mastodon.py's
  typed objects are not faithful to the wire (dates become datetimes, unparseable values become
  ``None``, ``to_json`` rewrites timestamps), and the store keeps what the server said.
- Network errors and 5xx answers are retried with jittered exponential backoff
  (:class:`~detector.sources.backoff.RetryPolicy`) that holds back every caller of the server,
  then raise :class:`SourceError` and leave the server alone for ``cooldown`` (60 s), so that
  its other watches fail fast instead of spending their own retries; a body that
  is not JSON raises :class:`MalformedResponse` with a bounded preview, never the whole body
  (which Mastodon.py's own ``MastodonAPIError`` carries).

Thread-safe: one client serves every watch of its server from the service's thread pool.
The access token is sent in a header only; it never appears in a log event or an exception.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping
from urllib.parse import parse_qs, urlsplit

import requests
from mastodon import Mastodon
from mastodon.errors import MastodonError, MastodonNetworkError, MastodonVersionError
from mastodon.return_types import AttribAccessDict

from detector.config import InstanceConfig
from detector.errors import MalformedResponse, RateLimited, SourceError
from detector.logs import get_logger
from detector.sources.backoff import RetryPolicy
from detector.sources.ratelimit import Clock, RateLimiter, Sleep, shared_limiter

log = get_logger("detector.sources.mastodon")

FALLBACK_VERSION = "4.0.0"  # every endpoint botwatch uses exists since 3.5; assumed when no probe answers
PREVIEW_CHARS = 200
MAX_REFUSALS = 3  # 429s waited out per request before giving up with RateLimited
COOLDOWN = 60.0  # seconds a server that failed a request through all retries is left alone
_RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def normalise_version(reported: str) -> str | None:
    """The Mastodon API version in a server's ``version`` string, as ``major.minor.patch``.

    ``4.3.0-beta.1`` → 4.3.0; ``4.2.8+glitch`` and ``3.5.3+hometown-1.0.7`` → the Mastodon part
    before ``+``; Pleroma's ``2.7.2 (compatible; Pleroma 2.5.0)`` → 2.7.2 (the API it mimics).
    """
    head = reported.strip().split(" ", 1)[0].split("+", 1)[0]
    found = _VERSION.match(head) or _VERSION.search(reported)
    if not found:
        return None
    major, minor, patch = found.groups()
    return f"{int(major)}.{int(minor)}.{int(patch or 0)}"


def preview(body: bytes | str, limit: int = PREVIEW_CHARS) -> str:
    """The start of a response body, decoded leniently, for messages of bounded size."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more chars]"


def link_param(links: Mapping[str, Mapping[str, str]], rel: str, name: str) -> str | None:
    """A query parameter of the Link header's ``rel`` URL (``min_id`` of ``prev``, say)."""
    url = links.get(rel, {}).get("url")
    if not url:
        return None
    values = parse_qs(urlsplit(url).query).get(name)
    return values[0] if values else None


class RequestRefused(SourceError):
    """The server answered 4xx (other than 429): ``status`` says which; the message, why."""

    def __init__(self, message: str, *, status: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class EndpointUnsupported(SourceError):
    """The server's version is too old for an endpoint (Mastodon.py's "created" check)."""


@dataclass(frozen=True)
class ApiResponse:
    """A successful answer: the JSON as the server sent it, and its parsed Link header."""

    data: Any
    status: int
    links: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


class _Capture(threading.local):
    """The responses of the request in progress on this thread."""

    def __init__(self) -> None:
        self.active = False
        self.responses: list[requests.Response] = []


class MastodonClient:
    """Mastodon.py for one server, with botwatch's rate limits, retries, timeouts and raw JSON."""

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
        max_refusals: int = MAX_REFUSALS,
        cooldown: float = COOLDOWN,
    ) -> None:
        self.instance = instance
        self.limiter = limiter or shared_limiter(instance, clock=clock, sleep=sleep)
        self.retry = retry
        self.max_refusals = max_refusals
        self.cooldown = cooldown
        self._clock = clock
        self._rng = rng or random.Random()
        self._base = instance.url.rstrip("/")
        self._session = session or requests.Session()
        self._session.hooks.setdefault("response", []).append(self._on_response)
        self._capture = _Capture()
        self._api: Mastodon | None = None
        self._api_lock = threading.Lock()
        self.version: str | None = None

    # -- the one path of every request -------------------------------------------------------

    def call(self, endpoint: str, send: Callable[[Mastodon], object]) -> ApiResponse:
        """Make one API request with Mastodon.py (``send(api)``) under the limiter, with retries,
        and return what the server answered (Mastodon.py's own return value is not used).

        ``endpoint`` (``"GET /api/v1/timelines/public"``) names the request in logs and errors.
        Raises :class:`RateLimited`, :class:`RequestRefused` (4xx), :class:`MalformedResponse`,
        :class:`EndpointUnsupported`, or :class:`SourceError` once retries are spent.
        """
        api = self.api  # probe and build first: not inside another request's capture
        return self._request(endpoint, lambda: send(api))

    def _request(self, endpoint: str, send: Callable[[], object]) -> ApiResponse:
        failures = refusals = 0
        while True:
            self.limiter.acquire()
            self._capture.active, self._capture.responses = True, []
            error: BaseException | None = None
            try:
                send()
            except MastodonVersionError as exc:
                raise EndpointUnsupported(f"{self.instance.name}: {endpoint}: {self.scrub(str(exc))}") from None
            except (MastodonError, requests.RequestException) as exc:
                error = exc
            finally:
                self._capture.active = False
            response = self._capture.responses[-1] if self._capture.responses else None

            if isinstance(error, (MastodonNetworkError, requests.RequestException)):
                reason = self.scrub(str(error))
                retry_hint = None
            elif response is None:
                what = self.scrub(str(error)) if error else "no response"
                raise SourceError(f"{self.instance.name}: {endpoint}: {preview(what, 300)}")
            elif response.status_code == 429:
                refusals += 1
                if refusals > self.max_refusals:
                    retry_at = max(self.limiter.blocked_until, self._clock())
                    log.warning("source.rate_limited", instance=self.instance.name, endpoint=endpoint,
                                retry_at=retry_at, refusals=refusals)
                    raise RateLimited(
                        f"{self.instance.name}: {endpoint}: still refused (429) after {refusals} tries",
                        retry_at=retry_at,
                    )
                continue  # the limiter has learnt when to come back; acquire() waits or raises
            elif response.status_code >= 500 and response.status_code != 501:
                reason = f"HTTP {response.status_code} {response.reason or ''}".strip()
                retry_hint = _seconds(response.headers.get("Retry-After"))
            elif response.status_code >= 400:
                raise self._refused(endpoint, response)
            else:
                return self._parse(endpoint, response)

            failures += 1
            if failures >= self.retry.attempts:
                self.limiter.suspend(self.cooldown, f"{endpoint} failed {failures} times")
                raise SourceError(
                    f"{self.instance.name}: {endpoint} failed {failures} times; last: {preview(reason, 300)}",
                    hint="the server is down or unreachable; botwatch tries again at the next poll",
                )
            delay = self.retry.delay(failures, self._rng, hint=retry_hint)
            log.warning("source.retry", instance=self.instance.name, endpoint=endpoint, attempt=failures,
                        error=preview(reason, 300), delay=round(delay, 3))
            self.limiter.defer(delay)  # the next acquire() waits it out, with every other caller

    def _parse(self, endpoint: str, response: requests.Response) -> ApiResponse:
        try:
            data = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            raise MalformedResponse(
                f"{self.instance.name}: {endpoint} answered {response.status_code} with a body that is not JSON "
                f"({len(response.content)} bytes, {response.headers.get('Content-Type', 'no content type')}): "
                f"{preview(self.scrub(response.content.decode('utf-8', 'replace')))!r}",
                hint="the server (or a proxy in front of it) sent something else; the route is retried next poll",
            ) from None
        return ApiResponse(data, response.status_code, dict(response.links))

    def _refused(self, endpoint: str, response: requests.Response) -> RequestRefused:
        try:
            body = response.json()
            why = body.get("error") if isinstance(body, dict) else None
        except ValueError:
            why = None
        why = preview(self.scrub(str(why or response.reason or "")))
        hint = None
        if response.status_code == 401:
            hint = f"check the access token ({self.instance.token_source}); it needs the read scope"
        return RequestRefused(f"{self.instance.name}: {endpoint} refused: HTTP {response.status_code} {why}".rstrip(),
                              status=response.status_code, hint=hint)

    def _on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        """Session hook: runs before Mastodon.py sees the response."""
        if not (self._capture.active or response.url.startswith(self._base)):
            return response  # a session shared with another client
        self.limiter.observe(response.status_code, response.headers)
        # botwatch owns rate limiting; Mastodon.py would only raise on a Reset it cannot parse
        for header in _RATE_HEADERS:
            response.headers.pop(header, None)
        if self._capture.active:
            self._capture.responses.append(response)
        return response

    def scrub(self, text: str) -> str:
        token = self.instance.token.reveal() if self.instance.token else ""
        return text.replace(token, "***") if token else text

    # -- Mastodon.py, built once the version is known -------------------------------------------

    @property
    def api(self) -> Mastodon:
        """Mastodon.py for this server, built on first use after probing the version."""
        if self._api is None:
            with self._api_lock:
                if self._api is None:
                    self._api = self._build_api()
        return self._api

    def _build_api(self) -> Mastodon:
        self.version = self.probe_version()
        api = Mastodon(
            api_base_url=self._base,
            access_token=self.instance.token.reveal() if self.instance.token else None,
            ratelimit_method="throw",
            request_timeout=self.instance.request_timeout,
            mastodon_version=self.version,
            version_check_mode="created",
            session=self._session,
            user_agent=self.instance.user_agent,
        )
        # Mastodon.py casts every answer into typed entities, about 2 ms of CPU per status (80 % of
        # a poll), which botwatch never reads: it keeps the JSON the hook captured. Its casting
        # helper is looked up on the instance, so an identity cast there turns that layer off.
        if hasattr(api, "_Mastodon__try_cast_to_type"):
            api._Mastodon__try_cast_to_type = _uncast
        # Mastodon.py's timeline() asks /api/v2/instance/ (trailing slash again) whether a feed
        # is available before every call until an answer is cached, and treats any failure as
        # "available". Caching an empty answer saves that request: availability is what the
        # feed's own answer says.
        if hasattr(api, "_Mastodon__instance_v2_cache"):
            api._Mastodon__instance_v2_cache = AttribAccessDict()
        return api

    def probe_version(self) -> str:
        """The server's Mastodon API version from ``/api/v2/instance``, else ``/api/v1/instance``
        (both without the trailing slash), else :data:`FALLBACK_VERSION`."""
        for path in ("/api/v2/instance", "/api/v1/instance"):
            try:
                reply = self._request(f"GET {path}", lambda path=path: self._get(path))
            except (RequestRefused, MalformedResponse) as exc:
                log.info("source.version_probe", instance=self.instance.name, path=path, error=str(exc))
                continue
            reported = reply.data.get("version") if isinstance(reply.data, dict) else None
            version = normalise_version(reported) if isinstance(reported, str) else None
            if version:
                log.info("source.version", instance=self.instance.name, version=version, reported=reported, via=path)
                return version
        log.warning("source.version_unknown", instance=self.instance.name, assumed=FALLBACK_VERSION)
        return FALLBACK_VERSION

    def _get(self, path: str) -> requests.Response:
        headers = {"User-Agent": self.instance.user_agent, "Accept": "application/json"}
        if self.instance.token:
            headers["Authorization"] = "Bearer " + self.instance.token.reveal()
        # the no-op auth keeps a ~/.netrc entry from replacing our Authorization header
        return self._session.get(self._base + path, headers=headers, timeout=self.instance.request_timeout,
                                 auth=lambda request: request)


class RawObject(dict):
    """A JSON object Mastodon.py hands back uncast: keys readable as attributes (its offset
    pagination reads ``response.statuses``), and room for the pagination attributes it sets."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _uncast(value: Any, override_type: Any = None) -> tuple[Any, None]:
    return (RawObject(value) if isinstance(value, dict) else value), None


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
