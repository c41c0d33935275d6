"""A Post goes into the store and comes back the same, whatever its text holds."""

import itertools
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.records import Author, Mention, Post, Provenance
from detector.store.coltypes import REPLACEMENT
from tests.conftest import T0, make_author, make_post

ROUTE = "hashtag:vacuum"
BERLIN = timezone(timedelta(hours=2))


def stored(store, post):
    store.save_discovered("acme", ROUTE, [post], None, fetched_at=T0, track_until_hours=24)
    return store.post(post.key)


def test_a_post_round_trips_with_every_field(store):
    author = Author(
        platform="mastodon",
        instance="social.example",
        id="109",
        acct="PacificVacuum@shop.example",
        display_name="Pacific Vacuum 🧹",
        created_at=datetime(2019, 12, 1, 2, 0, tzinfo=BERLIN),
        followers=3,
        following=2000,
        statuses=900,
        bot=None,
        bio="Best vacuums",
        default_avatar=True,
        url="https://shop.example/@PacificVacuum",
        last_status_at=datetime(2019, 12, 8, tzinfo=UTC),
    )
    post = Post(
        platform="mastodon",
        instance="social.example",
        id="103270115826048975",
        created_at=datetime(2019, 12, 8, 3, 48, 33, 901000, tzinfo=UTC),
        author=author,
        text="Great read. Really, tx. https://shop.example/p #Vacuum @alice",
        url="https://social.example/@PacificVacuum/103270115826048975",
        uri="https://shop.example/statuses/1",
        language="en",
        parent_id="103270115826000000",
        parent_author_id="14715",
        mentions=(Mention("14715", "alice"), Mention("2", "bob@other.example")),
        hashtags=("vacuum", "clean"),
        links=("https://shop.example/p",),
        link_domains=("shop.example",),
        visibility="unlisted",
        sensitive=True,
        spoiler_text="ad",
        is_reblog=False,
        provenance=Provenance("mastodon-api", "context:1", T0),
        raw={
            "id": "103270115826048975",
            "content": "<p>Great read.</p>",
            "nested": {"list": [1, 2.5, None, True]},
        },
    )
    back = stored(store, post)
    assert back == post  # every compared field, datetimes by instant
    assert back.raw == post.raw
    for moment in (
        back.created_at,
        back.author.created_at,
        back.author.last_status_at,
        back.provenance.fetched_at,
    ):
        assert moment.tzinfo is UTC
    assert back.author.created_at == datetime(2019, 12, 1, 0, 0, tzinfo=UTC)
    assert back.created_at.microsecond == 901000


def test_a_post_with_every_optional_field_empty_round_trips(store):
    author = Author(platform="mastodon", instance="social.example", id="1", acct="x")
    post = Post(platform="mastodon", instance="social.example", id="1", created_at=T0, author=author, text="")
    back = stored(store, post)
    assert back == post and back.raw is None and back.provenance is None


def test_mastodon_py_raw_with_datetimes_is_kept_as_iso_text(store):
    post = make_post("1", raw={"id": "1", "created_at": T0, "edited_at": None})
    assert stored(store, post).raw == {
        "id": "1",
        "created_at": "2026-03-01T12:00:00+00:00",
        "edited_at": None,
    }


def test_nul_characters_become_replacement_characters_in_text_but_stay_in_raw_json(store):
    """PostgreSQL text refuses NUL: both databases store U+FFFD instead, the raw JSON keeps it."""
    author = make_author("9", "nul\x00user", display_name="Evil\x00Name", bio="bio\x00")
    post = make_post(
        "1", author=author, text="buy\x00now", spoiler_text="\x00", raw={"id": "1", "content": "buy\x00now"}
    )
    back = stored(store, post)
    assert back.text == f"buy{REPLACEMENT}now" and back.spoiler_text == REPLACEMENT
    assert (
        back.author.display_name == f"Evil{REPLACEMENT}Name" and back.author.acct == f"nul{REPLACEMENT}user"
    )
    assert back.raw == {"id": "1", "content": "buy\x00now"}


def test_nul_in_keys_stores_and_finds_the_same_row(store):
    post = make_post("id\x00with-nul", author=make_author("acct\x00id", "x"))
    assert store.save_discovered("acme", ROUTE, [post], "c\x00p", fetched_at=T0, track_until_hours=1) == 1
    assert store.save_discovered("acme", ROUTE, [post], "c\x00p", fetched_at=T0, track_until_hours=1) == 0
    assert store.post(post.key).id == f"id{REPLACEMENT}with-nul"
    assert store.checkpoints("acme") == {ROUTE: f"c{REPLACEMENT}p"}
    store.save_replies("acme", post.key, [], checked_at=T0, next_check_at=None)  # found by its NUL key


def test_lone_surrogates_are_replaced_in_text_and_kept_escaped_in_raw_json(store):
    post = make_post("1", text="half an emoji \ud83d here", raw={"id": "1", "content": "\ud83d"})
    back = stored(store, post)
    assert back.text == f"half an emoji {REPLACEMENT} here"
    assert back.raw == {"id": "1", "content": "\ud83d"}
    assert list(store.export_posts()) == ['{"id":"1","content":"\\ud83d"}']


def test_100_kb_texts_and_emoji_sequences_round_trip(store):
    big = ("Spam spam spam 🧹👩🏽‍🔧🏳️‍🌈\u200f\u200b مرحبا " * 4000)[:100_000]
    author = make_author("9", "big", display_name="👨‍👩‍👧‍👦" * 50, bio=big)
    post = make_post("1", author=author, text=big, raw={"id": "1", "content": big})
    back = stored(store, post)
    assert len(back.text) == 100_000 and back == post and back.raw == post.raw


# Any code point, with the troublesome ones (NUL, halves of surrogate pairs, bidi and zero-width
# marks) made common enough that every run meets them.
text_with_anything = st.lists(
    st.one_of(st.characters(exclude_categories=()), st.sampled_from("\x00\ud83d\ude00\udfff\u200f\u200b🧹")),
    max_size=300,
).map("".join)


def storable(text):
    return "".join(REPLACEMENT if c == "\x00" or "\ud800" <= c <= "\udfff" else c for c in text)


post_ids = itertools.count()


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=text_with_anything, display_name=text_with_anything)
def test_any_text_stores_and_comes_back_cleaned_only_of_what_cannot_be_stored(store, text, display_name):
    post = make_post(
        f"p{next(post_ids)}",
        author=make_author("9", "prop", display_name=display_name),
        text=text,
        raw={"content": text},
    )
    back = stored(store, post)
    assert back.text == storable(text) and back.author.display_name == storable(display_name)
    assert back.raw == json.loads(json.dumps({"content": text}))  # what any JSON parser made of it
    assert back == replace(
        post, text=storable(text), author=replace(post.author, display_name=storable(display_name))
    )
