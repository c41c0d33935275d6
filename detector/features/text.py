"""Content signals of one post's text: pure functions, no model.

Spam is written to dodge filters and is often pasted by scripts that mangle it, so the text is
first folded into a canonical form (:func:`fold`) before anything counts words in it:

- scripting artefacts: a literal ``u00a0`` where a no-break space was, ``nn`` where a blank line
  was (``belt.nnAnyway``), ``\\n`` left as two characters;
- l33t inside words (``fr33`` → ``free``, ``$ale`` → ``sale``), letters spaced or dotted apart
  (``f r e e``, ``c.l.i.c.k``), stretched letters (``soooo`` → ``soo``);
- look-alike letters from other scripts inside Latin words (Cyrillic ``а`` in ``vаcuum``), accents,
  full-width forms;
- links, mentions and numbers become placeholders (``_url_``, ``_at_``, ``_num_``) so that a
  template reads the same whoever it is aimed at.

:func:`text_signals` then measures what generalises across platforms rather than phrases of one
data set: links and where they point, shorteners, links written without a scheme to get past
link filters, calls to action, generic praise that fits any post, how much of the parent post the
reply echoes, and the shape of the text (length, capitals, exclamation marks, phone numbers).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Sequence

from detector.normalise.html import link_domain

# --- folding ---------------------------------------------------------------------------------

_ARTEFACTS = re.compile(
    r"\\?u00a0|\\?u200b|\\[nrt]"  # escapes left as text
    r"|(?<=[a-z.!?,;:)\]\"'\u2019\u201d])n{2,3}(?=[A-Z@#\u00bf\u00a1]|$)"  # 'belt.nnAnyway', 'tx.nn'
    r"|^n{2,3}(?=[A-Z@#])"  # 'nnSocial marketing ...'
)
_URL = re.compile(r"\bhttps?://[^\s<>\"']+|\bwww\.[^\s<>\"']+", re.IGNORECASE)
# Links without a scheme ('MyLeaderGate.com/moretraffic', 'example . com') dodge link filters.
_BARE_LINK = re.compile(
    r"\b[a-z0-9][a-z0-9-]{1,62}\s?(?:\.|\(dot\)|\[dot\]| dot )\s?"
    r"(?:com|net|org|info|biz|ly|io|co|me|tv|gl|gd|cc|us|uk|ru|xyz|site|online|shop|store|club|top|link)\b"
    r"(?:/[^\s]*)?",
    re.IGNORECASE,
)
_MENTION = re.compile(r"(?<![\w@])@[\w.\-]+(?:@[\w.\-]+)?")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_NUMBER = re.compile(r"[+$€£]?\d[\d,.:/\-]*")
# A whole run of letters, digits, '@' and '$' in which a letter touches one of the others; the
# lookbehind starts it at the run's first character only, so a run without one costs one scan.
_LEET_WORD = re.compile(r"(?<![a-z0-9@$])(?=[a-z0-9@$]*?(?:[a-z][0-9@$]|[0-9@$][a-z]))[a-z0-9@$]+")
_LEET_CUE = re.compile(r"[a-z][0-9@$]|[0-9@$][a-z]")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_SPACED = re.compile(r"\b(?:[a-z][ .\-*]){2,}[a-z]\b")
_SPACED_SEP = re.compile(r"[ .\-*]")
_STRETCH = re.compile(r"([a-z])\1{2,}")
_LATIN = re.compile(r"[a-z]")
_TRAILING_DIGITS = re.compile(r"(.*?)(\d*)$", re.DOTALL)
# Letters of other scripts that render like Latin ones; folded only inside words that also hold
# Latin letters, so that text written in those scripts is left alone.
_CONFUSABLE = str.maketrans(
    "аеорсухіјѕԁɡոօрԛѵԝхуАВЕКМНОРСТХαβεικνορτυχ",
    "aeopcyxijsdgnopqvwxyabekmhopctxabeiknoptux",
)
_MIXED_SCRIPT_WORD = re.compile(r"\w*(?:[a-z][^\x00-\x7f]|[^\x00-\x7f][a-z])\w*")
_HAS_DIGIT_OR_SIGN = re.compile(r"[0-9@$]")
_TOKEN = re.compile(r"_(?:url|at|num|email)_|[a-z]+|[!?$€£%]")


def _fold_accents(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Canonical lower-case form of a text for n-grams and templates (see the module docstring).

    Each rewrite runs only when a cheap test says it can apply: this runs on every line of an
    archive.
    """
    if "u00" in text or "u200" in text or "\\" in text or "nn" in text:
        text = _ARTEFACTS.sub(" ", text)
    if "http" in text or "www." in text or "WWW." in text:
        text = _URL.sub(" _url_ ", text)
    if "@" in text:
        text = _MENTION.sub(" _at_ ", text)  # first: '@bob@host' is a mention, not an e-mail address
        if "@" in text:
            text = _EMAIL.sub(" _email_ ", text)
    text = text.lower()
    if not text.isascii():
        text = _MIXED_SCRIPT_WORD.sub(lambda m: m.group(0).translate(_CONFUSABLE), text)
        text = _fold_accents(text)
    if _HAS_DIGIT_OR_SIGN.search(text):
        if _LEET_CUE.search(text):
            text = _LEET_WORD.sub(_unleet, text)
        text = _NUMBER.sub(" _num_ ", text)
    # search() first: a sub() that finds nothing still costs its set-up, and most texts have neither.
    if _SPACED.search(text):
        text = _SPACED.sub(_unspace, text)
    return _STRETCH.sub(r"\1\1", text) if _STRETCH.search(text) else text


