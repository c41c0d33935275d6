"""Every reason template, table-driven, with counts of 0, 1 and many: each sentence must read as
a person would write it ("1 person", "its only reply", "both replies") and quote checkable counts."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from detector.classifier import reasons as r
from detector.features.account import ProfileSnapshot
from detector.features.behaviour import AccountActivity, Template, latency_bin
from detector.features.coordination import Coordination

PROFILE = ProfileSnapshot(age_days=None, statuses=None, followers=None, following=None, statuses_per_day=None,
                          default_avatar=None, empty_bio=False, bio_has_link=False, handle_digit_run=0, handle_length=8,
                          name_is_handle=False, brand_like_name=False, bot_flag=None)  # fmt: skip


def activity(*, latencies=(), targets=(), triggered_targets=(), keyword=None, terms=(), domains=(), **fields: Any) -> AccountActivity:
    a = AccountActivity(**fields)
    for i, seconds in enumerate(latencies):
        a.latency_hist[latency_bin(seconds)] += 1
        a.fastest = sorted([*a.fastest, (seconds, f"r{i}")])[:5]
        a.triggered_latency_hist[latency_bin(seconds)] += bool(triggered_targets)
    for target in targets:
        a.targets.add(target)
    for target in triggered_targets:
        a.triggered_targets.add(target)
    if keyword:
        a.keywords.add(keyword, a.triggered)
    for term, n in terms:
        a.parent_terms.add(term, n)
    for domain, n in domains:
        a.domains.add(domain, n)
    return a


def context(a: AccountActivity | None = None, *, profile: ProfileSnapshot = PROFILE, coordination=Coordination((), None),
            age: float | None = None, parts=None, display_name="", name_keyword=None) -> r.AccountContext:
    return r.AccountContext(a or AccountActivity(), profile, parts or {}, age, coordination, display_name, name_keyword)


def people(n: int) -> list[str]:
    return [f"p{i}" for i in range(n)]


CASES = [
    # --- speed
    ("latency none", r._latency, True, context(), None),
    ("latency one", r._latency, True, context(activity(replies=1, latencies=[40])),
     "replied 40 s after the post it answered"),
    ("latency many", r._latency, True, context(activity(replies=3, latencies=[3, 4, 400])),
     "replied a median 4 s after the post it answered; 2 of 3 replies within a minute (fastest 3 s)"),
    ("latency all fast", r._latency, True, context(activity(replies=2, latencies=[3, 4])),
     "replied a median 3 s after the post it answered; both replies within a minute (fastest 3 s)"),
    ("latency human one", r._latency, False, context(activity(replies=1, latencies=[1000])),
     "answers 17 min after the post it replies to, like people do (1 reply timed)"),
    ("latency human many", r._latency, False, context(activity(replies=3, latencies=[1000, 1000, 5000])),
     "answers a median 17 min after the post it replies to, like people do (3 replies timed)"),
    # --- targets and triggers
    ("trigger one person", r._targets, True,
     context(activity(replies=1, triggered=1, with_parent_text=1, triggered_targets=people(1), keyword="vacuum", latencies=[30])),
     "replied to 1 person within 56 s of a post mentioning 'vacuum' (its only reply with a known parent was to such a post)"),
    ("trigger many people", r._targets, True,
     context(activity(replies=25, triggered=23, with_parent_text=24, triggered_targets=people(23), keyword="vacuum",
                      latencies=[5] * 23)),
     "replied to 23 people within 9 s of their posts mentioning 'vacuum' "
     "(23 of 24 replies with a known parent were to such a post)"),
    ("topic", r._targets, True, context(activity(replies=3, with_parent_text=3, terms=[("vacuum", 3)])),
     "all 3 posts it answered were about 'vacuum'"),
    ("many targets", r._targets, True, context(activity(replies=3, targets=people(3))),
     "replied to 3 different people in 3 replies"),
    ("one target", r._targets, True, context(activity(replies=3, targets=people(1))), "replied to 1 person in 3 replies"),
    ("too few replies", r._targets, True, context(activity(replies=2, targets=people(2))), None),
    ("circle of one", r._targets, False, context(activity(replies=3, targets=people(1))),
     "talks with a small circle: 1 person in 3 replies"),
    ("circle none", r._targets, False, context(activity(replies=3, targets=people(3))), None),
    # --- template
    ("template in all", r._template, True,
     context(activity(replies=23, templates=[Template(1, 23, "Great read. Really, tx.", [])])),
     "same template in all 23 replies: “Great read. Really, tx.”"),
    ("template in some", r._template, True, context(activity(replies=5, templates=[Template(1, 2, "Buy now", [])])),
     "same template in 2 of 5 replies: “Buy now”"),
    ("template in both", r._template, True, context(activity(replies=2, templates=[Template(1, 2, "Buy now", [])])),
     "same template in both replies: “Buy now”"),
    ("template once", r._template, True, context(activity(replies=2, templates=[Template(1, 1, "Buy now", [])])), None),
    ("varied wording", r._template, False, context(activity(replies=3)), "words each reply differently (3 replies)"),
    # --- coordination
    ("coordination none", r._coordination, True, context(), None),
    ("coordination one", r._coordination, True, context(coordination=Coordination(("a",), "Buy now")),
     "posts the same template as 1 other account (a): “Buy now”"),
    ("coordination many", r._coordination, True, context(coordination=Coordination(("a", "b", "c", "d"), "Buy now")),
     "posts the same template as 4 other accounts (a, b, c …): “Buy now”"),
    # --- links
    ("links none", r._links, True, context(activity(replies=3)), None),
    ("link only reply", r._links, True, context(activity(replies=1, with_link=1, domains=[("shop.example", 1)])),
     "its only reply carries a link to shop.example"),
    ("links some", r._links, True,
     context(activity(replies=5, with_link=3, shortened=1, domains=[("bit.ly", 2), ("shop.example", 1)])),
     "3 of 5 replies carry a link, 2 of them to bit.ly (1 through a link shortener)"),
    ("bare link one", r._links, True, context(activity(replies=4, bare_links=1)),
     "1 of 4 replies spells a link out to get past filters"),
    ("links and bare links", r._links, True, context(activity(replies=4, with_link=4, bare_links=2, domains=[("x.example", 4)])),
     "all 4 replies carry a link to x.example; 2 of 4 replies spell a link out to get past filters"),
    # --- call to action, praise, solicited, content
    ("cta none", r._pitch, True, context(activity(replies=3)), None),
    ("cta one", r._pitch, True, context(activity(replies=3, with_cta=1)), "1 of 3 replies contains a call to action"),
    ("cta only", r._pitch, True, context(activity(replies=1, with_cta=1)), "its only reply contains a call to action"),
    ("cta many", r._pitch, True, context(activity(replies=9, with_cta=7)), "7 of 9 replies contain a call to action"),
    ("praise one", r._praise, True, context(activity(replies=1, praise=1)), "its only reply is generic praise that would fit any post"),
    ("praise many", r._praise, True, context(activity(replies=4, praise=4, with_parent_text=4, echo_sum=0.2)),
     "all 4 replies are generic praise that would fit any post (repeating 5% of the parent's topic words on average)"),
    ("on topic", r._praise, False, context(activity(replies=3, with_parent_text=3, echo_sum=1.5)),
     "its replies pick up the parent's topic (50% of its words on average)"),
    ("solicited none", r._solicited, False, context(activity(replies=3, with_parent_text=3)), None),
    ("solicited only", r._solicited, False, context(activity(replies=1, with_parent_text=1, solicited=1)),
     "its only reply answers a post that addressed it by name"),
    ("solicited many", r._solicited, False, context(activity(replies=5, with_parent_text=4, solicited=3)),
     "3 of 4 replies answer a post that addressed it by name"),
    ("content none", r._content, True, context(activity(replies=3)), None),
    ("content one", r._content, True, context(activity(replies=1, content_positive=1)), "wording typical of spam in its only reply"),
    ("content many", r._content, True, context(activity(replies=6, content_positive=2)), "wording typical of spam in 2 of 6 replies"),
    # --- timing and age
    ("timing none", r._timing, True, context(activity(replies=2)), None),
    ("regular", r._timing, True, context(activity(replies=4, gap_n=3, gap_m2=0.01)), "replies at regular intervals (4 replies)"),
    ("around the clock", r._timing, True, context(activity(replies=24, hours=[1] * 24)),
     "active around the clock: replies in 24 of the 24 hours of the day"),
    ("age unknown", r._age, True, context(), None),
    ("age new", r._age, True, context(age=2.0), "account 2 days old when it first replied"),
    ("age one day", r._age, True, context(age=1.0), "account 24 h old when it first replied"),
    ("age old", r._age, False, context(age=2000.0), "account 5 years old"),
    # --- profile and name
    ("follows one", r._profile, True, context(profile=replace(PROFILE, followers=1, following=0), parts={"log_followers": 1.0}),
     "profile typical of spam accounts: 1 follower, 0 following"),
    ("follows many, once", r._profile, False,
     context(profile=replace(PROFILE, followers=2100, following=580, statuses=1),
             parts={"log_followers": -1.0, "log_following": -0.9, "follow_balance": -0.8, "log_statuses": -0.5}),
     "profile typical of genuine accounts: 2,100 followers, 580 following, 1 post in total"),
    ("follows hidden", r._profile, True, context(profile=replace(PROFILE, following=12), parts={"follow_balance": 1.0}),
     "profile typical of spam accounts: 12 following"),
    ("profile nothing", r._profile, True, context(parts={"log_followers": 1.0}), None),
    ("brand name", r._name, True, context(profile=replace(PROFILE, brand_like_name=True), display_name="Pacific Vacuum"),
     "named like a business (Pacific Vacuum)"),
    ("keyword name", r._name, True, context(display_name="VacuumRus", name_keyword="vacuum"),
     "its name contains the watched keyword 'vacuum' (VacuumRus)"),
    ("declared bot", r._bot_flag, False, context(profile=replace(PROFILE, bot_flag=True)),
     "declares itself a bot, as benign automated accounts do"),
]


@pytest.mark.parametrize(("name", "sentence", "up", "ctx", "expected"), CASES, ids=[c[0] for c in CASES])
def test_reason_template(name, sentence, up, ctx, expected):
    assert sentence(ctx, up) == expected


def test_no_template_says_1_people_or_1_replies():
    for name, sentence, up, ctx, _ in CASES:
        text = sentence(ctx, up) or ""
        for wrong in ("1 people", "1 replies", "1 of 1 ", "1 followers", "1 posts", "follows", "1 other accounts"):
            assert wrong not in text, (name, text)


@pytest.mark.parametrize(("k", "n", "expected"), [(1, 1, "its only reply"), (2, 2, "both replies"), (5, 5, "all 5 replies"),
                                                  (0, 3, "0 of 3 replies"), (1, 3, "1 of 3 replies"), (1234, 5000, "1,234 of 5,000 replies")])
def test_share(k, n, expected):
    assert r.share(k, n) == expected


def test_account_reasons_falls_back_when_nothing_stands_out():
    assert r.account_reasons({}, context(), flagged=True) == ["many weak signals together"]
    assert r.account_reasons({}, context(), flagged=False) == ["no signal stands out"]
