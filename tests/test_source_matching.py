"""Which posts count for a watch, and the small pure helpers of the Mastodon source."""

from datetime import datetime, timedelta, timezone

import pytest

from detector.config import WatchConfig
from detector.normalise.mastodon import normalise_status
from detector.sources.base import Match, Page
from detector.sources.mastodon import _search_state, id_order, snowflake_at, snowflake_time
from detector.sources.mastodon_client import link_param, normalise_version, preview
from detector.sources.matching import WatchMatcher, fold, keyword_pattern, same_account
from tests.source_fakes import status

WATCH = WatchConfig(name="acme", instance="social", keywords=("vacuum", "robot mop", "c++"),
                    hashtags=("vacuumlife",), brand_accounts=("acme", "acmehelp@other.example"))


def post(content="", **kw):
    return normalise_status(status("110000000000000000", content, **kw), instance="social.example")


@pytest.fixture
def matcher():
    return WatchMatcher(WATCH, "social.example")


@pytest.mark.parametrize("text, expected", [
    ("My vacuum broke", ("vacuum",)),
    ("VACUUM!", ("vacuum",)),
    ("#vacuum deals", ("vacuum",)),
    ("ＶＡＣＵＵＭ cleaner", ("vacuum",)),  # full-width, NFKC-folded
    ("vac\u200buum", ("vacuum",)),  # a zero-width space does not hide it
    ("vacuums and vacuumed", ()),  # whole words only
    ("ask @VacuumRus", ()),
    ("a robot   mop", ("robot mop",)),
    ("robotmop", ()),
    ("I write c++ daily", ("c++",)),
    ("abc++ code", ()),
])
def test_keywords_match_whole_words_case_insensitively(matcher, text, expected):
    assert matcher.keywords_in(text) == expected


def test_content_warning_text_counts(matcher):
    p = normalise_status({**status("1", "nothing here"), "spoiler_text": "vacuum rant"}, instance="social.example")
    assert matcher.match(p, "public").keywords == ("vacuum",)


def test_hashtags_and_brand_accounts(matcher):
    assert matcher.match(post("hi", tags=("VacuumLife",)), "public").hashtags == ("vacuumlife",)
    by_brand = matcher.match(post("hi", acct="acme"), "public")
    assert by_brand.brand_accounts == ("acme",) and by_brand
    mentions = matcher.match(post("hi", mentions=("acmehelp@other.example",)), "public")
    assert mentions.brand_accounts == ("acmehelp@other.example",)
    assert not matcher.match(post("nothing to see"), "public")


def test_route_vouches_for_what_the_server_matched(matcher):
    plain = post("vacuums galore")  # stemmed by the server's search, not by us
    given = Match("search:vacuum", keywords=("vacuum",))
    result = matcher.match(plain, "search:vacuum", given=given)
    assert result.keywords == ("vacuum",) and result.route == "search:vacuum"
    assert result.reasons == ("keyword:vacuum",)


def test_same_account_knows_local_accounts_by_either_name():
    assert same_account("acme", "acme", "social.example")
    assert same_account("acme", "acme@social.example", "social.example")
    assert same_account("ACME@social.example", "acme", "social.example")
    assert not same_account("acme@other.example", "acme", "social.example")
    assert not same_account("acmer", "acme", "social.example")


def test_fold_and_pattern_edge_cases():
    assert fold("Straße") == "strasse"
    with pytest.raises(ValueError):
        keyword_pattern("   ")


def test_page_match_falls_back_to_its_route():
    p = post("vacuum")
    page = Page("public", (p,), "5")
    assert page.match(p) == Match("public")


def test_snowflakes_round_trip_time():
    moment = datetime(2024, 3, 1, 12, 0, 0, 250000, tzinfo=timezone.utc)
    sid = snowflake_at(moment)
    assert int(sid) == int(moment.timestamp() * 1000) << 16
    assert snowflake_time(sid) == moment
    assert snowflake_time(str(int(sid) + 65535)) - moment < timedelta(milliseconds=1)
    assert snowflake_time("12345") is None and snowflake_time("abc") is None
    with pytest.raises(ValueError):
        snowflake_at(datetime(2024, 1, 1))


def test_id_order_is_numeric_not_lexical():
    assert sorted(["9", "10", "100"], key=id_order) == ["9", "10", "100"]
    assert id_order("abc") > id_order("99999999999999999999")


def test_search_checkpoints_parse_and_restart_when_unreadable():
    since = datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert _search_state(None, since) == (snowflake_at(since), None, 0)
    assert _search_state("123", since) == ("123", None, 0)
    assert _search_state("123~456~80", since) == ("123", "456", 80)
    assert _search_state("garbage~x", since) == (snowflake_at(since), None, 0)


@pytest.mark.parametrize("reported, expected", [
    ("4.3.0", "4.3.0"),
    ("4.3.0-beta.1", "4.3.0"),
    ("4.2.8+glitch", "4.2.8"),
    ("3.5.3+hometown-1.0.7", "3.5.3"),
    ("2.7.2 (compatible; Pleroma 2.5.0)", "2.7.2"),
    ("4.1", "4.1.0"),
    ("unknown", None),
])
def test_version_strings(reported, expected):
    assert normalise_version(reported) == expected


def test_link_param_and_preview():
    links = {"prev": {"url": "https://x/api/v1/timelines/public?min_id=42&limit=40", "rel": "prev"}}
    assert link_param(links, "prev", "min_id") == "42"
    assert link_param(links, "next", "max_id") is None
    assert preview("x" * 500, 10) == "x" * 10 + "… [490 more chars]"
    assert preview(b"\xff\xfeok") == "\ufffd\ufffdok"