def _unspace(match: re.Match[str]) -> str:
    return _SPACED_SEP.sub("", match.group(0))


def _unleet(match: re.Match[str]) -> str:
    word = match.group(0)
    # '4k', 'mp3', 'h2o', '2nd': with fewer than two letters the digits are more likely meant.
    if len(_LATIN.findall(word)) < 2:
        return word
    head, tail = _TRAILING_DIGITS.match(word).groups()  # type: ignore[union-attr]
    # 'user123', 'kobyoshi02', 'mp3', 'ps5': a trailing run that is one digit long or holds digits
    # no one writes for a letter is a number; 'fr33' is not.
    if tail and (len(tail) < 2 or tail.strip("013457")):
        return head.translate(_LEET) + tail
    return word.translate(_LEET)


def tokens(folded: str) -> list[str]:
    """Words, placeholders and the punctuation spam leans on, from :func:`fold` output."""
    return _TOKEN.findall(folded)


def char_ngrams(word: str, low: int = 3, high: int = 5) -> list[str]:
    """Character n-grams of one word padded with spaces (``' fre'``, ``'free'``, ``'ree '``).

    Within-word n-grams keep misspellings and inflections close (``subscribe``/``subscribers``)
    while staying cheap: a word's n-grams never depend on its neighbours, so they can be cached.
    """
    padded = f" {word} "
    size = len(padded)
    return [padded[i : i + n] for n in range(low, high + 1) for i in range(size - n + 1)]


# --- signals ---------------------------------------------------------------------------------

