"""A simulated Mastodon community: humans, scripted reply accounts, and the hard cases between.

``simulate(SimParams(...))`` returns a :class:`Community`: accounts with their ground-truth
``kind``, and every status they posted in the window, time ordered, with Mastodon Snowflake ids.
It is pure (no I/O besides the explicit ``write_*`` methods) and deterministic per ``seed``: the
classifier trains on some seeds and is judged on seeds it never saw.

How it works: a discrete-event simulation. Original posts are laid out first (each author's own
rate and waking hours); then statuses are emitted in time order from a heap, and each emitted
status schedules its reactions: human replies and thread continuations, brand-support answers,
benign bots answering when summoned, and the scripted accounts that fire on watched keywords.
Reactions arrive after a delay drawn from the reacting kind's distribution, so latency is a
property of *who* replies, not of the text. Every parameter, its default and where the default
comes from is in ``docs/simulation.md``.
"""

from __future__ import annotations

import bisect
import csv
import heapq
import json
import math
import random
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit
from typing import Any, Iterable, Iterator, Mapping, Sequence

from detector.mastodon_server import entities as E
from detector.mastodon_server.text import (
    BIO_PARTS, DEFAULT_BRANDS, EVERYDAY_TOPICS, FIRST_NAMES, LAST_NAMES, NICK_WORDS, Brand, Grammar, NewsStory, Style,
    cap, fill_url, slugify, stylise, varied_pitch,
)

SCRIPTED_KINDS = (
    "keyword_replier", "slow_replier", "generic_praise", "link_promoter", "competitor_smear", "coordinated",
    "varied_replier",
)
HARD_NEGATIVE_KINDS = ("brand_support", "benign_bot", "power_user", "news_sharer")
OTHER_KINDS = ("human", "brand", "observer")
ALL_KINDS = SCRIPTED_KINDS + HARD_NEGATIVE_KINDS + OTHER_KINDS

DAY_MS = 86_400_000
_HANDLES_AND_LINKS = re.compile(r"@[\w.@-]+|https?://\S+")
HOUR_MS = 3_600_000

# Relative activity per local hour (0..23): low 2-6 am, a lunch bump, peak in the evening.
# Shape of the circadian curves in Golder & Macy (2011) and Dodds et al. (2011) for Twitter.
DIURNAL = (3, 2, 1.2, 0.8, 0.6, 0.7, 1.5, 3, 4.5, 5, 5.2, 5.5, 6, 5.8, 5.4, 5.2, 5.3, 5.8, 6.5, 7.2, 7.5, 7, 6, 4.5)
# Where the instance's people live (UTC offsets, hours) and how many live there.
UTC_OFFSETS = ((-8, 10), (-5, 18), (-3, 4), (0, 20), (1, 26), (2, 8), (5.5, 5), (9, 5), (10, 4))


# ---------------------------------------------------------------- distributions


@dataclass(frozen=True, slots=True)
class Delay:
    """A delay in seconds: log-normal (``median``, ``sigma``) or uniform, clipped to [low, high]."""

    median: float
    sigma: float
    low: float
    high: float
    uniform: bool = False

    @classmethod
    def lognormal(cls, median: float, sigma: float, low: float, high: float) -> "Delay":
        return cls(median, sigma, low, high)

    @classmethod
    def between(cls, low: float, high: float) -> "Delay":
        return cls((low + high) / 2, 0.0, low, high, uniform=True)

    def sample(self, rng: random.Random) -> float:
        if self.uniform:
            return rng.uniform(self.low, self.high)
        value = math.exp(rng.gauss(math.log(self.median), self.sigma)) if self.sigma else self.median
        return min(max(value, self.low), self.high)


@dataclass(frozen=True, slots=True)
class Quantiles:
    """An empirical distribution given by its 10/25/50/75/90th percentiles and a range.

    Sampling interpolates between the points on a log(1+x) scale, which reproduces the
    measured quantiles exactly; the tails run linearly (in that scale) to ``low`` and ``high``.
    """

    low: float
    p10: float
    p25: float
    p50: float
    p75: float
    p90: float
    high: float

    def sample(self, rng: random.Random) -> float:
        u = rng.random()
        xs = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
        ys = [math.log1p(v) for v in (self.low, self.p10, self.p25, self.p50, self.p75, self.p90, self.high)]
        i = min(bisect.bisect_right(xs, u), len(xs) - 1)
        x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
        return math.expm1(y0 + (y1 - y0) * (u - x0) / (x1 - x0))


# Measured with ``python -m detector.mastodon_server.profile_stats ../shared/data``
# (cresci-2017: Cresci et al., WWW 2017; cresci-2015: Cresci et al., Decision Support Systems 2015).
GENUINE_FOLLOWERS = Quantiles(0, 56, 149, 341, 804, 1884, 40_000)  # cresci-2017 genuine
GENUINE_FOLLOWING = Quantiles(0, 88, 169, 319, 636, 1293, 8_000)  # cresci-2017 genuine
GENUINE_AGE_DAYS = Quantiles(20, 291, 630, 1192, 1804, 2191, 2900)  # cresci-2017 genuine
HUMAN_STATUSES_PER_DAY = Quantiles(0.01, 0.05, 0.19, 0.67, 1.88, 5.07, 30)  # cresci-2015 humans
POWER_STATUSES_PER_DAY = Quantiles(8, 9, 12, 17.6, 25, 41.2, 60)  # cresci-2017 genuine, 75th-90th pct
FAKE_FOLLOWERS = Quantiles(0, 3, 7, 12, 18, 25, 60)  # cresci-2015 fake followers
FAKE_FOLLOWING = Quantiles(20, 193, 217, 302, 529, 617, 2000)  # cresci-2015 fake followers
SPAMBOT_FOLLOWERS = Quantiles(0, 0, 0, 234, 3849, 5192, 9000)  # cresci-2017 social spambots #1
SPAMBOT_FOLLOWING = Quantiles(0, 0, 0, 313, 4090, 5454, 9000)  # cresci-2017 social spambots #1
SPAMBOT_AGE_DAYS = Quantiles(300, 450, 797, 872, 874, 875, 1200)  # cresci-2017 social spambots #1
CAMPAIGN_AGE_DAYS = Quantiles(0.5, 2, 6, 21, 50, 110, 200)  # design choice: accounts made for a campaign


# ---------------------------------------------------------------- parameters


