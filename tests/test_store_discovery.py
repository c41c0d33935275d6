"""Discovery pages, checkpoints and reply tracking: idempotent, atomic, scheduled."""

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import event

from detector.errors import StoreError
from detector.records import Provenance
from detector.store import Store
from tests.conftest import T0, make_author, make_post

ROUTE = "hashtag:vacuum"


def page(*ids, minutes=0.0):
    return [
        make_post(str(i), author=make_author(f"a{i}", f"user{i}"), minutes=minutes + n)
        for n, i in enumerate(ids)
    ]


def test_saving_the_same_page_twice_stores_it_once(store):
    posts = page(1, 2, 3)
    assert store.save_discovered("acme", ROUTE, posts, "103", fetched_at=T0, track_until_hours=48) == 3
    before = store.counts()
    assert store.save_discovered("acme", ROUTE, posts, "103", fetched_at=T0, track_until_hours=48) == 0
    assert store.counts() == before
    assert (before["posts"], before["accounts"], before["watch_posts"], before["tracked_posts"]) == (
        3,
        3,
        3,
        3,
    )
    assert store.checkpoints("acme") == {ROUTE: "103"}


def test_a_page_that_repeats_a_post_stores_it_once(store):
    posts = page(1, 2)
    edited = replace(posts[0], text="edited later in the same page")
    assert (
        store.save_discovered("acme", ROUTE, [*posts, edited], "2", fetched_at=T0, track_until_hours=48) == 2
    )
    assert store.counts()["posts"] == 2
    assert store.post(posts[0].key).text == "edited later in the same page"  # the last copy wins


def test_the_same_post_found_by_two_watches_is_stored_once_and_linked_twice(store):
    posts = page(1)
    assert store.save_discovered("acme", ROUTE, posts, "1", fetched_at=T0, track_until_hours=48) == 1
    assert store.save_discovered("rival", "public", posts, "1", fetched_at=T0, track_until_hours=48) == 1
    counts = store.counts()
    assert (counts["posts"], counts["watch_posts"], counts["tracked_posts"], counts["watches"]) == (
        1,
        2,
        2,
        2,
    )
    assert store.checkpoints("acme") == {ROUTE: "1"} and store.checkpoints("rival") == {"public": "1"}


def test_checkpoints_are_per_route_and_none_leaves_them_be(store):
    store.save_discovered("acme", ROUTE, page(1), "1", fetched_at=T0, track_until_hours=48)
    store.save_discovered("acme", "public", page(2), "p2", fetched_at=T0, track_until_hours=48)
    store.save_discovered("acme", ROUTE, page(3), None, fetched_at=T0, track_until_hours=48)
    assert store.checkpoints("acme") == {ROUTE: "1", "public": "p2"}
    assert store.checkpoints("never-polled") == {}
    assert store.counts()["posts"] == 3


def test_a_failure_mid_transaction_writes_neither_posts_nor_checkpoint(store):
    store.save_discovered("acme", ROUTE, page(1), "1", fetched_at=T0, track_until_hours=48)
    before = store.counts()
    # the posts and links are written, then the checkpoint fails: everything must roll back
    with pytest.raises(TypeError):
        store.save_discovered("acme", ROUTE, page(2, 3), 3, fetched_at=T0, track_until_hours=48)  # type: ignore[arg-type]
    # the authors are written, then a post fails
    naive = replace(page(4)[0], created_at=T0.replace(tzinfo=None))
    with pytest.raises(ValueError, match="naive datetime"):
        store.save_discovered("acme", ROUTE, [*page(5), naive], "5", fetched_at=T0, track_until_hours=48)
    assert store.counts() == before
    assert store.checkpoints("acme") == {ROUTE: "1"}
    assert store.post(("mastodon", "social.example", "2")) is None


def test_a_reader_never_sees_posts_without_their_checkpoint_or_the_reverse(store, database_url):
    """While the page's transaction is open (just before its checkpoint is written), another
    connection sees the previous page's state; after commit it sees both."""
    store.save_discovered("acme", ROUTE, page(1), "1", fetched_at=T0, track_until_hours=48)
    seen = []
    with Store.open(database_url) as reader:

        @event.listens_for(store.engine, "before_cursor_execute")
        def peek(conn, cursor, statement, parameters, context, executemany):
            if "INSERT INTO checkpoints" in statement:
                seen.append((reader.counts()["posts"], reader.checkpoints("acme")))

        store.save_discovered("acme", ROUTE, page(2, 3), "3", fetched_at=T0, track_until_hours=48)
        event.remove(store.engine, "before_cursor_execute", peek)
        assert seen == [(1, {ROUTE: "1"})]
        assert (reader.counts()["posts"], reader.checkpoints("acme")) == (3, {ROUTE: "3"})


def test_the_latest_profile_snapshot_wins_and_an_older_one_never_overwrites_it(store):
    old = make_post(
        "1",
        author=make_author("9", "vacuumrus", followers=5, bio="old bio"),
        provenance=Provenance("mastodon-api", ROUTE, T0),
    )
    new = make_post(
        "2",
        author=make_author("9", "vacuumrus", followers=500, bio="new bio"),
        provenance=Provenance("mastodon-api", ROUTE, T0 + timedelta(hours=1)),
    )
    store.save_discovered("acme", ROUTE, [new], "2", fetched_at=T0 + timedelta(hours=1), track_until_hours=48)
    store.save_discovered("acme", ROUTE, [old], "1", fetched_at=T0, track_until_hours=48)  # replayed late
    assert store.post(old.key).author.followers == 500
    assert store.post(old.key).author.bio == "new bio"
    assert store.counts()["accounts"] == 1
    newer = replace(
        new,
        provenance=Provenance("mastodon-api", ROUTE, T0 + timedelta(hours=2)),
        author=replace(new.author, followers=501),
        text="edited",
    )
    store.save_discovered(
        "acme", ROUTE, [newer], "2", fetched_at=T0 + timedelta(hours=2), track_until_hours=48
    )
    assert store.post(new.key).author.followers == 501 and store.post(new.key).text == "edited"


