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
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from detector.mastodon_server import entities as E
from detector.mastodon_server.distributions import (
    CAMPAIGN_AGE_DAYS,
    FAKE_FOLLOWERS,
    FAKE_FOLLOWING,
    GENUINE_AGE_DAYS,
    GENUINE_FOLLOWERS,
    GENUINE_FOLLOWING,
    HUMAN_STATUSES_PER_DAY,
    POWER_STATUSES_PER_DAY,
    SPAMBOT_AGE_DAYS,
    SPAMBOT_FOLLOWERS,
    SPAMBOT_FOLLOWING,
    Delay,
    Quantiles,
)
from detector.mastodon_server.text import DEFAULT_BRANDS, Brand, NewsStory

SCRIPTED_KINDS = (
    "keyword_replier", "slow_replier", "generic_praise", "link_promoter", "competitor_smear", "coordinated",
    "varied_replier",
)
HARD_NEGATIVE_KINDS = ("brand_support", "benign_bot", "power_user", "news_sharer")
OTHER_KINDS = ("human", "brand", "observer")
ALL_KINDS = SCRIPTED_KINDS + HARD_NEGATIVE_KINDS + OTHER_KINDS


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
    benign_bots: int = 3  # cycles through: manual finder (summoned), alt-text reminder, recall notices
    support_accounts_per_brand: int = 1
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

    # profiles (quantile tables measured from the cresci data unless marked as design choices)
    human_age_days: Quantiles = GENUINE_AGE_DAYS
    human_followers: Quantiles = GENUINE_FOLLOWERS
    human_following: Quantiles = GENUINE_FOLLOWING
    campaign_bot_age_days: Quantiles = CAMPAIGN_AGE_DAYS
    campaign_bot_followers: Quantiles = FAKE_FOLLOWERS
    campaign_bot_following: Quantiles = FAKE_FOLLOWING
    aged_bot_age_days: Quantiles = SPAMBOT_AGE_DAYS
    aged_bot_followers: Quantiles = SPAMBOT_FOLLOWERS
    aged_bot_following: Quantiles = SPAMBOT_FOLLOWING

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
    summon_prob: float = 0.08  # a product question or complaint where someone calls the manual bot
    news_reply_prob: float = 0.12  # per news sharer: answers a question about a brand in the news with the link
    human_link_share: float = 0.35  # human product replies (recommend, warn, varied, advice) that carry a link
    # What humans say under product posts, by what the post was: the same modes scripts use.
    human_reply_mix: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: {
        "product_question": {"recommend": 0.24, "deal": 0.04, "varied": 0.14, "warn": 0.12, "sympathy": 0.05,
                             "question": 0.14, "advice": 0.04, "hook": 0.01, "praise": 0.03, "chat": 0.19},
        "complaint": {"sympathy": 0.38, "warn": 0.15, "recommend": 0.12, "varied": 0.06, "question": 0.12,
                      "chat": 0.13, "deal": 0.01, "advice": 0.02, "praise": 0.01},
        "praise": {"chat": 0.33, "praise": 0.15, "recommend": 0.15, "varied": 0.1, "question": 0.15, "warn": 0.05,
                   "sympathy": 0.05, "deal": 0.02},
        "announcement": {"praise": 0.25, "question": 0.3, "sympathy": 0.2, "chat": 0.1, "recommend": 0.05, "warn": 0.1},
        "news": {"chat": 0.4, "praise": 0.25, "sympathy": 0.15, "question": 0.1, "warn": 0.1},
        "reply": {"chat": 0.55, "question": 0.15, "sympathy": 0.1, "recommend": 0.1, "praise": 0.05, "varied": 0.05},
    })
    enthusiast_mix: Mapping[str, float] = field(default_factory=lambda: {
        "recommend": 0.33, "varied": 0.3, "advice": 0.1, "warn": 0.15, "deal": 0.05, "question": 0.07})
    # What each script says (its templates are drawn once from these modes), and how often it links.
    bot_reply_mix: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: {
        "keyword_replier": {"hook": 0.35, "deal": 0.3, "recommend": 0.25, "varied": 0.1},
        "slow_replier": {"recommend": 0.35, "varied": 0.25, "deal": 0.2, "hook": 0.1, "warn": 0.1},
        "coordinated": {"hook": 0.3, "recommend": 0.3, "deal": 0.3, "varied": 0.1},
        "competitor_smear": {"warn": 1.0},
        "generic_praise": {"praise": 1.0},
        "link_promoter": {"advice": 1.0},
        "varied_replier": {"varied": 0.8, "recommend": 0.1, "warn": 0.1},
    })
    bot_link_share: Mapping[str, float] = field(default_factory=lambda: {
        "keyword_replier": 0.95, "slow_replier": 0.85, "coordinated": 0.9, "competitor_smear": 0.4,
        "generic_praise": 0.0, "link_promoter": 1.0, "varied_replier": 0.6})
    bot_own_link_share: float = 0.7  # a script's links that go to its own shop (the rest: shared pools)
    bot_chat_reply_prob: float = 0.004  # per everyday post: a script replies with small talk (engagement farming)
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
        "coordinated": 20, "varied_replier": 30, "recall": 40,
    })
    templates_per_bot: Mapping[str, int] = field(default_factory=lambda: {
        "keyword_replier": 3, "slow_replier": 6, "generic_praise": 4, "link_promoter": 3, "competitor_smear": 4,
        "coordinated": 4,
    })
    same_target_cooldown_h: float = 12.0
    bot_activity_sigma: float = 0.9  # per-script log-normal spread of reach and cap: some scripts post a handful
    bot_late_start_share: float = 0.2  # scripts whose account is created during the window
    bot_stop_share: float = 0.3  # scripts that go quiet during the window
    bot_stop_after_days_median: float = 2.0
    aged_bot_share: float = 0.35  # bots on old (bought or dormant) accounts with human-like profiles
    bot_default_avatar: float = 0.55
    office_hours_bot_share: float = 0.4  # slow repliers / coordinated groups run only in office hours
    filler_posts_per_day: float = 0.6  # original posts by scripted accounts that try to look human
    support_hours: tuple[int, int] = (8, 20)  # local hours the support team answers

    @classmethod
    def training(cls, seed: int, **overrides: Any) -> "SimParams":
        """A community of about 50,000 statuses with many accounts of every kind, for training."""
        base = dict(
            seed=seed, days=14.0, humans=600, power_users=20, news_sharers=30, benign_bots=9, support_accounts_per_brand=2,
            keyword_repliers=10,
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
            avatar=None if account.default_avatar else  # remote avatars are served from the local media cache
            f"https://{self.host}/system/{'cache/' if account.domain else ''}accounts/avatars/"
            f"{account.id[:3]}/{account.id[3:6]}/{account.id[6:9]}/original/{account.id[-6:]}.png",
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


def simulate(params: SimParams | None = None) -> Community:
    """Generate a community. Same ``params`` (incl. ``seed``), same community, byte for byte."""
    from detector.mastodon_server.simulator import Simulator  # the engine imports this module's records

    params = params or SimParams()
    sim = Simulator(params)
    sim.build_population()
    sim.plan_originals()
    sim.run()
    return Community(params, [a.account for a in sim.actors], sim.statuses, sim.stories)
