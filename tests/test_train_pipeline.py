"""``botwatch train`` end to end, small: every stage (fits, calibration, evaluation, grouped
cross-validation, card) runs on made-up data sets and tiny simulated communities, in-process.

The real run takes minutes on the third-party data (and that data is not in a clone); this one
proves the pipeline still holds together, which a unit test of each stage cannot.
"""

from __future__ import annotations

import csv
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from detector.classifier import train as train_module
from detector.classifier.artifact import read_artifact
from detector.classifier.detector import Detector
from detector.classifier.simulated import community_data
from detector.mastodon_server import SimParams, simulate

pytestmark = pytest.mark.timeout(300)

SPAM = ["check out my channel {n} http://promo{n}.example", "win a free prize {n} call now", "subscribe to me {n}",
        "buy cheap pills {n} at pills{n}.example", "click here for cash {n}"]
HAM = ["love this song {n}", "my dog likes it {n}", "who is here in {n}", "the drums at {n} are great", "see you at {n}"]
TWITTER_TIME = "%a %b %d %H:%M:%S +0000 %Y"


def _write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _profile(rng: random.Random, i: int, bot: bool) -> dict[str, object]:
    year = 2015 if bot else 2009 + i % 5
    return {
        "id": str(1000 + i), "screen_name": f"user{i}{rng.randint(10000, 99999) if bot else ''}",
        "name": "" if bot else f"Person {i}", "created_at": f"Mon Mar 02 10:00:00 +0000 {year}",
        "updated": "2016-03-15 14:12:22", "statuses_count": rng.randint(0, 30) if bot else rng.randint(300, 9000),
        "followers_count": rng.randint(0, 5) if bot else rng.randint(50, 900),
        "friends_count": rng.randint(300, 900) if bot else rng.randint(50, 400),
        "description": "" if bot else "I like music", "default_profile_image": "1" if bot else "0",
    }  # fmt: skip


def write_data_sets(root: Path) -> None:
    """Tiny stand-ins for the four data sets, in their real file layouts."""
    rng = random.Random(7)
    for video in ("v1", "v2"):
        _write_csv(root / "youtube_spam_collection" / f"Youtube01-{video}.csv", [
            {"COMMENT_ID": f"{video}{n}{k}", "AUTHOR": "a", "DATE": "", "CONTENT": template.format(n=n), "CLASS": int(k == "s")}
            for n in range(6) for k, templates in (("s", SPAM), ("h", HAM)) for template in templates
        ])  # fmt: skip
    sms = root / "sms_spam_collection" / "SMSSpamCollection"
    sms.parent.mkdir(parents=True)
    sms.write_text("".join(f"{'spam' if k == 's' else 'ham'}\t{t.format(n=n + 100)}\n"
                           for n in range(6) for k, ts in (("s", SPAM), ("h", HAM)) for t in ts), encoding="utf-8")
    folder = root / "cresci2017_users_ss1_genuine"
    _write_csv(folder / "spam_user.csv", [_profile(rng, i, True) for i in range(30)])
    _write_csv(folder / "genuine_users.csv", [_profile(rng, i, False) for i in range(30, 90)])
    folder = root / "cresci2015_bas_users"
    people = [{**_profile(rng, i, i % 2 == 0), "dataset": "INT" if i % 2 == 0 else "E13"} for i in range(200, 260)]
    _write_csv(folder / "bas_users.csv", people)
    _write_csv(folder / "FAK_user_ids.csv", [{"id": p["id"], "dataset": "INT"} for p in people if p["dataset"] == "INT"])


def test_train_runs_every_stage_and_writes_a_loadable_artifact_and_card(tmp_path, monkeypatch):
    data = tmp_path / "data"
    write_data_sets(data)

    def small_community(seed: int, *, varied: bool = True):
        return community_data(simulate(SimParams(seed=seed, days=1.0, humans=80, power_users=3)))

    monkeypatch.setattr(train_module, "training_community", small_community)
    for name, seeds in (("TRAIN_SEEDS", (11, 12)), ("CALIBRATION_SEEDS", (13,)), ("EVALUATION_SEEDS", (14,)),
                        ("VARIED_EVALUATION_SEEDS", (15,))):
        monkeypatch.setattr(train_module, name, seeds)
    stages: list[str] = []
    out = tmp_path / "model"
    train_module.train(data, out, log=stages.append, executor=ThreadPoolExecutor(2))

    assert any(s.startswith("calibration:") for s in stages) and "evaluated content and profile models by grouped cross-validation" in stages
    detector = Detector.load(out / train_module.DEFAULT_NAME)
    assert detector.version.startswith("bw1-") and read_artifact(out / train_module.DEFAULT_NAME)
    card = (out / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert detector.version in card and "leave one video out" in card and "cresci-2017" in card
