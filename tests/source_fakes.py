"""Test doubles for the source tests: a fake clock and a scripted requests transport.

The scripted transport stands in for the network below requests, so Mastodon.py, the session
hook and every retry run for real; only the bytes on the wire are made up. Whole-system tests
use the project's local Mastodon-API server instead.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

BASE = "https://social.example"


class FakeClock:
    """POSIX time that only moves when a test (or a fake sleep) moves it."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(seconds, 0.0)

    def http_date(self) -> str:
        return format_datetime(datetime.fromtimestamp(self.now, timezone.utc), usegmt=True)


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-able, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    error: Exception | None = None  # raised instead of answering (a reset, a timeout)


Handler = Callable[[requests.PreparedRequest], Reply]


class ScriptedAdapter(BaseAdapter):
    """Answers by path: a queue of replies per path (the last one repeats), or a handler."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        super().__init__()
        self.clock = clock
        self.routes: dict[str, deque[Reply] | Handler] = {}
        self.requests: list[requests.PreparedRequest] = []

    def on(self, path: str, *replies: Reply | Handler) -> "ScriptedAdapter":
        if len(replies) == 1 and callable(replies[0]):
            self.routes[path] = replies[0]
        else:
            self.routes[path] = deque(replies)  # type: ignore[arg-type]
        return self

    def paths(self) -> list[str]:
        return [urlsplit(r.url).path for r in self.requests]

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.requests.append(request)
        path = urlsplit(request.url).path
        script = self.routes.get(path)
        if script is None:
            reply = Reply(404, {"error": "Record not found"})
        elif callable(script):
            reply = script(request)
        else:
            reply = script.popleft() if len(script) > 1 else script[0]
        if reply.error is not None:
            raise reply.error
        response = requests.Response()
        response.status_code = reply.status
        response.reason = {200: "OK", 404: "Not Found", 429: "Too Many Requests"}.get(reply.status, "Status")
        body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        response._content = body
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json; charset=utf-8", **reply.headers})
        if self.clock is not None and "Date" not in response.headers:
            response.headers["Date"] = self.clock.http_date()
        response.url = request.url
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass


def session_with(adapter: ScriptedAdapter) -> requests.Session:
    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def query(request: requests.PreparedRequest) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.url).query)


def account(acct: str = "alice", account_id: str = "1") -> dict[str, Any]:
    return {
        "id": account_id,
        "username": acct.split("@")[0],
        "acct": acct,
        "display_name": acct,
        "created_at": "2023-01-01T00:00:00.000Z",
        "note": "",
        "url": f"{BASE}/@{acct}",
        "avatar": f"{BASE}/avatars/original/missing.png",
        "followers_count": 10,
        "following_count": 10,
        "statuses_count": 10,
        "bot": False,
    }


def status(status_id: str | int, content: str = "hello", *, acct: str = "alice", account_id: str = "1",
           tags: tuple[str, ...] = (), mentions: tuple[str, ...] = (), reply_to: str | None = None,
           created_at: str = "2023-11-14T22:13:20.000Z") -> dict[str, Any]:
    return {
        "id": str(status_id),
        "created_at": created_at,
        "in_reply_to_id": reply_to,
        "in_reply_to_account_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": "en",
        "uri": f"{BASE}/users/{acct}/statuses/{status_id}",
        "url": f"{BASE}/@{acct}/{status_id}",
        "content": f"<p>{content}</p>",
        "reblog": None,
        "account": account(acct, account_id),
        "mentions": [{"id": str(9000 + i), "username": m, "acct": m, "url": f"{BASE}/@{m}"} for i, m in enumerate(mentions)],
        "tags": [{"name": t, "url": f"{BASE}/tags/{t}"} for t in tags],
        "card": None,
    }
