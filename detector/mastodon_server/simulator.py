"""The engine behind :func:`detector.mastodon_server.community.simulate`: a discrete-event simulation.

Original posts are laid out first (each author's own rate and waking hours); then statuses are
emitted in time order from a heap, and each emitted status schedules its reactions: human replies
and thread continuations, brand-support answers, benign bots doing their jobs, and the scripts
that fire on watched keywords. Reactions arrive after a delay drawn from the reacting kind's
distribution, so latency is a property of *who* replies, not of the text. One ``random.Random``
drives everything: same parameters, same community.
"""

from __future__ import annotations

import heapq
import math
import random
import re
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from detector.mastodon_server import entities as E
from detector.mastodon_server.community import SCRIPTED_KINDS, SimAccount, SimParams, SimStatus
from detector.mastodon_server.distributions import DAY_MS, DIURNAL, HOUR_MS, UTC_OFFSETS, Quantiles
from detector.mastodon_server.text import (
    BIO_PARTS,
    EVERYDAY_TOPICS,
    FIRST_NAMES,
    LAST_NAMES,
    NICK_WORDS,
    Brand,
    Grammar,
    NewsStory,
    Style,
    cap,
    slugify,
    stylise,
)

_HANDLES_AND_LINKS = re.compile(r"@[\w.@-]+|https?://\S+")


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
    flavour: str = ""  # what a benign bot does: manual, alt_text, recall
    activity: float = 1.0  # a script's own multiplier on its kind's reach and daily cap
    active_from_ms: int = 0  # a script acts only inside [active_from_ms, active_until_ms)
    active_until_ms: int = 2**62
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


