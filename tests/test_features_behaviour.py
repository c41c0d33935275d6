"""Behaviour state: latency (with Snowflake ids), targets, triggers, templates, bounds, JSON."""

import json
import random
from datetime import datetime, timedelta, timezone

import pytest

from detector.features.behaviour import (
    BEHAVIOUR_FEATURES,
    AccountActivity,
    ParentFacts,
    ReplySignals,
    behaviour_vector,
    histogram_quantile,
    issues_snowflakes,
    reply_latency,
    snowflake_ms,
    to_ms,
)
from detector.features.coordination import CoordinationIndex
from detector.features.sketches import DistinctSketch, TopCounts
from detector.features.templates import simhash
from detector.records import Author, Post

T0 = datetime(2019, 12, 8, 3, 48, 33, 901000, tzinfo=timezone.utc)


def snowflake(moment: datetime, seq: int = 7) -> str:
    return str((to_ms(moment) << 16) | seq)


def post(reply_at: datetime, parent_id: str | None, *, post_id: str | None = None) -> Post:
    author = Author("mastodon", "x", "9", "bot")
    return Post("mastodon", "x", post_id or snowflake(reply_at), reply_at, author, "hi", parent_id=parent_id, parent_author_id="1")


def test_snowflake_decoding_matches_the_documented_example():
    assert snowflake_ms("103270115826048975") == to_ms(datetime(2019, 12, 8, 3, 48, 33, 849000, tzinfo=timezone.utc))
    assert snowflake_ms("12345") is None  # sequential ids of old servers decode to 1970
    assert snowflake_ms("abc") is None and snowflake_ms(None) is None


def test_latency_from_parent_time_or_snowflake_or_not_at_all():
    reply = post(T0 + timedelta(seconds=21.3), snowflake(T0))
    assert reply_latency(reply, to_ms(T0 - timedelta(seconds=10))) == (31.3, "parent")
    latency, source = reply_latency(reply, None)
    assert source == "snowflake" and latency == pytest.approx(21.3)
    # A reply whose own id is not a Snowflake of its time: the parent's id is not trusted either.
    sequential = post(T0 + timedelta(seconds=21), snowflake(T0), post_id="4242")
    assert not issues_snowflakes(sequential)
    assert reply_latency(sequential, None) == (None, None)
    # A parent "created" after the reply is not a parent time to believe.
    future = post(T0, snowflake(T0 + timedelta(hours=1)))
    assert reply_latency(future, None) == (None, None)


def signals(i: int, *, account="9", target=None, latency=20.0, keyword="vacuum", text="Get the Acme V8 now, best vacuum deal", self_reply=False):
    parent = None if keyword is False else ParentFacts(keyword, False, ("vacuum", "robot"), 0.0)
    return ReplySignals(
        reply_id=str(1000 + i), account_id=account, created_ms=1_700_000_000_000 + i * 600_000, parent_id=str(i),
        parent_author_id=target or f"person{i}", self_reply=self_reply, latency_s=latency, latency_source="parent",
        parent=parent, content_logodds=1.5, content_terms=("deal",), n_links=1, n_shortened=1, n_bare_links=0,
        domains=("bit.ly",), cta=("best price",), generic_praise=False, fingerprint=simhash(text), text=f"@p{i} {text}",
    )  # fmt: skip


def test_keyword_replier_pattern_accumulates():
    activity = AccountActivity()
    for i in range(23):
        activity.add(signals(i), watched=True)
    assert activity.replies == 23 and activity.triggered == 23
    assert activity.triggered_targets.estimate() == 23
    assert activity.keywords.most() == ("vacuum", 23)
    assert activity.top_template().count == 23
    assert histogram_quantile(activity.latency_hist, 0.5) < 30
    vector = dict(zip(BEHAVIOUR_FEATURES, behaviour_vector(activity)))
    assert vector["trigger_share"] > 0.9 and vector["fast_share"] > 0.9  # 23 of 23, shrunk by two pseudo-replies
    assert vector["template_repeat"] == 1.0 and vector["targets_per_reply"] == 1.0