SHORTENERS = frozenset(
    """bit.ly bitly.com tinyurl.com t.co goo.gl ow.ly is.gd buff.ly rebrand.ly cutt.ly shorturl.at tiny.cc
    rb.gy s.id lnkd.in amzn.to amzn.eu shorte.st adf.ly bl.ink t.ly v.gd qr.ae soo.gd clck.ru
    tr.im x.co mcaf.ee db.tt po.st trib.al dlvr.it ift.tt su.pr u.to linktr.ee""".split()
)
# Calls to action: verbs and offers that ask the reader to do something for the writer. Generic
# marketing English, not phrases of any one data set.
_CTA = re.compile(
    r"\b(?:check (?:out|it out|this out|my)|visit|click|tap|subscribe|sub to|follow (?:me|us|my|back)"
    r"|sign ?up|join (?:now|us|today|my|our)|register|download|install|buy|order (?:now|today|yours)"
    r"|shop (?:now|today)|get (?:yours|it now|your|now|paid|free)|call (?:now|today|us)|text (?:me|us)|dm (?:me|us)"
    r"|message me|contact (?:me|us)|whatsapp|telegram|use (?:my |promo )?code|promo|coupon|discount"
    r"|limited (?:time|offer)|act now|hurry|don'?t miss|free (?:trial|gift|money|shipping|entry)|win (?:a|an|cash|free)"
    r"|claim|earn (?:money|cash|\$)|make money|work from home|link in (?:bio|profile)|learn more|see more"
    r"|recommend visiting|go to|guaranteed|best price|cheap|deal"
    # Engagement bait and self-promotion: asks for likes, boosts and follows in return, or points
    # the reader at the writer's own channel. Farming phrases of every platform, not one data set.
    r"|(?:like|boost|share|rt|retweet|fav) (?:this (?:comment|post|toot|tweet|reply|video)|if)|thumbs up (?:if|for)"
    r"|give (?:it|this|me) a (?:like|thumbs up)|sub(?:scribe)? (?:me|to me)|(?:follow|like|sub)\s+(?:_num_|for)\s+(?:follow|like|sub)"
    r"|check me out|look (?:me|us|it) up|(?:at|on|to|out|visit|see) my (?:channel|new (?:video|song|track|channel)|music|playlist|mixtape))\b"
    r"|%\s?off\b"
)
_PRAISE = frozenset(
    """great nice awesome amazing love loved lovely cool good excellent wonderful fantastic brilliant
    beautiful informative helpful useful interesting insightful agree thanks thank thx tx ty
    perfect superb impressive inspiring well done wow best""".split()
)
# Words that carry no topic: a reply made of these and praise fits under any post.
_FILLER = frozenset(
    """a an the this that these those it its it's is are was were be been am i you we they he she me my
    your our their his her of in on at to for from with by and or but so very really much many such
    just too also post read article write writing written share sharing piece content work job
    what keep up here there all as more some one thing things stuff man guys sir madam dear friend
    _at_ _url_ ! ?""".split()
)
_STOPWORDS = _FILLER | frozenset(
    """not no do does did have has had will would can could should may might must shall if then than
    about into over after before because while who whom which when where why how get got go going
    out up down off again only own same other any each few most both""".split()
)
_NOT_TOPIC = _STOPWORDS | _PRAISE
_PHONE = re.compile(r"(?:\+?\d[\d\s().-]{7,}\d)")
_MONEY = re.compile(r"[$€£]\s?\d|\d\s?(?:usd|eur|gbp|dollars?|pounds?|euros?)\b|\b(?:cash|prize|reward)\b", re.I)
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf\U0001f000-\U0001f2ff]")
_WORDS = re.compile(r"(?<![_a-z])[a-z]+(?![_a-z])")  # words, not the placeholders _url_, _num_...
_ASCII_UPPER = bytes(range(ord("A"), ord("Z") + 1))
_ASCII_LETTERS = _ASCII_UPPER + bytes(range(ord("a"), ord("z") + 1))
_ASCII_DIGITS = bytes(range(ord("0"), ord("9") + 1))
_DOT_CUE = re.compile(r"[a-z0-9]\s?(?:\.|\(dot\)|\[dot\]| dot )\s?[a-z]{2}", re.I)
# Words one of the calls to action starts with: the big pattern only runs when one is there.
_CTA_CUES = frozenset(
    """check visit click tap subscribe sub follow sign signup join register download install buy order shop get
    call text dm message contact whatsapp telegram use promo coupon discount off limited act hurry don dont free
    win claim earn make work link learn see recommend go guaranteed best cheap deal like boost share rt retweet fav thumbs
    give sub look my""".split()
)
_MONEY_CUES = frozenset({"cash", "prize", "reward"})


@dataclass(frozen=True, slots=True)
class TextSignals:
    """What a text says about how it was written, in numbers a reason can quote."""

    n_chars: int
    n_words: int
    n_links: int
    n_bare_links: int
    n_shortened: int
    domains: tuple[str, ...]
    n_mentions: int
    n_hashtags: int
    cta: tuple[str, ...]  # the calls to action found, as written (folded)
    generic_praise: bool
    caps_share: float
    n_exclaims: int
    n_emoji: int
    has_phone: bool
    has_money: bool
    n_artefacts: int
    echo: float | None  # share of the parent's topic words the reply repeats (None: no parent text)


def is_topic_word(word: str) -> bool:
    """A word that can say what a text is about: 3+ letters, not a stop word, not praise."""
    return len(word) > 2 and word not in _NOT_TOPIC


def plain_words(folded: str) -> list[str]:
    """The words of a folded text, without the placeholders (targets, links, numbers)."""
    return _WORDS.findall(folded)


def topic_words(folded: str) -> set[str]:
    """Words that say what a text is about: not stop words, not placeholders, 3+ letters."""
    return _topics(_WORDS.findall(folded))


def _topics(words: Iterable[str]) -> set[str]:
    return {w for w in words if len(w) > 2 and w not in _NOT_TOPIC}


@dataclass(frozen=True, slots=True)
class FoldedText:
    """A post's text folded once, with the word lists both of its roles read.

    In an archive every post may be a parent (its keyword and topics) and a reply (its template
    and echo); folding and splitting it once for both keeps scoring to one pass over the text.
    """

    folded: str
    words: list[str]  # :func:`plain_words`: what templates are made of
    topics: set[str]  # :func:`topic_words`

    @classmethod
    def of(cls, text: str) -> "FoldedText":
        folded = fold(text)
        words = _WORDS.findall(folded)
        return cls(folded, words, _topics(words))


