"""Fill a botwatch store fast with realistic rows, for ``load_benchmark.py``.

The poller would take days to store a million replies, so the rows are generated and written
with bulk inserts. They are shaped like the poller's: every reply is a post with a Mastodon
Status as raw JSON (about 1.8 KB, embedded account included), its author in ``accounts``, its
trigger post (the watched post it was found under, also its parent), a ``watch_posts`` link with
role ``reply``, a ``reply_scores`` row of the current model version, and every account has an
``account_scores`` row and a small behaviour state. A twentieth of the accounts are scripted:
they write a third of the replies from a few templates within seconds of the post, which is what
the daily summary's top accounts are made of. Past days have their summaries already, the
measured day has none yet (it is the pending one).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, insert

from detector.store.tables import (
    ACCOUNT_SCORES,
    ACCOUNTS,
    ACTIVITY,
    POSTS,
    REPLY_SCORES,
    SUMMARIES,
    TRACKED,
    WATCH_POSTS,
    WATCHES,
)

PLATFORM = "mastodon"
INSTANCE = "load.example"
REPLIES_PER_TRIGGER = 10
REPLIES_PER_ACCOUNT = 10
BOT_EVERY = 20  # one account in twenty is scripted
BOT_REPLY_SHARE = 1 / 3
BATCH = 5_000
BOT_TEMPLATES = (
    "Great read. Really, tx.",
    "Tired of dust? The {brand} X9 picks up everything, 40% off today: https://deals.example/{n}",
    "Honestly the best vacuum I ever owned is the {brand} X9. Link in bio!",
    "Wow, this! Everyone should see https://promo.example/{n}",
)
HUMAN_WORDS = (
    "vacuum filter carpet hose bag suction cord battery dog hair kitchen floor noise warranty repair "
    "store price bought returned broken works fine love hate maybe later thanks question anyone else"
).split()


@dataclass(frozen=True)
class Plan:
    """What to generate: ``replies`` on ``day`` (the day measured) and ``history`` replies spread
    over the ``history_days`` days before it, across ``watches`` watches."""

    replies: int
    history: int
    history_days: int
    watches: int
    day: date
    model_version: str
    seed: int = 7

    @property
    def accounts(self) -> int:
        return max(BOT_EVERY, (self.replies + self.history) // REPLIES_PER_ACCOUNT)

    def watch_names(self) -> list[str]:
        return [f"load-{n:03d}" for n in range(self.watches)]


def _at(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _account_json(n: int, bot: bool, created: datetime) -> dict[str, Any]:
    acct = f"{'promo' if bot else 'user'}{n}"
    return {
        "id": str(n), "username": acct, "acct": acct, "display_name": acct.title(), "locked": False,
        "bot": False, "discoverable": True, "group": False, "created_at": created.isoformat(),
        "note": "<p>Vacuum enthusiast, dog owner, occasional reviewer of household things.</p>",
        "url": f"https://{INSTANCE}/@{acct}", "uri": f"https://{INSTANCE}/users/{acct}",
        "avatar": f"https://{INSTANCE}/avatars/original/missing.png",
        "avatar_static": f"https://{INSTANCE}/avatars/original/missing.png",
        "header": f"https://{INSTANCE}/headers/original/missing.png",
        "header_static": f"https://{INSTANCE}/headers/original/missing.png",
        "followers_count": 3 if bot else 120 + n % 400, "following_count": 900 if bot else 80 + n % 300,
        "statuses_count": 5000 if bot else 300 + n % 2000, "last_status_at": created.date().isoformat(),
        "emojis": [], "fields": [
            {"name": "Website", "value": f'<a href="https://{acct}.example" rel="me nofollow">{acct}.example</a>',
             "verified_at": None},
            {"name": "Pronouns", "value": "they/them", "verified_at": None},
        ], "noindex": False, "roles": [],
    }  # fmt: skip


def _status_json(post_id: str, created: datetime, text: str, account: dict[str, Any],
                 parent: tuple[str, str] | None) -> str:
    status = {
        "id": post_id, "created_at": created.isoformat(), "in_reply_to_id": parent[0] if parent else None,
        "in_reply_to_account_id": parent[1] if parent else None, "sensitive": False, "spoiler_text": "",
        "visibility": "public", "language": "en", "uri": f"https://{INSTANCE}/users/x/statuses/{post_id}",
        "url": f"https://{INSTANCE}/@x/{post_id}", "replies_count": 0, "reblogs_count": 0,
        "favourites_count": 0, "edited_at": None, "favourited": False, "reblogged": False, "muted": False,
        "bookmarked": False, "content": f"<p>{text}</p>", "filtered": [], "reblog": None,
        "application": {"name": "Web", "website": None}, "account": account, "media_attachments": [],
        "mentions": [], "tags": [{"name": "vacuum", "url": f"https://{INSTANCE}/tags/vacuum"},
                                      {"name": "cleaning", "url": f"https://{INSTANCE}/tags/cleaning"}],
        "emojis": [], "card": None, "poll": None,
    }  # fmt: skip
    return json.dumps(status, separators=(",", ":"))


class _Writer:
    """Buffers rows per table and writes them in bulk, each flush one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.buffers: dict[Any, list[dict[str, Any]]] = {}

    def add(self, table: Any, row: dict[str, Any]) -> None:
        buffer = self.buffers.setdefault(table, [])
        buffer.append(row)
        if len(buffer) >= BATCH:
            self.flush()

    def flush(self) -> None:
        with self.engine.begin() as conn:
            # Parents before children: the foreign keys are checked on SQLite too.
            for table in (WATCHES, ACCOUNTS, POSTS, WATCH_POSTS, TRACKED, REPLY_SCORES, ACCOUNT_SCORES,
                          ACTIVITY, SUMMARIES):
                rows = self.buffers.pop(table, None)
                if not rows:
                    continue
                if conn.dialect.name == "postgresql":
                    _copy(conn, table.name, rows)
                else:
                    conn.execute(insert(table), rows)


