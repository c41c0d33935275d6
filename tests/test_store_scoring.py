"""Unscored replies per model version, score upserts, behaviour state and people's labels."""

from datetime import timedelta

import pytest

from detector.errors import StoreError
from detector.records import ParentInfo
from detector.store import AccountScore, Label, ReplyScore
from tests.conftest import T0, make_author, make_post

ROUTE = "hashtag:vacuum"
BOT = make_author("66", "VacuumRus")


@pytest.fixture
def thread(store):
    """A trigger post with two bot replies (one nested under a human's reply) and a human reply."""
    trigger = make_post("1", text="my #vacuum broke", hashtags=("vacuum",))
    human = make_author("7", "bob")
    r1 = make_post("10", author=BOT, minutes=0.1, parent=trigger, text="Buy the X-9000!")
    r2 = make_post("11", author=human, minutes=3, parent=trigger, text="try descaling it")
    r3 = make_post("12", author=BOT, minutes=3.1, parent=r2, text="Buy the X-9000!")
    store.save_discovered("acme", ROUTE, [trigger], "1", fetched_at=T0, track_until_hours=24)
    store.save_replies(
        "acme", trigger.key, [r3, r1, r2], checked_at=T0 + timedelta(minutes=5), next_check_at=None
    )
    return trigger, r1, r2, r3


def reply_score(post, score=0.9, label="bot", **fields):
    return ReplyScore(post.key, score, label, T0 + timedelta(minutes=10), **fields)


def bot_score(score=0.95, label="bot", minutes=10, **fields):
    return AccountScore(
        (BOT.platform, BOT.instance, BOT.id), score, label, T0 + timedelta(minutes=minutes), **fields
    )


def test_unscored_replies_come_oldest_first_with_their_stored_parent(store, thread):
    trigger, r1, r2, _ = thread
    todo = store.unscored_replies("acme", "m1", 10)
    assert [(r.watch, r.post.id) for r in todo] == [("acme", "10"), ("acme", "11"), ("acme", "12")]
    assert todo[0].parent == ParentInfo.of(trigger)
    assert todo[2].parent == ParentInfo.of(r2)
    assert todo[0].post == r1 and todo[0].post.raw is None
    assert [r.post.id for r in store.unscored_replies("acme", "m1", 2)] == ["10", "11"]
    assert store.unscored_replies("nobody", "m1", 10) == []


def test_a_reply_whose_parent_is_not_stored_has_no_parent_info(store, thread):
    trigger = thread[0]
    orphan = make_post("20", author=BOT, minutes=9, parent_id="999", parent_author_id="5")
    store.save_replies(
        "acme", trigger.key, [orphan], checked_at=T0 + timedelta(minutes=10), next_check_at=None
    )
    [todo] = [r for r in store.unscored_replies("acme", "m1", 10) if r.post.id == "20"]
    assert todo.parent is None


def test_scored_replies_drop_out_for_that_model_version_only(store, thread):
    _, r1, r2, _ = thread
    store.save_scores("m1", [reply_score(r1), reply_score(r2, 0.1, "human")])
    assert [r.post.id for r in store.unscored_replies("acme", "m1", 10)] == ["12"]
    assert [r.post.id for r in store.unscored_replies("acme", "m2", 10)] == ["10", "11", "12"]


def test_scores_upsert_one_row_per_reply_or_account_and_model_version(store, thread):
    r1 = thread[1]
    store.save_scores("m1", [reply_score(r1, 0.5, "suspect")], [bot_score(0.6, "suspect", minutes=10)])
    store.save_scores(
        "m1",
        [reply_score(r1, 0.9, "bot", reasons=("replied in 6 s",), features={"latency_s": 6.0})],
        [
            bot_score(
                0.97,
                "bot",
                minutes=20,
                reasons=("2 replies within 10 s",),
                evidence={"replies": ["10", "12"]},
                replies=2,
            )
        ],
    )
    store.save_scores("m1", [], [bot_score(0.1, "human", minutes=15)])  # older than the stored one: ignored
    store.save_scores("m2", [reply_score(r1, 0.2, "human")], [bot_score(0.2, "human")])
    counts = store.counts()
    assert (counts["reply_scores"], counts["account_scores"]) == (2, 2)
    [row] = [r for r in store.replies_between("acme", T0, T0 + timedelta(days=1), "m1") if r.post.id == "10"]
    assert row.reply_score == ReplyScore(
        r1.key, 0.9, "bot", T0 + timedelta(minutes=10), ("replied in 6 s",), {"latency_s": 6.0}
    )
    assert row.account_score == AccountScore(
        (BOT.platform, BOT.instance, BOT.id),
        0.97,
        "bot",
        T0 + timedelta(minutes=20),
        ("2 replies within 10 s",),
        {"replies": ["10", "12"]},
        2,
    )


def test_activity_state_is_stored_opaque_and_replaced(store, thread):
    key = (BOT.platform, BOT.instance, BOT.id)
    unknown = ("mastodon", "social.example", "nobody")
    assert store.load_activity([key, unknown]) == {}
    state = {"replies": 2, "targets": ["1", "7"], "latencies": [6.0, 6.0], "nested": {"a": [1, None, True]}}
    store.save_scores("m1", activity={key: state})
    assert store.load_activity([key, unknown]) == {key: state}
    store.save_scores("m1", activity={key: {"replies": 3}})
    assert store.load_activity([key]) == {key: {"replies": 3}}


def test_scores_for_unknown_posts_or_accounts_write_nothing(store, thread):
    _, r1, _, _ = thread
    ghost = make_post("404", author=BOT)
    with pytest.raises(StoreError, match="posts that are not stored: mastodon/social.example/404"):
        store.save_scores("m1", [reply_score(r1), reply_score(ghost)])
    with pytest.raises(StoreError, match="accounts that are not stored"):
        store.save_scores(
            "m1", [reply_score(r1)], [bot_score()], {("mastodon", "social.example", "ghost"): {}}
        )
    assert store.counts()["reply_scores"] == 0 and store.counts()["account_activity"] == 0


@pytest.mark.parametrize(
    "score, label", [(1.5, "bot"), (-0.1, "human"), (float("nan"), "bot"), (0.5, "spam")]
)
def test_scores_are_checked_on_construction(score, label):
    with pytest.raises(ValueError):
        ReplyScore(("mastodon", "i", "1"), score, label, T0)


def test_labels_can_be_set_changed_and_removed_even_for_unseen_accounts(store):
    key = ("mastodon", "social.example", "66")
    unseen = ("mastodon", "other.example", "5")
    store.set_label(key, "bot", "sells vacuums under every post", by="cm@acme")
    store.set_label(unseen, "human", by="cm@acme")
    store.set_label(key, "human", "it is our reseller", by="lead@acme")
    assert store.labels() == {
        key: Label("human", "it is our reseller", "lead@acme", T0),
        unseen: Label("human", "", "cm@acme", T0),
    }
    assert store.remove_label(unseen) is True and store.remove_label(unseen) is False
    assert set(store.labels()) == {key}
    with pytest.raises(ValueError, match="label must be one of bot, human"):
        store.set_label(key, "suspect", by="x")