def test_one_reply_is_weak_evidence():
    one, many = AccountActivity(), AccountActivity()
    one.add(signals(0), watched=True)
    for i in range(40):
        many.add(signals(i), watched=True)
    share = BEHAVIOUR_FEATURES.index("solicited_share")
    assert 0.15 < behaviour_vector(one)[share] < 0.3 and behaviour_vector(many)[share] < 0.02


def test_trigger_share_is_unknown_without_watched_keywords():
    activity = AccountActivity()
    activity.add(signals(1, keyword=None))
    value = behaviour_vector(activity)[BEHAVIOUR_FEATURES.index("trigger_share")]
    assert value != value  # NaN: unknown, not "never triggered"


def test_self_replies_do_not_count_as_replies_to_people():
    activity = AccountActivity()
    activity.add(signals(1, self_reply=True))
    assert activity.replies == 0 and activity.self_replies == 1 and not activity.templates


def test_state_round_trips_through_json_and_stays_bounded():
    activity = AccountActivity()
    rng = random.Random(5)
    for i in range(5000):
        text = " ".join(rng.choice("alpha beta gamma delta eps zeta eta theta iota kappa".split()) for _ in range(8))
        activity.add(signals(i, latency=rng.uniform(1, 90_000), text=text, keyword=rng.choice(["vacuum", None])), watched=True)
    data = json.loads(json.dumps(activity.to_json()))
    again = AccountActivity.from_json(data)
    assert again.to_json() == activity.to_json()
    assert len(json.dumps(data)) < 20_000  # whatever the number of replies
    assert 4000 < activity.targets.estimate() < 6000  # about 5,000 people (sketch beyond 128)


def test_malformed_state_is_refused_with_the_field_named():
    data = AccountActivity().to_json()
    data["latency_hist"] = [1, 2]
    with pytest.raises(ValueError, match="latency_hist"):
        AccountActivity.from_json(data)
    with pytest.raises(ValueError, match="version"):
        AccountActivity.from_json({**AccountActivity().to_json(), "v": 99})


def test_merge_equals_adding_everything_to_one_state():
    one, a, b = AccountActivity(), AccountActivity(), AccountActivity()
    for i in range(40):
        s = signals(i, latency=float(i + 1))
        one.add(s, watched=True)
        (a if i % 2 else b).add(s, watched=True)
    a.merge(b)
    assert a.replies == one.replies and a.latency_hist == one.latency_hist and a.triggered == one.triggered
    assert a.targets.estimate() == one.targets.estimate() and a.top_template().count == one.top_template().count
    assert a.fastest == one.fastest and a.first_ms == one.first_ms and a.last_ms == one.last_ms


def test_distinct_sketch_is_exact_below_k():
    sketch = DistinctSketch(k=16)
    for i in range(10):
        sketch.add(f"id{i}")
        sketch.add(f"id{i}")
    assert sketch.estimate() == 10 and "id3" in sketch


def test_top_counts_never_overstate():
    counts = TopCounts(size=3)
    for key in ["a"] * 5 + ["b"] * 3 + list("cdefgh") + ["a"]:
        counts.add(key)
    assert counts.counts["a"] == 6 and counts.counts["b"] == 3
    assert all(v <= 1 for k, v in counts.counts.items() if k not in "ab")


def test_coordination_finds_accounts_sharing_a_reused_script_not_stock_phrases():
    script = "Still looking for a robot vacuum? We stock the Dustwise Aero 2, order now"
    activities = {}
    for account in ("c1", "c2", "c3"):
        activities[account] = AccountActivity()
        for i in range(3):
            activities[account].add(signals(i, account=account, text=script))
    for account in ("h1", "h2"):
        activities[account] = AccountActivity()
        for i in range(3):
            activities[account].add(signals(i, account=account, text="are you a bot?"))
    index = CoordinationIndex.build(activities)
    found = index.sharing("c1", activities["c1"])
    assert found.accounts == ("c2", "c3") and "Dustwise" in found.template
    assert index.sharing("h1", activities["h1"]).count == 0