def _copy(conn, table: str, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL's COPY, ten times the speed of multi-row INSERTs; JSON columns go as text."""
    columns = list(rows[0])
    cursor = conn.connection.dbapi_connection.cursor()
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(v, separators=(",", ":")) if isinstance(v, (dict, list)) else v
                            for v in row.values()])


def fill(engine: Engine, plan: Plan, progress=None) -> dict[str, int]:
    """Write the plan's rows into an empty, migrated database; returns rows written per table."""
    rng = random.Random(plan.seed)
    writer = _Writer(engine)
    counts: dict[str, int] = {}

    def add(table: Any, row: dict[str, Any]) -> None:
        writer.add(table, row)
        counts[table.name] = counts.get(table.name, 0) + 1

    first_day = plan.day - timedelta(days=plan.history_days)
    for n, name in enumerate(plan.watch_names(), 1):
        add(WATCHES, {"id": n, "name": name, "created_at": _at(first_day) - timedelta(hours=1)})
    accounts = _accounts(plan, add, first_day)
    days = [(plan.day, plan.replies)] + [
        (plan.day - timedelta(days=k), plan.history // plan.history_days) for k in range(1, plan.history_days + 1)
    ] if plan.history_days else [(plan.day, plan.replies)]
    next_post = 1
    for day, replies in days:
        next_post = _day(plan, day, replies, accounts, next_post, rng, add)
        if day != plan.day:
            for n in range(1, plan.watches + 1):
                markdown = f"# summary of {day}\n" + "| account | replies |\n" * 40
                add(SUMMARIES, {"watch_id": n, "day": day, "markdown": markdown, "data": {"day": str(day)},
                                "created_at": _at(day + timedelta(days=1)) + timedelta(minutes=15)})
        if progress:
            progress(day, counts)
    writer.flush()
    return counts


def _activity_state(bot: bool, first_day: date) -> dict[str, Any]:
    """A behaviour state built the classifier's own way from a dozen replies (a few KB, as a
    running service's are), shared by every account of the kind."""
    from detector.classifier.detector import Detector
    from detector.normalise.mastodon import normalise_status
    from detector.records import ParentInfo

    detector = Detector.load()
    activity = detector.new_activity()
    rng = random.Random(1)
    author = _account_json(1, bot, _at(first_day) - timedelta(days=30))
    for n in range(12):
        parent_at = _at(first_day) + timedelta(hours=n)
        created = parent_at + timedelta(seconds=rng.uniform(2, 15) if bot else rng.uniform(600, 9000))
        text = BOT_TEMPLATES[n % 2].format(brand="VacuumRus", n=n) if bot else " ".join(rng.choices(HUMAN_WORDS, k=12))
        raw = json.loads(_status_json(str(10**14 + n), created, text, author, (str(10**13 + n), str(99 + n))))
        post = normalise_status(raw, instance=INSTANCE)
        detector.observe(activity, post, ParentInfo(str(10**13 + n), parent_at, str(99 + n), f"user{99 + n}"),
                         ("vacuum",))
    return {"model_version": detector.version, "state": activity.to_json()}


def _accounts(plan: Plan, add, first_day: date) -> list[dict[str, Any]]:
    """Every account's id, raw JSON and bot flag; writes their rows, scores and states."""
    accounts = []
    states = {bot: _activity_state(bot, first_day) for bot in (True, False)}
    seen = _at(plan.day) + timedelta(hours=23)
    for n in range(1, plan.accounts + 1):
        bot = n % BOT_EVERY == 0
        created = _at(first_day) - timedelta(days=30 if bot else 900 + n % 1000)
        raw = _account_json(n, bot, created)
        accounts.append({"id": n, "bot": bot, "raw": raw, "acct": raw["acct"]})
        add(ACCOUNTS, {
            "id": n, "platform": PLATFORM, "instance": INSTANCE, "account_id": str(n), "acct": raw["acct"],
            "display_name": raw["display_name"], "created_at": created, "followers": raw["followers_count"],
            "following": raw["following_count"], "statuses": raw["statuses_count"], "bot": False,
            "bio": "Vacuum enthusiast, dog owner, occasional reviewer of household things.",
            "default_avatar": True, "url": raw["url"], "last_status_at": seen, "seen_at": seen,
            "first_seen_at": _at(first_day),
        })  # fmt: skip
        label, score = ("bot", 0.97) if bot else (("suspect", 0.6) if n % 37 == 0 else ("human", 0.04))
        add(ACCOUNT_SCORES, {
            "account_id": n, "model_version": plan.model_version, "score": score, "label": label,
            "reasons": ["replied within 8 seconds of the post, 40 times", "one template in 90% of replies"]
            if bot else ["nothing unusual"], "evidence": {"median_latency_s": 8.0 if bot else 3600.0},
            "replies": REPLIES_PER_ACCOUNT, "scored_at": seen,
        })  # fmt: skip
        add(ACTIVITY, {"account_id": n, "updated_at": seen, "state": states[bot]})
    return accounts


def _day(plan: Plan, day: date, replies: int, accounts: list[dict[str, Any]], next_post: int,
         rng: random.Random, add) -> int:
    """Trigger posts and ``replies`` replies on ``day``, round-robin over the watches."""
    bots = [a for a in accounts if a["bot"]]
    humans = [a for a in accounts if not a["bot"]]
    start = _at(day)
    triggers = max(plan.watches, replies // REPLIES_PER_TRIGGER)
    for t in range(triggers):
        watch_id = t % plan.watches + 1
        author = rng.choice(humans)
        created = start + timedelta(seconds=rng.uniform(0, 80_000))
        trigger_id = next_post
        next_post = _post(plan, trigger_id, created, f"My {rng.choice(HUMAN_WORDS)} vacuum is making a noise again",
                          author, None, add)
        add(WATCH_POSTS, {"watch_id": watch_id, "post_id": trigger_id, "role": "trigger", "route": "hashtag:vacuum",
                          "trigger_post_id": None, "created_at": created, "first_seen_at": created,
                          "author_id": author["id"]})
        # Tracking is over by the time the measured day is summarised (lookback_hours = 24).
        add(TRACKED, {"watch_id": watch_id, "post_id": trigger_id, "track_until": created + timedelta(hours=24),
                      "next_check_at": None, "checks": 6, "last_checked_at": created + timedelta(hours=24),
                      "added_at": created})
        for _ in range(replies // triggers + (1 if t < replies % triggers else 0)):
            bot = rng.random() < BOT_REPLY_SHARE
            replier = rng.choice(bots if bot else humans)
            latency = rng.uniform(2, 15) if bot else rng.expovariate(1 / 3600)
            text = (rng.choice(BOT_TEMPLATES).format(brand="VacuumRus", n=rng.randrange(1000)) if bot
                    else " ".join(rng.choices(HUMAN_WORDS, k=rng.randint(6, 30))))
            reply_id = next_post
            reply_at = created + timedelta(seconds=latency)
            next_post = _post(plan, reply_id, reply_at, text, replier, (trigger_id, author), add)
            add(WATCH_POSTS, {"watch_id": watch_id, "post_id": reply_id, "role": "reply", "route": None,
                              "trigger_post_id": trigger_id, "created_at": reply_at, "first_seen_at": reply_at,
                              "author_id": replier["id"]})
            label, score = ("bot", 0.93) if bot else ("human", 0.05)
            add(REPLY_SCORES, {"post_id": reply_id, "model_version": plan.model_version, "score": score,
                               "label": label, "reasons": ["fast reply"] if bot else [],
                               "features": {"latency_s": round(latency, 1), "keyword": "vacuum", "links": 0},
                               "scored_at": reply_at})
    return next_post


def _post(plan: Plan, n: int, created: datetime, text: str, author: dict[str, Any],
          parent: tuple[int, dict[str, Any]] | None, add) -> int:
    post_id = str(10**15 + n)
    parent_ref = (str(10**15 + parent[0]), str(parent[1]["id"])) if parent else None
    add(POSTS, {
        "id": n, "platform": PLATFORM, "instance": INSTANCE, "post_id": post_id, "account_id": author["id"],
        "created_at": created, "text": text, "url": f"https://{INSTANCE}/@x/{post_id}",
        "uri": f"https://{INSTANCE}/users/x/statuses/{post_id}", "language": "en",
        "parent_id": parent_ref[0] if parent_ref else None, "parent_author_id": parent_ref[1] if parent_ref else None,
        "mentions": [], "hashtags": ["vacuum"], "links": [], "link_domains": [], "visibility": "public",
        "sensitive": False, "spoiler_text": "", "is_reblog": False, "source": "mastodon", "route": None,
        "fetched_at": created + timedelta(minutes=5),
        "raw": _status_json(post_id, created, text, author["raw"], parent_ref),
    })  # fmt: skip
    return n + 1

