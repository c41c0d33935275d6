"""Reasons: the signals that moved a score, as sentences with numbers a person can check.

The account model is a sum of one curve per feature (see ``trees``), so each feature's part of
the score is exact. Parts are pooled into a few themes (speed, targets, template, ...), and each
theme that pushed the score by at least :data:`MIN_WEIGHT` log-odds becomes one sentence quoting
the evidence behind it: counts from the account's activity, never the model's internals. Every
number is a count the activity holds exactly (distinct people beyond 128 are estimated, and
say "about").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from detector.features.account import ProfileSnapshot
from detector.features.behaviour import LATENCY_EDGES, AccountActivity, histogram_quantile, share_below
from detector.features.coordination import Coordination
from detector.wording import count, number, share, verb

MIN_WEIGHT = 0.3  # log-odds a theme must move the score by to be worth a sentence


def duration(seconds: float) -> str:
    """'40 s', '12 min', '3 h', '2 days', '4 years': what a person would say."""
    if seconds < 90:
        return f"{max(round(seconds), 1)} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} h"
    days = seconds / 86400
    if days < 2:
        return "1 day"
    if days < 730:
        return f"{round(days)} days"
    return f"{round(days / 365.25)} years"


@dataclass(frozen=True)
class AccountContext:
    """Everything a sentence may quote about one account."""

    activity: AccountActivity
    profile: ProfileSnapshot
    profile_parts: Mapping[str, float]  # the profile model's own per-feature parts
    age_at_first_reply_days: float | None
    coordination: Coordination
    display_name: str
    name_keyword: str | None


def _latency(c: AccountContext, up: bool) -> str | None:
    a = c.activity
    n = sum(a.latency_hist)
    median = histogram_quantile(a.latency_hist, 0.5)
    if median is None:
        return None
    if n == 1 and a.fastest:
        median = a.fastest[0][0]  # one reply: its exact latency, not the histogram's estimate
    typical = "" if n == 1 else "a median "
    if not up:
        return f"answers {typical}{duration(median)} after the post it replies to, like people do ({count(n, 'reply', 'replies')} timed)"
    fast = sum(a.latency_hist[: LATENCY_EDGES.index(60) + 1])
    text = f"replied {typical}{duration(median)} after the post it answered"
    if fast and n > 1:
        text += f"; {share(fast, n)} within a minute"
    if a.fastest and n > 1:
        text += f" (fastest {duration(a.fastest[0][0])})"
    return text


def _targets(c: AccountContext, up: bool) -> str | None:
    a = c.activity
    people = a.targets.estimate()
    about = "about " if len(a.targets.hashes) >= a.targets.k else ""
    keyword = a.keywords.most()
    if up and keyword is not None and a.triggered:
        triggered_people = a.triggered_targets.estimate()
        q90 = histogram_quantile(a.triggered_latency_hist, 0.9)
        within = f" within {duration(q90)}" if q90 is not None else ""
        posts = "their posts" if a.triggered > 1 else "a post"
        return (
            f"replied to {about}{count(triggered_people, 'person', 'people')}{within} of {posts} mentioning '{keyword[0]}' "
            f"({share(a.triggered, a.with_parent_text, 'reply with a known parent', 'replies with a known parent')} "
            f"{verb(a.triggered, 'was', 'were')} to such a post)"
        )
    term = a.parent_terms.most()
    if up and term is not None and a.with_parent_text >= 3 and term[1] / a.with_parent_text >= 0.5:
        return f"{share(term[1], a.with_parent_text, 'post', 'posts')} it answered {verb(term[1], 'was', 'were')} about '{term[0]}'"
    if up and a.replies >= 3:
        return f"replied to {about}{count(people, 'person', 'different people')} in {count(a.replies, 'reply', 'replies')}"
    if not up and a.replies >= 3 and people <= 0.6 * a.replies:
        return f"talks with a small circle: {about}{count(people, 'person', 'people')} in {count(a.replies, 'reply', 'replies')}"
    return None


def _template(c: AccountContext, up: bool) -> str | None:
    top = c.activity.top_template()
    if up and top is not None and top.count >= 2:
        return f"same template in {share(top.count, max(c.activity.replies, top.count))}: “{top.text}”"
    if not up and c.activity.replies >= 3:
        return f"words each reply differently ({count(c.activity.replies, 'reply', 'replies')})"
    return None


def _coordination(c: AccountContext, up: bool) -> str | None:
    co = c.coordination
    if not up or not co.count:
        return None
    shown = ", ".join(co.accounts[:3]) + (" …" if co.count > 3 else "")
    return f"posts the same template as {count(co.count, 'other account', 'other accounts')} ({shown}): “{co.template}”"


def _links(c: AccountContext, up: bool) -> str | None:
    a = c.activity
    if not up or not (a.with_link or a.bare_links):
        return None
    parts = []
    if a.with_link:
        text = f"{share(a.with_link, a.replies)} {verb(a.with_link, 'carries', 'carry')} a link"
        top = a.domains.most()
        if top is not None:
            text += f" to {top[0]}" if top[1] >= a.with_link else f", {number(top[1])} of them to {top[0]}"
        if a.shortened:
            text += f" ({number(a.shortened)} through a link shortener)"
        parts.append(text)
    if a.bare_links:
        parts.append(f"{share(a.bare_links, a.replies)} {verb(a.bare_links, 'spells', 'spell')} a link out to get past filters")
    return "; ".join(parts)


def _pitch(c: AccountContext, up: bool) -> str | None:
    a = c.activity
    if not up or not a.with_cta:
        return None
    return f"{share(a.with_cta, a.replies)} {verb(a.with_cta, 'contains', 'contain')} a call to action"


def _praise(c: AccountContext, up: bool) -> str | None:
    a = c.activity
    if up and a.praise:
        text = f"{share(a.praise, a.replies)} {verb(a.praise, 'is', 'are')} generic praise that would fit any post"
        if a.with_parent_text:
            text += f" (repeating {100 * a.echo_sum / a.with_parent_text:.0f}% of the parent's topic words on average)"
        return text
    if not up and a.with_parent_text >= 3:
        return f"its replies pick up the parent's topic ({100 * a.echo_sum / a.with_parent_text:.0f}% of its words on average)"
    return None


def _solicited(c: AccountContext, up: bool) -> str | None:
    a = c.activity
    if up or not a.solicited:
        return None
    return f"{share(a.solicited, max(a.with_parent_text, a.solicited))} {verb(a.solicited, 'answers', 'answer')} a post that addressed it by name"


def _content(c: AccountContext, up: bool) -> str | None:
    a = c.activity
    if not up or not a.content_positive:
        return None
    words = ", ".join(f"'{w}'" for w, _ in a.content_terms.top(3))
    return f"wording typical of spam in {share(a.content_positive, a.replies)}" + (f" ({words})" if words else "")


def _timing(c: AccountContext, up: bool) -> str | None:
    a = c.activity
    if not up:
        return None
    hours = sum(1 for h in a.hours if h)
    if sum(a.hours) >= 6 and hours >= 20:
        return f"active around the clock: replies in {hours} of the 24 hours of the day"
    spread = a.gap_spread()
    if spread is not None:
        return f"replies at regular intervals ({count(a.gap_n + 1, 'reply', 'replies')})"
    return None


def _age(c: AccountContext, up: bool) -> str | None:
    age = c.age_at_first_reply_days
    if age is None:
        return None
    if up:
        return f"account {duration(age * 86400)} old when it first replied"
    return f"account {duration(age * 86400)} old"


def _follows(p: ProfileSnapshot) -> str | None:
    """'2,100 followers, 580 following' (Mastodon's own words); a count the server hid is left out."""
    parts = []
    if p.followers is not None:
        parts.append(count(p.followers, "follower", "followers"))
    if p.following is not None:
        parts.append(f"{number(p.following)} following")
    return ", ".join(parts) or None


_PROFILE_FACTS: dict[str, Callable[[ProfileSnapshot], str | None]] = {
    "log_age_days": lambda p: None if p.age_days is None else f"account {duration(p.age_days * 86400)} old",
    "log_statuses": lambda p: None if p.statuses is None else f"{count(p.statuses, 'post', 'posts')} in total",
    "log_followers": lambda p: _follows(p),
    "log_following": lambda p: _follows(p),
    "follow_balance": lambda p: _follows(p),
    "log_statuses_per_day": lambda p: None if p.statuses_per_day is None else f"{p.statuses_per_day:.1f} posts a day",
    "default_avatar": lambda p: "default avatar" if p.default_avatar else None,
    "empty_bio": lambda p: "empty bio" if p.empty_bio else None,
    "bio_has_link": lambda p: "bio is a link" if p.bio_has_link else None,
    "handle_digit_run": lambda p: f"handle ends in a run of {p.handle_digit_run} digits" if p.handle_digit_run >= 3 else None,
    "name_is_handle": lambda p: "no display name of its own" if p.name_is_handle else None,
    "brand_like_name": lambda p: "named like a business" if p.brand_like_name else None,
}


def _profile(c: AccountContext, up: bool) -> str | None:
    ranked = sorted(c.profile_parts.items(), key=lambda kv: -kv[1] if up else kv[1])
    facts = []
    for feature, part in ranked:
        if (part > 0.2) if up else (part < -0.2):
            fact = _PROFILE_FACTS.get(feature, lambda p: None)(c.profile)
            if fact and fact not in facts:
                facts.append(fact)
        if len(facts) == 3:
            break
    if not facts:
        return None
    return ("profile typical of spam accounts: " if up else "profile typical of genuine accounts: ") + ", ".join(facts)


def _bot_flag(c: AccountContext, up: bool) -> str | None:
    if not c.profile.bot_flag:
        return None
    return "declares itself a bot" if up else "declares itself a bot, as benign automated accounts do"


def _name(c: AccountContext, up: bool) -> str | None:
    if not up:
        return None
    if c.name_keyword:
        return f"its name contains the watched keyword '{c.name_keyword}' ({c.display_name or 'handle'})"
    if c.profile.brand_like_name:
        return f"named like a business ({c.display_name})"
    return None


@dataclass(frozen=True)
class Theme:
    features: tuple[str, ...]
    sentence: Callable[[AccountContext, bool], str | None]


THEMES: tuple[Theme, ...] = (
    Theme(("latency_median_log", "fast_share", "latency_spread"), _latency),
    Theme(("targets_per_reply", "trigger_share", "topic_concentration", "log_replies"), _targets),
    Theme(("template_repeat",), _template),
    Theme(("coordination",), _coordination),
    Theme(("link_share", "shortened_share", "top_domain_share"), _links),
    Theme(("cta_share",), _pitch),
    Theme(("praise_share", "echo_mean"), _praise),
    Theme(("solicited_share",), _solicited),
    Theme(("content_mean", "content_positive_share"), _content),
    Theme(("gap_spread", "hour_entropy"), _timing),
    Theme(("profile_logodds",), _profile),
    Theme(("log_age_days",), _age),
    Theme(("bot_flag",), _bot_flag),
    Theme(("brand_like_name", "name_has_keyword"), _name),
)


def account_reasons(parts: Mapping[str, float], context: AccountContext, *, flagged: bool, limit: int = 4) -> list[str]:
    """Sentences for the themes that pushed the score most: up for a flag, down for a clearance."""
    sign = 1.0 if flagged else -1.0
    weighted = sorted(((sign * sum(parts.get(f, 0.0) for f in t.features), t) for t in THEMES), key=lambda wt: -wt[0])
    out = []
    for weight, theme in weighted:
        if weight < MIN_WEIGHT or len(out) >= limit:
            break
        sentence = theme.sentence(context, flagged)
        if sentence:
            out.append(sentence)
    if not out:
        out.append("no signal stands out" if not flagged else "many weak signals together")
    return out


def account_evidence(context: AccountContext) -> dict[str, object]:
    """The facts behind the reasons, for reports and triage: ids a person can open."""
    a = context.activity
    top = a.top_template()
    keyword = a.keywords.most()
    median = histogram_quantile(a.latency_hist, 0.5)
    evidence: dict[str, object] = {
        "sample_reply_ids": list(a.samples),
        "distinct_people": round(a.targets.estimate()),
        "median_latency_s": None if median is None else round(median, 1),
    }
    fast = share_below(a.latency_hist, 60)
    if fast is not None:
        evidence["share_within_60s"] = round(fast, 3)
    if a.fastest:
        evidence["fastest_reply_ids"] = [r for _, r in a.fastest]
    if keyword is not None:
        evidence["trigger_keyword"] = keyword[0]
        evidence["triggered_replies"] = a.triggered
    if top is not None and top.count >= 2:
        evidence["template"] = top.text
        evidence["template_count"] = top.count
        evidence["template_reply_ids"] = list(top.reply_ids)
    if context.coordination.count:
        evidence["coordinated_with"] = list(context.coordination.accounts[:10])
    domain = a.domains.most()
    if domain is not None:
        evidence["top_link_domain"] = domain[0]
    if context.age_at_first_reply_days is not None:
        evidence["age_days_at_first_reply"] = round(context.age_at_first_reply_days, 2)
    return evidence
