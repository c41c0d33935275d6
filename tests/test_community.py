"""The simulated community: determinism, the kinds it promises, and the behaviour each kind shows."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from datetime import datetime, timezone
from statistics import median

import pytest

from detector.mastodon_server import entities as E
from detector.mastodon_server.community import (
    HARD_NEGATIVE_KINDS, SCRIPTED_KINDS, Community, Delay, Quantiles, SimParams, simulate,
)
from detector.normalise.html import parse_html
from detector.normalise.mastodon import normalise_status


@pytest.fixture(scope="module")
def demo() -> Community:
    return simulate(SimParams())


@pytest.fixture(scope="module")
def big() -> Community:
    """A week with several accounts of each kind: enough replies for distribution checks."""
    return simulate(SimParams.training(11, days=7.0, humans=300, power_users=8, news_sharers=12))


def _kind(community: Community, status) -> str:
    return community.account(status.account_id).kind


def test_same_seed_same_community_and_other_seed_differs() -> None:
    a, b, c = simulate(SimParams(seed=5)), simulate(SimParams(seed=5)), simulate(SimParams(seed=6))
    assert [s.id for s in a.statuses] == [s.id for s in b.statuses]
    assert [s.text for s in a.statuses] == [s.text for s in b.statuses]
    assert list(a.statuses_json()) == list(b.statuses_json())
    assert [s.text for s in a.statuses] != [s.text for s in c.statuses]


def test_every_kind_is_present_with_replies(demo: Community) -> None:
    summary = demo.summary()["kinds"]
    for kind in SCRIPTED_KINDS + HARD_NEGATIVE_KINDS + ("human",):
        assert summary[kind]["accounts"] > 0, kind
        assert summary[kind]["replies"] > 0, kind
    assert summary["brand"]["statuses"] > 0
    assert 1500 <= len(demo.statuses) <= 5000


def test_ids_are_snowflakes_of_the_creation_time_and_statuses_are_time_ordered(demo: Community) -> None:
    previous = 0
    for status in demo.statuses:
        assert E.snowflake_ms(status.id) == status.created_ms
        assert int(status.id) > previous
        previous = int(status.id)
        assert demo.start_ms <= status.created_ms < demo.end_ms
    for account in demo.accounts:
        assert E.snowflake_ms(account.id) == account.created_ms
    assert len({s.id for s in demo.statuses}) == len(demo.statuses)


def test_replies_come_after_their_parents_and_mention_the_parent_author(demo: Community) -> None:
    for reply, parent, delay in demo.reply_delays():
        assert delay > 0
        assert reply.in_reply_to_account_id == parent.account_id
        if reply.account_id != parent.account_id:
            assert parent.account_id in reply.mention_ids


# Documented delay ranges (docs/simulation.md) per replying kind, in seconds.
DOCUMENTED = {
    "keyword_replier": (1, 90), "slow_replier": (180, 1200), "generic_praise": (60, 6 * 3600),
    "link_promoter": (120, 12 * 3600), "competitor_smear": (5, 600), "varied_replier": (15, 1800),
    "benign_bot": (1, 60),
}


def test_reply_delays_per_kind_stay_in_their_documented_ranges(big: Community) -> None:
    delays: dict[str, list[float]] = defaultdict(list)
    for reply, _parent, delay in big.reply_delays():
        delays[_kind(big, reply)].append(delay)
    for kind, (low, high) in DOCUMENTED.items():
        assert delays[kind], kind
        assert low - 1 <= min(delays[kind]) and max(delays[kind]) <= high + 1, (kind, min(delays[kind]), max(delays[kind]))
    assert median(delays["keyword_replier"]) < 20
    assert 300 < median(delays["slow_replier"]) < 1000
    # humans: log-normal, median about 5 minutes, about 97% within the first hour (Sysomos 2010)
    human = sorted(delays["human"])
    assert 120 < median(human) < 600
    assert 0.9 < sum(d <= 3600 for d in human) / len(human) < 0.995
    assert median(delays["power_user"]) < 120


def test_coordinated_group_replies_to_the_same_post_staggered(big: Community) -> None:
    by_parent: dict[str, list] = defaultdict(list)
    for reply in big.statuses:
        account = big.account(reply.account_id)
        if account.kind == "coordinated" and reply.intent == "pitch":
            by_parent[(reply.in_reply_to_id, account.group)].append(reply)
    bursts = [sorted(r.created_ms for r in replies) for replies in by_parent.values() if len(replies) >= 2]
    assert len(bursts) > 20
    for times in bursts:
        gaps = [(b - a) / 1000 for a, b in zip(times, times[1:])]
        assert all(39 <= g <= 601 for g in gaps), gaps


def test_varied_replier_never_repeats_itself_and_templated_bots_do(big: Community) -> None:
    strip = re.compile(r"@\S+|https?://\S+")
    counts = []
    for account in big.accounts_of_kind("varied_replier"):
        texts = [re.sub(r"\W+", " ", strip.sub("", s.text).lower()).strip()
                 for s in big.statuses_of(account.id) if s.intent == "pitch"]
        assert len(set(texts)) == len(texts)
        counts.append(len(texts))
    assert max(counts) > 30
    for account in big.accounts_of_kind("keyword_replier"):
        texts = [strip.sub("", s.text).strip() for s in big.statuses_of(account.id) if s.is_reply]
        top = Counter(texts).most_common(1)[0][1]
        assert top >= 3, "a keyword replier reuses its templates"


def test_humans_post_links_and_recommendations_and_bots_borrow_their_phrases(big: Community) -> None:
    human_replies = [s for s in big.statuses if s.is_reply and _kind(big, s) in ("human", "power_user")]
    with_links = [s for s in human_replies if s.links]
    assert len(with_links) > 50
    recommending = [s for s in human_replies if re.search(r"I recommend|I'd go for|Get the|Check it out", s.text)]
    assert len(recommending) > 50
    bot_replies = [s for s in big.statuses if s.is_reply and big.account(s.account_id).is_bot]
    borrowed = [s for s in bot_replies if re.search(r"I'd go for the|We've had the|Honestly the|Great read", s.text)]
    assert len(borrowed) > 30
    news_links = Counter(link for s in big.statuses if _kind(big, s) == "news_sharer" for link in s.links)
    assert news_links.most_common(1)[0][1] >= 5, "news sharers post the same link"


def test_seed_artefacts_appear_in_link_promoter_and_praise_replies(big: Community) -> None:
    promos = [s.text for s in big.statuses if _kind(big, s) == "link_promoter" and s.is_reply]
    assert any("I recommend visiting http://" in t for t in promos)
    assert any(re.search(r"u00a0|nn[A-Z]|\bn[a-z]", t) for t in promos)
    praise = [s.text for s in big.statuses if _kind(big, s) == "generic_praise"]
    assert any("Great read.\u00a0 Really, tx." in t for t in praise)


def test_scripted_replies_are_triggered_by_watched_keywords(big: Community) -> None:
    for reply in big.statuses:
        kind = _kind(big, reply)
        if kind in ("keyword_replier", "slow_replier", "coordinated", "varied_replier", "competitor_smear") \
                and reply.intent == "pitch":
            parent = big.parent(reply)
            words = re.sub(r"@\S+|https?://\S+", " ", parent.text).lower()
            assert re.search(r"\b(vacuum|hoover)", words) or {t.lower() for t in parent.tags} & {"vacuum", "robotvacuum", "vacuumcleaner"}


def test_support_answers_in_office_hours_and_benign_bots_declare_themselves(big: Community) -> None:
    for account in big.accounts_of_kind("brand_support"):
        assert not account.is_bot and not account.bot_flag
        for status in big.statuses_of(account.id):
            local_hour = (status.created_ms / 3_600_000 + account.utc_offset_h) % 24
            assert 8 <= local_hour < 20 + 1, local_hour
    for account in big.accounts_of_kind("benign_bot"):
        assert account.bot_flag and not account.is_bot
    assert not any(a.bot_flag for a in big.accounts if a.is_bot)


def test_profiles_differ_in_distribution_not_absolutely(big: Community) -> None:
    day = 86_400_000
    human_age = [(big.start_ms - a.created_ms) / day for a in big.accounts_of_kind("human")]
    bot_age = [(big.start_ms - a.created_ms) / day for a in big.accounts if a.is_bot]
    assert median(human_age) > 600 > median(bot_age)
    assert max(bot_age) > 400, "some bots run on aged accounts"
    assert min(human_age) < 100, "some humans are new"


def test_status_json_is_a_mastodon_status_that_botwatch_normalises(demo: Community) -> None:
    reply = next(s for s in demo.statuses if _kind(demo, s) == "keyword_replier")
    entity = demo.status_json(reply)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entity["created_at"])
    assert entity["account"]["created_at"].endswith("T00:00:00.000Z")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", entity["account"]["last_status_at"])
    assert entity["in_reply_to_id"] == reply.in_reply_to_id and entity["reblog"] is None
    assert entity["mentions"][0]["id"] == reply.in_reply_to_account_id
    post = normalise_status(entity, instance=demo.host)
    assert post.parent_id == reply.in_reply_to_id
    assert post.author.acct == demo.account(reply.account_id).acct
    assert post.mentions[0].id == reply.in_reply_to_account_id
    assert post.text.startswith("@")
    defaults = [a for a in demo.accounts if a.default_avatar]
    assert demo.account_json(defaults[0])["avatar"] == f"https://{demo.host}/avatars/original/missing.png"


def test_counts_reflect_the_moment_of_the_view(demo: Community) -> None:
    parent = next(s for s in demo.statuses if len(demo.children(s.id)) >= 2)
    first_child = demo.children(parent.id)[0]
    assert demo.status_json(parent, at_ms=parent.created_ms)["replies_count"] == 0
    assert demo.status_json(parent, at_ms=first_child.created_ms)["replies_count"] == 1
    assert demo.status_json(parent)["replies_count"] == len(demo.children(parent.id))
    author = demo.account(parent.account_id)
    before = demo.account_json(author, at_ms=parent.created_ms - 1)["statuses_count"]
    assert demo.account_json(author, at_ms=parent.created_ms)["statuses_count"] == before + 1


def test_html_content_round_trips_through_the_normaliser() -> None:
    profiles = {"bob": "https://h.test/@bob", "ann@remote.example": "https://remote.example/@ann"}
    text = "@bob @ann@remote.example look #Vacuum https://www.shop.example/a/very/long/path/to/a/product?id=1\nline two"
    html = E.render_content(text, host="h.test", profiles=profiles)
    assert '<span class="invisible">https://www.</span><span class="ellipsis">' in html
    assert 'class="u-url mention">@<span>ann</span></a></span>' in html
    parsed = parse_html(html)
    assert parsed.links == ("https://www.shop.example/a/very/long/path/to/a/product?id=1",)
    assert parsed.hashtags == ("vacuum",)
    assert parsed.mention_names == ("bob", "ann")
    assert "line two" in parsed.text and "\n" in parsed.text


def test_labels_and_files(tmp_path, demo: Community) -> None:
    lines = demo.write_jsonl(tmp_path / "s.jsonl")
    assert lines == len(demo.statuses)
    with (tmp_path / "s.jsonl").open() as handle:
        first = json.loads(handle.readline())
    assert first["id"] == demo.statuses[0].id and "account" in first
    rows = demo.write_labels_csv(tmp_path / "labels.csv")
    with (tmp_path / "labels.csv").open() as handle:
        table = list(csv.DictReader(handle))
    assert rows == len(table) == len(demo.accounts)
    assert set(table[0]) == {"account_id", "is_bot", "kind"}
    bots = {r["account_id"] for r in table if r["is_bot"] == "1"}
    assert bots == {a.id for a in demo.accounts if a.kind in SCRIPTED_KINDS}


def test_distribution_helpers() -> None:
    import random

    rng = random.Random(3)
    q = Quantiles(0, 10, 20, 40, 80, 160, 1000)
    samples = sorted(q.sample(rng) for _ in range(20000))
    assert 36 < samples[10000] < 44 and 150 < samples[18000] < 170
    d = Delay.lognormal(300, 1.35, 15, 86400)
    values = [d.sample(rng) for _ in range(5000)]
    assert min(values) >= 15 and 250 < median(values) < 350
    assert all(180 <= Delay.between(180, 1200).sample(rng) <= 1200 for _ in range(100))


def test_params_window_and_presets() -> None:
    params = SimParams(start=datetime(2024, 1, 1, tzinfo=timezone.utc), days=0.5, humans=40)
    community = simulate(params)
    assert all(community.start_ms <= s.created_ms < community.end_ms for s in community.statuses)
    assert SimParams.training(3).seed == 3 and SimParams.training(3).keyword_repliers >= 10


def test_same_seed_same_bytes_across_processes_with_different_hash_seeds() -> None:
    import os
    import subprocess
    import sys

    script = ("import hashlib, json; from detector.mastodon_server.community import simulate, SimParams; "
              "c = simulate(SimParams(seed=9, days=0.5, humans=80)); "
              "print(hashlib.sha256(json.dumps(list(c.statuses_json())).encode()).hexdigest())")
    digests = {
        subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONHASHSEED": str(h)}, check=True,
                       capture_output=True, text=True).stdout
        for h in (1, 2)
    }
    assert len(digests) == 1
