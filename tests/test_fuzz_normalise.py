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
from detector.normalise.html import parse_html
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
