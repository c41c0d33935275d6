"""Behaviour signals: what an account's replies look like together, kept as a bounded state.

One reply says little; a script shows in the pattern: it answers within seconds, answers people
it never talked to, answers them because their post mentioned a keyword, and says the same thing
each time. :class:`AccountActivity` accumulates that pattern reply by reply
(:meth:`AccountActivity.add`), so the service can update it as replies arrive and store it as
JSON between polls (:meth:`~AccountActivity.to_json`), and ``botwatch score`` can build it in one
pass over an archive. It is bounded: histograms, sketches and capped lists, never every reply.

:func:`behaviour_vector` turns a state into the numbers the account model reads, and
:class:`ReplySignals` is one reply's contribution, kept small enough to spill to disk.
"""

from __future__ import annotations

import bisect
import math
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Sequence

from detector.features.sketches import DistinctSketch, TopCounts
from detector.features.templates import NEAR, same_template, template_preview
from detector.records import ParentInfo, Post

# --- time and latency ------------------------------------------------------------------------

_MASTODON_EPOCH_MS = 1_451_606_400_000  # 2016-01-01: no Snowflake id is older than Mastodon
_SNOWFLAKE_TOLERANCE_MS = 5 * 60 * 1000


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def snowflake_ms(status_id: str | None) -> int | None:
    """Creation time (ms since the epoch) encoded in a Mastodon Snowflake id, if it is one."""
    if not status_id or not status_id.isdigit() or len(status_id) > 20:
        return None
    ms = int(status_id) >> 16
    return ms if ms >= _MASTODON_EPOCH_MS else None


def issues_snowflakes(post: Post) -> bool:
    """Whether ``post``'s own id decodes to its creation time, i.e. its server uses Snowflakes.

    Older servers, other platforms and some archives use sequential ids; decoding those would
    give nonsense, so the parent's id is only trusted when the reply's own id checks out.
    """
    ms = snowflake_ms(post.id)
    return ms is not None and abs(ms - to_ms(post.created_at)) <= _SNOWFLAKE_TOLERANCE_MS


def reply_latency(reply: Post, parent_ms: int | None) -> tuple[float | None, str | None]:
    """Seconds from the parent post to the reply, and where the parent's time came from.

    The parent's own timestamp (``parent_ms``) when known; else its Snowflake id
    (``"snowflake"``), if the reply's server issues Snowflakes and the decoded time is not after
    the reply. Negative differences within clock skew count as 0.
    """
    reply_ms = to_ms(reply.created_at)
    if parent_ms is not None:
        return max(reply_ms - parent_ms, 0) / 1000.0, "parent"
    parent_ms = snowflake_ms(reply.parent_id)
    if parent_ms is None or not issues_snowflakes(reply) or parent_ms > reply_ms + _SNOWFLAKE_TOLERANCE_MS:
        return None, None
    return max(reply_ms - parent_ms, 0) / 1000.0, "snowflake"


# Latency histogram edges in seconds, chosen to read well in reasons ("within 30 s").
LATENCY_EDGES = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 10800, 43200, 86400)
_N_BINS = len(LATENCY_EDGES) + 1


def latency_bin(seconds: float) -> int:
    """Index of the first edge above ``seconds`` (``len(LATENCY_EDGES)`` past the last)."""
    return bisect.bisect_right(LATENCY_EDGES, seconds)


def histogram_quantile(hist: Sequence[int], q: float) -> float | None:
    """Quantile of a latency histogram, interpolated geometrically inside the bin."""
    total = sum(hist)
    if not total:
        return None
    target = q * total
    seen = 0.0
    for i, count in enumerate(hist):
        if count and seen + count >= target:
            low = LATENCY_EDGES[i - 1] if i > 0 else 0.25
            high = LATENCY_EDGES[i] if i < len(LATENCY_EDGES) else LATENCY_EDGES[-1] * 4
            frac = (target - seen) / count
            return low * (high / low) ** frac
        seen += count
    return float(LATENCY_EDGES[-1])


def share_below(hist: Sequence[int], seconds: int) -> float | None:
    """Share of the histogram below an edge of :data:`LATENCY_EDGES`."""
    total = sum(hist)
    if not total:
        return None
    return sum(hist[: LATENCY_EDGES.index(seconds) + 1]) / total


