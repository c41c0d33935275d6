"""The :class:`Detector`: one model file, three sub-models stacked, verdicts with reasons.

Design (the model card has the numbers):

- **content** (:class:`~detector.classifier.text_model.TextModel`): one reply's text, learned
  from YouTube comment spam and SMS spam, so it knows spam genres beyond one simulator;
- **profile** (:class:`~detector.classifier.trees.TreeEnsemble`): the account's profile,
  learned from the cresci Twitter data sets;
- **account**: an additive tree model over the account's behaviour (latency, who it answers and
  why, templates, coordination, links), the two models above (their log-odds) and a few profile
  facts; learned on simulated communities, where every signal exists and the truth is known, and
  calibrated (Platt) on communities it was not trained on;
- **reply**: a logistic regression combining the account's log-odds with what this reply shows.

The service calls :meth:`Detector.observe` as replies arrive and :meth:`Detector.score_account`
/ :meth:`Detector.score_reply` when it stores scores; ``botwatch score`` calls the same methods
over an archive. Everything here is pure: no I/O except :meth:`Detector.load` and
:meth:`Detector.save`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import repeat
from pathlib import Path
from typing import Any, Sequence

from detector.classifier.artifact import default_model_path, read_artifact, write_artifact
from detector.classifier.fit import Platt
from detector.classifier.reasons import AccountContext, account_evidence, account_reasons, duration
from detector.classifier.text_model import TextModel
from detector.classifier.trees import TreeEnsemble
from detector.classifier.validate import check_number, check_numbers, check_object, check_str, raise_model
from detector.classifier.verdicts import AccountVerdict, ReplyVerdict, Thresholds
from detector.errors import ModelError
from detector.features.account import PROFILE_FEATURES, age_days, profile_snapshot, split_name
from detector.features.behaviour import (
    BEHAVIOUR_FEATURES,
    AccountActivity,
    ParentSummary,
    ReplySignals,
    behaviour_vector,
    from_ms,
    parent_facts,
    summarise_parent,
    reply_latency,
    to_ms,
)
from detector.features.coordination import Coordination, CoordinationIndex
from detector.features.templates import MIN_TEMPLATE_WORDS, same_template, simhash_words, template_preview
from detector.features.text import FoldedText, KeywordMatcher, fold, is_topic_word, text_signals, tokens
from detector.records import Author, ParentInfo, Post

ACCOUNT_FEATURES = BEHAVIOUR_FEATURES + ("profile_logodds", "log_age_days", "bot_flag", "brand_like_name", "name_has_keyword")
REPLY_FEATURES = ("account_logodds", "content_logodds", "fast", "triggered", "account_template", "has_link")
_NAN = float("nan")
_PARENT_CACHE = 4096


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def post_text(post: Post) -> str:
    """The text a reader sees: the content warning, then the body."""
    return f"{post.spoiler_text}\n{post.text}" if post.spoiler_text else post.text


@dataclass(frozen=True)
class LinearModel:
    """``bias + sum(weights * x)``: the reply model."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float

    def logodds(self, x: Sequence[float]) -> float:
        return self.bias + sum(w * v for w, v in zip(self.weights, x))

    def to_json(self) -> dict[str, Any]:
        return {"features": list(self.features), "weights": list(self.weights), "bias": self.bias}

    @classmethod
    def from_json(cls, data: Any, where: str) -> "LinearModel":
        obj = check_object(data, where, ("features", "weights", "bias"))
        names = tuple(check_str(f, f"{where}.features") for f in obj["features"])
        if names != REPLY_FEATURES:
            raise_model(f"{where}.features", f"the model reads {list(names)}, this botwatch computes {list(REPLY_FEATURES)}")
        return cls(names, tuple(check_numbers(obj["weights"], f"{where}.weights", len(names))), float(check_number(obj["bias"], f"{where}.bias")))


@dataclass(frozen=True)
class AccountInputs:
    """An account's model input and the context its reasons quote."""

    vector: list[float]
    context: AccountContext


