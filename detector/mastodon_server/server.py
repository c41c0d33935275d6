"""A Mastodon-API server on loopback that serves a simulated community, for tests and the demo.

Real HTTP (``ThreadingHTTPServer``), so Mastodon.py and botwatch's source talk to it unchanged:
Mastodon's JSON entities, Link-header pagination with ``max_id``/``since_id``/``min_id``,
X-RateLimit headers and 429s, 401/404 error bodies, and faults on demand. Its clock decides what
exists: statuses created after ``clock()`` are invisible, so advancing the clock is how tests make
new posts arrive between two polls.

Which statuses each endpoint returns follows Mastodon's source (4.x), not guesses:
the public timeline drops replies to other accounts (``Status.without_replies`` keeps
self-replies; ``PublicFeed`` merges it unless ``with_replies``, which the API never sets), while
the hashtag timeline (``TagFeed``) keeps replies; both show ``public`` statuses only. Account
statuses include ``unlisted`` ones. Context limits anonymous callers to 40 ancestors and 60
descendants at depth 20, as ``Api::V1::Statuses::ContextsController`` does. Full-text search
needs a user token and finds statuses of ``indexable`` accounts plus the user's own and those
mentioning them (Mastodon 4.2+).
"""

from __future__ import annotations

import bisect
import email.utils
import hashlib
import json
import re
import socket
import struct
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from typing import Any, Callable, Iterable, Mapping, Sequence
from urllib.parse import parse_qs, urlencode, urlsplit

from detector.mastodon_server import entities as E
from detector.mastodon_server.community import Community, SimAccount, SimStatus
from detector.mastodon_server.faults import Fault, FaultRegistry
from detector.mastodon_server.ratelimit import RateLimiter, RateState

_FALSY = frozenset({"0", "f", "false", "off", "no", "n", ""})
_NOT_FOUND = {"error": "Record not found"}
_BAD_TOKEN = {"error": "The access token is invalid"}
_HTML_404 = (b"<!DOCTYPE html>\n<html><head><title>The page you were looking for doesn't exist (404)</title></head>"
             b"<body><h1>The page you are looking for isn't here.</h1></body></html>\n")
_HTML_ERROR = ("<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}"
               "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
_STATUS_URL = re.compile(r"^https?://([^/]+)/@([^/@]+)(?:@[^/]+)?/(\d+)$")


class SimClock:
    """A settable clock (POSIX seconds), shared by visibility, rate-limit windows and ``Date``."""

    def __init__(self, start: datetime | float) -> None:
        self._now = start.timestamp() if isinstance(start, datetime) else float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, when: datetime | float) -> None:
        with self._lock:
            self._now = when.timestamp() if isinstance(when, datetime) else float(when)


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request as the server saw it: what tests assert on."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    status: int
    token_owner: str | None  # acct of the token's account
    client: str
    at: float  # server clock
    fault: str | None = None

    def param(self, name: str) -> str | None:
        values = self.query.get(name) or self.query.get(name + "[]")
        return values[0] if values else None


