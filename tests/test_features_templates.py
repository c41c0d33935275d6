"""Template fingerprints: the same script with other targets is one template, other texts are not."""

import random

from hypothesis import given, strategies as st

from detector.features.templates import BITS, NEAR, bands, distance, same_template, simhash, template_preview


def test_same_template_with_other_targets_and_artefacts_is_identical():
    a = simhash("@bob Great read. Really, tx. https://a.example/1")
    b = simhash("@alice@other.example Great read.u00a0 Really, tx. https://b.example/2")
    assert a == b != 0


def test_spun_words_stay_near_unrelated_texts_stay_far():
    a = simhash("Try the Acme V8 vacuum, it changed my life! Get 20% off at acme.example")
    b = simhash("Try the Acme V9 vacuum, it changed my whole life! Get 30% off at acme.example today")
    c = simhash("My Hoover munches belts every third time, I would not buy one again")
    assert distance(a, b) <= NEAR
    assert distance(a, c) > 2 * NEAR


def test_word_order_does_not_matter():
    assert simhash("great vacuum cheap price today") == simhash("today cheap price great vacuum")


def test_empty_text_matches_nothing():
    assert simhash("@bob https://x.example") == 0
    assert not same_template(0, 0)


@given(st.integers(min_value=1, max_value=2**64 - 1), st.sets(st.integers(min_value=0, max_value=BITS - 1), max_size=3))
def test_fingerprints_within_three_bits_share_a_band(fingerprint, flips):
    other = fingerprint
    for bit in flips:
        other ^= 1 << bit
    assert set(bands(fingerprint)) & set(bands(other))


def test_random_texts_are_about_half_the_bits_apart():
    rng = random.Random(3)
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda omicron sigma tau upsilon".split()
    pairs = [(" ".join(rng.sample(words, 6)), " ".join(rng.sample(words, 6))) for _ in range(50)]
    mean = sum(distance(simhash(a), simhash(b)) for a, b in pairs) / len(pairs)
    assert 12 < mean < 40


def test_preview_hides_targets_and_links():
    assert template_preview("@bob  Great   deal https://x.example/a\nnow") == "@… Great deal <link> now"
    assert len(template_preview("word " * 100)) == 160