# --- one reply -------------------------------------------------------------------------------

PARENT_TERMS = 12
_MENTIONED = re.compile(r"(?<![\w@])@([\w.\-]+)")


@dataclass(frozen=True, slots=True)
class ParentSummary:
    """What scoring needs of a parent post, small enough to keep for many posts at once.

    ``terms`` are its topic words (hashtags first, then the longest words, at most
    :data:`PARENT_TERMS`, interned); ``handles`` the lower-case handles it mentions, which tell an
    answer to someone who asked from an intrusion.
    """

    id: str
    created_ms: int | None
    author_id: str | None
    keyword: str | None
    terms: tuple[str, ...]
    handles: tuple[str, ...]


def summarise_parent(parent: ParentInfo, folded: str, keyword: str | None, terms: Iterable[str]) -> ParentSummary:
    """A :class:`ParentSummary` from a parent, its folded text, the keyword it mentions and its topic words."""
    # Longest first, ties alphabetical: two sorts in C (the second is stable) instead of a key function per word.
    longest_first = sorted(sorted(terms), key=len, reverse=True)
    ranked = tuple(map(sys.intern, list(dict.fromkeys([*parent.hashtags, *longest_first]))[:PARENT_TERMS]))
    handles = ()
    if "@" in parent.text:
        handles = tuple(dict.fromkeys(m.split("@", 1)[0].lower() for m in _MENTIONED.findall(parent.text)))
    created = None if parent.created_at is None else to_ms(parent.created_at)
    return ParentSummary(parent.id, created, parent.author_id, keyword, ranked, handles)


@dataclass(frozen=True, slots=True)
class ParentFacts:
    """What the parent's text says about why the reply was written (known only with its text)."""

    keyword: str | None  # the watched keyword the parent mentioned
    solicited: bool  # the parent addressed the replier (@handle): an answer, not an intrusion
    terms: tuple[str, ...]  # topic words of the parent, for topic concentration
    echo: float  # share of the parent's topic words the reply repeats


@dataclass(slots=True)
class ReplySignals:
    """One reply's signals: what :meth:`AccountActivity.add` folds in and a reply verdict reads.

    Treat it as read-only. It is not ``frozen`` because a frozen dataclass's ``__init__`` sets
    each of the 19 fields through ``object.__setattr__`` (2.6 us against 0.3 us), and
    ``botwatch score`` builds one per reply twice (when reading it, when reading it back).
    """

    reply_id: str
    account_id: str
    created_ms: int
    parent_id: str | None
    parent_author_id: str | None
    self_reply: bool
    latency_s: float | None
    latency_source: str | None
    parent: ParentFacts | None
    content_logodds: float
    content_terms: tuple[str, ...]  # words that pushed the content score up most
    n_links: int
    n_shortened: int
    n_bare_links: int
    domains: tuple[str, ...]
    cta: tuple[str, ...]
    generic_praise: bool
    fingerprint: int
    text: str  # the reply's text (cut at 280 characters), for templates shown as evidence

    @property
    def keyword(self) -> str | None:
        return None if self.parent is None else self.parent.keyword

    def to_row(self) -> tuple[Any, ...]:
        """A compact JSON row (what ``botwatch score`` spills to disk between its passes).

        Tuples as they are: JSON writes them as arrays, and copying them to lists cost more
        than writing the row.
        """
        parent = None if self.parent is None else (self.parent.keyword, self.parent.solicited, self.parent.terms, self.parent.echo)
        return (
            self.reply_id, self.account_id, self.created_ms, self.parent_id, self.parent_author_id, self.self_reply,
            self.latency_s, self.latency_source, parent, self.content_logodds, self.content_terms, self.n_links,
            self.n_shortened, self.n_bare_links, self.domains, self.cta, self.generic_praise,
            self.fingerprint, self.text,
        )  # fmt: skip

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> "ReplySignals":
        parent = None if row[8] is None else ParentFacts(row[8][0], row[8][1], tuple(row[8][2]), row[8][3])
        return cls(
            row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], parent, row[9], tuple(row[10]),
            row[11], row[12], row[13], tuple(row[14]), tuple(row[15]), row[16], row[17], row[18],
        )  # fmt: skip


