"""Near-duplicate templates: a 64-bit SimHash of a reply with its targets stripped.

A reply script fills one template with a different @mention, link or number each time, and often
spins a word or two ("Great read!" / "Great post!"). SimHash (Charikar 2002) maps texts that share
most of their shingles to fingerprints a few bits apart, so "same template" is a Hamming distance
test on two integers: cheap to keep per account (a handful of ints, see ``behaviour``) and to
index across accounts by bands (:func:`bands`), which is how coordination shows.

Shingles are each word's padded character trigrams plus the word itself, over
:func:`~detector.features.text.fold` output with placeholders dropped, so l33t, spacing and the
target of the reply make no difference (and neither does word order, which spinners shuffle). The sum over shingles is done on Python integers holding
64 lanes of 16 bits at once (one lane per fingerprint bit), with each word's contribution cached:
fingerprinting a reply costs a few dictionary look-ups and big-integer additions.
"""

from __future__ import annotations

import hashlib
import re
from typing import Iterable

from detector.features.text import fold, plain_words

BITS = 64
NEAR = 8  # Hamming distance at or below which two fingerprints are the same template
# Unrelated texts sit about 32 bits apart (sd 4); a template with its targets swapped sits at 0,
# with a word or two spun at 5-10.
MIN_TEMPLATE_WORDS = 4  # shorter texts ("thanks!", "great post") are not fingerprinted: everyone writes them
_LANE = 16
_LANE_TOP = sum(1 << (_LANE * i + _LANE - 1) for i in range(BITS))
_MAX_SHINGLES = (1 << (_LANE - 1)) - 1
_SPREAD8 = [sum(1 << (_LANE * j) for j in range(8) if byte >> j & 1) for byte in range(256)]
_TO_BITS = bytes.maketrans(b"\x00\x80", b"01")
_CACHE_LIMIT = 200_000
_cache: dict[str, tuple[int, int]] = {}


def _hash64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def _spread(value: int) -> int:
    """The 64 bits of ``value`` as 64 lanes of 16 bits holding 0 or 1 each."""
    out = 0
    for k in range(8):
        out |= _SPREAD8[(value >> (8 * k)) & 255] << (_LANE * 8 * k)
    return out


def _contribution(word: str) -> tuple[int, int]:
    """Lane sums and shingle count of one word, cached: words repeat a lot."""
    hit = _cache.get(word)
    if hit is not None:
        return hit
    padded = f" {word} "
    shingles = [padded[i : i + 3] for i in range(len(padded) - 2)]
    shingles.append(word)
    total = 0
    for shingle in shingles:
        total += _spread(_hash64(shingle))
    if len(_cache) >= _CACHE_LIMIT:
        _cache.clear()
    _cache[word] = hit = (total, len(shingles))
    return hit


# A mention not glued to a word or another mention, and a link starting at a word boundary. The
# look-behinds come after the first characters ("@", "http") and look back over them, so the
# regex engine can jump from one "@" or "http" to the next instead of trying every position.
_MENTION = re.compile(r"@(?<![\w@]@)[\w.\-]+(?:@[\w.\-]+)?")
_LINK = re.compile(r"http(?<!\whttp)s?://\S+")


def template_preview(text: str, limit: int = 160) -> str:
    """A reply as evidence of its template: targets and links replaced, one line, bounded.

    Two passes give what one pass over "mention or link" would: a mention takes every word
    character after it, so no link starts where one ends, and a mention inside a link leaves
    the link's run of non-spaces whole. ``str.split()`` splits on exactly what ``\\s`` matches.
    """
    shown = " ".join(_LINK.sub("<link>", _MENTION.sub("@…", text)).split())
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def simhash_words(words: Iterable[str]) -> int:
    """SimHash of a word sequence (each word's padded trigrams and the word itself); 0 for none."""
    lanes = 0
    count = 0
    for word in words:
        add, n = _contribution(word)
        lanes += add
        count += n
        if count >= _MAX_SHINGLES - 64:
            break
    if not count:
        return 0
    # Lane i is the number of shingles whose hash has bit i set; the fingerprint bit is set when
    # that is more than half. Adding (2**15 - 1 - count // 2) to every lane carries exactly the
    # lanes above half into their top bit, all lanes at once.
    lanes += ((1 << (_LANE - 1)) - 1 - count // 2) * _LANE_ONES
    top = (lanes & _LANE_TOP).to_bytes(BITS * _LANE // 8, "little")[_LANE // 8 - 1 :: _LANE // 8]
    return int(top.translate(_TO_BITS)[::-1], 2)


_LANE_ONES = sum(1 << (_LANE * i) for i in range(BITS))


def simhash(text: str) -> int:
    """Template fingerprint of raw text (folded here); see :func:`simhash_words`."""
    return simhash_words(plain_words(fold(text)))


def distance(a: int, b: int) -> int:
    """Hamming distance between two fingerprints."""
    return (a ^ b).bit_count()


def same_template(a: int, b: int, near: int = NEAR) -> bool:
    """Whether two fingerprints are the same template; an empty text (0) matches nothing."""
    return a != 0 and b != 0 and (a ^ b).bit_count() <= near


# Four 16-bit bands: fingerprints within 3 bits always share a band (pigeonhole), within 8 bits
# about half the time; 16 bits keep each band's buckets small however many accounts are indexed.
_BANDS = 4
_BAND_WIDTH = BITS // _BANDS


def bands(fingerprint: int) -> list[int]:
    """Band keys of a fingerprint (band number in the top bits), to find candidates by equality."""
    mask = (1 << _BAND_WIDTH) - 1
    return [(i << _BAND_WIDTH) | ((fingerprint >> (i * _BAND_WIDTH)) & mask) for i in range(_BANDS)]
