"""``botwatch train --labels-from``: the accounts people labelled, with their stored replies, join
the account model's training rows, weighted, and pull the model their way."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from detector.classifier.detector import Detector
from detector.classifier.simulated import community_data, replay_rows
from detector.classifier.train import train_account
from detector.classifier.user_labels import USER_KIND, USER_LABEL_WEIGHT, UserLabelled, user_rows
from detector.mastodon_server.community import SimParams, simulate
from detector.store import Store
from jobs.labels import labelled_replies
from tests.conftest import T0, make_author, make_post

SELLER = make_author("66", "VacuumRus@deals.example", created_at=T0 - timedelta(days=2), followers=3)
PERSON = make_author("7", "bob")
OTHER = make_author("9", "carol")


def fill(store) -> None:
    """Four threads; the seller answers each within seconds, bob and carol now and then."""
    for i in range(4):
        trigger = make_post(f"{i}00", author=make_author(f"5{i}", f"asker{i}"), minutes=60 * i, text=f"which vacuum for {i} cats?")
        replies = [make_post(f"{i}01", author=SELLER, minutes=60 * i + 0.2, parent=trigger, text="Buy the X-9000 at bit.ly/x9k!")]
        if i % 2 == 0:
            replies.append(make_post(f"{i}02", author=PERSON, minutes=60 * i + 30, parent=trigger, text=f"we love ours, {i} years now"))
            replies.append(make_post(f"{i}03", author=OTHER, minutes=60 * i + 40, parent=trigger, text="same question here"))
        store.save_discovered("acme", "hashtag:vacuum", [trigger], trigger.id, fetched_at=T0, track_until_hours=24)
        store.save_replies("acme", trigger.key, replies, checked_at=T0 + timedelta(hours=5), next_check_at=None)


def test_stored_replies_of_labelled_accounts_and_their_parents(store):
    fill(store)
    store.set_label(("mastodon", "social.example", "66"), "bot", "sells", by="ana")
    store.set_label(("mastodon", "social.example", "7"), "human", "", by="ana")
    data = labelled_replies(store)
    assert data.labels == {"66": 1, "7": 0}
    ids = [p.id for p in data.posts]
    assert ids == ["000", "001", "002", "100", "101", "200", "201", "202", "300", "301"]  # no carol, oldest first
    assert store.replies_of([]) == []


def test_user_rows_are_the_labelled_accounts_weighted(store):
    fill(store)
    store.set_label(("mastodon", "social.example", "66"), "bot", "", by="ana")
    store.set_label(("mastodon", "social.example", "7"), "human", "", by="ana")
    store.set_label(("mastodon", "social.example", "404"), "bot", "", by="ana")  # never seen: no rows
    rows = user_rows(Detector.load(), labelled_replies(store))
    assert {r.account_id for r in rows} == {"66", "7"} and {r.kind for r in rows} == {USER_KIND}
    for account, label in (("66", 1), ("7", 0)):
        mine = [r for r in rows if r.account_id == account]
        assert {r.label for r in mine} == {label}
        assert sum(r.weight for r in mine) == pytest.approx(USER_LABEL_WEIGHT)
        assert sum(r.final for r in mine) == 1
    assert max(r.replies for r in rows if r.account_id == "66") == 4


def test_a_label_pulls_the_account_model_its_way(sqlite_url):
    store = Store.open(sqlite_url, create=True)
    fill(store)
    detector = Detector.load()
    community = community_data(simulate(SimParams(seed=77, days=1.0)))
    simulated = [r for keywords in (community.keywords, ()) for r in replay_rows(detector, community, keywords=keywords, snapshots=False).rows]
    store.set_label(("mastodon", "social.example", "7"), "human", "", by="ana")
    posts = labelled_replies(store).posts
    store.close()

    def raw_score(label: int) -> float:
        rows = user_rows(detector, UserLabelled(posts, {"7": label}), weight=50.0)
        model = train_account(simulated + rows)
        final = next(r for r in rows if r.final)
        return float(model.raw_batch(np.array([final.vector]))[0])

    assert raw_score(1) > raw_score(0) + 0.1


@pytest.mark.parametrize(("url", "says"), [
    ("sqlite:////nonexistent-dir/labels.sqlite3", "directory /nonexistent-dir does not exist"),
    ("not a url", "not a database URL"),
])
def test_labels_from_a_database_that_cannot_be_read_stops_before_training(tmp_path, url, says):
    from click.testing import CliRunner

    from detector.cli.app import cli

    result = CliRunner().invoke(cli, ["train", "--labels-from", url, "--out", str(tmp_path / "model")])
    assert result.exit_code == 1 and says in result.output and "Traceback" not in result.output
    assert not (tmp_path / "model").exists()
