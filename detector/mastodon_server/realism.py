"""Checks that the simulated community is hard in the right way; prints the figures in docs/simulation.md.

    python -m detector.mastodon_server.realism [--train-seed 101] [--test-seed 202]

* ``text``: a text-only model (TF-IDF character 2-4-grams + logistic regression, mentions
  stripped) trained on one seed and scored on another. If it separated scripts from people, a
  classifier could learn this simulator's phrase lists instead of the scripts' behaviour.
* ``behaviour``: a small gradient-boosted model on per-account behaviour and profile features,
  the kind of signal botwatch is meant to use. It should separate them.
* ``delays`` and ``speed``: reply-delay quantiles per kind, generation time and JSONL size.

These are measurements of the simulator, not botwatch's classifier.
"""

from __future__ import annotations

import argparse
import math
import re
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from statistics import median
from typing import Sequence

from detector.mastodon_server.community import Community, SimParams, simulate

_MENTIONS = re.compile(r"@\S+")
_MENTIONS_LINKS = re.compile(r"@\S+|https?://\S+")


def _root(community: Community, status):
    parent = community.parent(status)
    while parent is not None and community.parent(parent) is not None:
        parent = community.parent(parent)
    return parent


def _product_thread(community: Community, status) -> bool:
    root = _root(community, status)
    return root is not None and root.topic == "product"