@dataclass(frozen=True)
class SimParams:
    """Everything the simulation depends on. Defaults make the README demo's community.

    Counts are accounts; rates are per account per day; delays are seconds. See
    ``docs/simulation.md`` for each value's source. Use :meth:`training` for a larger community,
    and vary ``seed`` to get communities a model has never seen.
    """

    seed: int = 1
    start: datetime = datetime(2024, 5, 6, tzinfo=timezone.utc)
    days: float = 2.0
    host: str = "social.botwatch.test"
    title: str = "botwatch demo instance"
    remote_hosts: tuple[str, ...] = ("mastodon.example", "fosstodon.example", "mstdn.example", "toot.example")
    remote_share: float = 0.35  # share of humans (and of bots) whose home is another server

    # population
    humans: int = 300
    power_users: int = 6
    news_sharers: int = 10
    benign_bots: int = 2
    keyword_repliers: int = 2
    slow_repliers: int = 2
    generic_praisers: int = 2
    link_promoters: int = 2
    competitor_smearers: int = 2
    coordinated_groups: int = 1
    coordinated_group_size: int = 5
    varied_repliers: int = 2

    # market and watch
    brands: tuple[Brand, ...] = DEFAULT_BRANDS
    watched_brand: str = "Dustwise"
    keywords: tuple[str, ...] = ("vacuum", "hoover")  # what scripts fire on (prefix match: hoovering, vacuums)
    hashtags: tuple[str, ...] = ("vacuum", "robotvacuum", "vacuumcleaner")
    news_stories_per_week: float = 2.5

    # humans
    human_rate: Quantiles = HUMAN_STATUSES_PER_DAY
    power_rate: Quantiles = POWER_STATUSES_PER_DAY
    original_share: float = 0.55  # share of a human's statuses that are original posts
    product_interest: tuple[tuple[float, float], ...] = ((0.0, 0.45), (0.03, 0.3), (0.08, 0.15), (0.2, 0.07), (0.4, 0.03))
    reply_prob: Mapping[str, float] = field(default_factory=lambda: {
        "everyday": 0.3, "product_question": 0.8, "complaint": 0.55, "praise": 0.35, "misc": 0.3, "news": 0.35,
        "announcement": 0.6, "recommendation": 0.25,
    })
    extra_repliers_mean: float = 0.8  # repliers beyond the first (geometric)
    answer_back_prob: float = 0.45  # the author answers a reply (depth 1); decays per level
    answer_back_decay: float = 0.6
    max_thread_depth: int = 8
    friend_reply_share: float = 0.6  # replies from the author's circle rather than strangers on the topic
    unlisted_reply_share: float = 0.15
    image_share: float = 0.12
    missing_alt_share: float = 0.5
    pushback_prob: float = 0.06  # a human answers a spam reply ("reported")
    human_link_share: float = 0.3  # human product recommendations that carry a link
    indexable_share: float = 0.4
    human_default_avatar: float = 0.08
    human_empty_bio: float = 0.109  # cresci-2017 genuine
    bot_empty_bio: float = 0.322  # cresci-2015 fake followers

    # delays (seconds)
    human_delay: Delay = Delay.lognormal(300, 1.35, 15, 2 * 86_400)
    power_user_delay: Delay = Delay.lognormal(45, 0.6, 8, 3_600)
    support_delay: Delay = Delay.lognormal(420, 0.8, 60, 4 * 3_600)
    benign_bot_delay: Delay = Delay.lognormal(6, 0.5, 1, 60)
    keyword_delay: Delay = Delay.lognormal(8, 0.6, 1, 90)
    slow_delay: Delay = Delay.between(180, 1_200)
    praise_delay: Delay = Delay.lognormal(900, 1.0, 60, 6 * 3_600)
    promoter_delay: Delay = Delay.lognormal(1_800, 1.0, 120, 12 * 3_600)
    smear_delay: Delay = Delay.lognormal(40, 0.8, 5, 600)
    coordinated_first_delay: Delay = Delay.between(20, 120)
    coordinated_stagger: Delay = Delay.between(40, 600)
    varied_delay: Delay = Delay.lognormal(90, 0.9, 15, 1_800)

    # scripted behaviour: chance of acting on a trigger, and replies per day at most
    reach: Mapping[str, float] = field(default_factory=lambda: {
        "keyword_replier": 0.85, "slow_replier": 0.6, "generic_praise": 0.35, "link_promoter": 0.3,
        "competitor_smear": 0.55, "coordinated": 0.5, "varied_replier": 0.5,
    })
    daily_cap: Mapping[str, int] = field(default_factory=lambda: {
        "keyword_replier": 40, "slow_replier": 25, "generic_praise": 15, "link_promoter": 10, "competitor_smear": 20,
        "coordinated": 20, "varied_replier": 30,
    })
    templates_per_bot: Mapping[str, int] = field(default_factory=lambda: {
        "keyword_replier": 3, "slow_replier": 6, "generic_praise": 4, "link_promoter": 3, "competitor_smear": 4,
        "coordinated": 4,
    })
    human_like_template_share: float = 0.4  # bot templates that are plain human recommendations
    same_target_cooldown_h: float = 12.0
    aged_bot_share: float = 0.35  # bots on old (bought or dormant) accounts with human-like profiles
    bot_default_avatar: float = 0.55
    office_hours_bot_share: float = 0.4  # slow repliers / coordinated groups run only in office hours
    filler_posts_per_day: float = 0.6  # original posts by scripted accounts that try to look human
    support_hours: tuple[int, int] = (8, 20)  # local hours the support team answers

    @classmethod
    def training(cls, seed: int, **overrides: Any) -> "SimParams":
        """A community of about 50,000 statuses with many accounts of every kind, for training."""
        base = dict(
            seed=seed, days=14.0, humans=600, power_users=20, news_sharers=30, benign_bots=6, keyword_repliers=10,
            slow_repliers=10, generic_praisers=10, link_promoters=10, competitor_smearers=10, coordinated_groups=3,
            varied_repliers=10,
        )
        base.update(overrides)
        return cls(**base)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)


# ---------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class SimAccount:
    """An account and its ground truth. ``is_bot`` means scripted spam (the label); ``bot_flag``
    is what the account itself declares (Mastodon's ``bot`` field)."""

    id: str
    username: str
    domain: str | None  # None for local accounts
    display_name: str
    bio: str
    kind: str
    is_bot: bool
    bot_flag: bool
    created_ms: int
    followers: int
    following: int
    prior_statuses: int
    prior_last_status_ms: int | None
    default_avatar: bool
    indexable: bool
    discoverable: bool
    utc_offset_h: float
    fields: tuple[tuple[str, str], ...] = ()
    application: tuple[str, str | None] | None = ("Web", None)
    group: str | None = None  # the script or campaign an account belongs to

    @property
    def acct(self) -> str:
        return self.username if self.domain is None else f"{self.username}@{self.domain}"

    @property
    def created_at(self) -> datetime:
        return E.ms_to_datetime(self.created_ms)


@dataclass(frozen=True, slots=True)
class SimStatus:
    """One status. ``text`` is the source text (mentions as ``@acct``); ``content`` its HTML.

    ``intent`` is what the author meant to do (``everyday``, ``product_question``, ``pitch``,
    ``support``, ...); ``trigger`` is the watched keyword that made a script or bot answer.
    """

    id: str
    created_ms: int
    account_id: str
    text: str
    content: str
    in_reply_to_id: str | None
    in_reply_to_account_id: str | None
    mention_ids: tuple[str, ...]
    tags: tuple[str, ...]
    links: tuple[str, ...]
    visibility: str
    intent: str
    topic: str
    trigger: str | None = None
    media: tuple[tuple[str, str | None], ...] = ()
    card: tuple[str, str, str] | None = None  # url, title, provider

    @property
    def created_at(self) -> datetime:
        return E.ms_to_datetime(self.created_ms)

    @property
    def is_reply(self) -> bool:
        return self.in_reply_to_id is not None


# ---------------------------------------------------------------- the community


