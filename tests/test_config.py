"""Config: typed, checked on load, secrets only from the environment or files."""

import os
from datetime import time

import pytest

from detector.config import Secret, load_config, parse_config
from detector.errors import ConfigError

MINIMAL = {"instances": {"main": {"url": "https://social.example/"}}, "watches": {"acme": {"keywords": ["Vacuum"]}}}


def test_minimal_config_gets_defaults():
    config = parse_config(MINIMAL, environ={"XDG_STATE_HOME": "/tmp/xdg"})
    watch = config.watches["acme"]
    assert watch.instance == "main" and watch.keywords == ("vacuum",) and watch.interval_seconds == 300
    assert config.instances["main"].url == "https://social.example"
    assert str(config.state_dir) == "/tmp/xdg/botwatch"
    assert config.database_url.reveal() == "sqlite:////tmp/xdg/botwatch/botwatch.sqlite3"
    assert config.summary_time == time(0, 15)


def test_environment_overrides_file_for_database_and_token():
    env = {"BOTWATCH_DATABASE_URL": "postgresql+psycopg://u:pw@db/x", "BOTWATCH_TOKEN_MAIN": " s3cret \n"}
    config = parse_config(MINIMAL, environ=env)
    assert config.database_url.reveal() == "postgresql+psycopg://u:pw@db/x"
    assert config.instances["main"].token.reveal() == "s3cret"
    assert "s3cret" not in repr(config) and "pw@" not in repr(config)


def test_secret_never_prints():
    secret = Secret("hunter2")
    assert "hunter2" not in f"{secret} {secret!r} {[secret]}"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"watches": {"acme": {"keywords": "vacuum", "instance": "main"}}, "instances": MINIMAL["instances"]},
         "watches.acme.keywords: expected a list of non-empty strings, got 'vacuum'"),
        ({"botwatch": {"timezon": "UTC"}}, "botwatch.timezon: unknown key (did you mean 'timezone'?)"),
        ({"botwatch": {"timezone": "Mars/Olympus"}}, "botwatch.timezone: expected an IANA time zone"),
        ({"instances": {"m": {"url": "ftp://x"}}}, "instances.m.url: expected an http(s) URL"),
        ({"instances": {"m": {}}}, "instances.m.url: missing"),
        ({"instances": {"m": {"url": "http://x", "token": "abc"}}}, "instances.m.token: tokens do not belong"),
        ({"instances": MINIMAL["instances"], "watches": {"a": {"instance": "other", "keywords": ["x"]}}},
         "watches.a.instance: no [instances.other] table"),
        ({"instances": MINIMAL["instances"], "watches": {"a": {}}}, "watches.a: needs at least one of"),
        ({"instances": MINIMAL["instances"], "watches": {"a": {"keywords": ["x"], "interval": "soon"}}},
         "watches.a.interval: expected a duration"),
        ({"scoring": {"bot_threshold": 0.5, "suspect_threshold": 0.7}}, "scoring.suspect_threshold: must be below"),
    ],
)
def test_bad_config_names_key_and_problem(document, message):
    with pytest.raises(ConfigError) as caught:
        parse_config(document, origin="botwatch.toml", environ={})
    assert str(caught.value).startswith("botwatch.toml: ")
    assert message in str(caught.value)


def test_file_errors_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "missing.toml", environ={})
    bad = tmp_path / "bad.toml"
    bad.write_text("[watches\nx=1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad, environ={})


def test_token_file_relative_to_config_and_permission_warning(tmp_path):
    (tmp_path / "token").write_text("tok\n")
    os.chmod(tmp_path / "token", 0o644)
    path = tmp_path / "botwatch.toml"
    path.write_text('[instances.main]\nurl = "https://x.example"\ntoken_file = "token"\n')
    config = load_config(path, environ={})
    assert config.instances["main"].token.reveal() == "tok"
    assert any("readable by other users" in w for w in config.warnings)
    os.chmod(tmp_path / "token", 0o600)
    assert load_config(path, environ={}).warnings == ()


def test_credentials_directory(tmp_path):
    (tmp_path / "mastodon-token").write_text("cred")
    doc = {"instances": {"main": {"url": "https://x.example", "token_credential": "mastodon-token"}}}
    config = parse_config(doc, environ={"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert config.instances["main"].token.reveal() == "cred"
    with pytest.raises(ConfigError, match="CREDENTIALS_DIRECTORY is not"):
        parse_config(doc, environ={})


def test_lease_ttl_defaults_to_two_minutes_and_must_outlive_the_slowest_request():
    assert parse_config(MINIMAL, environ={}).lease_ttl_seconds == 120
    quick = {**MINIMAL, "botwatch": {"lease_ttl": "30s"}, "instances": {"main": {"url": "https://a.example", "request_timeout": 10}}}
    assert parse_config(quick, environ={}).lease_ttl_seconds == 30
    slow = {**quick, "instances": {"main": {"url": "https://a.example", "request_timeout": 11}}}
    with pytest.raises(ConfigError, match=r"botwatch\.lease_ttl: must be at least 3x the longest request_timeout \(33s\)"):
        parse_config(slow, environ={})
    patient = {**MINIMAL, "instances": {"main": {"url": "https://a.example", "request_timeout": 60}}}
    assert parse_config(patient, environ={}).lease_ttl_seconds == 180  # unset: the default grows to fit