def text_only(train: Community, test: Community) -> dict[str, float]:
    """Reply- and account-level separability of scripts from everyone else by the words alone."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score, roc_auc_score

    def rows(community: Community):
        out = []
        for status in community.statuses:
            if status.is_reply:
                account = community.account(status.account_id)
                out.append((_MENTIONS.sub("", status.text), int(account.is_bot), account.id,
                            _product_thread(community, status)))
        return out

    train_rows, test_rows = rows(train), rows(test)
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2, sublinear_tf=True,
                                 max_features=200_000)
    model = LogisticRegression(max_iter=3000, C=4.0)
    model.fit(vectorizer.fit_transform([r[0] for r in train_rows]), [r[1] for r in train_rows])
    scores = model.predict_proba(vectorizer.transform([r[0] for r in test_rows]))[:, 1]
    labels = [r[1] for r in test_rows]
    on_product = [i for i, r in enumerate(test_rows) if r[3]]
    per_account: dict[str, list[float]] = defaultdict(list)
    is_bot: dict[str, int] = {}
    for i in on_product:
        per_account[test_rows[i][2]].append(float(scores[i]))
        is_bot[test_rows[i][2]] = test_rows[i][1]
    accounts = list(per_account)
    account_scores = [sum(per_account[a]) / len(per_account[a]) for a in accounts]
    account_labels = [is_bot[a] for a in accounts]
    lowest_bot = min(s for s, y in zip(account_scores, account_labels) if y)
    people = [s for s, y in zip(account_scores, account_labels) if not y]
    return {
        "reply_roc_auc": roc_auc_score(labels, scores),
        "product_thread_reply_roc_auc": roc_auc_score([labels[i] for i in on_product], [scores[i] for i in on_product]),
        "account_roc_auc": roc_auc_score(account_labels, account_scores),
        "account_pr_auc": average_precision_score(account_labels, account_scores),
        "people_flagged_at_full_bot_recall": sum(s >= lowest_bot for s in people) / len(people),
    }


def behaviour_features(community: Community, keywords: Sequence[str], hashtags: Sequence[str]):
    """Per-account behaviour and profile features (accounts with at least two replies)."""
    keyword = re.compile(r"\b(" + "|".join(map(re.escape, keywords)) + r")", re.IGNORECASE)
    tags = {t.lower() for t in hashtags}
    rows, labels, kinds = [], [], []
    for account in community.accounts:
        statuses = community.statuses_of(account.id)
        replies = [s for s in statuses if s.is_reply]
        if len(replies) < 2:
            continue
        parents = [community.parent(s) for s in replies]
        delays = sorted((s.created_ms - p.created_ms) / 1000 for s, p in zip(replies, parents))
        triggered = sum(bool(keyword.search(_MENTIONS_LINKS.sub(" ", p.text))) or bool({t.lower() for t in p.tags} & tags)
                        for p in parents) / len(replies)
        texts = Counter(re.sub(r"\W+", " ", _MENTIONS_LINKS.sub("", s.text).lower()).strip() for s in replies)
        hours = Counter(int(s.created_ms / 3_600_000) % 24 for s in statuses)
        entropy = -sum(v / len(statuses) * math.log(v / len(statuses)) for v in hours.values())
        answered_back = sum(any(c.account_id == s.in_reply_to_account_id for c in community.children(s.id))
                            for s in replies) / len(replies)
        rows.append([
            len(replies), delays[len(delays) // 2], delays[len(delays) // 10], triggered,
            len({s.in_reply_to_account_id for s in replies}) / len(replies), texts.most_common(1)[0][1] / len(replies),
            sum(bool(s.links) for s in replies) / len(replies), 1 - len(replies) / len(statuses), entropy,
            (community.start_ms - account.created_ms) / 86_400_000, math.log1p(account.followers),
            math.log1p(account.following), math.log1p(account.prior_statuses), float(account.bot_flag),
            float(account.default_avatar), answered_back,
        ])
        labels.append(int(account.is_bot))
        kinds.append(account.kind)
    return rows, labels, kinds


def behaviour(train: Community, test: Community) -> dict[str, float]:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import average_precision_score, roc_auc_score

    params = train.params
    x_train, y_train, _ = behaviour_features(train, params.keywords, params.hashtags)
    x_test, y_test, kinds = behaviour_features(test, params.keywords, params.hashtags)
    model = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05, random_state=0).fit(x_train, y_train)
    scores = model.predict_proba(x_test)[:, 1]
    result = {"account_roc_auc": roc_auc_score(y_test, scores), "account_pr_auc": average_precision_score(y_test, scores)}
    for kind in sorted(set(kinds)):
        flagged = [s > 0.5 for s, k in zip(scores, kinds) if k == kind]
        result[f"flagged[{kind}] (n={len(flagged)})"] = sum(flagged) / len(flagged)
    return result


def delays(community: Community) -> dict[str, dict[str, float]]:
    by_kind: dict[str, list[float]] = defaultdict(list)
    for reply, _parent, delay in community.reply_delays():
        by_kind[community.account(reply.account_id).kind].append(delay)
    out = {}
    for kind, values in sorted(by_kind.items()):
        values.sort()
        n = len(values)
        out[kind] = {"replies": n, "p10": values[n // 10], "median": median(values), "p90": values[9 * n // 10],
                     "within_1h": sum(v <= 3600 for v in values) / n}
    return out


def speed(params: SimParams, repeats: int = 3) -> dict[str, float]:
    best = math.inf
    for _ in range(repeats):
        started = time.perf_counter()
        community = simulate(params)
        best = min(best, time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.jsonl"
        started = time.perf_counter()
        lines = community.write_jsonl(path)
        written = time.perf_counter() - started
        size = path.stat().st_size
    summary = community.summary()
    return {"simulate_s": best, "accounts": summary["accounts"], "statuses": summary["statuses"],
            "replies": summary["replies"], "write_jsonl_s": written, "jsonl_mb": size / 1e6, "bytes_per_line": size / lines}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m detector.mastodon_server.realism", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checks", nargs="*", choices=["speed", "delays", "text", "behaviour", []],
                        help="which checks to run (default: all)")
    parser.add_argument("--train-seed", type=int, default=101)
    parser.add_argument("--test-seed", type=int, default=202)
    args = parser.parse_args(argv)
    args.checks = args.checks or ["speed", "delays", "text", "behaviour"]
    if "speed" in args.checks:
        for name, params in (("demo SimParams()", SimParams()), ("SimParams.training(7)", SimParams.training(7))):
            print(f"speed {name}: " + ", ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}"
                                                  for k, v in speed(params).items()))
    needs = {"delays", "text", "behaviour"} & set(args.checks)
    if not needs:
        return 0
    test = simulate(SimParams.training(args.test_seed))
    if "delays" in args.checks:
        for kind, row in delays(test).items():
            print(f"delays {kind:17s} " + " ".join(f"{k}={v:.3g}" for k, v in row.items()))
    if {"text", "behaviour"} & set(args.checks):
        train = simulate(SimParams.training(args.train_seed))
        for check, run in (("text", text_only), ("behaviour", behaviour)):
            if check in args.checks:
                for key, value in run(train, test).items():
                    print(f"{check} {key}: {value:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