class Community:
    """The simulated accounts and statuses, with the indexes a server needs and JSON output.

    ``at_ms`` arguments render the API's view at that moment: counts (``statuses_count``,
    ``replies_count``) only include what was posted by then.
    """

    def __init__(self, params: SimParams, accounts: Sequence[SimAccount], statuses: Sequence[SimStatus],
                 stories: Sequence[NewsStory] = ()) -> None:
        self.params = params
        self.host = params.host
        self.accounts: tuple[SimAccount, ...] = tuple(accounts)
        self.statuses: tuple[SimStatus, ...] = tuple(sorted(statuses, key=lambda s: int(s.id)))
        self.stories = tuple(stories)
        self.start_ms = E.datetime_to_ms(params.start)
        self.end_ms = E.datetime_to_ms(params.end)
        self._accounts = {a.id: a for a in self.accounts}
        self._statuses = {s.id: s for s in self.statuses}
        self._by_acct = {a.acct.lower(): a for a in self.accounts}
        self._by_account: dict[str, list[SimStatus]] = {a.id: [] for a in self.accounts}
        self._children: dict[str, list[SimStatus]] = {}
        self._by_tag: dict[str, list[SimStatus]] = {}
        self._mentions: dict[str, list[SimStatus]] = {}
        for status in self.statuses:
            self._by_account[status.account_id].append(status)
            if status.in_reply_to_id is not None:
                self._children.setdefault(status.in_reply_to_id, []).append(status)
            for tag in status.tags:
                self._by_tag.setdefault(tag.lower(), []).append(status)
            for mentioned in status.mention_ids:
                self._mentions.setdefault(mentioned, []).append(status)
        self._account_times = {aid: [s.created_ms for s in items] for aid, items in self._by_account.items()}
        self._child_times = {sid: [s.created_ms for s in items] for sid, items in self._children.items()}

    # -- lookups
    def account(self, account_id: str) -> SimAccount | None:
        return self._accounts.get(account_id)

    def status(self, status_id: str) -> SimStatus | None:
        return self._statuses.get(status_id)

    def lookup(self, acct: str) -> SimAccount | None:
        """An account by ``user`` (local) or ``user@domain``; a local user may be given with our host."""
        key = acct.lstrip("@").lower()
        if key.endswith("@" + self.host.lower()):
            key = key.rsplit("@", 1)[0]
        return self._by_acct.get(key)

    def statuses_of(self, account_id: str) -> list[SimStatus]:
        return self._by_account.get(account_id, [])

    def children(self, status_id: str) -> list[SimStatus]:
        return self._children.get(status_id, [])

    def tagged(self, tag: str) -> list[SimStatus]:
        return self._by_tag.get(tag.lower(), [])

    def mentioning(self, account_id: str) -> list[SimStatus]:
        return self._mentions.get(account_id, [])

    def accounts_of_kind(self, kind: str) -> list[SimAccount]:
        return [a for a in self.accounts if a.kind == kind]

    def parent(self, status: SimStatus) -> SimStatus | None:
        return self._statuses.get(status.in_reply_to_id) if status.in_reply_to_id else None

    def reply_delays(self) -> Iterator[tuple[SimStatus, SimStatus, float]]:
        """Every reply with its parent and the delay in seconds: what latency features see."""
        for status in self.statuses:
            parent = self.parent(status)
            if parent is not None:
                yield status, parent, (status.created_ms - parent.created_ms) / 1000

    # -- JSON
    @cached_property
    def _profiles(self) -> dict[str, str]:
        return {a.acct.lower(): self._profile_url(a) for a in self.accounts}

    def _profile_url(self, account: SimAccount) -> str:
        return f"https://{account.domain or self.host}/@{account.username}"

    def account_json(self, account: SimAccount | str, *, at_ms: int | None = None) -> dict[str, Any]:
        """The Account entity as the API shows it at ``at_ms`` (default: end of the window)."""
        account = self._accounts[account] if isinstance(account, str) else account
        at_ms = self.end_ms if at_ms is None else at_ms
        times = self._account_times.get(account.id, [])
        posted = bisect.bisect_right(times, at_ms)
        last = times[posted - 1] if posted else account.prior_last_status_ms
        home = account.domain or self.host
        fields = [E.field_entity(name, E.render_content(value, host=home).removeprefix("<p>").removesuffix("</p>"))
                  for name, value in account.fields]
        return E.account_entity(
            id=account.id, username=account.username, instance_host=self.host, account_host=account.domain,
            display_name=account.display_name, note_html=E.render_content(account.bio, host=home) if account.bio else "",
            created_ms=account.created_ms, bot=account.bot_flag, discoverable=account.discoverable,
            indexable=account.indexable,
            avatar=None if account.default_avatar else
            f"https://{self.host}/system/accounts/avatars/{account.id[:3]}/{account.id[3:6]}/original/{account.id}.png",
            followers_count=account.followers, following_count=account.following,
            statuses_count=account.prior_statuses + posted, last_status_ms=last, fields=fields,
        )

    def status_json(self, status: SimStatus | str, *, at_ms: int | None = None, viewer: bool = False) -> dict[str, Any]:
        """The Status entity with its account embedded, as the API shows it at ``at_ms``."""
        status = self._statuses[status] if isinstance(status, str) else status
        at_ms = self.end_ms if at_ms is None else at_ms
        author = self._accounts[status.account_id]
        account = self.account_json(author, at_ms=at_ms)
        mentions = [E.mention_entity(self.account_json(self._accounts[m], at_ms=at_ms)) for m in status.mention_ids]
        card = None
        if status.card is not None:
            url, title, provider = status.card
            card = E.preview_card_entity(url, title=title, provider_name=provider, description="")
        media = [E.media_attachment_entity(id=mid, host=self.host, description=alt) for mid, alt in status.media]
        app = E.application_entity(*author.application) if author.application else None
        return E.status_entity(
            id=status.id, created_ms=status.created_ms, account=account, content=status.content, instance_host=self.host,
            in_reply_to_id=status.in_reply_to_id, in_reply_to_account_id=status.in_reply_to_account_id,
            visibility=status.visibility, mentions=mentions, tags=[E.tag_entity(t, self.host) for t in status.tags],
            media_attachments=media, card=card, application=app,
            replies_count=bisect.bisect_right(self._child_times.get(status.id, []), at_ms), viewer=viewer,
        )

    def statuses_json(self, *, at_ms: int | None = None) -> Iterator[dict[str, Any]]:
        for status in self.statuses:
            if at_ms is None or status.created_ms <= at_ms:
                yield self.status_json(status, at_ms=at_ms)

    def labels(self) -> list[tuple[str, bool, str]]:
        """Ground truth rows ``(account_id, is_bot, kind)``; ``is_bot`` = scripted spam account."""
        return [(a.id, a.is_bot, a.kind) for a in self.accounts]

    def write_jsonl(self, path: str | Path, *, at_ms: int | None = None) -> int:
        """One API Status per line, oldest first; returns the number of lines."""
        count = 0
        with Path(path).open("w", encoding="utf-8") as handle:
            for entity in self.statuses_json(at_ms=at_ms):
                handle.write(json.dumps(entity, ensure_ascii=False, separators=(",", ":")))
                handle.write("\n")
                count += 1
        return count

    def write_labels_csv(self, path: str | Path) -> int:
        """``account_id,is_bot,kind`` with ``is_bot`` as 1/0; returns the number of rows."""
        rows = self.labels()
        with Path(path).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(("account_id", "is_bot", "kind"))
            for account_id, is_bot, kind in rows:
                writer.writerow((account_id, int(is_bot), kind))
        return len(rows)

    def summary(self) -> dict[str, Any]:
        """Counts per kind of accounts, statuses and replies: for docs, tests and the CLI."""
        per_kind: dict[str, dict[str, int]] = {}
        for account in self.accounts:
            row = per_kind.setdefault(account.kind, {"accounts": 0, "statuses": 0, "replies": 0})
            row["accounts"] += 1
            items = self._by_account.get(account.id, [])
            row["statuses"] += len(items)
            row["replies"] += sum(1 for s in items if s.is_reply)
        return {"seed": self.params.seed, "accounts": len(self.accounts), "statuses": len(self.statuses),
                "replies": sum(1 for s in self.statuses if s.is_reply), "kinds": per_kind}


# ---------------------------------------------------------------- simulation


@dataclass(slots=True)
class _Actor:
    """Mutable per-account state while simulating."""

    account: SimAccount
    style: Style
    rate: float = 0.0  # statuses per day
    topics: tuple[str, ...] = ()
    product_interest: float = 0.0
    friends: list[int] = field(default_factory=list)
    brand: Brand | None = None  # a brand an account sells, supports or owns
    target: Brand | None = None  # the competitor a smear bot attacks
    link_domain: str = ""
    templates: list[str] = field(default_factory=list)
    agents: tuple[str, ...] = ()
    office_hours: bool = False
    alt_text_opt_in: bool = False
    enthusiast: bool = False
    replies_per_day: dict[int, int] = field(default_factory=dict)
    last_target: dict[str, int] = field(default_factory=dict)
    used_texts: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Plan:
    """A status that will be posted at ``ms``; the heap orders ``(ms, seq, plan)``."""

    ms: int
    author: int
    intent: str
    topic: str = ""
    parent: SimStatus | None = None
    text: str | None = None
    trigger: str | None = None
    brand: Brand | None = None
    story: NewsStory | None = None
    depth: int = 0
    visibility: str = "public"
    image: bool = False


