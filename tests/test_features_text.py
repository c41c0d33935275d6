"""Content signals: folding against obfuscation and scripting artefacts, and each signal's cases."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.features.text import _LEET_WORD, KeywordMatcher, _unleet, char_ngrams, fold, is_generic_praise, text_signals, tokens, topic_words

SEED_PRAISE = "Great read.\u00a0 Really, tx."
SEED_ARTEFACT_PRAISE = "Great read.u00a0 Really, tx."
SEED_PROMOTER = (
    "nnSocial marketing uses a range of techniques and approaches,ncommonly known as a marketing mix. "
    "I recommend visiting http:// http://www.foutsventures.comu00a0 SocialnMarketing Hopenthis helps.nnn"
)


def test_scripting_artefacts_fold_away():
    assert fold(SEED_ARTEFACT_PRAISE).split() == fold(SEED_PRAISE).split() == ["great", "read.", "really,", "tx."]
    assert "u00a0" not in fold(SEED_PROMOTER)
    assert fold("belt.nnAnyway, they replied").split()[:2] == ["belt.", "anyway,"]


@pytest.mark.parametrize(
    ("obfuscated", "plain"),
    [
        ("FR33 iPh0ne", "free iphone"),
        ("cl1ck h3re", "click here"),
        ("f r e e", "free"),
        ("c.l.i.c.k", "click"),
        ("$ale", "sale"),
        ("sooooo gooood", "soo good"),
        ("v\u0430cuum", "vacuum"),  # Cyrillic а inside a Latin word
        ("caf\u00e9", "cafe"),
    ],
)
def test_obfuscation_folds_to_the_plain_word(obfuscated, plain):
    assert fold(obfuscated).split() == plain.split()


def test_numbers_in_handles_and_models_are_not_read_as_leet():
    assert fold("kobyoshi02 user123 mp3 ps5").split() == ["kobyoshi", "_num_", "user", "_num_", "mp", "_num_", "ps", "_num_"]


def test_targets_become_placeholders():
    assert tokens(fold("@bob@mastodon.example see https://x.example/a?b=1 or mail me@x.example")) == [
        "_at_", "see", "_url_", "or", "mail", "_email_",
    ]  # fmt: skip


def test_char_ngrams_are_padded_and_within_the_word():
    assert char_ngrams("free") == [" fr", "fre", "ree", "ee ", " fre", "free", "ree ", " free", "free "]


def test_seed_generic_praise_is_generic():
    signals = text_signals(SEED_PRAISE)
    assert signals.generic_praise
    assert not signals.cta and not signals.n_links
    assert text_signals(SEED_ARTEFACT_PRAISE).n_artefacts == 1


def test_specific_praise_is_not_generic():
    assert not is_generic_praise(tokens(fold("Great tip about the belt on the Hoover windtunnel, mine munches them too")))


def test_seed_link_promoter_has_call_to_action_link_and_artefacts():
    signals = text_signals(SEED_PROMOTER)
    assert "recommend visiting" in signals.cta
    assert signals.domains == ("foutsventures.com",)  # the u00a0 glued to the link is not part of the domain
    assert signals.n_artefacts >= 3


def test_shorteners_and_links_spelled_out():
    assert text_signals("deal here https://bit.ly/abc").n_shortened == 1
    assert text_signals("check out my channel youtube . com/kobyoshi").n_bare_links == 1
    assert text_signals("Win at MyLeaderGate.com/moretraffic now").n_bare_links == 1
    assert text_signals("the meeting is at 3. come early").n_bare_links == 0


def test_phone_money_and_percent_off():
    signals = text_signals("Call 08452810075 now to claim your £1000 prize")
    assert signals.has_phone and signals.has_money and "claim" in signals.cta
    assert "% off" in text_signals("get 20% off today").cta
    plain = text_signals("I paid for it last year and it still works")
    assert not plain.has_phone and not plain.has_money and not plain.cta


def test_echo_measures_overlap_with_the_parent():
    parent = "My Hoover windtunnel keeps munching belts, any advice?"
    assert text_signals("Replace the belts on the windtunnel every year", parent_text=parent).echo >= 2 / 6
    assert text_signals("Great read. Really, tx.", parent_text=parent).echo == 0.0


def test_keyword_matcher_matches_word_starts_after_folding():
    matcher = KeywordMatcher(["Vacuum", "#Dyson"])
    assert matcher.first(fold("My v4cuums broke again")) == "Vacuum"
    assert matcher.first(fold("I love my DYSON")) == "#Dyson"
    assert matcher.first(fold("robovacuum")) is None
    assert not KeywordMatcher([])


def test_topic_words_skip_stop_words_praise_and_placeholders():
    assert topic_words(fold("Great post about the new robot vacuum")) == {"new", "robot", "vacuum"}
    assert topic_words(fold("@bob the V8 at https://x.example is 40 quid")) == {"quid"}


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("Like this comment if ur watching in 2015", "like this comment"),
        ("Thumbs up if you still jam to this", "thumbs up if"),
        ("Follow 4 Follow @someone Like 4 Like", "follow 4 follow"),
        ("sub me if you dont like the song", "sub me"),
        ("Check me out! I rap so yeah", "check me out"),
        ("look at my channel i make minecraft lets plays", "at my channel"),
        ("boost if you agree", "boost if"),
    ],
)
def test_engagement_bait_and_self_promotion_count_as_calls_to_action(text, phrase):
    assert phrase in text_signals(text).cta


@pytest.mark.parametrize(
    "text",
    ["I like my new vacuum a lot", "I like this vacuum, it picks up cat hair", "my channel 4 remote stopped working", "share your thoughts on the hoover"],
)
def test_talk_about_liking_a_product_is_not_a_call_to_action(text):
    assert not [c for c in text_signals(text).cta if c.startswith(("like", "share")) or "my" in c]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab0$@ 1z-é3_", max_size=24))
def test_leet_runs_are_found_as_the_plain_pattern_finds_them(text):
    """The faster run pattern rewrites exactly what the textbook one does (whole runs of
    letters, digits, '@' and '$' where a letter touches another kind)."""
    plain = re.compile(r"[a-z0-9@$]*(?:[a-z][0-9@$]|[0-9@$][a-z])[a-z0-9@$]*")
    assert _LEET_WORD.sub(_unleet, text) == plain.sub(_unleet, text)