class Detector:
    """Scores replies and accounts (see the module docstring and ``docs/architecture.md``)."""

    def __init__(
        self,
        *,
        text: TextModel,
        profile: TreeEnsemble,
        account: TreeEnsemble | None = None,
        calibration: Platt = Platt(1.0, 0.0),
        reply: LinearModel | None = None,
        thresholds: Thresholds = Thresholds(0.9, 0.5),
        version: str = "untrained",
        info: dict[str, Any] | None = None,
    ) -> None:
        self.text = text
        self.profile = profile
        self.account = account
        self.calibration = calibration
        self.reply = reply
        self.thresholds = thresholds
        self.version = version
        self.info = info or {}
        self._matchers: dict[tuple[str, ...], KeywordMatcher] = {}
        self._parents: dict[tuple[str, tuple[str, ...]], ParentSummary] = {}

    # --- persistence -----------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path | None = None, *, thresholds: Thresholds | None = None) -> "Detector":
        """The model at ``path`` (default: the shipped one in ``models/``), checked before use.

        ``thresholds`` overrides the model card's defaults (``[scoring]`` in the config).
        """
        path = default_model_path() if path is None else Path(path)
        payload = read_artifact(path)
        obj = check_object(payload, "model", ("version", "text_model", "profile_model", "account_model", "calibration", "reply_model", "thresholds"))
        limits = check_object(obj["thresholds"], "model.thresholds", ("bot", "suspect"))
        try:
            default = Thresholds(float(check_number(limits["bot"], "thresholds.bot")), float(check_number(limits["suspect"], "thresholds.suspect")))
        except ValueError as exc:
            raise ModelError(f"{path}: thresholds: {exc}") from None
        calibration = check_numbers(obj["calibration"], "model.calibration", 2)
        return cls(
            text=TextModel.from_json(obj["text_model"], "model.text_model"),
            profile=TreeEnsemble.from_json(obj["profile_model"], "model.profile_model", PROFILE_FEATURES),
            account=TreeEnsemble.from_json(obj["account_model"], "model.account_model", ACCOUNT_FEATURES),
            calibration=Platt(calibration[0], calibration[1]),
            reply=LinearModel.from_json(obj["reply_model"], "model.reply_model"),
            thresholds=thresholds or default,
            version=check_str(obj["version"], "model.version"),
            info=obj.get("info") if isinstance(obj.get("info"), dict) else {},
        )

    def save(self, path: Path) -> None:
        if self.account is None or self.reply is None:
            raise ModelError("only a fully trained detector can be saved (account and reply models missing)")
        write_artifact(Path(path), {
            "version": self.version,
            "text_model": self.text.to_json(),
            "profile_model": self.profile.to_json(),
            "account_model": self.account.to_json(),
            "calibration": [self.calibration.a, self.calibration.b],
            "reply_model": self.reply.to_json(),
            "thresholds": {"bot": self.thresholds.bot, "suspect": self.thresholds.suspect},
            "info": self.info,
        })  # fmt: skip

    # --- replies as they arrive ------------------------------------------------------------

    def new_activity(self) -> AccountActivity:
        return AccountActivity()

    def keyword_matcher(self, keywords: Sequence[str]) -> KeywordMatcher:
        key = tuple(keywords)
        matcher = self._matchers.get(key)
        if matcher is None:
            if len(self._matchers) > 64:
                self._matchers.clear()
            matcher = self._matchers[key] = KeywordMatcher(keywords)
        return matcher

    def summarise(self, parent: ParentInfo, keywords: Sequence[str], *, view: FoldedText | None = None) -> ParentSummary:
        """What scoring needs of a parent post (cached by id: a parent has many replies).

        ``view``: the parent's :class:`FoldedText`, when the caller has it already.
        """
        key = (parent.id, tuple(keywords))
        hit = self._parents.get(key)
        if hit is None:
            view = FoldedText.of(parent.text) if view is None else view
            matcher = self.keyword_matcher(key[1])
            keyword = matcher.first(view.folded)
            if keyword is None and parent.hashtags:
                keyword = matcher.first(" ".join(parent.hashtags))
            if len(self._parents) >= _PARENT_CACHE:
                self._parents.clear()
            hit = self._parents[key] = summarise_parent(parent, view.folded, keyword, view.topics)
        return hit

    def signals(
        self,
        reply: Post,
        parent: ParentInfo | ParentSummary | None,
        keywords: Sequence[str],
        *,
        view: FoldedText | None = None,
    ) -> ReplySignals:
        """One reply's signals (pure; :meth:`observe` also folds them into the account's state).

        ``parent`` may be the full :class:`ParentInfo` (the service) or a :class:`ParentSummary`
        kept by an archive scorer; ``None`` when the parent is not known (its time then comes
        from its Snowflake id where possible). ``view``: the reply's :class:`FoldedText`, when
        the caller has it already.
        """
        text = post_text(reply)
        view = FoldedText.of(text) if view is None else view
        folded = view.folded
        words = tokens(folded)
        ts = text_signals(
            text, links=reply.links, n_mentions=len(reply.mentions), n_hashtags=len(reply.hashtags), folded=folded, words=words
        )
        content = self.text.score(words, ts)
        if isinstance(parent, ParentInfo):
            parent = self.summarise(parent, keywords)
        latency, source = reply_latency(reply, None if parent is None else parent.created_ms)
        facts = None
        if parent is not None and (parent.terms or parent.keyword or parent.handles):
            facts = parent_facts(view.topics, parent, reply.author.handle)
        twords = view.words
        return ReplySignals(
            reply_id=reply.id,
            account_id=reply.author.id,
            created_ms=to_ms(reply.created_at),
            parent_id=reply.parent_id,
            parent_author_id=reply.parent_author_id,
            self_reply=reply.parent_author_id is not None and reply.parent_author_id == reply.author.id,
            latency_s=latency,
            latency_source=source,
            parent=facts,
            content_logodds=content.logodds,
            content_terms=tuple([w for w, part in content.terms if part > 0.1 and is_topic_word(w)][:3]),
            n_links=len(reply.links),
            n_shortened=ts.n_shortened,
            n_bare_links=ts.n_bare_links,
            domains=ts.domains,
            cta=ts.cta,
            generic_praise=ts.generic_praise,
            fingerprint=simhash_words(twords) if len(twords) >= MIN_TEMPLATE_WORDS else 0,
            text=text[:280],
        )

    def observe(
        self,
        activity: AccountActivity,
        reply: Post,
        parent: ParentInfo | ParentSummary | None,
        keywords: Sequence[str],
        *,
        view: FoldedText | None = None,
    ) -> ReplySignals:
        """Signals of ``reply``, folded into ``activity`` (the replier's state)."""
        signals = self.signals(reply, parent, keywords, view=view)
        activity.add(signals, watched=bool(keywords))
        return signals

    # --- accounts --------------------------------------------------------------------------

    def account_inputs(self, author: Author, activity: AccountActivity, *, at: datetime, coordination: CoordinationIndex | None = None) -> AccountInputs:
        """The account model's input (see :data:`ACCOUNT_FEATURES`) and the reasons' context."""
        profile = profile_snapshot(author, at)
        profile_raw, profile_parts = self.profile.explain(profile.vector())
        first = from_ms(activity.first_ms) if activity.first_ms is not None else at
        age_first = age_days(author, first)
        co = coordination.sharing(author.id, activity) if coordination is not None else Coordination((), None)
        name_keyword = None
        if activity.keywords.counts:
            name_text = fold(" ".join(split_name(author.handle)) + " " + author.display_name)
            name_keyword = self.keyword_matcher(tuple(activity.keywords.counts)).first(name_text)
        vector = behaviour_vector(activity, coordinated_accounts=co.count)
        vector += [
            profile_raw,
            _NAN if age_first is None else math.log1p(age_first),
            _NAN if author.bot is None else float(author.bot),
            float(profile.brand_like_name),
            float(name_keyword is not None),
        ]
        context = AccountContext(
            activity=activity,
            profile=profile,
            profile_parts=profile_parts,
            age_at_first_reply_days=age_first,
            coordination=co,
            display_name=author.display_name,
            name_keyword=name_keyword,
        )
        return AccountInputs(vector, context)

    def score_account(
        self, author: Author, activity: AccountActivity, *, at: datetime | None = None, coordination: CoordinationIndex | None = None
    ) -> AccountVerdict:
        """The account's verdict. ``at`` is when its counts were seen (default: its last reply)."""
        if self.account is None:
            raise ModelError("this detector has no account model yet (it is being trained)")
        if at is None:
            at = from_ms(activity.last_ms) if activity.last_ms is not None else datetime.now(timezone.utc)
        inputs = self.account_inputs(author, activity, at=at, coordination=coordination)
        raw, account_parts = self.account.explain(inputs.vector)
        z = self.calibration.logodds(raw)
        score = sigmoid(z)
        label = self.thresholds.label(score)
        # Parts on the calibrated scale, so MIN_WEIGHT means the same whatever the calibration.
        parts = {k: v * self.calibration.a for k, v in account_parts.items()}
        return AccountVerdict(
            account_id=author.id,
            acct=author.acct,
            score=score,
            label=label,
            reasons=tuple(account_reasons(parts, inputs.context, flagged=label != "human")),
            replies=activity.replies,
            logodds=z,
            evidence=account_evidence(inputs.context),
            templates=tuple(t.fingerprint for t in activity.templates if t.count >= 2),
        )

    # --- replies ---------------------------------------------------------------------------

    @staticmethod
    def reply_vector(signals: ReplySignals, account: AccountVerdict) -> list[float]:
        return [
            max(min(account.logodds, 12.0), -12.0),
            signals.content_logodds,
            float(signals.latency_s is not None and signals.latency_s < 60),
            float(signals.keyword is not None),
            float(any(map(same_template, repeat(signals.fingerprint), account.templates))),  # map: no generator per reply
            float(signals.n_links > 0 or signals.n_bare_links > 0),
        ]

    def score_reply(self, signals: ReplySignals, account: AccountVerdict) -> ReplyVerdict:
        """A reply's verdict: its account's verdict adjusted by what this reply shows."""
        if self.reply is None:
            raise ModelError("this detector has no reply model yet (it is being trained)")
        x = self.reply_vector(signals, account)
        score = sigmoid(self.reply.logodds(x))
        if account.override is not None:
            label = account.label
        else:
            label = self.thresholds.label(score)
        return ReplyVerdict(
            status_id=signals.reply_id,
            account_id=signals.account_id,
            score=score,
            label=label,
            reasons=tuple(self._reply_reasons(signals, account, x, flagged=label != "human")),
            override=account.override,
        )

    @staticmethod
    def _reply_reasons(s: ReplySignals, account: AccountVerdict, x: Sequence[float], *, flagged: bool) -> list[str]:
        if account.override is not None or not flagged:
            return [account.reply_headline]
        out = [account.reply_headline]
        if s.latency_s is not None and s.latency_s < 600:
            out.append(f"posted {duration(s.latency_s)} after the post it answers")
        if s.keyword is not None:
            out.append(f"the post it answers mentions '{s.keyword}'")
        if x[4]:
            out.append(f"uses the account's template: “{template_preview(s.text)}”")
        if s.n_shortened:
            out.append(f"links through a shortener ({', '.join(s.domains)})")
        elif s.domains:
            out.append(f"links to {', '.join(s.domains)}")
        if s.cta:
            out.append("call to action: " + ", ".join(f"'{c}'" for c in s.cta[:3]))
        if s.generic_praise:
            out.append("generic praise that would fit any post")
        if s.content_terms:
            out.append("wording typical of spam: " + ", ".join(f"'{w}'" for w in s.content_terms))
        return out