class _Simulator:
    def __init__(self, params: SimParams) -> None:
        self.p = params
        self.rng = random.Random(params.seed)
        self.grammar = Grammar(params.brands)
        self.start_ms = E.datetime_to_ms(params.start)
        self.end_ms = E.datetime_to_ms(params.end)
        self.actors: list[_Actor] = []
        self.by_id: dict[str, int] = {}
        self.used_ids: set[int] = set()
        self.used_names: set[str] = set()
        self.heap: list[tuple[int, int, _Plan]] = []
        self.seq = 0
        self.statuses: list[SimStatus] = []
        self.stories: list[NewsStory] = []
        words = sorted({k.lower() for k in params.keywords}, key=len, reverse=True)
        self.keyword_re = re.compile(r"\b(" + "|".join(map(re.escape, words)) + r")", re.IGNORECASE) if words else None
        self.watched_tags = {t.lower() for t in params.hashtags}
        self.brands = {b.name: b for b in params.brands}
        self.watched = self.brands.get(params.watched_brand, params.brands[0])
        self.media_seq = 0

    # -- ids and names
    def _snowflake(self, ms: int) -> str:
        low = self.rng.randrange(1 << 16)
        value = E.snowflake(ms, low)
        while value in self.used_ids:
            value += 1
        self.used_ids.add(value)
        return str(value)

    def _username(self, base: str) -> str:
        name = re.sub(r"[^a-z0-9_]", "", base.lower())[:24] or "user"
        candidate = name
        while candidate in self.used_names:
            candidate = f"{name}{self.rng.randrange(2, 999)}"
        self.used_names.add(candidate)
        return candidate

    def _human_name(self) -> tuple[str, str]:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        form = rng.random()
        if form < 0.35:
            return f"{first} {last}", self._username(f"{first}{last}" if rng.random() < 0.5 else f"{first}_{last}")
        if form < 0.6:
            return first, self._username(f"{first}{rng.randrange(1, 99) if rng.random() < 0.3 else ''}")
        if form < 0.85:
            nick = rng.choice(NICK_WORDS)
            return f"{nick.title()} {rng.choice(('🌿', '✨', '', '', '☕'))}".strip(), self._username(
                f"{nick}{rng.choice(('', '_', ''))}{rng.choice(NICK_WORDS)}")
        return f"{first} {last[0]}.", self._username(f"{first[0]}{last}")

    def _offset(self) -> float:
        offsets, weights = zip(*UTC_OFFSETS)
        return self.rng.choices(offsets, weights)[0]

    def _domain(self, remote_share: float) -> str | None:
        return self.rng.choice(self.p.remote_hosts) if self.p.remote_hosts and self.rng.random() < remote_share else None

    def _add(self, account: SimAccount, style: Style, **state: Any) -> _Actor:
        actor = _Actor(account=account, style=style, **state)
        self.by_id[account.id] = len(self.actors)
        self.actors.append(actor)
        return actor

    def _account(self, *, kind: str, username: str, display_name: str, bio: str, age_days: float, followers: float,
                 following: float, rate: float, domain: str | None, default_avatar: bool, bot_flag: bool = False,
                 indexable: bool | None = None, fields: tuple[tuple[str, str], ...] = (),
                 application: tuple[str, str | None] | None = ("Web", None), group: str | None = None,
                 offset: float | None = None, created_ms: int | None = None) -> SimAccount:
        rng = self.rng
        if created_ms is None:
            created_ms = self.start_ms - int(age_days * DAY_MS) - rng.randrange(DAY_MS)
        prior = int(max(0.0, (self.start_ms - created_ms) / DAY_MS) * rate)
        prior_last = None
        if prior:
            gap = min(self.start_ms - created_ms, int(rng.expovariate(max(rate, 0.05)) * DAY_MS))
            prior_last = self.start_ms - max(gap, 1000)
        return SimAccount(
            id=self._snowflake(created_ms), username=username, domain=domain, display_name=display_name, bio=bio,
            kind=kind, is_bot=kind in SCRIPTED_KINDS, bot_flag=bot_flag, created_ms=created_ms,
            followers=int(followers), following=int(following), prior_statuses=prior, prior_last_status_ms=prior_last,
            default_avatar=default_avatar, indexable=rng.random() < self.p.indexable_share if indexable is None else indexable,
            discoverable=rng.random() < 0.7, utc_offset_h=self._offset() if offset is None else offset,
            fields=fields, application=application if domain is None else None, group=group,
        )

    def _human_bio(self) -> str:
        if self.rng.random() < self.p.human_empty_bio:
            return ""
        return " ".join(self.rng.sample(BIO_PARTS, self.rng.randrange(1, 4)))

    # -- population
    def build_population(self) -> None:
        p, rng = self.p, self.rng
        human_apps = (("Web", None), ("Web", None), ("Tusky", "https://tusky.app"), ("Ivory for iOS", "https://tapbots.com/ivory"),
                      ("Elk", "https://elk.zone"), ("Phanpy", "https://phanpy.social"), ("Mastodon for Android", "https://app.joinmastodon.org/android"),
                      ("Mastodon for iOS", "https://app.joinmastodon.org/ios"), ("Ice Cubes", "https://github.com/Dimillian/IceCubesApp"))
        interests, weights = zip(*p.product_interest)

        def human(kind: str, rate_dist: Quantiles, followers_boost: float = 1.0) -> _Actor:
            display, username = self._human_name()
            age = GENUINE_AGE_DAYS.sample(rng) if kind != "power_user" else max(GENUINE_AGE_DAYS.sample(rng), 400)
            rate = rate_dist.sample(rng)
            account = self._account(
                kind=kind, username=username, display_name=display, bio=self._human_bio(), age_days=age,
                followers=GENUINE_FOLLOWERS.sample(rng) * followers_boost, following=GENUINE_FOLLOWING.sample(rng),
                rate=rate, domain=self._domain(p.remote_share), default_avatar=rng.random() < p.human_default_avatar,
                application=rng.choice(human_apps),
            )
            topics = tuple(rng.sample(EVERYDAY_TOPICS, rng.randrange(2, 5)))
            return self._add(account, Style.random(rng), rate=rate, topics=topics,
                             product_interest=rng.choices(interests, weights)[0], alt_text_opt_in=rng.random() < 0.25)

        for _ in range(p.humans):
            human("human", p.human_rate)
        for i in range(p.power_users):
            actor = human("power_user", p.power_rate, followers_boost=3.0)
            actor.enthusiast = i % 2 == 0
            if actor.enthusiast:
                actor.product_interest = max(actor.product_interest, 0.2)
                actor.link_domain = f"https://{actor.account.username.replace('_', '')}.blog.example"
        for _ in range(p.news_sharers):
            actor = human("news_sharer", p.human_rate)
            actor.rate = max(actor.rate, 1.0)
            actor.product_interest = max(actor.product_interest, 0.05)

        for brand in p.brands:  # official account + support team, all local
            official = self._account(
                kind="brand", username=self._username(brand.handle), display_name=brand.name,
                bio=f"Official {brand.name} account. Help: @{brand.support_handle}. Shop: {brand.shop_url}",
                age_days=rng.uniform(1500, 2600), followers=rng.uniform(3000, 40000), following=rng.uniform(20, 300),
                rate=2.0, domain=None, default_avatar=False, indexable=True,
                fields=(("Website", brand.shop_url.rsplit("/", 1)[0]),), application=("Hootsuite", "https://hootsuite.com"),
                offset=1,
            )
            self._add(official, Style(lowercase=0, typo=0, emoji=0.3, exclaim=0.4, hashtag=0.8), rate=2.0, brand=brand)
            initials = tuple(f"{rng.choice(FIRST_NAMES)[0]}{rng.choice(LAST_NAMES)[0]}" for _ in range(rng.randrange(3, 7)))
            support = self._account(
                kind="brand_support", username=self._username(brand.support_handle), display_name=f"{brand.name} Support",
                bio=f"We're here to help with your {brand.name}. Mon-Sun 8:00-20:00 CET. Signed ^initials.",
                age_days=rng.uniform(900, 2400), followers=rng.uniform(800, 15000), following=rng.uniform(5, 200),
                rate=15.0, domain=None, default_avatar=False, indexable=True,
                fields=(("Main account", f"@{brand.handle}"),), application=("Zendesk", "https://www.zendesk.com"),
                offset=1,
            )
            self._add(support, Style(lowercase=0, typo=0.002, emoji=0.05, exclaim=0.1), brand=brand, agents=initials)

        benign_templates = ("manual", "alt_text")
        for i in range(p.benign_bots):
            flavour = benign_templates[i % 2]
            name = "manualbot" if flavour == "manual" else "alttext_reminder"
            account = self._account(
                kind="benign_bot", username=self._username(name + ("" if i < 2 else str(i))),
                display_name="Manual Finder 🤖" if flavour == "manual" else "Alt Text Reminder",
                bio=("I find the manual for your appliance. Mention me with a brand and model. Run by a human, code is open."
                     if flavour == "manual" else
                     "I remind people who follow me when an image has no description. Unfollow to stop. Bot by a human."),
                age_days=rng.uniform(300, 1500), followers=rng.uniform(200, 4000), following=rng.uniform(0, 20),
                rate=3.0, domain=self._domain(0.3), default_avatar=False, bot_flag=True, indexable=True,
                fields=(("Source", "https://codeberg.org/botmaker/" + name),), application=(name, None),
            )
            self._add(account, Style(lowercase=0, typo=0, emoji=0, exclaim=0), link_domain=flavour)

        def bot(kind: str, group: str, *, display: str | None = None, username: str | None = None,
                bio: str | None = None, created_ms: int | None = None, aged: bool | None = None) -> _Actor:
            aged = rng.random() < p.aged_bot_share if aged is None else aged
            if display is None:
                display, username = self._human_name()
            if aged:
                age, followers, following = SPAMBOT_AGE_DAYS.sample(rng), SPAMBOT_FOLLOWERS.sample(rng), SPAMBOT_FOLLOWING.sample(rng)
            else:
                age, followers, following = CAMPAIGN_AGE_DAYS.sample(rng), FAKE_FOLLOWERS.sample(rng), FAKE_FOLLOWING.sample(rng)
            if bio is None:
                bio = "" if rng.random() < p.bot_empty_bio else " ".join(rng.sample(BIO_PARTS, rng.randrange(1, 3)))
            scripted_app = rng.random() < 0.5
            account = self._account(
                kind=kind, username=self._username(username or display), display_name=display, bio=bio, age_days=age,
                followers=followers, following=following, rate=rng.uniform(0.05, 3.0) if aged else rng.uniform(0.5, 8),
                domain=self._domain(p.remote_share), default_avatar=rng.random() < (p.bot_default_avatar * (0.3 if aged else 1)),
                indexable=rng.random() < 0.2, group=group, created_ms=created_ms,
                application=(rng.choice(("autoposter", "Mastodon.py", "social-scheduler", "bot")), None) if scripted_app
                else rng.choice(human_apps[:4]),
            )
            brand = rng.choice(p.brands)
            actor = self._add(account, Style.random(rng), brand=brand,
                              office_hours=kind in ("slow_replier", "coordinated") and rng.random() < p.office_hours_bot_share)
            shop = slugify(display).replace("-", "") or "deals"
            actor.link_domain = rng.choice((f"https://{shop}.shop", f"https://www.{shop}.example", f"https://{shop}.store",
                                            f"https://bit.ly", f"https://{slugify(brand.name)}-outlet.example"))
            return actor

        for i in range(p.keyword_repliers):
            name = rng.choice(("VacuumRus", "VacDeals", "SuctionKing", "CleanFloorsNow", "HooverHub", "VacuumOutlet", "DustBusterz"))
            bot("keyword_replier", f"kw{i}", display=name if rng.random() < 0.5 else f"{name} {rng.choice(('Store', 'Deals', '✨'))}",
                username=name + (str(rng.randrange(10, 99)) if rng.random() < 0.4 else ""))
        for i in range(p.slow_repliers):
            bot("slow_replier", f"slow{i}")
        for i in range(p.generic_praisers):
            place = rng.choice(("Pacific", "Metro", "Northside", "Golden State", "Evergreen", "Lakeside", "Summit", "Coastal"))
            trade = rng.choice(("Vacuum", "Floorcare", "Cleaning Supply", "Vacuum & Sew", "Appliance Repair", "Carpet Care"))
            bot("generic_praise", f"praise{i}", display=f"{place} {trade}", username=f"{place}{trade}".replace(" ", "").replace("&", ""),
                bio=f"{place} {trade} - family owned since {rng.randrange(1978, 2015)}. Visit us online!")
        for i in range(p.link_promoters):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            display = f"{first.lower()} {last.lower()}" if rng.random() < 0.5 else f"{first} {last.lower()}"
            bot("link_promoter", f"promo{i}", display=display, username=f"{first}{last}{rng.randrange(1, 999)}")
        for i in range(p.competitor_smearers):
            actor = bot("competitor_smear", f"smear{i}")
            actor.target = rng.choice([b for b in p.brands if b is not actor.brand])
        for g in range(p.coordinated_groups):
            created = self.start_ms - int(CAMPAIGN_AGE_DAYS.sample(rng) * DAY_MS)
            brand = rng.choice(p.brands)
            domain = f"https://{slugify(brand.name)}-{rng.choice(('bargains', 'club', 'finds'))}.example"
            shared = [self._pitch_template(brand, kind="coordinated") for _ in range(p.templates_per_bot["coordinated"])]
            bio = rng.choice(("Home lover. Deals hunter.", "Clean home, happy life ✨", "Mom. Saver. Reviewer.", ""))
            for _ in range(p.coordinated_group_size):
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                actor = bot("coordinated", f"campaign{g}", display=f"{first} {last}",
                            username=f"{first.lower()}_{last.lower()[:1]}{rng.randrange(1970, 2004)}", bio=bio,
                            created_ms=created + rng.randrange(6 * HOUR_MS), aged=False)
                actor.brand, actor.link_domain, actor.templates = brand, domain, shared
        for i in range(p.varied_repliers):
            bot("varied_replier", f"varied{i}")

        observer = self._account(kind="observer", username=self._username("botwatch"), display_name="botwatch",
                                 bio="Watching for scripted spam replies.", age_days=30, followers=0, following=0,
                                 rate=0, domain=None, default_avatar=True, indexable=False)
        self._add(observer, Style())

        for actor in self.actors:  # per-bot templates
            kind = actor.account.kind
            if kind in ("keyword_replier", "slow_replier", "competitor_smear", "generic_praise", "link_promoter") and actor.brand:
                actor.templates = [self._pitch_template(actor.brand, kind=kind, target=actor.target)
                                   for _ in range(p.templates_per_bot[kind])]
        praisers = [a for a in self.actors if a.account.kind == "generic_praise"]
        if praisers:  # the seed's "Pacific Vacuum", verbatim, no-break space and all
            praisers[0].templates[0] = "Great read.\u00a0 Really, tx."
        self._befriend()

    def _pitch_template(self, brand: Brand, *, kind: str, target: Brand | None = None) -> str:
        g, rng = self.grammar, self.rng
        if kind == "generic_praise":
            return g.generic_praise(rng)
        if kind == "link_promoter":
            return g.link_promo(rng, shop_name=f"{brand.name} Ventures LLC", link="{link}")
        if kind == "competitor_smear":
            return g.smear(rng, brand, target or rng.choice(self.p.brands)) + (" {link}" if rng.random() < 0.5 else "")
        if rng.random() < self.p.human_like_template_share:
            return g.human_like_template(rng, brand)
        return g.pitch_template(rng, brand, with_link=rng.random() < 0.85)

    def _befriend(self) -> None:
        """Each human gets a circle: people they reply to and who reply to them."""
        rng = self.rng
        people = [i for i, a in enumerate(self.actors) if a.account.kind in ("human", "power_user", "news_sharer")]
        by_topic: dict[str, list[int]] = {}
        for i in people:
            for topic in self.actors[i].topics:
                by_topic.setdefault(topic, []).append(i)
        self.people = people
        self.by_topic = by_topic
        for i in people:
            actor = self.actors[i]
            size = max(2, int(rng.lognormvariate(math.log(12), 0.7)))
            pool = [j for t in actor.topics for j in by_topic[t] if j != i]
            actor.friends = rng.sample(pool, min(size, len(pool))) if pool else []
        self.product_people = [i for i in people if self.actors[i].product_interest > 0]
        kinds: dict[str, list[int]] = {}
        for i, actor in enumerate(self.actors):
            kinds.setdefault(actor.account.kind, []).append(i)
        self.scripted = [i for i, a in enumerate(self.actors) if a.account.kind in SCRIPTED_KINDS]
        self.enthusiasts = [i for i in kinds.get("power_user", []) if self.actors[i].enthusiast]
        self.supports = kinds.get("brand_support", [])
        self.benign = kinds.get("benign_bot", [])
        self.groups: dict[str, list[int]] = {}
        for i in kinds.get("coordinated", []):
            self.groups.setdefault(self.actors[i].account.group or "", []).append(i)

    # -- time helpers
    def _local_hour(self, actor: _Actor, ms: int) -> float:
        return ((ms / HOUR_MS) + actor.account.utc_offset_h) % 24

    def _awake_time(self, actor: _Actor, day: int) -> int:
        """A moment on ``day`` (0-based) drawn from the diurnal curve in the author's local time."""
        hour = self.rng.choices(range(24), DIURNAL)[0]
        local = day * DAY_MS + hour * HOUR_MS + self.rng.randrange(HOUR_MS)
        ms = self.start_ms + local - int(actor.account.utc_offset_h * HOUR_MS)
        return ms + DAY_MS if ms < self.start_ms else ms

    def _poisson(self, lam: float) -> int:
        if lam <= 0:
            return 0
        if lam > 30:
            return max(0, int(round(self.rng.gauss(lam, math.sqrt(lam)))))
        threshold, k, prod = math.exp(-lam), 0, self.rng.random()
        while prod > threshold:
            k += 1
            prod *= self.rng.random()
        return k

    def _push(self, plan_ms: int, author: int, intent: str, **kwargs: Any) -> None:
        if plan_ms >= self.end_ms:
            return
        self.seq += 1
        heapq.heappush(self.heap, (plan_ms, self.seq, _Plan(plan_ms, author, intent, **kwargs)))

    # -- original posts
    def plan_originals(self) -> None:
        p, rng = self.p, self.rng
        days = max(1, math.ceil(p.days))  # whole days are laid out; _push drops what falls past the end
        for index, actor in enumerate(self.actors):
            kind = actor.account.kind
            if kind in ("human", "power_user", "news_sharer"):
                count = self._poisson(actor.rate * p.original_share * days)
                for _ in range(count):
                    ms = self._awake_time(actor, rng.randrange(days))
                    if rng.random() < actor.product_interest:
                        intent = rng.choices(("product_question", "complaint", "praise", "misc", "recommendation"),
                                             (0.35, 0.3, 0.15, 0.12, 0.08))[0]
                        brand = self._brand_for_post()
                        self._push(ms, index, intent, topic="product", brand=brand)
                    else:
                        topic = rng.choice(actor.topics)
                        self._push(ms, index, "everyday", topic=topic, image=rng.random() < p.image_share)
            elif kind == "brand":
                per_day = 2.0 if actor.brand is self.watched else 0.7
                for _ in range(self._poisson(per_day * days)):
                    day = rng.randrange(days)
                    ms = self.start_ms + day * DAY_MS + rng.randrange(8 * HOUR_MS, 19 * HOUR_MS) - HOUR_MS
                    self._push(ms, index, "announcement", topic="product", brand=actor.brand)
            elif kind in SCRIPTED_KINDS and kind in ("varied_replier", "coordinated", "slow_replier", "link_promoter"):
                for _ in range(self._poisson(p.filler_posts_per_day * p.days)):
                    self._push(self.start_ms + rng.randrange(int(p.days * DAY_MS)), index, "filler",
                               topic=rng.choice(EVERYDAY_TOPICS))
        self._plan_news()

    def _brand_for_post(self) -> Brand:
        brands = list(self.p.brands)
        weights = [3.0 if b is self.watched else 1.0 for b in brands]
        return self.rng.choices(brands, weights)[0]

    def _plan_news(self) -> None:
        p, rng = self.p, self.rng
        count = max(1, self._poisson(p.news_stories_per_week * p.days / 7)) if p.news_sharers else 0
        sharers = [i for i, a in enumerate(self.actors) if a.account.kind == "news_sharer"]
        others = [i for i in self.product_people if self.actors[i].account.kind == "human"]
        for _ in range(count):
            story = self.grammar.make_news(rng, self._brand_for_post())
            self.stories.append(story)
            t0 = self.start_ms + rng.randrange(int(p.days * DAY_MS * 0.7))
            posters = [i for i in sharers if rng.random() < 0.85] + [i for i in others if rng.random() < 0.04]
            for i in posters:
                self._push(t0 + int(rng.lognormvariate(math.log(2 * HOUR_MS), 1.0)), i, "news", topic="product", story=story)

    # -- emitting
    def run(self) -> None:
        while self.heap:
            plan = heapq.heappop(self.heap)[2]
            status = self._emit(plan)
            if status is not None:
                self._react(status, plan)

    def _mention_prefix(self, author: _Actor, parent: SimStatus | None) -> tuple[str, list[str]]:
        if parent is None:
            return "", []
        ids = [parent.account_id] + [m for m in parent.mention_ids if m != parent.account_id]
        ids = [i for i in dict.fromkeys(ids) if i != author.account.id][:3]
        return " ".join("@" + self.actors[self.by_id[i]].account.acct for i in ids), ids

    def _emit(self, plan: _Plan) -> SimStatus | None:
        actor = self.actors[plan.author]
        text = plan.text if plan.text is not None else self._compose(actor, plan)
        if not text:
            return None
        prefix, mention_ids = self._mention_prefix(actor, plan.parent)
        for acct in re.findall(r"(?<![\w/@])@([A-Za-z0-9_]+(?:@[A-Za-z0-9.-]+\.[A-Za-z]{2,})?)", text):
            target = self._find_acct(acct)
            if target is not None and target.account.id not in mention_ids and target is not actor:
                mention_ids.append(target.account.id)
        body = f"{prefix} {text}".strip() if prefix else text
        home = actor.account.domain or self.p.host
        profiles = {self.actors[self.by_id[m]].account.acct.lower(): self._profile(self.actors[self.by_id[m]].account)
                    for m in mention_ids}
        content = E.render_content(body, host=home, profiles=profiles)
        links = tuple(E.extract_links(body))
        card = None
        if links and self.rng.random() < 0.75:
            card = (links[0], plan.story.headline if plan.story and plan.story.url == links[0] else self._card_title(links[0]),
                    plan.story.site if plan.story and plan.story.url == links[0] else "")
        media: tuple[tuple[str, str | None], ...] = ()
        if plan.image:
            self.media_seq += 1
            alt = None if self.rng.random() < self.p.missing_alt_share else f"Photo: {plan.topic} at home"
            media = ((str(100000000 + self.media_seq), alt),)
        status = SimStatus(
            id=self._snowflake(plan.ms), created_ms=plan.ms, account_id=actor.account.id, text=body, content=content,
            in_reply_to_id=plan.parent.id if plan.parent else None,
            in_reply_to_account_id=plan.parent.account_id if plan.parent else None,
            mention_ids=tuple(mention_ids), tags=tuple(E.extract_hashtags(body)), links=links,
            visibility=plan.visibility, intent=plan.intent, topic=plan.topic, trigger=plan.trigger, media=media, card=card,
        )
        self.statuses.append(status)
        return status

    def _find_acct(self, acct: str) -> _Actor | None:
        if not hasattr(self, "_acct_index"):
            self._acct_index = {a.account.acct.lower(): a for a in self.actors}
        return self._acct_index.get(acct.lower())

    def _profile(self, account: SimAccount) -> str:
        return f"https://{account.domain or self.p.host}/@{account.username}"

    @staticmethod
    def _card_title(url: str) -> str:
        """A preview card title: the page slug in words, or the site's name."""
        parts = urlsplit(url)
        words = re.sub(r"[-_]+", " ", parts.path.rstrip("/").rsplit("/", 1)[-1]).strip()
        return cap(words) if len(words) > 6 and not words.isdigit() else (parts.hostname or url)

    # -- what each kind says
    def _compose(self, actor: _Actor, plan: _Plan) -> str:
        g, rng = self.grammar, self.rng
        intent, brand = plan.intent, plan.brand or self._brand_for_post()
        if intent == "everyday":
            text = g.everyday_post(rng, plan.topic)
        elif intent == "product_question":
            text = g.product_question(rng, brand if rng.random() < 0.5 else None)
        elif intent == "complaint":
            text = g.product_complaint(rng, brand)
        elif intent == "praise":
            text = g.product_praise(rng, brand)
        elif intent == "misc":
            text = g.product_misc(rng)
        elif intent == "recommendation":
            link = g.human_link(rng, f"{brand.name} {brand.models[0]}") if rng.random() < 0.6 else None
            text = "PSA: " + g.recommendation(rng, brand, link=link)
        elif intent == "news":
            return stylise(g.news_post(rng, plan.story), rng, replace(actor.style, typo=0))
        elif intent == "announcement":
            text = rng.choice((
                f"Meet the new {brand.name} {rng.choice(brand.models)}: {rng.choice(brand.strengths)}. {brand.shop_url}",
                f"Spring cleaning? Our {rng.choice(brand.models)} {rng.choice(brand.strengths)}. #{rng.choice(self.p.hashtags)}",
                f"Tip of the day: empty the bin of your {brand.name} vacuum before it's full, suction stays strong.",
                f"We read every reply. What should the next {brand.name} vacuum do better?",
                f"Free delivery on all {brand.name} vacuums this week. {brand.shop_url}",
            ))
            return stylise(text, rng, actor.style)
        elif intent == "filler":
            text = g.everyday_post(rng, plan.topic)
        else:
            raise ValueError(f"unknown intent {intent!r}")
        if plan.topic == "product" and actor.style.hashtag and rng.random() < actor.style.hashtag:
            text = g.add_hashtag(rng, text)
        return stylise(text, rng, actor.style)

    # -- reactions
    def _react(self, status: SimStatus, plan: _Plan) -> None:
        author = self.actors[self.by_id[status.account_id]]
        kind = author.account.kind
        if kind in SCRIPTED_KINDS:
            if plan.intent != "filler" and plan.parent is not None:
                self._maybe_pushback(status, plan)
            elif plan.intent == "filler":
                self._human_replies(status, plan, author)
            return
        if kind in ("benign_bot", "observer"):
            return
        if kind == "brand_support":
            self._customer_answers(status, plan)
            return
        self._human_replies(status, plan, author)
        self._support_followup(status, plan, author)
        self._support_answers(status, plan, author)
        self._benign_bots(status, plan, author)
        if status.visibility == "public":
            self._scripts(status, plan, author)

    def _reply_visibility(self) -> str:
        return "unlisted" if self.rng.random() < self.p.unlisted_reply_share else "public"

    def _human_replies(self, status: SimStatus, plan: _Plan, author: _Actor) -> None:
        p, rng = self.p, self.rng
        if plan.parent is None:  # a top-level post: who replies
            if rng.random() >= p.reply_prob.get(plan.intent, 0.3):
                self._enthusiasts(status, plan, author)
                return
            count = 1
            while rng.random() < p.extra_repliers_mean / (1 + p.extra_repliers_mean):
                count += 1
            chosen: list[int] = []
            for _ in range(count):
                replier = self._pick_replier(author, plan)
                if replier is not None and replier not in chosen:
                    chosen.append(replier)
            for replier in chosen:
                self._schedule_human_reply(replier, status, plan, depth=1)
            self._enthusiasts(status, plan, author)
            return
        # a reply: the person replied to may answer back, and so on
        if plan.depth >= p.max_thread_depth:
            return
        parent_author = self.by_id[plan.parent.account_id]
        answerer = self.actors[parent_author]
        if answerer.account.kind not in ("human", "power_user", "news_sharer", "brand"):
            return
        chance = p.answer_back_prob * (p.answer_back_decay ** (plan.depth - 1))
        if rng.random() < chance:
            self._schedule_human_reply(parent_author, status, plan, depth=plan.depth + 1)

    def _pick_replier(self, author: _Actor, plan: _Plan) -> int | None:
        rng = self.rng
        if author.friends and rng.random() < self.p.friend_reply_share:
            candidates = author.friends
        elif plan.topic == "product" or plan.topic not in self.by_topic:
            candidates = self.product_people or self.people
        else:
            candidates = self.by_topic[plan.topic]
        if not candidates:
            return None
        weights = [self.actors[c].rate + 0.05 for c in candidates]
        choice = rng.choices(candidates, weights)[0]
        return None if self.actors[choice] is author else choice

    def _schedule_human_reply(self, replier: int, status: SimStatus, plan: _Plan, depth: int) -> None:
        actor = self.actors[replier]
        delay = (self.p.power_user_delay if actor.account.kind == "power_user" else self.p.human_delay).sample(self.rng)
        text = self._human_reply_text(actor, status, plan)
        self._push(status.created_ms + int(delay * 1000), replier, "reply", topic=plan.topic, parent=status,
                   text=text, depth=depth, visibility=self._reply_visibility(), brand=plan.brand, story=plan.story)

    def _human_reply_text(self, actor: _Actor, status: SimStatus, plan: _Plan) -> str:
        g, rng = self.grammar, self.rng
        brand = plan.brand or self._brand_for_post()
        intent = plan.intent
        if plan.topic != "product" or intent == "filler":
            text = g.everyday_reply(rng, plan.topic)
        elif intent == "product_question" or (intent == "reply" and rng.random() < 0.3):
            if rng.random() < 0.7:
                link = g.human_link(rng, f"{brand.name} {rng.choice(brand.models)}") if rng.random() < self.p.human_link_share else None
                text = g.recommendation(rng, rng.choice(self.p.brands), link=link, deal=rng.random() < 0.05)
            else:
                text = g.complaint_reply(rng, brand)
        elif intent == "complaint":
            text = g.complaint_reply(rng, brand) if rng.random() < 0.7 else g.recommendation(rng, rng.choice(self.p.brands))
        elif intent == "news" and plan.story is not None:
            text = rng.choice(("Oof, checking mine now.", "Thanks for sharing, had no idea.", "Wow. Glad I didn't buy one.",
                               "Mine is one of those!", "Great read, thanks.", "About time someone reported on this."))
        elif intent == "announcement":
            text = rng.choice((f"When is it coming to the UK?", "Does it work on thick carpet?", "Still waiting on my repair tbh.",
                               "Looks great!", f"Can I get spare parts for the older {rng.choice(brand.models)}?",
                               g.complaint_reply(rng, brand)))
        else:
            text = g.everyday_reply(rng, "pets") if rng.random() < 0.3 else rng.choice(
                ("Ha, same.", "Thanks!", "Good to know.", "Makes sense.", "Appreciate it!", "Oh interesting, will look.",
                 "Honestly yes.", "Noted!", "lol", "That's what I thought too."))
        return stylise(text, rng, actor.style)

    def _enthusiasts(self, status: SimStatus, plan: _Plan, author: _Actor) -> None:
        """Product-obsessed power users: fast, link-carrying recommendations, but only while awake."""
        if plan.topic != "product" or plan.intent not in ("product_question", "complaint", "recommendation"):
            return
        rng = self.rng
        for index in self.enthusiasts:
            actor = self.actors[index]
            if actor is author or rng.random() > 0.45:
                continue
            hour = self._local_hour(actor, status.created_ms)
            if hour < 7.5 or hour > 23.5:
                continue
            brand = rng.choice(self.p.brands)
            link = f"{actor.link_domain}/{slugify(brand.name + ' ' + rng.choice(brand.models))}" if rng.random() < 0.5 else None
            text = stylise(self.grammar.recommendation(rng, brand, link=link), rng, actor.style)
            delay = self.p.power_user_delay.sample(rng)
            self._push(status.created_ms + int(delay * 1000), index, "reply", topic="product", parent=status, text=text,
                       depth=1, brand=plan.brand)

    def _support_answers(self, status: SimStatus, plan: _Plan, author: _Actor) -> None:
        if plan.intent not in ("complaint", "product_question", "reply", "announcement") or plan.topic != "product":
            return
        text_lower = status.text.lower()
        for index in self.supports:
            actor = self.actors[index]
            if actor.brand is None:
                continue
            brand = actor.brand
            mentioned = f"@{brand.handle}" in text_lower or f"@{brand.support_handle}" in text_lower
            if not mentioned and (brand.name.lower() not in text_lower or plan.intent not in ("complaint",)):
                continue
            if self.by_id.get(status.in_reply_to_account_id or "") == index:
                continue
            if self.rng.random() > (0.95 if mentioned else 0.8):
                continue
            ms = self._support_time(actor, status.created_ms + int(self.p.support_delay.sample(self.rng) * 1000))
            name = author.account.display_name.split(" ")[0] if author.account.display_name[:1].isalpha() else ""
            text = self.grammar.support_reply(self.rng, brand, name, self.rng.choice(actor.agents))
            self._push(ms, index, "support", topic="product", parent=status, text=stylise(text, self.rng, actor.style),
                       depth=plan.depth + 1, brand=brand, trigger=brand.name.lower())

    def _support_time(self, actor: _Actor, ms: int) -> int:
        """Answers arrive in office hours: outside them, they wait for the morning queue."""
        start, end = self.p.support_hours
        hour = self._local_hour(actor, ms)
        if start <= hour < end:
            return ms
        wait_h = (start - hour) % 24
        return ms + int(wait_h * HOUR_MS) + int(self.rng.expovariate(1 / 1500) * 1000)

    def _customer_answers(self, status: SimStatus, plan: _Plan) -> None:
        """After support answers, the customer often writes back and support closes the loop."""
        if plan.parent is None or plan.depth > 4:
            return
        rng = self.rng
        customer_index = self.by_id[plan.parent.account_id]
        customer = self.actors[customer_index]
        if customer.account.kind not in ("human", "power_user", "news_sharer") or rng.random() > 0.5:
            return
        text = stylise(rng.choice(("Thanks, DM sent.", "DM'd you!", "Done, thanks for the quick reply.", "Tried that, no luck.",
                                   "Thanks! Reset worked.", "Sent you the order number.")), rng, customer.style)
        reply_ms = status.created_ms + int(self.p.human_delay.sample(rng) * 1000)
        self._push(reply_ms, customer_index, "reply", topic="product", parent=status, text=text, depth=plan.depth + 1,
                   brand=plan.brand)

    def _support_followup(self, status: SimStatus, plan: _Plan, author: _Actor) -> None:
        """Support closes the loop when a customer answers one of its replies."""
        if plan.parent is None:
            return
        support_index = self.by_id[plan.parent.account_id]
        support = self.actors[support_index]
        if support.account.kind != "brand_support" or self.rng.random() >= 0.7:
            return
        rng = self.rng
        follow = self.grammar.support_followup(rng, author.account.display_name.split(" ")[0], rng.choice(support.agents))
        follow_ms = self._support_time(support, status.created_ms + int(self.p.support_delay.sample(rng) * 1000))
        self._push(follow_ms, support_index, "support", topic="product", parent=status,
                   text=stylise(follow, rng, support.style), depth=plan.depth + 1, brand=plan.brand, trigger="followup")

    def _benign_bots(self, status: SimStatus, plan: _Plan, author: _Actor) -> None:
        rng = self.rng
        for index in self.benign:
            actor = self.actors[index]
            if actor.link_domain == "manual":
                if f"@{actor.account.acct.lower()}" not in status.text.lower():
                    continue
                brand = next((b for b in self.p.brands if b.name.lower() in status.text.lower()), rng.choice(self.p.brands))
                model = next((m for m in brand.models if m.lower() in status.text.lower()), brand.models[0])
                url = f"https://manuals.example/{slugify(brand.name)}/{slugify(model)}.pdf"
                text = rng.choice((f"Here's the manual for the {brand.name} {model}: {url}",
                                   f"Found it! {brand.name} {model} manual (PDF): {url}",
                                   f"{brand.name} {model} user manual: {url} (I'm a bot, beep)"))
            elif actor.link_domain == "alt_text":
                if not status.media or status.media[0][1] is not None or not author.alt_text_opt_in:
                    continue
                text = rng.choice(("Hi! Your image has no description. Adding alt text helps blind and low-vision people. "
                                   "(I'm a bot; unfollow me to stop these.)",
                                   "Friendly reminder: the image in this post has no alt text. You can edit the post to add "
                                   "one. (automated message)"))
            else:
                continue
            delay = self.p.benign_bot_delay.sample(rng)
            self._push(status.created_ms + int(delay * 1000), index, "benign", topic=plan.topic, parent=status, text=text,
                       depth=plan.depth + 1, trigger="mention" if actor.link_domain == "manual" else "alt_text")
        if plan.parent is None and plan.topic == "product" and plan.intent == "complaint" and rng.random() < 0.04:
            manual = next((i for i in self.benign if self.actors[i].link_domain == "manual"), None)
            if manual is not None:  # someone summons the manual bot under a complaint
                summoner = self._pick_replier(author, plan)
                if summoner is not None:
                    brand = plan.brand or self._brand_for_post()
                    text = f"@{self.actors[manual].account.acct} {brand.name} {rng.choice(brand.models)}"
                    self._push(status.created_ms + int(self.p.human_delay.sample(rng) * 1000), summoner, "summon",
                               topic="product", parent=status, text=text, depth=plan.depth + 1, brand=brand)

    # -- scripted accounts
    def _trigger(self, status: SimStatus) -> str | None:
        for tag in status.tags:
            if tag.lower() in self.watched_tags:
                return "#" + tag.lower()
        if self.keyword_re is not None:  # the words, not the @handles or URLs around them
            match = self.keyword_re.search(_HANDLES_AND_LINKS.sub(" ", status.text))
            if match:
                return match.group(1).lower()
        return None

    def _can_reply(self, actor: _Actor, target_id: str, ms: int, kind: str) -> bool:
        day = (ms - self.start_ms) // DAY_MS
        if actor.replies_per_day.get(day, 0) >= self.p.daily_cap[kind]:
            return False
        last = actor.last_target.get(target_id)
        return last is None or ms - last >= self.p.same_target_cooldown_h * HOUR_MS

    def _book(self, actor: _Actor, target_id: str, ms: int) -> None:
        day = (ms - self.start_ms) // DAY_MS
        actor.replies_per_day[day] = actor.replies_per_day.get(day, 0) + 1
        actor.last_target[target_id] = ms

    def _scripts(self, status: SimStatus, plan: _Plan, author: _Actor) -> None:
        p, rng = self.p, self.rng
        trigger = self._trigger(status)
        author_kind = author.account.kind
        is_brand_post = author_kind == "brand"
        if trigger is None and not is_brand_post:
            return
        top_level = plan.parent is None
        campaigns_fired: set[str] = set()
        for index in self.scripted:
            actor = self.actors[index]
            kind = actor.account.kind
            if actor is author:
                continue
            if kind in ("generic_praise", "link_promoter"):
                if not top_level:
                    continue
            elif trigger is None:
                continue
            if kind == "competitor_smear" and plan.intent not in ("product_question", "complaint", "praise", "news",
                                                                  "recommendation", "reply"):
                continue
            if actor.office_hours and not 9 <= self._local_hour(actor, status.created_ms) < 18:
                continue
            if kind == "coordinated":
                if actor.account.group in campaigns_fired:
                    continue
                campaigns_fired.add(actor.account.group or "")
                if rng.random() < p.reach[kind]:
                    self._coordinated(actor.account.group or "", status, plan, trigger)
                continue
            if rng.random() >= p.reach[kind] * (1.0 if trigger else 0.5):
                continue
            delay = {"keyword_replier": p.keyword_delay, "slow_replier": p.slow_delay, "generic_praise": p.praise_delay,
                     "link_promoter": p.promoter_delay, "competitor_smear": p.smear_delay,
                     "varied_replier": p.varied_delay}[kind].sample(rng)
            ms = status.created_ms + int(delay * 1000)
            if not self._can_reply(actor, status.account_id, ms, kind):
                continue
            self._book(actor, status.account_id, ms)
            self._push(ms, index, "pitch", topic="product", parent=status, text=self._bot_text(actor, status, trigger),
                       depth=plan.depth + 1, trigger=trigger or "brand_post", brand=plan.brand)

    def _coordinated(self, group: str, status: SimStatus, plan: _Plan, trigger: str | None) -> None:
        rng, p = self.rng, self.p
        members = list(self.groups.get(group, ()))
        rng.shuffle(members)
        ms = status.created_ms + int(p.coordinated_first_delay.sample(rng) * 1000)
        for index in members[: rng.randrange(2, min(4, len(members)) + 1)]:
            actor = self.actors[index]
            if not self._can_reply(actor, status.account_id, ms, "coordinated"):
                continue
            self._book(actor, status.account_id, ms)
            self._push(ms, index, "pitch", topic="product", parent=status, text=self._bot_text(actor, status, trigger),
                       depth=plan.depth + 1, trigger=trigger, brand=plan.brand)
            ms += int(p.coordinated_stagger.sample(rng) * 1000)

    def _bot_link(self, actor: _Actor) -> str:
        rng = self.rng
        base = actor.link_domain
        if base.endswith("bit.ly"):
            return f"{base}/{''.join(rng.choice('abcdefghjkmnpqrstuvwxyz23456789') for _ in range(7))}"
        path = rng.choice(("", "/deals", f"/{slugify(actor.brand.name if actor.brand else 'vacuum')}", "/shop", "/best-vacuum"))
        query = f"?utm_source=mastodon&utm_campaign={rng.randrange(100, 999)}" if rng.random() < 0.4 else ""
        return f"{base}{path}{query}"

    def _bot_text(self, actor: _Actor, status: SimStatus, trigger: str | None) -> str:
        rng = self.rng
        kind = actor.account.kind
        target = self.actors[self.by_id[status.account_id]].account
        first = target.display_name.split(" ")[0] if target.display_name[:1].isalpha() else ""
        if kind == "varied_replier":
            for _ in range(20):  # every reply worded differently
                link = self._bot_link(actor) if rng.random() < 0.6 else None
                keyword = trigger.lstrip("#") if trigger and trigger.lstrip("#") in self.p.keywords else None
                text = varied_pitch(rng, self.grammar, actor.brand or self.watched, link, keyword)
                text = stylise(text, rng, actor.style)
                key = re.sub(r"https?://\S+", "", text)
                if key not in actor.used_texts:
                    actor.used_texts.add(key)
                    return text
            return text
        template = rng.choice(actor.templates)
        text = template.replace("{name}", first or "there").replace("{link}", self._bot_link(actor))
        text = re.sub(r"[ \t]{2,}", " ", text) if kind != "link_promoter" else text
        if kind in ("keyword_replier", "coordinated") and rng.random() < 0.2:
            text += f" #{rng.choice(('deal', 'vacuum', 'cleaning', 'sale'))}"
        if kind == "link_promoter":
            return text
        light = replace(actor.style, lowercase=0.0, typo=actor.style.typo / 2)
        return stylise(text, rng, light) if kind != "generic_praise" else text

    def _maybe_pushback(self, status: SimStatus, plan: _Plan) -> None:
        if plan.parent is None or self.rng.random() >= self.p.pushback_prob:
            return
        target_index = self.by_id[plan.parent.account_id]
        target = self.actors[target_index]
        if target.account.kind not in ("human", "power_user", "news_sharer"):
            return
        bot_acct = self.actors[self.by_id[status.account_id]].account.acct
        text = self.grammar.pushback(self.rng, bot_acct)
        if text.startswith(f"@{bot_acct}"):
            text = text[len(bot_acct) + 1:].strip()
        delay = self.p.human_delay.sample(self.rng)
        self._push(status.created_ms + int(delay * 1000), target_index, "pushback", topic="product", parent=status,
                   text=stylise(text, self.rng, target.style), depth=plan.depth + 1)


def simulate(params: SimParams | None = None) -> Community:
    """Generate a community. Same ``params`` (incl. ``seed``), same community, byte for byte."""
    params = params or SimParams()
    sim = _Simulator(params)
    sim.build_population()
    sim.plan_originals()
    sim.run()
    return Community(params, [a.account for a in sim.actors], sim.statuses, sim.stories)
