"""The day's replies for the summary, one summary per watch and day, and raw JSON export."""

import json
from datetime import date, timedelta

from detector.records import ParentInfo
from detector.store import AccountScore, ReplyScore
from tests.conftest import T0, make_author, make_post

ROUTE = "hashtag:vacuum"
BOT = make_author("66", "VacuumRus")
DAY = T0.replace(hour=0)


def test_replies_between_gives_the_days_replies_with_parents_triggers_and_scores(store):
    trigger = make_post("1", text="my #vacuum broke", hashtags=("vacuum",), minutes=-60)
    human = make_author("7", "bob")
    direct = make_post("10", author=BOT, minutes=-59.9, parent=trigger, text="Buy the X-9000!")
    answer = make_post("11", author=human, minutes=-50, parent=trigger, text="descale it")
    nested = make_post("12", author=BOT, minutes=-49.9, parent=answer, text="Buy the X-9000!")
    next_day = make_post("13", author=BOT, minutes=12 * 60 + 1, parent=trigger, text="Buy the X-9000!")
    store.save_discovered("acme", ROUTE, [trigger], "1", fetched_at=T0, track_until_hours=48)
    store.save_replies(
        "acme", trigger.key, [direct, answer, nested, next_day], checked_at=T0, next_check_at=None
    )
    bot_key = (BOT.platform, BOT.instance, BOT.id)
    store.save_scores(
        "m1",
        [ReplyScore(direct.key, 0.93, "bot", T0, ("replied in 6 s",))],
        [
            AccountScore(
                bot_key, 0.97, "bot", T0, ("3 identical replies",), {"template": "Buy the X-9000!"}, 3
            )
        ],
    )
    store.save_scores(
        "m0", [ReplyScore(answer.key, 0.9, "bot", T0)]
    )  # another model version: not in m1's report

    rows = list(store.replies_between("acme", DAY, DAY + timedelta(days=1), "m1"))
    assert [r.post.id for r in rows] == ["10", "11", "12"]
    first, second, third = rows
    assert first.post == direct and first.found_at == T0 and first.watch == "acme"
    assert first.parent == first.trigger == ParentInfo.of(trigger)
    assert third.parent == ParentInfo.of(answer) and third.trigger == ParentInfo.of(trigger)
    assert first.trigger.hashtags == ("vacuum",)
    assert first.reply_score.score == 0.93 and first.reply_score.reasons == ("replied in 6 s",)
    assert (
        first.account_score.evidence == {"template": "Buy the X-9000!"} and third.account_score.replies == 3
    )
    assert second.reply_score is None and second.account_score is None
    assert third.reply_score is None and third.account_score is not None
    assert [
        r.post.id
        for r in store.replies_between("acme", DAY + timedelta(days=1), DAY + timedelta(days=2), "m1")
    ] == ["13"]
    assert list(store.replies_between("nobody", DAY, DAY + timedelta(days=1), "m1")) == []


def test_the_day_boundary_is_half_open(store):
    trigger = make_post("1", minutes=-120)
    at_midnight = make_post("10", author=BOT, parent=trigger, minutes=-12 * 60)  # exactly 00:00 UTC
    store.save_discovered("acme", ROUTE, [trigger], "1", fetched_at=T0, track_until_hours=48)
    store.save_replies("acme", trigger.key, [at_midnight], checked_at=T0, next_check_at=None)
    assert at_midnight.created_at == DAY
    assert [r.post.id for r in store.replies_between("acme", DAY, DAY + timedelta(days=1), "m1")] == ["10"]
    assert list(store.replies_between("acme", DAY - timedelta(days=1), DAY, "m1")) == []


def test_one_summary_per_watch_and_day(store):
    day = date(2026, 3, 1)
    assert store.save_summary("acme", day, "# acme, 1 March", {"replies": 3}) is True
    assert store.save_summary("acme", day, "# a second run", {"replies": 4}) is False
    assert store.save_summary("rival", day, "# rival", {"replies": 0}) is True
    assert store.save_summary("acme", day + timedelta(days=1), "# next day", {}) is True
    assert store.counts()["summaries"] == 3
    kept = store.summary("acme", day)
    assert (kept.markdown, kept.data, kept.created_at) == ("# acme, 1 March", {"replies": 3}, T0)
    assert store.save_summary("acme", day, "# regenerated", {"replies": 4}, replace=True) is True
    assert store.summary("acme", day).markdown == "# regenerated" and store.counts()["summaries"] == 3
    assert store.summary("acme", date(2020, 1, 1)) is None and store.summary("nobody", day) is None


def test_export_streams_raw_json_lines_oldest_first(store):
    trigger = make_post(
        "1", minutes=-5, raw={"id": "1", "content": "<p>line one\nline two</p>", "emoji": "🧹"}
    )
    reply = make_post("10", author=BOT, parent=trigger)
    unrelated = make_post("2", minutes=30, author=make_author("8", "carol"))
    store.save_discovered("acme", ROUTE, [trigger], "1", fetched_at=T0, track_until_hours=48)
    store.save_replies("acme", trigger.key, [reply], checked_at=T0, next_check_at=None)
    store.save_discovered("rival", ROUTE, [unrelated], "2", fetched_at=T0, track_until_hours=48)
    lines = list(store.export_posts())
    assert [json.loads(line)["id"] for line in lines] == ["1", "10", "2"]
    assert all("\n" not in line for line in lines) and "🧹" in lines[0]
    assert json.loads(lines[0]) == trigger.raw
    assert [json.loads(x)["id"] for x in store.export_posts(watch="acme")] == ["1", "10"]
    assert [json.loads(x)["id"] for x in store.export_posts(start=T0, end=T0 + timedelta(minutes=30))] == [
        "10"
    ]
    assert list(store.export_posts(watch="nobody")) == []
