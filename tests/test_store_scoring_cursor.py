"""The scoring cursor: unscored replies are found from where scoring got to, late ones too."""

from sqlalchemy import select

from detector.store import ReplyScore
from detector.store.tables import SCORING_CURSORS
from tests.conftest import T0, make_author, make_post

BOT = make_author("66", "VacuumRus")


def _cursor(store, version="m1"):
    with store.engine.connect() as conn:
        return conn.scalar(select(SCORING_CURSORS.c.scored_before).where(SCORING_CURSORS.c.model_version == version))


def _score(store, replies, version="m1"):
    store.save_scores(version, [ReplyScore(r.post.key, 0.5, "suspect", T0) for r in replies])


def test_the_cursor_follows_scoring_and_comes_back_for_a_late_reply(store):
    trigger = make_post("1", minutes=-600)
    replies = [make_post(f"1{n}", author=BOT, minutes=-500 + 10 * n, parent=trigger) for n in range(5)]
    store.save_discovered("acme", "hashtag:vacuum", [trigger], "1", fetched_at=T0, track_until_hours=48)
    store.save_replies("acme", trigger.key, replies, checked_at=T0, next_check_at=T0)

    first = store.unscored_replies("acme", "m1", 2)
    assert [r.post.id for r in first] == ["10", "11"] and _cursor(store) == replies[0].created_at
    _score(store, first)
    second = store.unscored_replies("acme", "m1", 10)
    assert [r.post.id for r in second] == ["12", "13", "14"] and _cursor(store) == replies[2].created_at
    _score(store, second)
    assert store.unscored_replies("acme", "m1", 10) == []
    assert _cursor(store) == replies[-1].created_at  # all scored: nothing before the newest to read again

    late = make_post("9", author=BOT, minutes=-550, parent=trigger)  # posted before everything scored
    store.save_replies("acme", trigger.key, [late], checked_at=T0, next_check_at=None)
    assert _cursor(store) == late.created_at
    assert [r.post.id for r in store.unscored_replies("acme", "m1", 10)] == ["9"]


def test_each_model_version_has_its_own_cursor(store):
    trigger = make_post("1", minutes=-600)
    replies = [make_post(f"1{n}", author=BOT, minutes=-500 + n, parent=trigger) for n in range(3)]
    store.save_discovered("acme", "hashtag:vacuum", [trigger], "1", fetched_at=T0, track_until_hours=48)
    store.save_replies("acme", trigger.key, replies, checked_at=T0, next_check_at=T0)
    _score(store, store.unscored_replies("acme", "m1", 10))
    assert store.unscored_replies("acme", "m1", 10) == []
    assert [r.post.id for r in store.unscored_replies("acme", "m2", 10)] == ["10", "11", "12"]
    assert _cursor(store, "m2") == replies[0].created_at