def test_a_later_fetch_without_raw_json_keeps_the_stored_raw_json(store):
    post = page(1)[0]
    store.save_discovered("acme", ROUTE, [post], "1", fetched_at=T0, track_until_hours=48)
    store.save_discovered("acme", ROUTE, [replace(post, raw=None)], "1", fetched_at=T0, track_until_hours=48)
    assert store.post(post.key).raw == post.raw


def test_new_posts_are_due_for_a_context_check_at_once_and_tracked_for_the_window(store):
    posts = page(1, 2, minutes=-90)
    store.save_discovered("acme", ROUTE, posts, "2", fetched_at=T0, track_until_hours=24)
    assert store.due_tracked("acme", T0 - timedelta(seconds=1), 10) == []
    due = store.due_tracked("acme", T0, 10)
    assert [t.post.key for t in due] == [p.key for p in posts]
    first = due[0]
    assert (first.checks, first.next_check_at, first.last_checked_at) == (0, T0, None)
    assert first.track_until == posts[0].created_at + timedelta(hours=24)
    assert first.post == posts[0] and first.post.raw is None  # raw JSON stays in the store
    assert len(store.due_tracked("acme", T0, 1)) == 1
    assert store.due_tracked("other-watch", T0, 10) == []


def test_rediscovering_a_tracked_post_keeps_its_schedule(store):
    post = page(1)[0]
    store.save_discovered("acme", ROUTE, [post], "1", fetched_at=T0, track_until_hours=24)
    store.save_replies("acme", post.key, [], checked_at=T0, next_check_at=T0 + timedelta(minutes=10))
    store.save_discovered(
        "acme", "public", [post], "1", fetched_at=T0 + timedelta(minutes=1), track_until_hours=24
    )
    assert store.due_tracked("acme", T0 + timedelta(minutes=5), 10) == []
    [tracked] = store.due_tracked("acme", T0 + timedelta(minutes=10), 10)
    assert tracked.checks == 1 and tracked.last_checked_at == T0


def test_saving_replies_links_them_and_reschedules_the_tracked_post(store):
    trigger, other = page(1, 2)
    store.save_discovered("acme", ROUTE, [trigger, other], "2", fetched_at=T0, track_until_hours=24)
    bot = make_author("66", "VacuumRus")
    reply = make_post("10", author=bot, minutes=0.1, parent=trigger, text="Buy the X-9000!")
    nested = make_post("11", author=trigger.author, minutes=5, parent=reply, text="no thanks")
    later = T0 + timedelta(minutes=7)
    assert (
        store.save_replies(
            "acme",
            trigger.key,
            [trigger, reply, nested],
            checked_at=later,
            next_check_at=later + timedelta(minutes=15),
        )
        == 2
    )
    assert (
        store.save_replies(
            "acme", trigger.key, [reply, nested], checked_at=later + timedelta(minutes=15), next_check_at=None
        )
        == 0
    )  # same replies again; and tracking stops
    counts = store.counts()
    assert (counts["posts"], counts["watch_posts"]) == (4, 4)
    assert [t.post.key for t in store.due_tracked("acme", T0 + timedelta(days=9), 10)] == [other.key]
    assert store.post(reply.key).author.acct == "VacuumRus"


def test_the_next_check_time_orders_what_is_due(store):
    a, b = page(1, 2)
    store.save_discovered("acme", ROUTE, [a, b], "2", fetched_at=T0, track_until_hours=24)
    store.save_replies("acme", a.key, [], checked_at=T0, next_check_at=T0 + timedelta(minutes=30))
    store.save_replies("acme", b.key, [], checked_at=T0, next_check_at=T0 + timedelta(minutes=20))
    due = store.due_tracked("acme", T0 + timedelta(hours=1), 10)
    assert [(t.post.id, t.checks, t.next_check_at) for t in due] == [
        ("2", 1, T0 + timedelta(minutes=20)),
        ("1", 1, T0 + timedelta(minutes=30)),
    ]


def test_replies_to_a_post_the_watch_does_not_track_are_refused_and_not_written(store):
    post = page(1)[0]
    store.save_discovered("acme", ROUTE, [post], "1", fetched_at=T0, track_until_hours=24)
    reply = make_post("10", author=make_author("66", "bot"), parent=post)
    for watch, key in (("rival", post.key), ("acme", ("mastodon", "social.example", "404"))):
        with pytest.raises(StoreError, match="is not tracked by watch"):
            store.save_replies(watch, key, [reply], checked_at=T0, next_check_at=None)
    assert store.post(reply.key) is None


def test_naive_times_are_refused(store):
    with pytest.raises(ValueError, match="fetched_at must be an aware datetime"):
        store.save_discovered(
            "acme", ROUTE, page(1), "1", fetched_at=T0.replace(tzinfo=None), track_until_hours=1
        )
    with pytest.raises(ValueError, match="now must be an aware datetime"):
        store.due_tracked("acme", T0.replace(tzinfo=None), 10)