class Simulator:
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
        self.story_times: list[tuple[int, NewsStory]] = []
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
            age = p.human_age_days.sample(rng) if kind != "power_user" else max(p.human_age_days.sample(rng), 400)
            rate = rate_dist.sample(rng)
            account = self._account(
                kind=kind, username=username, display_name=display, bio=self._human_bio(), age_days=age,
                followers=p.human_followers.sample(rng) * followers_boost, following=p.human_following.sample(rng),
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
            for team in range(p.support_accounts_per_brand):  # e.g. a global and a regional support desk
                region = ("", "_uk", "_us", "_eu", "_de")[team % 5]
                initials = tuple(f"{rng.choice(FIRST_NAMES)[0]}{rng.choice(LAST_NAMES)[0]}" for _ in range(rng.randrange(3, 7)))
                offset = (1, 0, -5, 1, 1)[team % 5]
                support = self._account(
                    kind="brand_support", username=self._username(brand.support_handle + region),
                    display_name=f"{brand.name} Support{(' ' + region[1:].upper()) if region else ''}",
                    bio=f"We're here to help with your {brand.name}. Every day 8:00-20:00. Replies signed ^initials.",
                    age_days=rng.uniform(900, 2400), followers=rng.uniform(800, 15000), following=rng.uniform(5, 200),
                    rate=15.0, domain=None, default_avatar=False, indexable=True,
                    fields=(("Main account", f"@{brand.handle}"),), application=("Zendesk", "https://www.zendesk.com"),
                    offset=offset,
                )
                self._add(support, Style(lowercase=0, typo=0.002, emoji=0.05, exclaim=0.1), brand=brand, agents=initials)

        benign = {
            "manual": ("manualbot", "Manual Finder 🤖",
                       "I find the manual for your appliance. Mention me with a brand and model. Run by a human, code is open."),
            "alt_text": ("alttext_reminder", "Alt Text Reminder",
                         "I remind people who follow me when an image has no description. Unfollow to stop. Bot by a human."),
            "recall": ("recallwatch", "Recall Watch ⚠️",
                       "I reply with the official notice when someone mentions a product under a safety recall. Automated."),
        }
        for i in range(p.benign_bots):
            flavour = tuple(benign)[i % len(benign)]
            name, display, bio = benign[flavour]
            account = self._account(
                kind="benign_bot", username=self._username(name + ("" if i < len(benign) else str(i))), display_name=display,
                bio=bio, age_days=rng.uniform(300, 1500), followers=rng.uniform(200, 4000), following=rng.uniform(0, 20),
                rate=3.0, domain=self._domain(0.3), default_avatar=False, bot_flag=True, indexable=True,
                fields=(("Source", "https://codeberg.org/botmaker/" + name),), application=(name, None),
            )
            recalled = rng.choice(p.brands)
            self._add(account, Style(lowercase=0, typo=0, emoji=0, exclaim=0), flavour=flavour, brand=recalled,
                      link_domain=f"https://recalls.example/{slugify(recalled.name)}-{slugify(recalled.models[0])}")

        def bot(kind: str, group: str, *, display: str | None = None, username: str | None = None,
                bio: str | None = None, created_ms: int | None = None, aged: bool | None = None) -> _Actor:
            aged = rng.random() < p.aged_bot_share if aged is None else aged
            if display is None:
                display, username = self._human_name()
            if aged:
                age, followers, following = (p.aged_bot_age_days.sample(rng), p.aged_bot_followers.sample(rng),
                                             p.aged_bot_following.sample(rng))
            else:
                age, followers, following = (p.campaign_bot_age_days.sample(rng), p.campaign_bot_followers.sample(rng),
                                             p.campaign_bot_following.sample(rng))
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
                              office_hours=kind in ("slow_replier", "coordinated") and rng.random() < p.office_hours_bot_share,
                              activity=min(max(math.exp(rng.gauss(0.0, p.bot_activity_sigma)), 0.05), 2.0))
            if created_ms is None and rng.random() < p.bot_late_start_share:
                # a fresh account that starts mid-window: created then, active from then
                born = self.start_ms + rng.randrange(max(1, int(p.days * DAY_MS * 0.8)))
                account = replace(account, id=self._snowflake(born), created_ms=born, prior_statuses=0,
                                  prior_last_status_ms=None, followers=min(account.followers, 15))
                self.by_id[account.id] = self.by_id.pop(actor.account.id)
                actor.account = account
                actor.active_from_ms = born + int(rng.uniform(0.2, 6) * HOUR_MS)
            if rng.random() < p.bot_stop_share:  # throttled, abandoned or banned: goes quiet
                actor.active_until_ms = max(actor.active_from_ms, self.start_ms) + int(
                    rng.lognormvariate(math.log(p.bot_stop_after_days_median * DAY_MS), 0.8))
            shop = slugify(display).replace("-", "") or "deals"
            actor.link_domain = rng.choice((f"https://{shop}.shop", f"https://www.{shop}.example", f"https://{shop}.store",
                                            "https://bit.ly", f"https://{slugify(brand.name)}-outlet.example"))
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
            created = self.start_ms - int(p.campaign_bot_age_days.sample(rng) * DAY_MS)
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
        """A script's frozen reply, with ``{name}`` and ``{link}`` left for each use."""
        rng, p = self.rng, self.p
        mix = p.bot_reply_mix[kind]
        mode = rng.choices(list(mix), list(mix.values()))[0]
        link = "{link}" if rng.random() < p.bot_link_share[kind] else None
        return self.grammar.product_reply(rng, mode, brand, other=target, link=link, artefacts=kind == "link_promoter",
                                          name="{name}", keyword=rng.choice(p.keywords) if p.keywords else None)

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
        self.chatty = [i for i in self.scripted if self.actors[i].account.kind in ("slow_replier", "coordinated", "varied_replier")]
        self.enthusiasts = [i for i in kinds.get("power_user", []) if self.actors[i].enthusiast]
        self.supports = kinds.get("brand_support", [])
        self.news_sharers = kinds.get("news_sharer", [])
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
                begin, end = max(self.start_ms, actor.active_from_ms), min(self.end_ms, actor.active_until_ms)
                for _ in range(self._poisson(p.filler_posts_per_day * max(0, end - begin) / DAY_MS)):
                    self._push(begin + rng.randrange(max(1, end - begin)), index, "filler", topic=rng.choice(EVERYDAY_TOPICS))
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
            self.story_times.append((t0, story))
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
        slug = parts.path.rstrip("/").rsplit("/", 1)[-1]
        words = re.sub(r"[-_]+", " ", slug).strip()
        return cap(words) if ("-" in slug or "_" in slug) and len(words) > 6 else (parts.hostname or url)

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
            link = g.product_link(rng, brand) if rng.random() < 0.6 else None
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
        self._news_replies(status, plan, author)
        self._support_followup(status, plan, author)
        self._support_answers(status, plan, author)
        self._benign_bots(status, plan, author)
        if status.visibility == "public":
            self._scripts(status, plan, author)
            if plan.parent is None and plan.topic != "product":
                self._bot_small_talk(status, plan)

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

    def _news_replies(self, status: SimStatus, plan: _Plan, author: _Actor) -> None:
        """People who read the news answer questions about that brand with the same link."""
        if plan.parent is not None or plan.topic != "product" or plan.intent not in ("product_question", "complaint"):
            return
        brand = plan.brand.name if plan.brand else None
        stories = [story for t0, story in self.story_times if t0 < status.created_ms and story.brand == brand]
        if not stories:
            return
        story = stories[-1]
        for index in self.news_sharers:
            actor = self.actors[index]
            if actor is author or self.rng.random() >= self.p.news_reply_prob:
                continue
            text = stylise(self.grammar.news_reply(self.rng, story), self.rng, actor.style)
            delay = self.p.human_delay.sample(self.rng)
            self._push(status.created_ms + int(delay * 1000), index, "reply", topic="product", parent=status, text=text,
                       depth=1, brand=plan.brand, story=story)

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
        g, rng, p = self.grammar, self.rng, self.p
        if plan.topic != "product" or plan.intent == "filler":
            return stylise(g.everyday_reply(rng, plan.topic), rng, actor.style)
        intent = plan.intent if plan.intent in p.human_reply_mix else (
            "praise" if plan.intent in ("misc", "recommendation") else "reply")
        mix = p.human_reply_mix[intent]
        mode = rng.choices(list(mix), list(mix.values()))[0]
        brand = plan.brand or self._brand_for_post()
        if mode in ("recommend", "deal", "varied") and rng.random() < 0.5:
            brand = rng.choice(self.p.brands)  # people recommend what they own, not what was asked about
        link = None
        if mode in ("recommend", "varied", "warn", "advice") and rng.random() < p.human_link_share or mode == "deal" and rng.random() < 0.6:
            link = g.product_link(rng, brand)
        keyword = self._keyword_in(status)
        text = g.product_reply(rng, mode, brand, other=plan.brand, link=link, keyword=keyword)
        return stylise(text, rng, actor.style)

    def _keyword_in(self, status: SimStatus) -> str | None:
        if self.keyword_re is None:
            return None
        match = self.keyword_re.search(_HANDLES_AND_LINKS.sub(" ", status.text))
        return match.group(1).lower() if match else None

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
            mix = self.p.enthusiast_mix
            mode = rng.choices(list(mix), list(mix.values()))[0]
            link = self.grammar.product_link(rng, brand, own=actor.link_domain, own_share=0.6) if rng.random() < 0.5 else None
            text = self.grammar.product_reply(rng, mode, brand, other=plan.brand, link=link, keyword=self._keyword_in(status))
            text = stylise(text, rng, actor.style)
            delay = self.p.power_user_delay.sample(rng)
            self._push(status.created_ms + int(delay * 1000), index, "reply", topic="product", parent=status, text=text,
                       depth=1, brand=plan.brand)

    def _support_answers(self, status: SimStatus, plan: _Plan, author: _Actor) -> None:
        if plan.intent not in ("complaint", "product_question", "reply", "announcement") or plan.topic != "product":
            return
        text_lower = status.text.lower()
        answered: set[str] = set()
        for index in self.rng.sample(self.supports, len(self.supports)):
            actor = self.actors[index]
            if actor.brand is None or actor.brand.name in answered:
                continue
            brand = actor.brand
            mentioned = f"@{brand.handle}" in text_lower or f"@{brand.support_handle}" in text_lower
            if not mentioned and (brand.name.lower() not in text_lower or plan.intent not in ("complaint",)):
                continue
            replied_to = self.by_id.get(status.in_reply_to_account_id or "")
            if replied_to is not None and self.actors[replied_to].account.kind == "brand_support" \
                    and self.actors[replied_to].brand is brand:
                continue  # a customer answering the desk: the follow-up logic handles it
            answered.add(brand.name)
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
        """Declared bots doing a job people asked for: fast, templated, and not spam."""
        rng = self.rng
        lowered = status.text.lower()
        for index in self.benign:
            actor = self.actors[index]
            if actor.flavour == "manual":
                if f"@{actor.account.acct.lower()}" not in lowered:
                    continue
                brand = next((b for b in self.p.brands if b.name.lower() in lowered), rng.choice(self.p.brands))
                model = next((m for m in brand.models if m.lower() in lowered), brand.models[0])
                url = f"https://manuals.example/{slugify(brand.name)}/{slugify(model)}.pdf"
                text = rng.choice((f"Here's the manual for the {brand.name} {model}: {url}",
                                   f"Found it! {brand.name} {model} manual (PDF): {url}",
                                   f"{brand.name} {model} user manual: {url} (I'm a bot, beep)"))
                trigger = "mention"
            elif actor.flavour == "alt_text":
                if not status.media or status.media[0][1] is not None or not author.alt_text_opt_in:
                    continue
                text = rng.choice(("Hi! Your image has no description. Adding alt text helps blind and low-vision people. "
                                   "(I'm a bot; unfollow me to stop these.)",
                                   "Friendly reminder: the image in this post has no alt text. You can edit the post to add "
                                   "one. (automated message)"))
                trigger = "alt_text"
            elif actor.flavour == "recall":
                brand = actor.brand
                if brand is None or plan.topic != "product" or brand.name.lower() not in lowered:
                    continue
                if not self._can_reply(actor, status.account_id, status.created_ms, "recall"):
                    continue
                self._book(actor, status.account_id, status.created_ms)
                model = brand.models[0]
                text = rng.choice((
                    f"Heads up: some {brand.name} {model} batteries are under a safety recall. Check your serial number: "
                    f"{actor.link_domain} (automated notice)",
                    f"⚠️ Safety recall: {brand.name} {model} (battery packs). Official notice and free replacement: "
                    f"{actor.link_domain} - I'm a bot.",
                ))
                trigger = brand.name.lower()
            else:
                continue
            delay = self.p.benign_bot_delay.sample(rng)
            self._push(status.created_ms + int(delay * 1000), index, "benign", topic=plan.topic, parent=status, text=text,
                       depth=plan.depth + 1, trigger=trigger)
        if plan.parent is None and plan.topic == "product" and plan.intent in ("complaint", "product_question") \
                and rng.random() < self.p.summon_prob:
            manual = next((i for i in self.benign if self.actors[i].flavour == "manual"), None)
            if manual is not None:  # someone summons the manual bot under the post
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
        if not actor.active_from_ms <= ms < actor.active_until_ms:
            return False
        day = (ms - self.start_ms) // DAY_MS
        if actor.replies_per_day.get(day, 0) >= max(1, round(self.p.daily_cap[kind] * actor.activity)):
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
                if rng.random() < min(1.0, p.reach[kind] * actor.activity):
                    self._coordinated(actor.account.group or "", status, plan, trigger)
                continue
            if rng.random() >= min(1.0, p.reach[kind] * actor.activity) * (1.0 if trigger else 0.5):
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
        brand = actor.brand or self.watched
        if actor.link_domain.endswith("bit.ly"):
            own = f"{actor.link_domain}/{''.join(self.rng.choice('abcdefghjkmnpqrstuvwxyz23456789') for _ in range(7))}"
            return own if self.rng.random() < self.p.bot_own_link_share else self.grammar.product_link(self.rng, brand)
        return self.grammar.product_link(self.rng, brand, own=actor.link_domain, own_share=self.p.bot_own_link_share,
                                         tracking=0.35)

    def _bot_text(self, actor: _Actor, status: SimStatus, trigger: str | None) -> str:
        rng, p = self.rng, self.p
        kind = actor.account.kind
        target = self.actors[self.by_id[status.account_id]].account
        first = target.display_name.split(" ")[0] if target.display_name[:1].isalpha() else ""
        if kind == "varied_replier":
            keyword = trigger.lstrip("#") if trigger and trigger.lstrip("#") in p.keywords else None
            mix = p.bot_reply_mix[kind]
            for _ in range(20):  # every reply worded differently
                mode = rng.choices(list(mix), list(mix.values()))[0]
                link = self._bot_link(actor) if rng.random() < p.bot_link_share[kind] else None
                text = self.grammar.product_reply(rng, mode, actor.brand or self.watched, other=actor.target, link=link,
                                                  keyword=keyword, name=first)
                text = stylise(text, rng, actor.style)
                key = re.sub(r"\W+", " ", re.sub(r"https?://\S+", "", text).lower()).strip()
                if key not in actor.used_texts:
                    actor.used_texts.add(key)
                    return text
            return text
        template = rng.choice(actor.templates)
        text = template.replace("{name}", first or "there").replace("{link}", self._bot_link(actor))
        if kind == "link_promoter":
            return text
        text = re.sub(r"[ \t]{2,}", " ", text)
        if kind in ("keyword_replier", "coordinated") and rng.random() < 0.2:
            text += f" #{rng.choice(('deal', 'vacuum', 'cleaning', 'sale'))}"
        light = replace(actor.style, lowercase=0.0, typo=actor.style.typo / 2)
        return stylise(text, rng, light) if kind != "generic_praise" else text

    def _bot_small_talk(self, status: SimStatus, plan: _Plan) -> None:
        """Scripts that farm engagement drop human-sounding small talk under unrelated posts."""
        rng, p = self.rng, self.p
        for index in self.chatty:
            if rng.random() >= p.bot_chat_reply_prob:
                continue
            actor = self.actors[index]
            kind = actor.account.kind
            delay = {"slow_replier": p.slow_delay, "coordinated": p.coordinated_first_delay,
                     "varied_replier": p.varied_delay}[kind].sample(rng)
            ms = status.created_ms + int(delay * 1000)
            if not self._can_reply(actor, status.account_id, ms, kind):
                continue
            self._book(actor, status.account_id, ms)
            text = stylise(self.grammar.everyday_reply(rng, plan.topic), rng, actor.style)
            self._push(ms, index, "small_talk", topic=plan.topic, parent=status, text=text, depth=plan.depth + 1)

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

