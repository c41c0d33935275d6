"""``botwatch label``: naming accounts as people do, labels overriding the model with who and why,
and the allowlist winning over everything."""

from __future__ import annotations

import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from detector.classifier.detector import Detector
from detector.cli.app import cli
from detector.config import WatchConfig
from detector.errors import InputError
from detector.store import Store
from jobs.labels import resolve_account
from jobs.scoring import score_pending
from tests.conftest import T0, make_author, make_post

BOT = make_author("66", "VacuumRus@deals.example")
LOCAL = make_author("7", "bob")
SUPPORT = make_author("8", "acme_support")
HOSTS = {"main": "social.example"}


def fill(store: Store) -> None:
    """A trigger post with replies from a remote spam account, a local person and the support desk."""
    trigger = make_post("1", text="my #vacuum broke", hashtags=("vacuum",))
    replies = [make_post(str(10 + i), author=author, minutes=0.1 + i, parent=trigger, text=text)
               for i, (author, text) in enumerate([(BOT, "Buy the X-9000 at bit.ly/x9k now!"), (LOCAL, "try descaling it"),
                                                   (SUPPORT, "Sorry to hear that! DM us your order number.")])]
    store.save_discovered("acme", "hashtag:vacuum", [trigger], "1", fetched_at=T0, track_until_hours=24)
    store.save_replies("acme", trigger.key, replies, checked_at=T0 + timedelta(minutes=5), next_check_at=None)


def test_accounts_are_found_by_handle_or_id(store):
    fill(store)
    bot_key, bob_key = ("mastodon", "social.example", "66"), ("mastodon", "social.example", "7")
    assert resolve_account(store, "@VacuumRus@deals.example", HOSTS) == {bot_key: "VacuumRus@deals.example"}
    assert resolve_account(store, "vacuumrus@DEALS.example", HOSTS) == {bot_key: "VacuumRus@deals.example"}
    assert resolve_account(store, "@bob@social.example", HOSTS) == {bob_key: "bob"}
    assert resolve_account(store, "@bob", HOSTS) == {bob_key: "bob"}
    assert resolve_account(store, "66", HOSTS) == {bot_key: "VacuumRus@deals.example"}
    assert resolve_account(store, "999", HOSTS) == {("mastodon", "social.example", "999"): "(not seen yet)"}
    with pytest.raises(InputError, match="has not stored an account @nobody@x.example"):
        resolve_account(store, "@nobody@x.example", HOSTS)
    with pytest.raises(InputError, match="several instances"):
        resolve_account(store, "999", {**HOSTS, "other": "other.example"})
    with pytest.raises(InputError, match="no instance named 'nope'"):
        resolve_account(store, "999", HOSTS, instance="nope")


def test_label_list_and_remove_from_the_command_line(tmp_path, sqlite_url):
    with Store.open(sqlite_url, create=True) as store:
        fill(store)
    config = tmp_path / "botwatch.toml"
    config.write_text("[instances.main]\nurl = 'https://social.example'\n[watches.acme]\nkeywords = ['vacuum']\n")
    runner = CliRunner(env={"BOTWATCH_DATABASE_URL": sqlite_url})

    def run(*args: str):
        return runner.invoke(cli, ["-c", str(config), "label", *args])

    done = run("@VacuumRus@deals.example", "bot", "--note", "sells under every post", "--by", "ana")
    assert done.exit_code == 0, done.output
    assert "labelled @VacuumRus@deals.example (66 on social.example) bot: sells under every post" in done.output
    assert run("12345", "human", "--by", "ana").exit_code == 0  # not seen yet: labelled ahead
    listing = run("--list")
    assert listing.exit_code == 0 and "@VacuumRus@deals.example" in listing.output and "sells under every post" in listing.output
    assert "(not seen yet)" in listing.output and "12345" in listing.output
    assert run("@VacuumRus@deals.example", "--remove").exit_code == 0
    again = run("@VacuumRus@deals.example", "--remove")
    assert again.exit_code == 1 and "has no label" in again.output
    unknown = run("@ghost@x.example", "bot")
    assert unknown.exit_code == 1 and "has not stored an account" in unknown.output and "hint:" in unknown.output
    with Store.open(sqlite_url) as store:
        assert set(store.labels()) == {("mastodon", "social.example", "12345")}
    for bad in (("@bob",), ("--list", "@bob"), ("@bob", "bot", "--remove"), ()):
        assert run(*bad).exit_code == 2


def test_labels_override_the_model_and_the_allowlist_overrides_labels(store):
    fill(store)
    store.set_label(("mastodon", "social.example", "7"), "bot", "copies our support replies", by="ana")
    store.set_label(("mastodon", "social.example", "66"), "human", "", by="ben")
    store.set_label(("mastodon", "social.example", "8"), "bot", "", by="ana")
    runtime = SimpleNamespace(detector=Detector.load(), store=store, scoring_lock=threading.Lock(), stop=threading.Event(),
                              coordination=None)
    watch = WatchConfig("acme", "main", keywords=("vacuum",), allowlist=("acme_support",))
    assert score_pending(runtime, watch, now=T0 + timedelta(hours=1)) == 3
    scores = {r.post.author.id: r.account_score
              for r in store.replies_between("acme", T0, T0 + timedelta(days=1), runtime.detector.version)}
    assert scores["7"].label == "bot" and scores["7"].reasons[0].startswith("labelled bot by ana: copies our support replies (model score")
    assert scores["66"].label == "human" and scores["66"].reasons[0].startswith("labelled human by ben (model score")
    assert scores["8"].label == "human" and scores["8"].reasons[0].startswith("on the watch's allowlist")


def test_a_label_rewrites_the_stored_verdicts_at_once_and_its_removal_restores_the_models(tmp_path, sqlite_url):
    with Store.open(sqlite_url, create=True) as store:
        fill(store)
        runtime = SimpleNamespace(detector=Detector.load(), store=store, scoring_lock=threading.Lock(), stop=threading.Event(),
                                  coordination=None)
        watch = WatchConfig("acme", "main", keywords=("vacuum",), allowlist=("acme_support",))
        score_pending(runtime, watch, now=T0 + timedelta(hours=1))
    config = tmp_path / "botwatch.toml"
    config.write_text("[instances.main]\nurl = 'https://social.example'\n"
                      "[watches.acme]\nkeywords = ['vacuum']\nallowlist = ['acme_support']\n")
    runner = CliRunner(env={"BOTWATCH_DATABASE_URL": sqlite_url})

    def verdicts():
        with Store.open(sqlite_url) as store:
            return {r.post.author.id: r.account_score
                    for r in store.replies_between("acme", T0, T0 + timedelta(days=1), runtime.detector.version)}

    model = verdicts()
    for args in (("@bob", "bot", "--note", "copies our replies", "--by", "ana"), ("@bob", "human", "--by", "ben"),
                 ("@acme_support", "bot", "--by", "ana")):
        done = runner.invoke(cli, ["-c", str(config), "label", *args])
        assert done.exit_code == 0, done.output
    labelled = verdicts()
    assert labelled["7"].label == "human" and labelled["7"].reasons[0].startswith("labelled human by ben (model score")
    assert labelled["7"].reasons[1:] == model["7"].reasons  # the earlier label replaced, not stacked
    assert labelled["8"] == model["8"] and model["8"].reasons[0].startswith("on the watch's allowlist")
    assert runner.invoke(cli, ["-c", str(config), "label", "@bob", "--remove"]).exit_code == 0
    assert verdicts()["7"] == model["7"]
