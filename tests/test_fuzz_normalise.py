"""Fuzzing the status normaliser (``detector.normalise.mastodon`` and ``html``) with hypothesis.

Whatever JSON a server (or an archive) hands over, normalising it gives a :class:`Post` or an
:class:`InputError` naming the field, never another exception, and in bounded time. Three
shapes of input: any JSON value at all; a real Status with fields swapped for arbitrary JSON;
and markup stitched from the fragments that trouble HTML tokenisers.
"""

from __future__ import annotations

import copy
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.errors import InputError
from detector.normalise.html import _clean_any, _parse_simple, _parse_tokens, clean_text, parse_html
from detector.normalise.mastodon import normalise_status
from detector.records import Post

LIMIT_SECONDS = 1.0
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=5), max_leaves=25)

FRAGMENTS = ["<", ">", "</", "<a ", "<a href='https://x.example/a'>", "</a>", "<p>", "</p>", "<br>", "<script>",
             "</script>", "<!--", "-->", "<span class=\"invisible\">", "=", "\"", "'", "&amp;", "&#x", "&#0;", ";",
             "#tag", "@user", "https://", "www.", "vacuum", " ", "\n", "a" * 50, "\u202e", "\u200d", "\ud800",
             "\x00", "\x1b[2J", "👩\u200d💻", "<a class=\"mention\">", "<a rel=\"tag\">", "<!doctype html>", "<?xml?>"]
markup = st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join)
# What Mastodon writes, and near misses of it: the fast path must take these or leave them alone.
MASTODON_FRAGMENTS = [
    "<p>", "</p>", "<br />", "<br>", "<br/>", "</br>", "</p\n>", "</p >", "<P>", "<pre>", "<span>", "</span>", "<span class=\"invisible\">",
    "<span class=\"a>b\">", "<span class='x'>", "<span class=x'y>", "<a href=\"https://s.example/@bob\" class=\"u-url mention\">",
    "<a href=\"https://s.example/tags/vacuum\" class=\"mention hashtag\" rel=\"tag\">", "<a href=\"https://shop.example/x?a=1\" rel=\"nofollow\">",
    "<a>", "<a href='javascript:x'>", "<abbr>", "</a>", "</a >", "<span class=\"h-card\" translate=\"no\">", "@", "#", "bob", "vacuum",
    "https://shop.example/y.", " ", "  ", "\n", "\t", "\u00a0", "\u200b", "&amp;", "<!-- c -->", "<", ">", "\"", "'", "é",
]
mastodon_markup = st.lists(st.sampled_from(MASTODON_FRAGMENTS), max_size=40).map("".join)

VALID = {
    "id": "112393074355431802", "created_at": "2024-05-06T10:00:00.000Z", "in_reply_to_id": "1",
    "in_reply_to_account_id": "2", "sensitive": False, "spoiler_text": "", "visibility": "public", "language": "en",
    "uri": "https://social.example/users/a/statuses/1", "url": "https://social.example/@a/1",
    "content": "<p>my vacuum <a href=\"https://shop.example/x\">broke</a> #vacuum</p>", "reblog": None,
    "account": {"id": "3", "username": "a", "acct": "a", "display_name": "A", "bot": False,
                "created_at": "2024-01-01T00:00:00.000Z", "note": "<p>hi</p>", "url": "https://social.example/@a",
                "avatar": "https://social.example/avatars/original/missing.png", "followers_count": 1,
                "following_count": 2, "statuses_count": 3, "last_status_at": "2024-05-06"},
    "mentions": [{"id": "2", "username": "b", "acct": "b"}], "tags": [{"name": "vacuum"}],
    "card": {"url": "https://shop.example/x"}, "media_attachments": [], "emojis": [], "poll": None,
}
STATUS_KEYS = sorted(VALID)
ACCOUNT_KEYS = sorted(VALID["account"])


def normalise_within_bounds(data) -> None:
    started = time.perf_counter()
    try:
        result = normalise_status(data, instance="social.example")
    except InputError as exc:
        assert str(exc)  # says what is wrong
    else:
        assert isinstance(result, Post) and isinstance(result.text, str)
    assert time.perf_counter() - started < LIMIT_SECONDS


@FAST
@given(json_values)
def test_any_json_value_is_a_post_or_an_input_error(value):
    normalise_within_bounds(value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(STATUS_KEYS), json_values | markup, max_size=6),
       st.dictionaries(st.sampled_from(ACCOUNT_KEYS), json_values | markup, max_size=5),
       st.lists(st.sampled_from(STATUS_KEYS), max_size=3))
def test_a_status_with_fields_replaced_or_removed_is_a_post_or_an_input_error(fields, account_fields, removed):
    status = copy.deepcopy(VALID)
    status.update(fields)
    if isinstance(status.get("account"), dict):
        status["account"].update(account_fields)
    for key in removed:
        status.pop(key, None)
    normalise_within_bounds(status)


@FAST
@given(markup, markup)
def test_any_markup_in_content_and_profile_normalises(content, note):
    status = copy.deepcopy(VALID)
    status["content"], status["spoiler_text"] = content, content[:50]
    status["account"]["note"], status["account"]["display_name"] = note, note
    normalise_within_bounds(status)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(FRAGMENTS), st.integers(1, 4000)), min_size=1, max_size=4))
def test_long_runs_of_any_fragment_parse_in_bounded_time(runs):
    """100 KB of repeated fragments: what makes a backtracking tokenizer quadratic."""
    text = "".join(fragment * count for fragment, count in runs)[:100_000]
    started = time.perf_counter()
    parsed = parse_html(text)
    assert time.perf_counter() - started < LIMIT_SECONDS and isinstance(parsed.text, str)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mastodon_markup | markup)
def test_the_fast_path_gives_what_the_tokenizer_gives(text):
    fast = _parse_simple(text)
    assert fast is None or fast == _parse_tokens(text)
    assert parse_html(text) == _parse_tokens(text)


def test_the_fast_path_takes_what_mastodon_writes():
    content = (
        '<p><span class="h-card" translate="no"><a href="https://s.example/@bob" class="u-url mention">@<span>bob</span></a></span>'
        ' my vacuum broke <a href="https://s.example/tags/vacuum" class="mention hashtag" rel="tag">#<span>vacuum</span></a><br />'
        'see <a href="https://shop.example/x" rel="nofollow noopener" target="_blank"><span class="invisible">https://</span>'
        '<span class="">shop.example/x</span><span class="invisible"></span></a></p><p>thanks</p>'
    )
    fast = _parse_simple(content)
    assert fast is not None and fast == _parse_tokens(content)
    assert fast.mention_names == ("bob",) and fast.hashtags == ("vacuum",) and fast.links == ("https://shop.example/x",)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(MASTODON_FRAGMENTS) | st.text(max_size=8), max_size=20).map("".join))
def test_clean_text_fast_path_agrees_with_the_general_one(text):
    assert clean_text(text) == _clean_any(text)
