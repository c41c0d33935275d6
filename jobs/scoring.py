"""Score the replies a poll stored: each reply, and each replying account, incrementally.

Each account's behaviour state (latencies, targets, templates, ...) lives in the store between
polls. A batch is observed and scored in memory, then its reply scores, account scores and the
updated states are saved in ONE transaction: if saving fails, nothing was counted, and the same
replies are still unscored next time, so no reply is ever counted twice in an account's state.

The state belongs to the model version that built it; a new model starts the states afresh and
rebuilds them from the stored replies, which are all unscored for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

from detector.classifier.verdicts import AccountVerdict, apply_override
from detector.config import WatchConfig
from detector.features.behaviour import AccountActivity
from detector.features.coordination import CoordinationIndex
from detector.logs import get_logger
from detector.records import Author
from detector.store.locks import LockBusy
from detector.store.records import AccountKey, AccountScore, Label, ReplyForScoring, ReplyScore

BATCH = 500
LOCK_WAIT_SECONDS = 30.0
log = get_logger("botwatch.scoring")
COORDINATION_WINDOW = timedelta(days=7)
COORDINATION_REBUILD = timedelta(hours=6)
COORDINATION_OVERLAP = timedelta(minutes=5)


def account_key(author: Author) -> AccountKey:
    return (author.platform, author.instance, author.id)


def is_allowlisted(author: Author, accounts: Iterable[str]) -> bool:
    """Whether ``author`` is one of ``accounts`` (``name`` for a local account, ``name@host``).

    ``name@host`` also matches the local account ``name`` when botwatch reads from ``host``.
    """
    acct = author.acct.lower()
    local = "@" not in acct
    for entry in accounts:
        if acct == entry:
            return True
        name, _, host = entry.partition("@")
        if local and host and acct == name and author.instance.lower() in (host, host.split(":")[0]):
            return True
    return False


def _load_activities(store, detector, keys: set[AccountKey]) -> dict[AccountKey, AccountActivity]:
    stored = store.load_activity(keys)
    activities = {}
    for key in keys:
        saved = stored.get(key)
        fresh = saved is None or saved.get("model_version") != detector.version
        activities[key] = detector.new_activity() if fresh else AccountActivity.from_json(saved["state"])
    return activities


def build_coordination(store, detector, now: datetime, index: CoordinationIndex | None = None,
                       since: datetime | None = None) -> CoordinationIndex:
    """Templates of the accounts active in the last week (or, given ``index``, those saved
    ``since``, added to it), for "several accounts, one script"."""
    index = index if index is not None else CoordinationIndex()
    for key, saved in store.recent_activity(since or now - COORDINATION_WINDOW).items():
        if saved.get("model_version") == detector.version:
            index.add_activity(key[2], AccountActivity.from_json(saved["state"]))
    return index


@dataclass
class CoordinationCache:
    """The coordination index kept between polls.

    Rebuilding it reads up to 20,000 behaviour states (a few KB of JSON each), which at a
    million stored replies cost more CPU than the rest of a poll; so it is rebuilt every
    :data:`COORDINATION_REBUILD` (dropping accounts quiet for a week) and otherwise topped up
    with the states saved since the last poll, read again with :data:`COORDINATION_OVERLAP`
    for states another process stamped a little earlier and committed later.
    """

    version: str
    index: CoordinationIndex
    built_at: datetime
    loaded_at: datetime

    def current(self, store, detector, now: datetime) -> CoordinationIndex:
        stale = (self.version != detector.version or now < self.loaded_at
                 or now - self.built_at >= COORDINATION_REBUILD)
        if stale:
            self.version, self.built_at = detector.version, now
            self.index = build_coordination(store, detector, now)
        else:
            build_coordination(store, detector, now, self.index, since=self.loaded_at - COORDINATION_OVERLAP)
        self.loaded_at = now
        return self.index


def coordination_for(runtime, now: datetime) -> CoordinationIndex:
    """The runtime's cached coordination index, brought up to ``now``."""
    cache = runtime.coordination
    if cache is None:
        cache = runtime.coordination = CoordinationCache("", CoordinationIndex(), now, now)
    return cache.current(runtime.store, runtime.detector, now)


def _override(verdict: AccountVerdict, author: Author, watch: WatchConfig, labels: Mapping[AccountKey, Label]) -> AccountVerdict:
    label = labels.get(account_key(author))
    return apply_override(
        verdict,
        allowlisted=is_allowlisted(author, watch.allowlist + watch.brand_accounts),
        user_label=label.label if label else None,
        note=label.note if label else None,
        by=label.by if label else None,
    )


def _features(signals: Any) -> dict[str, Any]:
    return {
        "latency_s": signals.latency_s,
        "latency_source": signals.latency_source,
        "content_logodds": round(signals.content_logodds, 4),
        "keyword": signals.keyword,
        "links": signals.n_links,
        "fingerprint": f"{signals.fingerprint:016x}",
    }


def score_batch(runtime, watch: WatchConfig, batch: list[ReplyForScoring], *, now: datetime,
                coordination: CoordinationIndex, labels: Mapping[AccountKey, Label]) -> None:
    """Observe, score and save one batch (one transaction)."""
    detector, store = runtime.detector, runtime.store
    keywords = watch.keywords + watch.hashtags
    keys = {account_key(r.post.author) for r in batch}
    activities = _load_activities(store, detector, keys)
    authors = {account_key(r.post.author): r.post.author for r in batch}
    observed = [(r, detector.observe(activities[account_key(r.post.author)], r.post, r.parent, keywords)) for r in batch]
    verdicts: dict[AccountKey, AccountVerdict] = {}
    for key in keys:
        coordination.add_activity(key[2], activities[key])
    for key in keys:
        verdict = detector.score_account(authors[key], activities[key], at=now, coordination=coordination)
        verdicts[key] = _override(verdict, authors[key], watch, labels)
    reply_scores = []
    for reply, signals in observed:
        verdict = detector.score_reply(signals, verdicts[account_key(reply.post.author)])
        reply_scores.append(
            ReplyScore(reply.post.key, verdict.score, verdict.label, now, tuple(verdict.reasons), _features(signals))
        )
    account_scores = [
        AccountScore(key, v.score, v.label, now, tuple(v.reasons), dict(v.evidence), v.replies)
        for key, v in verdicts.items()
    ]
    states = {key: {"model_version": detector.version, "state": activities[key].to_json()} for key in keys}
    store.save_scores(detector.version, reply_scores, account_scores, states)


def score_pending(runtime, watch: WatchConfig, *, now: datetime, progress=None) -> int:
    """Score every stored reply of ``watch`` that this model version has not scored yet."""
    store, detector = runtime.store, runtime.detector
    total = 0
    # Account states are read-modify-write, and an account replies under watches that other
    # threads and other workers poll: one scorer at a time across every process. If another
    # process keeps the lock too long, the replies stay unscored until the next poll.
    try:
        with runtime.scoring_lock, store.exclusive("scoring", wait=LOCK_WAIT_SECONDS) as lock:
            labels = store.labels()
            coordination = coordination_for(runtime, now)
            while batch := store.unscored_replies(watch.name, detector.version, BATCH):
                lock.check()
                score_batch(runtime, watch, batch, now=now, coordination=coordination, labels=labels)
                total += len(batch)
                if progress is not None:
                    progress.scored(len(batch))
                if runtime.stop.is_set():
                    break
    except LockBusy as busy:
        log.info("scoring.deferred", watch=watch.name, reason=str(busy))
    return total