# --- one account -----------------------------------------------------------------------------

STATE_VERSION = 1
MAX_TEMPLATES = 12
MAX_SAMPLES = 5
_TEMPLATE_CHARS = 160


@dataclass
class Template:
    """A template an account reused: its fingerprint, how often, one wording and a few replies."""

    fingerprint: int
    count: int
    text: str
    reply_ids: list[str]


@dataclass
class AccountActivity:
    """An account's replies, summarised in bounded space (see the module docstring).

    ``replies`` counts replies to other people; replies to oneself (threads) only count in
    ``self_replies``, because a person writing a thread is fast and on one topic by nature.
    """

    replies: int = 0
    self_replies: int = 0
    watched: int = 0  # replies observed with watched keywords (else the trigger share is unknown)
    first_ms: int | None = None
    last_ms: int | None = None
    latency_hist: list[int] = field(default_factory=lambda: [0] * _N_BINS)
    triggered_latency_hist: list[int] = field(default_factory=lambda: [0] * _N_BINS)
    snowflake_latencies: int = 0
    targets: DistinctSketch = field(default_factory=DistinctSketch)
    triggered_targets: DistinctSketch = field(default_factory=DistinctSketch)
    with_parent_text: int = 0
    triggered: int = 0
    solicited: int = 0
    echo_sum: float = 0.0
    keywords: TopCounts = field(default_factory=lambda: TopCounts(8))
    parent_terms: TopCounts = field(default_factory=lambda: TopCounts(32))
    content_sum: float = 0.0
    content_positive: int = 0
    content_terms: TopCounts = field(default_factory=lambda: TopCounts(12))
    with_link: int = 0
    shortened: int = 0
    bare_links: int = 0
    domains: TopCounts = field(default_factory=lambda: TopCounts(8))
    with_cta: int = 0
    praise: int = 0
    templates: list[Template] = field(default_factory=list)
    gap_n: int = 0
    gap_mean: float = 0.0
    gap_m2: float = 0.0
    hours: list[int] = field(default_factory=lambda: [0] * 24)
    samples: list[str] = field(default_factory=list)
    fastest: list[tuple[float, str]] = field(default_factory=list)

    def add(self, s: ReplySignals, *, watched: bool = False) -> int:
        """Fold one reply in; returns how many replies (this one included) share its template.

        ``watched``: the reply was observed with watched keywords, so a parent not mentioning
        one counts as "not triggered" rather than "unknown".
        """
        if s.self_reply:
            self.self_replies += 1
            return 0
        self.replies += 1
        self.watched += watched
        self._add_time(s.created_ms)
        if s.parent_author_id is not None:
            self.targets.add(s.parent_author_id)
        if s.latency_s is not None:
            self.latency_hist[latency_bin(s.latency_s)] += 1
            self.snowflake_latencies += s.latency_source == "snowflake"
            if len(self.fastest) < MAX_SAMPLES or s.latency_s < self.fastest[-1][0]:
                bisect.insort(self.fastest, (s.latency_s, s.reply_id))
                del self.fastest[MAX_SAMPLES:]
        if s.parent is not None:
            self.add_parent(s.parent, s.parent_author_id, s.latency_s)
        self.content_sum += s.content_logodds
        self.content_positive += s.content_logodds > 0
        for term in s.content_terms[:3]:
            self.content_terms.add(term)
        self.with_link += s.n_links > 0
        self.shortened += s.n_shortened > 0
        self.bare_links += s.n_bare_links > 0
        for domain in s.domains[:3]:
            self.domains.add(domain)
        self.with_cta += bool(s.cta)
        self.praise += s.generic_praise
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(s.reply_id)
        return self._add_template(s)

    def add_parent(self, facts: ParentFacts, parent_author_id: str | None, latency_s: float | None) -> None:
        """Fold in what a reply's parent says; separate so a parent found later can still count."""
        self.with_parent_text += 1
        self.solicited += facts.solicited
        self.echo_sum += facts.echo
        for term in facts.terms:
            self.parent_terms.add(term)
        if facts.keyword is not None:
            self.triggered += 1
            self.keywords.add(facts.keyword)
            if parent_author_id is not None:
                self.triggered_targets.add(parent_author_id)
            if latency_s is not None:
                self.triggered_latency_hist[latency_bin(latency_s)] += 1

    def _add_time(self, ms: int) -> None:
        if self.last_ms is not None and ms >= self.last_ms:
            gap = math.log1p((ms - self.last_ms) / 1000.0)
            self.gap_n += 1
            delta = gap - self.gap_mean
            self.gap_mean += delta / self.gap_n
            self.gap_m2 += delta * (gap - self.gap_mean)
        self.first_ms = ms if self.first_ms is None else min(self.first_ms, ms)
        self.last_ms = ms if self.last_ms is None else max(self.last_ms, ms)
        self.hours[(ms // 3_600_000) % 24] += 1

    def _add_template(self, s: ReplySignals) -> int:
        fingerprint = s.fingerprint
        if not fingerprint:
            return 0
        templates = self.templates
        for i, template in enumerate(templates):
            # same_template(), inlined: this runs for every reply against each of its account's templates.
            if template.fingerprint and (template.fingerprint ^ fingerprint).bit_count() <= NEAR:
                template.count += 1
                if len(template.reply_ids) < 3:
                    template.reply_ids.append(s.reply_id)
                while i and templates[i - 1].count < template.count:  # keep most used first
                    templates[i - 1], templates[i] = template, templates[i - 1]
                    i -= 1
                return template.count
        if len(self.templates) >= MAX_TEMPLATES:
            # Full: a new wording replaces one used once, or is not tracked (counts never overstated).
            if self.templates[-1].count > 1:
                return 1
            self.templates.pop()
        self.templates.append(Template(s.fingerprint, 1, template_preview(s.text, _TEMPLATE_CHARS), [s.reply_id]))
        return 1

    # --- derived quantities, used by the model and by reasons ---

    def top_template(self) -> Template | None:
        return self.templates[0] if self.templates else None

    def latency_quantile(self, q: float) -> float | None:
        return histogram_quantile(self.latency_hist, q)

    def gap_spread(self) -> float | None:
        """Standard deviation of log inter-reply gaps: small means clockwork posting."""
        return math.sqrt(self.gap_m2 / (self.gap_n - 1)) if self.gap_n >= 3 else None

    def hour_entropy(self) -> float | None:
        """Entropy (bits) of replies over the hours of the day; up to 4.58 for round-the-clock."""
        total = sum(self.hours)
        if total < 6:
            return None
        return -sum(c / total * math.log2(c / total) for c in self.hours if c)

    # --- persistence ---

    def to_json(self) -> dict[str, Any]:
        return {
            "v": STATE_VERSION,
            "replies": self.replies, "self_replies": self.self_replies, "watched": self.watched, "first_ms": self.first_ms,
            "last_ms": self.last_ms, "latency_hist": self.latency_hist,
            "triggered_latency_hist": self.triggered_latency_hist, "snowflake_latencies": self.snowflake_latencies,
            "targets": self.targets.to_json(), "triggered_targets": self.triggered_targets.to_json(),
            "with_parent_text": self.with_parent_text, "triggered": self.triggered, "solicited": self.solicited,
            "echo_sum": self.echo_sum, "keywords": self.keywords.to_json(), "parent_terms": self.parent_terms.to_json(),
            "content_sum": self.content_sum, "content_positive": self.content_positive,
            "content_terms": self.content_terms.to_json(), "with_link": self.with_link, "shortened": self.shortened,
            "bare_links": self.bare_links, "domains": self.domains.to_json(), "with_cta": self.with_cta,
            "praise": self.praise,
            "templates": [[t.fingerprint, t.count, t.text, t.reply_ids] for t in self.templates],
            "gap": [self.gap_n, self.gap_mean, self.gap_m2], "hours": self.hours, "samples": self.samples,
            "fastest": [list(f) for f in self.fastest],
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: Any) -> "AccountActivity":
        """Rebuild a state saved by :meth:`to_json`; ``ValueError`` naming the field if it is not one."""
        if not isinstance(data, dict):
            raise ValueError("account activity: expected a JSON object")
        if data.get("v") != STATE_VERSION:
            raise ValueError(f"account activity: state version {data.get('v')!r}, this botwatch reads {STATE_VERSION}")
        key = "?"
        try:
            key = "templates"
            templates = [Template(int(f), int(c), str(t), [str(r) for r in ids]) for f, c, t, ids in data["templates"]]
            key = "gap"
            gap_n, gap_mean, gap_m2 = data["gap"]
            key = "fastest"
            fastest = [(float(s), str(r)) for s, r in data["fastest"]]
            activity = cls(
                templates=templates, gap_n=int(gap_n), gap_mean=float(gap_mean), gap_m2=float(gap_m2), fastest=fastest
            )
            for key in ("replies", "self_replies", "watched", "snowflake_latencies", "with_parent_text", "triggered",
                        "solicited", "content_positive", "with_link", "shortened", "bare_links", "with_cta", "praise"):  # fmt: skip
                setattr(activity, key, _int(data[key]))
            for key in ("first_ms", "last_ms"):
                setattr(activity, key, None if data[key] is None else _int(data[key]))
            for key in ("echo_sum", "content_sum"):
                setattr(activity, key, float(data[key]))
            for key, size in (("latency_hist", _N_BINS), ("triggered_latency_hist", _N_BINS), ("hours", 24)):
                setattr(activity, key, _counts(data[key], size))
            for key in ("targets", "triggered_targets"):
                setattr(activity, key, DistinctSketch.from_json(data[key]))
            for key, size in (("keywords", 8), ("parent_terms", 32), ("content_terms", 12), ("domains", 8)):
                setattr(activity, key, TopCounts.from_json(data[key], size))
            key = "samples"
            activity.samples = [str(r) for r in data["samples"]][:MAX_SAMPLES]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"account activity: field {key!r} is missing or malformed ({exc})") from None
        return activity

    def merge(self, other: "AccountActivity") -> None:
        """Fold in another state of the same account (e.g. built from another archive)."""
        for key in ("replies", "self_replies", "watched", "snowflake_latencies", "with_parent_text", "triggered", "solicited",
                    "content_positive", "with_link", "shortened", "bare_links", "with_cta", "praise",
                    "echo_sum", "content_sum"):  # fmt: skip
            setattr(self, key, getattr(self, key) + getattr(other, key))
        for key in ("latency_hist", "triggered_latency_hist", "hours"):
            setattr(self, key, [a + b for a, b in zip(getattr(self, key), getattr(other, key))])
        for key in ("targets", "triggered_targets", "keywords", "parent_terms", "content_terms", "domains"):
            getattr(self, key).merge(getattr(other, key))
        if other.first_ms is not None:
            self.first_ms = other.first_ms if self.first_ms is None else min(self.first_ms, other.first_ms)
            self.last_ms = other.last_ms if self.last_ms is None else max(self.last_ms, other.last_ms)  # type: ignore[type-var]
        # Pooled variance of the two gap samples (Chan et al.).
        n = self.gap_n + other.gap_n
        if n:
            delta = other.gap_mean - self.gap_mean
            self.gap_m2 += other.gap_m2 + delta * delta * self.gap_n * other.gap_n / n
            self.gap_mean += delta * other.gap_n / n
            self.gap_n = n
        for template in other.templates:
            match = next((t for t in self.templates if same_template(t.fingerprint, template.fingerprint)), None)
            if match is None:
                self.templates.append(Template(template.fingerprint, template.count, template.text, list(template.reply_ids)))
            else:
                match.count += template.count
                match.reply_ids = (match.reply_ids + template.reply_ids)[:3]
        self.templates.sort(key=lambda t: -t.count)
        del self.templates[MAX_TEMPLATES:]
        self.samples = (self.samples + other.samples)[:MAX_SAMPLES]
        self.fastest = sorted(self.fastest + other.fastest)[:MAX_SAMPLES]


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected an integer, got {value!r}")
    return value


def _counts(value: Any, size: int) -> list[int]:
    if not isinstance(value, list) or len(value) != size:
        raise ValueError(f"expected {size} counts")
    return [_int(v) for v in value]


# --- account-level features ------------------------------------------------------------------

BEHAVIOUR_FEATURES = (
    "log_replies",
    "latency_median_log",
    "fast_share",
    "latency_spread",
    "targets_per_reply",
    "trigger_share",
    "topic_concentration",
    "template_repeat",
    "coordination",
    "link_share",
    "shortened_share",
    "top_domain_share",
    "cta_share",
    "praise_share",
    "echo_mean",
    "solicited_share",
    "content_mean",
    "content_positive_share",
    "gap_spread",
    "hour_entropy",
)
NAN = float("nan")


def _ratio(num: float, den: float) -> float:
    return num / den if den else NAN


# Shares of an account's replies are shrunk towards a typical value with this many pseudo-replies,
# so that one or two replies cannot look as extreme as a hundred ("0 of 1 replies answered someone
# who asked" is weak evidence; "0 of 40" is strong). Priors: rough shares over all replying accounts.
PSEUDO_REPLIES = 2.0
_PRIOR = {"fast": 0.2, "trigger": 0.2, "topic": 0.3, "link": 0.3, "shortened": 0.05, "cta": 0.15, "praise": 0.1,
          "solicited": 0.3, "content_positive": 0.3}  # fmt: skip


def _shrunk(num: float, den: float, prior: str) -> float:
    return (num + PSEUDO_REPLIES * _PRIOR[prior]) / (den + PSEUDO_REPLIES) if den else NAN


def behaviour_vector(activity: AccountActivity, *, coordinated_accounts: int = 0) -> list[float]:
    """The account model's behaviour inputs, in :data:`BEHAVIOUR_FEATURES` order (NaN = unknown).

    Without watched keywords (``activity.watched == 0``) the trigger share is unknown and topic
    concentration stands in for it.
    """
    a = activity
    n = a.replies
    median = a.latency_quantile(0.5)
    q25, q75 = a.latency_quantile(0.25), a.latency_quantile(0.75)
    top = a.top_template()
    top_domain = a.domains.most()
    top_term = a.parent_terms.most()
    spread = a.gap_spread()
    entropy = a.hour_entropy()
    timed = sum(a.latency_hist)
    fast = sum(a.latency_hist[: LATENCY_EDGES.index(60) + 1])
    return [
        math.log1p(n),
        NAN if median is None else math.log1p(median),
        _shrunk(fast, timed, "fast"),
        NAN if q25 is None or q75 is None or sum(a.latency_hist) < 3 else math.log1p(q75) - math.log1p(q25),
        _ratio(min(a.targets.estimate(), n), n),
        _shrunk(a.triggered, a.with_parent_text, "trigger") if a.watched else NAN,
        NAN if top_term is None else _shrunk(top_term[1], a.with_parent_text, "topic"),
        NAN if top is None or n < 2 else (top.count - 1) / (n - 1),
        math.log1p(coordinated_accounts),
        _shrunk(a.with_link, n, "link"),
        _shrunk(a.shortened, n, "shortened"),
        NAN if top_domain is None else _ratio(top_domain[1], a.with_link),
        _shrunk(a.with_cta, n, "cta"),
        _shrunk(a.praise, n, "praise"),
        _ratio(a.echo_sum, a.with_parent_text),
        _shrunk(a.solicited, a.with_parent_text, "solicited"),
        _ratio(a.content_sum, n),
        _shrunk(a.content_positive, n, "content_positive"),
        NAN if spread is None else spread,
        NAN if entropy is None else entropy,
    ]


def parent_facts(reply_terms: set[str] | frozenset[str], parent: ParentSummary, replier_handle: str) -> ParentFacts:
    """What a parent post says about a reply to it (see :class:`ParentFacts`).

    ``reply_terms`` are the reply's :func:`~detector.features.text.topic_words`.
    """
    terms = parent.terms
    echo = sum(1 for t in terms if t in reply_terms) / len(terms) if terms else 0.0
    solicited = replier_handle.lower() in parent.handles
    return ParentFacts(keyword=parent.keyword, solicited=solicited, terms=terms[:8], echo=echo)
