"""The content model: a linear model over a reply's words, word pairs, within-word character
n-grams and the shape of its text (links, calls to action, capitals...).

Why this form: it is trained on other platforms' spam (YouTube comments, SMS), and character
n-grams of folded words carry over to new spellings, l33t and new platforms better than a
vocabulary of whole phrases; the structural features (:data:`DENSE_FEATURES`) carry over best.
Why these shapes: the score is ``bias + (sum of the text's feature weights) / sqrt(number of
features) + dense part``, so a word's whole contribution (its own weight plus its n-grams')
depends on nothing but the word and is cached: scoring a reply is a few dictionary look-ups,
which is what lets ``botwatch score`` run at tens of thousands of replies a second. The same
sum, split by word, says which words pushed a reply towards spam.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any, Sequence

from detector.classifier.validate import check_numbers, check_object, check_str, raise_model
from detector.features.text import TextSignals, char_ngrams

DENSE_FEATURES = (
    "log_words",
    "has_link",
    "log_links",
    "shortened",
    "bare_link",
    "log_cta",
    "generic_praise",
    "caps_share",
    "log_exclaims",
    "log_emoji",
    "phone",
    "money",
    "artefacts",
    "log_mentions",
    "log_hashtags",
)
_CACHE_LIMIT = 300_000


def dense_vector(s: TextSignals) -> list[float]:
    """The structural part of the content model's input, in :data:`DENSE_FEATURES` order."""
    return [
        math.log1p(s.n_words),
        float(s.n_links > 0 or s.n_bare_links > 0),
        math.log1p(s.n_links + s.n_bare_links),
        float(s.n_shortened > 0),
        float(s.n_bare_links > 0),
        math.log1p(len(s.cta)),
        float(s.generic_praise),
        s.caps_share,
        math.log1p(s.n_exclaims),
        math.log1p(s.n_emoji),
        float(s.has_phone),
        float(s.has_money),
        float(s.n_artefacts > 0),
        math.log1p(s.n_mentions),
        math.log1p(s.n_hashtags),
    ]


def word_keys(word: str) -> list[str]:
    """The sparse features one token contributes on its own: itself and its character n-grams."""
    if word.isalpha():
        return [f"w:{word}", *(f"c:{g}" for g in char_ngrams(word))]
    return [f"w:{word}"]


def distinct(words: Sequence[str]) -> tuple[list[str], list[str]]:
    """Distinct words and distinct word pairs: a word repeated 50 times counts once."""
    return list(dict.fromkeys(words)), list(dict.fromkeys(f"{a} {b}" for a, b in zip(words, words[1:])))


def sparse_keys(words: Sequence[str]) -> list[str]:
    """All sparse features of a token sequence (training builds its matrix from this).

    Distinct words each add their own keys, so a character n-gram two different words share
    counts twice: the price of caching per word, and the same at training and scoring time.
    """
    unique, pairs = distinct(words)
    keys = [k for w in unique for k in word_keys(w)]
    keys.extend(f"b:{p}" for p in pairs)
    return keys


@dataclass(frozen=True)
class ContentScore:
    logodds: float
    terms: tuple[tuple[str, float], ...]  # words with the largest positive parts, largest first


class TextModel:
    """Scores folded token sequences; see the module docstring for the form."""

    def __init__(
        self, weights: dict[str, float], bias: float, dense_weights: Sequence[float], dense_mean: Sequence[float], dense_scale: Sequence[float]
    ) -> None:
        self.weights = weights
        self.bias = bias
        self.dense_weights = list(dense_weights)
        self.dense_mean = list(dense_mean)
        self.dense_scale = list(dense_scale)
        self._words: dict[str, tuple[float, int]] = {}
        # Word-pair weights by first word, then second: looking a pair up this way builds no key
        # string, and most words start no weighted pair at all. Tokens hold no spaces, so the
        # first space of ``b:first second`` splits it.
        self._pairs: dict[str, dict[str, float]] = {}
        for key, weight in weights.items():
            if key.startswith("b:"):
                first, second = key[2:].split(" ", 1)
                self._pairs.setdefault(first, {})[second] = weight

    def _word(self, word: str) -> tuple[float, int]:
        hit = self._words.get(word)
        if hit is None:
            weights = self.weights
            total, count = 0.0, 0
            for key in word_keys(word):
                w = weights.get(key)
                if w is not None:
                    total += w
                    count += 1
            if len(self._words) >= _CACHE_LIMIT:
                self._words.clear()
            self._words[word] = hit = (total, count)
        return hit

    def score(self, words: Sequence[str], signals: TextSignals, *, explain: bool = True) -> ContentScore:
        total, count = 0.0, 0
        parts: list[tuple[str, float]] = []
        word_part = self._words.get
        for word in dict.fromkeys(words):  # distinct(), without building the pairs twice
            hit = word_part(word)
            s, n = self._word(word) if hit is None else hit
            total += s
            count += n
            if s > 0:
                parts.append((word, s))
        pairs = self._pairs
        for first, second in dict.fromkeys(zip(words, words[1:])):
            following = pairs.get(first)
            if following is not None:
                w = following.get(second)
                if w is not None:
                    total += w
                    count += 1
        logodds = self.bias + (total / math.sqrt(count) if count else 0.0)
        for x, w, m, sd in zip(dense_vector(signals), self.dense_weights, self.dense_mean, self.dense_scale):
            logodds += w * (x - m) / sd
        if not explain or not count or logodds <= 0:
            return ContentScore(logodds, ())  # words are only named when they make a reply look like spam
        norm = math.sqrt(count)
        top = sorted(((word, s / norm) for word, s in parts if word.isalpha()), key=lambda kv: -kv[1])[:6]
        return ContentScore(logodds, tuple(top))

    def sparse_row(self, words: Sequence[str]) -> dict[str, float]:
        """The normalised sparse features the model reads (for training and tests)."""
        counts = Counter(k for k in sparse_keys(words) if k in self.weights)
        norm = math.sqrt(sum(counts.values())) or 1.0
        return {k: c / norm for k, c in counts.items()}

    def to_json(self) -> dict[str, Any]:
        return {
            "bias": self.bias,
            "dense_features": list(DENSE_FEATURES),
            "dense_weights": self.dense_weights,
            "dense_mean": self.dense_mean,
            "dense_scale": self.dense_scale,
            "weights": self.weights,
        }

    @classmethod
    def from_json(cls, data: Any, where: str = "text_model") -> "TextModel":
        obj = check_object(data, where, ("bias", "dense_features", "dense_weights", "dense_mean", "dense_scale", "weights"))
        names = [check_str(n, f"{where}.dense_features") for n in obj["dense_features"]]
        if tuple(names) != DENSE_FEATURES:
            raise_model(f"{where}.dense_features", f"the model reads {names}, this botwatch computes {list(DENSE_FEATURES)}")
        n = len(DENSE_FEATURES)
        weights = check_object(obj["weights"], f"{where}.weights")
        for key, value in weights.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise_model(f"{where}.weights[{key!r}]", "expected a finite number")
        scale = check_numbers(obj["dense_scale"], f"{where}.dense_scale", n)
        if any(s <= 0 for s in scale):
            raise_model(f"{where}.dense_scale", "scales must be positive")
        return cls(
            {str(k): float(v) for k, v in weights.items()},
            check_numbers([obj["bias"]], f"{where}.bias")[0],
            check_numbers(obj["dense_weights"], f"{where}.dense_weights", n),
            check_numbers(obj["dense_mean"], f"{where}.dense_mean", n),
            scale,
        )