class _HTTPError(Exception):
    def __init__(self, status: int, body: Mapping[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


@dataclass
class _Response:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Index:
    """Statuses sorted by id, with the parallel arrays bisect needs."""

    statuses: tuple[SimStatus, ...]
    ids: tuple[int, ...]
    times: tuple[int, ...]

    @classmethod
    def of(cls, statuses: Iterable[SimStatus]) -> "_Index":
        ordered = tuple(sorted(statuses, key=lambda s: int(s.id)))
        return cls(ordered, tuple(int(s.id) for s in ordered), tuple(s.created_ms for s in ordered))

    def visible(self, now_ms: int) -> int:
        return bisect.bisect_right(self.times, now_ms)


def paginate(ids: Sequence[int], count: int, *, limit: int, max_id: int | None, since_id: int | None,
             min_id: int | None) -> list[int]:
    """Positions into ``ids[:count]`` (ascending) of one page, newest first, as Mastodon pages.

    ``max_id``: older than; ``since_id``: newer than, the newest ones; ``min_id``: the ones
    immediately newer than it (oldest of them first when fetched, still returned newest first).
    """
    if limit <= 0:
        return []
    high = count if max_id is None else min(count, bisect.bisect_left(ids, max_id, 0, count))
    if min_id is not None:
        low = bisect.bisect_right(ids, min_id, 0, count)
        return list(range(low, min(high, low + limit)))[::-1]
    low = 0 if since_id is None else bisect.bisect_right(ids, since_id, 0, count)
    return list(range(max(low, high - limit), high))[::-1]


class MastodonTestServer:
    """Serve ``community`` on ``http://127.0.0.1:<port>`` until :meth:`stop`.

    ``clock``: a :class:`SimClock` (default: one set to the end of the community's window, so
    everything is visible) or any callable returning POSIX seconds (then :meth:`advance` is not
    available). ``page_size`` is the default ``limit``; Mastodon allows up to twice that.
    ``requests`` keeps the last ``request_log_limit`` requests. ``instance_trailing_slash_404`` makes ``/api/v1/instance/`` and ``/api/v2/instance/`` 404, as
    some servers do, which sends Mastodon.py 2.3.3's version check into endless recursion.
    """

    def __init__(
        self,
        community: Community,
        *,
        clock: Callable[[], float] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: int = 300,
        rate_window: int = 300,
        page_size: int = 20,
        search_enabled: bool = True,
        instance_trailing_slash_404: bool = False,
        retry_after_header: bool = False,
        timelines_require_auth: bool = False,
        test_api: bool = True,
        request_log_limit: int = 100_000,
    ) -> None:
        self.community = community
        self.clock: Callable[[], float] = clock if clock is not None else SimClock(community.end_ms / 1000)
        self.host = host
        self.port = port
        self.page_size = page_size
        self.search_enabled = search_enabled
        self.instance_trailing_slash_404 = instance_trailing_slash_404
        self.retry_after_header = retry_after_header
        self.timelines_require_auth = timelines_require_auth
        self.test_api = test_api
        self.faults = FaultRegistry()
        self.ratelimit = RateLimiter(rate_limit, rate_window, self.clock)
        self.requests: deque[RequestRecord] = deque(maxlen=request_log_limit)  # the newest, for long runs
        self._requests_lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.tokens: dict[str, str] = {}
        self._token_owner: dict[str, SimAccount] = {}
        for account in community.accounts:
            if account.domain is None:
                digest = hashlib.sha256(f"{community.params.seed}:{account.id}:{account.username}".encode()).hexdigest()
                token = f"bwtest-{digest[:40]}"
                self.tokens[account.acct] = token
                self._token_owner[token] = account
        self._build_indexes()

    # -- lifecycle
    def start(self) -> "MastodonTestServer":
        if self._httpd is not None:
            return self
        handler = type("BoundHandler", (_Handler,), {"app": self})
        self._httpd = ThreadingHTTPServer((self.host, self.port), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._stopping.clear()
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"mastodon-test-server:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stopping.set()  # wakes hanging handlers
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> "MastodonTestServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the server is not running; call start() or use it as a context manager")
        return f"http://{self.host}:{self.port}"

    # -- clock
    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def advance(self, seconds: float) -> float:
        """Move the server's clock forward: statuses created up to the new time become visible."""
        if not isinstance(self.clock, SimClock):
            raise TypeError("advance() needs the server's own SimClock; this server was given another clock")
        return self.clock.advance(seconds)

    def set_time(self, when: datetime | float) -> None:
        if not isinstance(self.clock, SimClock):
            raise TypeError("set_time() needs the server's own SimClock; this server was given another clock")
        self.clock.set(when)

    def token_for(self, acct: str) -> str:
        """The access token of a local account (``dustwise``, ``botwatch``, ...)."""
        try:
            return self.tokens[acct.lstrip("@")]
        except KeyError:
            raise KeyError(f"no local account {acct!r}; local accounts: {', '.join(sorted(self.tokens)[:8])}, ...") from None

    def log(self, record: RequestRecord) -> None:
        with self._requests_lock:
            self.requests.append(record)

    def requests_to(self, path_pattern: str) -> list[RequestRecord]:
        pattern = re.compile(path_pattern)
        with self._requests_lock:
            return [r for r in self.requests if pattern.search(r.path)]

    # -- indexes
    def _build_indexes(self) -> None:
        c = self.community
        public = [s for s in c.statuses if s.visibility == "public"]
        self._public = _Index.of(s for s in public if not s.in_reply_to_id or s.in_reply_to_account_id == s.account_id)
        self._public_tagged = _Index.of(s for s in public if s.tags)
        self._by_account = {a.id: _Index.of(s for s in c.statuses_of(a.id) if s.visibility in ("public", "unlisted"))
                            for a in c.accounts}
        notifications: dict[str, list[tuple[int, SimStatus]]] = {}
        counter = 0
        for status in c.statuses:
            for mentioned in status.mention_ids:
                if mentioned != status.account_id:
                    counter += 1
                    notifications.setdefault(mentioned, []).append((counter, status))
        self._notifications = notifications
        self._words: dict[str, frozenset[str]] = {}

    def words(self, status: SimStatus) -> frozenset[str]:
        cached = self._words.get(status.id)
        if cached is None:
            text = re.sub(r"https?://\S+", " ", status.text.lower())
            cached = frozenset(re.findall(r"[\w#@']+", text))
            self._words[status.id] = cached
        return cached


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() not in _FALSY


class _Handler(BaseHTTPRequestHandler):
    """Routes one request. ``app`` is bound per server (a subclass is made in ``start``)."""

    app: MastodonTestServer
    protocol_version = "HTTP/1.1"
    # One buffered write per response and no Nagle: otherwise headers and body go out as two
    # segments and delayed ACKs add 40 ms to every keep-alive request.
    wbufsize = -1
    disable_nagle_algorithm = True
    server_version = "Mastodon"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the request log is in app.requests
        return

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header, on the server's clock (Mastodon.py offsets rate-limit resets by it)."""
        return email.utils.formatdate(self.app.clock() if timestamp is None else timestamp, usegmt=True)

    # -- entry points
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        app = self.app
        split = urlsplit(self.path)
        path = split.path
        self.query = parse_qs(split.query, keep_blank_values=True)
        body = b""
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            body = self.rfile.read(length)
        token = self._token()
        owner = app._token_owner.get(token) if token else None
        client = self.client_address[0]
        fault_name: str | None = None
        try:
            if path.startswith("/_test/"):
                response = self._test_api(method, path, body)
            else:
                fault = app.faults.match(path)
                fault_name = fault.kind if fault else None
                if fault is not None and fault.kind == "reset":
                    self._log(method, path, 0, owner, client, fault_name)
                    self._reset()
                    return
                if fault is not None and fault.kind == "hang":  # logged now, then silence and a closed socket
                    self._log(method, path, 0, owner, client, fault_name)
                    app._stopping.wait(fault.delay)
                    self._reset()
                    return
                response = self._api(method, path, token, owner, fault)
        except _HTTPError as exc:
            response = self._json(exc.status, exc.body)
        except Exception as exc:  # a bug in the server must not look like a network fault
            response = self._json(500, {"error": f"test server error: {type(exc).__name__}: {exc}"})
        self._log(method, path, response.status, owner, client, fault_name)
        self._send(response)

    # -- plumbing
    def _token(self) -> str | None:
        header = self.headers.get("Authorization") or ""
        if header.lower().startswith("bearer "):
            return header[7:].strip() or None
        values = self.query.get("access_token")
        return values[0] if values else None

    def _log(self, method: str, path: str, status: int, owner: SimAccount | None, client: str, fault: str | None) -> None:
        self.app.log(RequestRecord(method, path, {k: list(v) for k, v in self.query.items()}, status,
                                   owner.acct if owner else None, client, self.app.clock(), fault))

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> _Response:
        try:
            body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (hostile-input tests): JSON's \uXXXX escapes carry it
            body = json.dumps(data, ensure_ascii=True, separators=(",", ":")).encode("ascii")
        return _Response(status, body, headers=dict(headers or {}))

    def _send(self, response: _Response) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.send_header("Cache-Control", "private, no-store")
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _reset(self) -> None:
        """Drop the connection with a TCP RST (SO_LINGER 0), as a crashed proxy would."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True
        self.wfile = BytesIO()  # the base class flushes it after we return

    # -- the test API (/_test/...): faults and the clock, for a service under test in another process
    def _test_api(self, method: str, path: str, body: bytes) -> _Response:
        app = self.app
        if not app.test_api:
            raise _HTTPError(404, _NOT_FOUND)
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            raise _HTTPError(400, {"error": "body is not JSON"}) from None
        if path == "/_test/faults":
            if method == "GET":
                return self._json(200, [f.as_dict() for f in app.faults.list()])
            if method == "DELETE":
                app.faults.clear()
                return self._json(200, [])
            if method == "POST":
                try:
                    fault = app.faults.add_from_json(data)
                except (ValueError, TypeError, re.error) as exc:
                    raise _HTTPError(422, {"error": str(exc)}) from None
                return self._json(201, fault.as_dict())
        if path == "/_test/clock":
            if method == "POST":
                if not isinstance(app.clock, SimClock):
                    raise _HTTPError(409, {"error": "this server runs on an external clock"})
                if "advance" in data:
                    app.clock.advance(float(data["advance"]))
                elif "now" in data:
                    app.clock.set(datetime.fromisoformat(str(data["now"]).replace("Z", "+00:00")))
                else:
                    raise _HTTPError(422, {"error": "give 'advance' (seconds) or 'now' (ISO 8601)"})
            return self._json(200, {"now": E.iso_datetime(app.now_ms())})
        if path == "/_test/tokens" and method == "GET":
            return self._json(200, app.tokens)
        raise _HTTPError(404, _NOT_FOUND)

    # -- the Mastodon API
    def _api(self, method: str, path: str, token: str | None, owner: SimAccount | None, fault: Fault | None) -> _Response:
        app = self.app
        rate_key = f"token:{token}" if token else f"ip:{self.client_address[0]}"
        if fault is not None and fault.kind == "rate_limit":
            return self._too_many(app.ratelimit.exhaust(rate_key), fault.retry_after)
        if fault is not None and fault.kind in ("error", "html"):
            return self._fault_response(fault)
        state = app.ratelimit.hit(rate_key)
        if not state.allowed:
            return self._too_many(state, state.retry_after(app.clock()) if app.retry_after_header else None)
        headers = {"X-RateLimit-Limit": str(state.limit), "X-RateLimit-Remaining": str(state.remaining),
                   "X-RateLimit-Reset": state.reset_header}
        try:
            if token is not None and owner is None:
                raise _HTTPError(401, _BAD_TOKEN)
            if method != "GET":
                raise _HTTPError(404, _NOT_FOUND)
            overlap = fault.overlap if fault is not None and fault.kind == "repeat_page" else 0
            status, data, link = self._route(path, owner, overlap)
        except _HTTPError as exc:
            response = self._json(exc.status, exc.body, headers)
            if exc.status == 404 and exc.body is _HTML_404_MARKER:
                response = _Response(404, _HTML_404, "text/html; charset=utf-8", headers)
            return response
        if link:
            headers["Link"] = link
        response = self._json(status, data, headers)
        if fault is not None and fault.kind == "malformed":
            response.body = b'{"id": "1", "content": "<p>oops</p>", ' + b"<html><body>Internal error</body></html>"
        elif fault is not None and fault.kind == "truncated":
            response.body = response.body[: max(1, len(response.body) // 2)]
        return response

    def _too_many(self, state: RateState, retry_after: int | None) -> _Response:
        headers = {"X-RateLimit-Limit": str(state.limit), "X-RateLimit-Remaining": "0",
                   "X-RateLimit-Reset": state.reset_header}
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return self._json(429, {"error": "Too many requests"}, headers)

    def _fault_response(self, fault: Fault) -> _Response:
        status = fault.status or 500
        reason = _REASONS.get(status, "Error")
        if fault.kind == "html":
            page = _HTML_ERROR.format(status=status, reason=reason).encode()
            return _Response(status, page, "text/html")
        return self._json(status, {"error": "We're sorry, but something went wrong on our end." if status == 500
                                   else reason})

    # -- parameters
    def _param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def _params(self, name: str) -> list[str]:
        return [v for key in (name + "[]", name) for v in self.query.get(key, []) if v != ""]

    def _id_param(self, name: str) -> int | None:
        value = self._param(name)
        if value is None or value == "":
            return None
        if not value.isdigit():
            raise _HTTPError(400, {"error": f"Validation failed: {name} must be a numeric id"})
        return int(value)

    def _limit(self, default: int) -> int:
        value = self._param("limit")
        if value is None or value == "":
            return default
        try:
            return min(abs(int(value)), default * 2)
        except ValueError:
            return default

    def _link(self, path: str, statuses: Sequence[Any], id_of: Callable[[Any], str]) -> str:
        """``Link: <...max_id=oldest>; rel="next", <...min_id=newest>; rel="prev"`` (none for an empty page)."""
        if not statuses:
            return ""
        keep = {k: v for k, v in self.query.items() if k not in ("max_id", "min_id", "since_id", "access_token")}

        def url(cursor: str, value: str) -> str:
            pairs = [(k, v) for k, values in keep.items() for v in values] + [(cursor, value)]
            return f"{self.app.base_url}{path}?{urlencode(pairs)}"

        return f'<{url("max_id", id_of(statuses[-1]))}>; rel="next", <{url("min_id", id_of(statuses[0]))}>; rel="prev"'

    # -- routing
    def _route(self, path: str, owner: SimAccount | None, overlap: int) -> tuple[int, Any, str]:
        app = self.app
        if path in ("/api/v1/instance", "/api/v1/instance/", "/api/v2/instance", "/api/v2/instance/"):
            if path.endswith("/") and app.instance_trailing_slash_404:
                raise _HTTPError(404, _HTML_404_MARKER)
            return 200, self._instance(v2=path.startswith("/api/v2")), ""
        parts = [p for p in path.split("/") if p]
        if parts[:3] == ["api", "v1", "timelines"] and len(parts) >= 4:
            if app.timelines_require_auth and owner is None:
                raise _HTTPError(422, {"error": "This method requires an authenticated user"})
            if parts[3] == "public" and len(parts) == 4:
                return self._timeline(path, app._public, self._public_filter(), owner, overlap)
            if parts[3] == "tag" and len(parts) == 5:
                return self._timeline(path, app._public_tagged, self._tag_filter(parts[4]), owner, overlap)
        if parts[:3] == ["api", "v1", "accounts"] and len(parts) >= 4:
            if parts[3] == "verify_credentials" and len(parts) == 4:
                if owner is None:
                    raise _HTTPError(401, _BAD_TOKEN)
                account = app.community.account_json(owner, at_ms=app.now_ms())
                return 200, E.credential_account_entity(account, note_source=owner.bio), ""
            if parts[3] == "lookup" and len(parts) == 4:
                found = app.community.lookup(self._param("acct") or "")
                if found is None or found.created_ms > app.now_ms():
                    raise _HTTPError(404, _NOT_FOUND)
                return 200, app.community.account_json(found, at_ms=app.now_ms()), ""
            account = app.community.account(parts[3])
            if account is None or account.created_ms > app.now_ms():  # not registered yet
                raise _HTTPError(404, _NOT_FOUND)
            if len(parts) == 4:
                return 200, app.community.account_json(account, at_ms=app.now_ms()), ""
            if len(parts) == 5 and parts[4] == "statuses":
                return self._account_statuses(path, account, owner, overlap)
        if parts[:3] == ["api", "v1", "statuses"] and len(parts) in (4, 5):
            status = self._visible_status(parts[3])
            if len(parts) == 4:
                return 200, app.community.status_json(status, at_ms=app.now_ms(), viewer=owner is not None), ""
            if parts[4] == "context":
                return 200, self._context(status, owner), ""
        if path in ("/api/v2/search", "/api/v2/search/"):
            return 200, self._search(owner), ""
        if path in ("/api/v1/notifications", "/api/v1/notifications/"):
            return self._notifications(path, owner, overlap)
        raise _HTTPError(404, _HTML_404_MARKER)

    def _instance(self, *, v2: bool) -> dict[str, Any]:
        app, c = self.app, self.app.community
        contact = c.lookup("botwatch") or next((a for a in c.accounts if a.domain is None), None)
        contact_json = c.account_json(contact, at_ms=app.now_ms()) if contact else None
        local = [a for a in c.accounts if a.domain is None]
        description = "A simulated Mastodon community for testing botwatch. Nothing here is real."
        if v2:
            return E.instance_v2_entity(host=c.host, title=c.params.title, description=description,
                                        active_month=len(local), contact_account=contact_json)
        visible = sum(1 for s in c.statuses if s.created_ms <= app.now_ms())
        domains = {a.domain for a in c.accounts if a.domain}
        return E.instance_v1_entity(host=c.host, title=c.params.title, description=description, user_count=len(local),
                                    status_count=visible, domain_count=len(domains), contact_account=contact_json)

    def _visible_status(self, status_id: str) -> SimStatus:
        status = self.app.community.status(status_id)
        if status is None or status.created_ms > self.app.now_ms():
            raise _HTTPError(404, _NOT_FOUND)
        return status

    def _public_filter(self) -> Callable[[SimStatus], bool]:
        c = self.app.community
        local, remote, media = _truthy(self._param("local")), _truthy(self._param("remote")), _truthy(self._param("only_media"))

        def keep(status: SimStatus) -> bool:
            is_local = c.account(status.account_id).domain is None
            return (not local or is_local) and (not remote or not is_local) and (not media or bool(status.media))

        return keep

    def _tag_filter(self, hashtag: str) -> Callable[[SimStatus], bool]:
        base = self._public_filter()
        any_tags = {hashtag.lower()} | {t.lower() for t in self._params("any")[:4]}
        all_tags = {t.lower() for t in self._params("all")[:4]}
        none_tags = {t.lower() for t in self._params("none")[:4]}

        def keep(status: SimStatus) -> bool:
            tags = {t.lower() for t in status.tags}
            return bool(tags & any_tags) and all_tags <= tags and not (tags & none_tags) and base(status)

        return keep

    def _page(self, index: _Index, keep: Callable[[SimStatus], bool] | None, limit: int, overlap: int) -> list[SimStatus]:
        now_ms = self.app.now_ms()
        count = index.visible(now_ms)
        statuses, ids = index.statuses, index.ids
        if keep is not None:
            chosen = [i for i in range(count) if keep(statuses[i])]
            statuses = tuple(statuses[i] for i in chosen)
            ids = tuple(ids[i] for i in chosen)
            count = len(statuses)
        max_id, since_id, min_id = self._id_param("max_id"), self._id_param("since_id"), self._id_param("min_id")
        if overlap and (max_id is not None or min_id is not None):
            # a buggy cache or replica: the cursor lands a few items off, repeating the previous page's edge
            if max_id is not None:
                position = bisect.bisect_left(ids, max_id, 0, count)
                max_id = ids[position + overlap] if position + overlap < count else None
            if min_id is not None:
                position = bisect.bisect_right(ids, min_id, 0, count)
                min_id = ids[position - overlap - 1] if position - overlap - 1 >= 0 else None
        positions = paginate(ids, count, limit=limit, max_id=max_id, since_id=since_id, min_id=min_id)
        return [statuses[i] for i in positions]

    def _render(self, statuses: Sequence[SimStatus], owner: SimAccount | None) -> list[dict[str, Any]]:
        now_ms = self.app.now_ms()
        return [self.app.community.status_json(s, at_ms=now_ms, viewer=owner is not None) for s in statuses]

    def _timeline(self, path: str, index: _Index, keep: Callable[[SimStatus], bool], owner: SimAccount | None,
                  overlap: int) -> tuple[int, Any, str]:
        page = self._page(index, keep, self._limit(self.app.page_size), overlap)
        return 200, self._render(page, owner), self._link(path, page, lambda s: s.id)

    def _account_statuses(self, path: str, account: SimAccount, owner: SimAccount | None,
                          overlap: int) -> tuple[int, Any, str]:
        if _truthy(self._param("pinned")):
            return 200, [], ""
        exclude_replies = _truthy(self._param("exclude_replies"))
        only_media = _truthy(self._param("only_media"))
        tagged = (self._param("tagged") or "").lower()

        def keep(status: SimStatus) -> bool:
            if exclude_replies and status.in_reply_to_id and status.in_reply_to_account_id != status.account_id:
                return False
            if only_media and not status.media:
                return False
            return not tagged or tagged in {t.lower() for t in status.tags}

        index = self.app._by_account[account.id]
        page = self._page(index, keep, self._limit(self.app.page_size), overlap)
        return 200, self._render(page, owner), self._link(path, page, lambda s: s.id)

    def _context(self, status: SimStatus, owner: SimAccount | None) -> dict[str, Any]:
        c, now_ms = self.app.community, self.app.now_ms()
        ancestors_limit, descendants_limit, depth_limit = (4096, 4096, None) if owner else (40, 60, 20)
        ancestors: list[SimStatus] = []
        parent = c.parent(status)
        while parent is not None and len(ancestors) < ancestors_limit:
            ancestors.append(parent)
            parent = c.parent(parent)
        ancestors.reverse()
        descendants: list[SimStatus] = []
        stack = [(child, 1) for child in reversed(c.children(status.id))]
        while stack and len(descendants) < descendants_limit:
            node, depth = stack.pop()
            if node.created_ms > now_ms or node.visibility not in ("public", "unlisted"):
                continue
            descendants.append(node)
            if depth_limit is None or depth < depth_limit:
                stack.extend((child, depth + 1) for child in reversed(c.children(node.id)))
        return E.context_entity(self._render(ancestors, owner), self._render(descendants, owner))

    def _search(self, owner: SimAccount | None) -> dict[str, Any]:
        app, c = self.app, self.app.community
        q = (self._param("q") or "").strip()
        kind = self._param("type")
        resolve = _truthy(self._param("resolve"))
        offset_value = self._param("offset")
        if owner is None and (resolve or (offset_value not in (None, "", "0"))):
            raise _HTTPError(401, {"error": "Search queries pagination is not supported without authentication"})
        if not q:
            return E.search_entity()
        limit = self._limit(20)
        offset = int(offset_value) if offset_value and offset_value.isdigit() else 0
        now_ms = app.now_ms()
        accounts: list[dict[str, Any]] = []
        statuses: list[dict[str, Any]] = []
        hashtags: list[dict[str, Any]] = []
        if kind in (None, "", "accounts"):
            needle = q.lstrip("@").lower()
            found = [a for a in c.accounts if a.created_ms <= now_ms
                     and (a.acct.lower().startswith(needle) or a.display_name.lower().startswith(needle))]
            accounts = [c.account_json(a, at_ms=now_ms) for a in found[offset: offset + limit]]
        if kind in (None, "", "hashtags"):
            needle = q.lstrip("#").lower()
            names = sorted({t for s in c.statuses if s.created_ms <= now_ms for t in s.tags if t.lower().startswith(needle)},
                           key=str.lower)
            hashtags = [{"name": n, "url": f"https://{c.host}/tags/{n.lower()}", "history": []}
                        for n in names[offset: offset + limit]]
        if kind in (None, "", "statuses"):
            statuses = self._render(self._search_statuses(q, owner, resolve, limit, offset), owner)
        return E.search_entity(accounts, statuses, hashtags)

    def _search_statuses(self, q: str, owner: SimAccount | None, resolve: bool, limit: int,
                         offset: int) -> list[SimStatus]:
        app, c = self.app, self.app.community
        now_ms = app.now_ms()
        url = _STATUS_URL.match(q)
        if url and resolve:  # resolving a status URL works without full-text search
            status = c.status(url.group(3))
            return [status] if status is not None and status.created_ms <= now_ms else []
        if not app.search_enabled or owner is None:
            return []
        terms = q.lower().split()
        author_filter = None
        words: list[str] = []
        for term in terms:
            if term.startswith("from:"):
                author_filter = c.lookup(term[5:])
                if author_filter is None:
                    return []
            else:
                words.append(term)
        if not words and author_filter is None:
            return []
        min_id, max_id = self._id_param("min_id"), self._id_param("max_id")
        hits: list[SimStatus] = []
        for status in reversed(c.statuses):  # newest first
            if status.created_ms > now_ms or status.visibility not in ("public", "unlisted"):
                continue
            if min_id is not None and int(status.id) <= min_id or max_id is not None and int(status.id) >= max_id:
                continue
            author = c.account(status.account_id)
            if author_filter is not None and author is not author_filter:
                continue
            if not (author.indexable or author is owner or owner.id in status.mention_ids):
                continue
            vocabulary = app.words(status)
            if all(any(word.startswith(term) for word in vocabulary) for term in words):
                hits.append(status)
                if len(hits) >= offset + limit:
                    break
        return hits[offset: offset + limit]

    def _notifications(self, path: str, owner: SimAccount | None, overlap: int) -> tuple[int, Any, str]:
        app = self.app
        if owner is None:
            raise _HTTPError(401, _BAD_TOKEN)
        types = set(self._params("types"))
        exclude = set(self._params("exclude_types"))
        from_account = self._param("account_id")
        now_ms = app.now_ms()
        items = [(nid, s) for nid, s in app._notifications.get(owner.id, ()) if s.created_ms <= now_ms
                 and s.visibility in ("public", "unlisted")
                 and (not types or "mention" in types) and "mention" not in exclude
                 and (from_account is None or s.account_id == from_account)]
        ids = [nid for nid, _ in items]
        positions = paginate(ids, len(ids), limit=self._limit(40), max_id=self._id_param("max_id"),
                             since_id=self._id_param("since_id"), min_id=self._id_param("min_id"))
        page = [items[i] for i in positions]
        c = app.community
        data = [E.notification_entity(id=str(nid), type="mention", created_ms=s.created_ms,
                                      account=c.account_json(s.account_id, at_ms=now_ms),
                                      status=c.status_json(s, at_ms=now_ms, viewer=True)) for nid, s in page]
        return 200, data, self._link(path, page, lambda item: str(item[0]))


# Unknown routes get Rails' HTML 404 page rather than JSON (what Mastodon.py sees on such servers).
_HTML_404_MARKER: Mapping[str, Any] = {"error": "Not Found"}
