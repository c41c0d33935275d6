"""Simulated communities as labelled training and evaluation data.

The behaviour of a keyword-triggered auto-replier (latency, who it answers, templates across
many targets) exists in none of the third-party sets, so the account model learns it from the
project's simulated Mastodon community (``detector.mastodon_server.community``), replayed through
the very code that scores real archives (:class:`~detector.classifier.replay.Replay`).

Seeds are split once and for all: :data:`TRAIN_SEEDS` fit the account model,
:data:`CALIBRATION_SEEDS` fit its calibration, the reply model and the thresholds, and
:data:`EVALUATION_SEEDS` are only ever scored, so the model card's simulated numbers come from
communities no part of the model has seen.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Sequence

from detector.classifier.detector import Detector, post_text
from detector.classifier.replay import Replay
from detector.features.behaviour import AccountActivity, from_ms
from detector.features.text import KeywordMatcher, fold
from detector.mastodon_server.community import Community, Delay, SimParams, simulate
from detector.normalise.mastodon import normalise_status
from detector.records import Post

TRAIN_SEEDS = (1101, 1102, 1103, 1104, 1105, 1106)
CALIBRATION_SEEDS = (2201, 2202)
EVALUATION_SEEDS = (3301, 3302, 3303)  # the simulator's own training parameters
VARIED_EVALUATION_SEEDS = (3401, 3402, 3403)  # parameters drawn by varied_params, as in training
# Replies after which an account's state is also kept as a training row: the service scores
# accounts long before their activity is complete, and the model must know how evidence grows.
SNAPSHOT_POINTS = frozenset({1, 2, 3, 5, 8, 13, 21, 34})


@dataclass(frozen=True)
class LabelledCommunity:
    posts: list[Post]
    labels: dict[str, tuple[int, str]]  # account id -> (is_bot, kind)
    keywords: tuple[str, ...]
    seed: int


def community_data(community: Community) -> LabelledCommunity:
    """A simulated community's statuses, normalised exactly as an archive's would be."""
    posts = [normalise_status(s, instance=community.host, keep_raw=False) for s in community.statuses_json()]
    labels = {account_id: (int(is_bot), kind) for account_id, is_bot, kind in community.labels()}
    return LabelledCommunity(posts, labels, tuple(community.params.keywords), community.params.seed)


def watched_view(data: LabelledCommunity, keywords: Sequence[str]) -> LabelledCommunity:
    """The community as a watch on ``keywords`` sees it: the posts mentioning one, the posts they
    answer, and every reply below them.

    That is all the poller fetches, so in the service every reply a person is seen making answers
    a thread about the watched product. Trained on whole communities alone, the account model
    learns that people rarely do that; under a watch, they always do.

    Posts match by the scorer's :class:`KeywordMatcher` (a keyword at a word start, hashtags
    included), not the poller's whole-word ``WatchMatcher`` alone: the poller also takes what
    server-side search (which stems "vacuums" to "vacuum") and hashtag timelines return, and the
    word-start match is the closer stand-in for that union.
    """
    matcher = KeywordMatcher(keywords)
    by_id = {post.id: post for post in data.posts}
    matched = [post.id for post in data.posts if matcher.first(fold(post_text(post))) or matcher.first(" ".join(post.hashtags))]
    children: dict[str, list[str]] = {}
    for post in data.posts:
        if post.parent_id is not None:
            children.setdefault(post.parent_id, []).append(post.id)
    seen: set[str] = set()
    for post_id in matched:  # up: what the matching post answers
        post = by_id.get(post_id)
        while post is not None and post.id not in seen:
            seen.add(post.id)
            post = by_id.get(post.parent_id) if post.parent_id is not None else None
    below = list(matched)  # down: every reply in the thread under it
    while below:
        for child in children.get(below.pop(), ()):
            if child not in seen:
                seen.add(child)
                below.append(child)
    return replace(data, posts=[post for post in data.posts if post.id in seen])


def replays(data: LabelledCommunity) -> list[tuple[LabelledCommunity, tuple[str, ...]]]:
    """The ways a community is replayed for training: whole with its watched keywords (an archive
    scored with ``--keywords``), as the watch sees it (the service), and whole without keywords."""
    return [(data, data.keywords), (watched_view(data, data.keywords), data.keywords), (data, ())]


def varied_params(seed: int) -> SimParams:
    """A training community whose behaviour parameters are drawn at random (seeded).

    Domain randomisation: one simulator with fixed parameters makes some signals perfect
    separators (every bot new, every bot answering within seconds...), and a model trained on it
    leans on those alone and fails on a community built differently. Drawing delays, reach,
    template counts, account ages and human habits per community from wide ranges (each range
    holds the simulator's default) forces the model to add up many signals, as it must in the wild.
    """
    rng = random.Random(seed)
    defaults = SimParams()

    def delay(median: tuple[float, float], sigma: tuple[float, float], low: float, high: float) -> Delay:
        return Delay.lognormal(rng.uniform(*median), rng.uniform(*sigma), low, high)

    slow_low = rng.uniform(120, 600)
    return SimParams.training(
        seed,
        aged_bot_share=rng.uniform(0.1, 0.8),
        bot_default_avatar=rng.uniform(0.1, 0.7),
        bot_empty_bio=rng.uniform(0.05, 0.5),
        human_link_share=rng.uniform(0.1, 0.6),
        bot_link_share={kind: min(share * rng.uniform(0.4, 1.2), 1.0) for kind, share in defaults.bot_link_share.items()},
        bot_own_link_share=rng.uniform(0.3, 0.9),
        bot_chat_reply_prob=rng.uniform(0.0, 0.02),
        bot_late_start_share=rng.uniform(0.0, 0.5),
        bot_stop_share=rng.uniform(0.0, 0.6),
        news_reply_prob=rng.uniform(0.05, 0.3),
        summon_prob=rng.uniform(0.03, 0.2),
        friend_reply_share=rng.uniform(0.3, 0.8),
        answer_back_prob=rng.uniform(0.2, 0.6),
        office_hours_bot_share=rng.uniform(0.1, 0.8),
        filler_posts_per_day=rng.uniform(0.1, 3.0),
        human_delay=delay((120, 900), (1.0, 1.6), 10, 2 * 86_400),
        power_user_delay=delay((20, 120), (0.4, 0.9), 5, 3_600),
        keyword_delay=delay((4, 120), (0.4, 1.0), 1, 1_800),
        smear_delay=delay((15, 600), (0.5, 1.0), 5, 3_600),
        varied_delay=delay((30, 900), (0.5, 1.2), 10, 7_200),
        praise_delay=delay((120, 3_600), (0.6, 1.2), 30, 6 * 3_600),
        slow_delay=Delay.between(slow_low, slow_low * rng.uniform(2, 8)),
        reach={kind: rng.uniform(0.2, 0.9) for kind in defaults.reach},
        templates_per_bot={kind: rng.randint(2, 10) for kind in defaults.templates_per_bot},
    )


def training_community(seed: int, *, varied: bool = True) -> LabelledCommunity:
    """The community of ``seed``: with :func:`varied_params`, or the simulator's own training parameters."""
    return community_data(simulate(varied_params(seed) if varied else SimParams.training(seed)))


@dataclass(frozen=True)
class AccountRow:
    """One account's model input at one point of its activity, with its ground truth."""

    account_id: str
    vector: list[float]
    label: int
    kind: str
    weight: float  # rows of one account sum to 1, however many snapshots it has
    final: bool  # the state after the whole community (what batch scoring sees)
    replies: int


@dataclass(frozen=True)
class ReplayResult:
    replay: Replay
    rows: list[AccountRow]


def replay_rows(detector: Detector, data: LabelledCommunity, *, keywords: Sequence[str], snapshots: bool) -> ReplayResult:
    """Replay a community and return the account model's input rows (final states + snapshots)."""
    captured: list[tuple[str, AccountActivity]] = []

    def on_reply(signals, activity: AccountActivity) -> None:
        if snapshots and not signals.self_reply and activity.replies in SNAPSHOT_POINTS:
            captured.append((signals.account_id, AccountActivity.from_json(activity.to_json())))

    replay = Replay(detector, keywords, on_reply=on_reply)
    for post in data.posts:
        replay.add(post)
    index = replay.coordination()
    states: dict[str, list[tuple[AccountActivity, bool]]] = {}
    for account_id, activity in captured:
        states.setdefault(account_id, []).append((activity, False))
    rows = []
    for author, activity in replay.replying_accounts():
        found = [s for s in states.get(author.id, []) if s[0].replies < activity.replies] + [(activity, True)]
        label, kind = data.labels.get(author.id, (0, "unlabelled"))
        for state, final in found:
            at = from_ms(state.last_ms) if state.last_ms is not None else author.created_at
            vector = detector.account_inputs(author, state, at=at, coordination=index).vector  # type: ignore[arg-type]
            rows.append(AccountRow(author.id, vector, label, kind, 1.0 / len(found), final, state.replies))
    return ReplayResult(replay, rows)
