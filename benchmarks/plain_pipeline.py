"""The pipeline a user would write without botwatch, as the benchmark's yardstick.

json.loads per line, a regex that strips tags, HashingVectorizer on character 2-4-grams and
LogisticRegression.predict_proba in batches of 4,096. It only scores text: no accounts, no
behaviour, no reasons. The classifier is fitted beforehand on a sample (not timed).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression

TAGS = re.compile(r"<[^>]+>")
BATCH = 4096


def vectorizer() -> HashingVectorizer:
    return HashingVectorizer(analyzer="char", ngram_range=(2, 4), n_features=2**20, alternate_sign=False)


def fit(texts: list[str], labels: list[int]) -> LogisticRegression:
    model = LogisticRegression(max_iter=200)
    model.fit(vectorizer().transform(texts), np.asarray(labels))
    return model


def score(path: Path, model: LogisticRegression, out_path: Path) -> int:
    """Score every reply in ``path``; returns how many were scored."""
    vec = vectorizer()
    count = 0
    ids: list[str] = []
    texts: list[str] = []
    with path.open(encoding="utf-8") as lines, out_path.open("w", encoding="utf-8") as out:

        def flush() -> None:
            probabilities = model.predict_proba(vec.transform(texts))[:, 1]
            for status_id, p in zip(ids, probabilities):
                out.write(f'{{"status_id": "{status_id}", "score": {p:.4f}}}\n')
            ids.clear()
            texts.clear()

        for line in lines:
            status = json.loads(line)
            if status.get("in_reply_to_id") is None:
                continue
            ids.append(status["id"])
            texts.append(TAGS.sub(" ", status.get("content") or ""))
            count += 1
            if len(texts) == BATCH:
                flush()
        if texts:
            flush()
    return count