def is_generic_praise(words: Sequence[str]) -> bool:
    """Praise or thanks with at most two topic words: the reply fits under any post.

    "Great read. Really, tx." qualifies; "Great tip about the belt on the Hoover" does not.
    """
    if not words or len(words) > 14 or not any(w in _PRAISE for w in words):
        return False
    specific = [w for w in words if w not in _PRAISE and w not in _FILLER and not w.startswith("_")]
    return len(specific) <= 2


def text_signals(
    text: str,
    *,
    links: Iterable[str] | None = None,
    n_mentions: int | None = None,
    n_hashtags: int | None = None,
    parent_text: str | None = None,
    folded: str | None = None,
    words: Sequence[str] | None = None,
) -> TextSignals:
    """Content signals of one text.

    ``links``/``n_mentions``/``n_hashtags`` come from the normalised record when there is one;
    for bare text (comment and SMS data sets) they are found in the text itself. ``folded`` and
    ``words`` may be passed when the caller has them already. Each costly test only runs when
    a cheap one says it can match: this runs on every reply of an archive.
    """
    n_artefacts = 0
    if "u00" in text or "u200" in text or "\\" in text or "nn" in text:
        n_artefacts = len(_ARTEFACTS.findall(text))
        if n_artefacts:
            text = _ARTEFACTS.sub(" ", text)
    folded = fold(text) if folded is None else folded
    words = tokens(folded) if words is None else words
    maybe_link = "http" in text or "www" in text
    link_list = list(links) if links is not None else ([m.group(0) for m in _URL.finditer(text)] if maybe_link else [])
    domains = tuple(dict.fromkeys(d for d in map(link_domain, link_list) if d))
    bare = 0
    if _DOT_CUE.search(text):
        bare = len(_BARE_LINK.findall(_URL.sub(" ", text) if maybe_link else text))
    # Counts of ASCII letters, capitals and digits: in UTF-8 those bytes only ever stand for
    # themselves, so deleting them from the bytes counts them, several times faster than str.translate.
    raw = text.encode("utf-8", "surrogatepass")
    letters = len(raw) - len(raw.translate(None, _ASCII_LETTERS))
    caps = (len(raw) - len(raw.translate(None, _ASCII_UPPER))) / letters if letters else 0.0
    digits = len(raw) - len(raw.translate(None, _ASCII_DIGITS))
    word_set = set(words)
    cta: tuple[str, ...] = ()
    if not _CTA_CUES.isdisjoint(word_set):
        cta = tuple(dict.fromkeys(" ".join(m.group(0).replace("_num_", "4").split()) for m in _CTA.finditer(folded)))
    echo = None
    if parent_text is not None:
        parent_topic = topic_words(fold(parent_text))
        echo = len(parent_topic & topic_words(folded)) / len(parent_topic) if parent_topic else 0.0
    return TextSignals(
        n_chars=len(text),
        n_words=len(words),
        n_links=len(link_list),
        n_bare_links=bare,
        n_shortened=sum(1 for d in domains if d in SHORTENERS),
        domains=domains,
        n_mentions=n_mentions if n_mentions is not None else folded.count("_at_"),
        n_hashtags=n_hashtags if n_hashtags is not None else text.count("#"),
        cta=cta,
        generic_praise=is_generic_praise(words),
        caps_share=caps,
        n_exclaims=text.count("!"),
        n_emoji=0 if text.isascii() else len(_EMOJI.findall(text)),
        has_phone=digits >= 8 and bool(_PHONE.search(text)),
        has_money=(digits > 0 or not _MONEY_CUES.isdisjoint(word_set) or "$" in text or "€" in text or "£" in text)
        and bool(_MONEY.search(text)),
        n_artefacts=n_artefacts,
        echo=echo,
    )


class KeywordMatcher:
    """Finds watched keywords in folded text, at a word start ('vacuums' matches 'vacuum').

    Keywords are folded like the text, so 'Café' matches 'cafe' and '#Vacuum' matches 'vacuum'.
    """

    def __init__(self, keywords: Iterable[str]) -> None:
        folded = {fold(k.lstrip("#")).strip(): k for k in keywords}
        self.keywords: dict[str, str] = {k: v for k, v in folded.items() if k}
        alternatives = "|".join(re.escape(k) for k in sorted(self.keywords, key=len, reverse=True))
        self._pattern = re.compile(rf"(?<![a-z])(?:{alternatives})") if alternatives else None

    def first(self, folded: str) -> str | None:
        """The watched keyword (as configured) that the text mentions first, if any."""
        if self._pattern is None:
            return None
        match = self._pattern.search(folded)
        return None if match is None else self.keywords[match.group(0)]

    def __bool__(self) -> bool:
        return self._pattern is not None
