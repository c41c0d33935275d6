"""Secrets stay secret and model files stay data.

The access token never appears in a log event, an error, a hint or a report: not across failing
polls, not when the server refuses it (401), not when the config is wrong, not in a crash's
traceback. Files that hold secrets and are readable by other users get a warning. A model file
that was tampered with, or made by another version, or is a pickle, is refused with one clear
line and never executed.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import pickle
import time

import orjson
import pytest
from click.testing import CliRunner
from structlog.testing import capture_logs

from detector.cli.app import cli
from detector.config import parse_config
from detector.logs import configure_logging
from detector.mastodon_server import MastodonTestServer, SimParams, simulate
from detector.sources.mastodon import MastodonSource
from jobs.service import Service, build_runtime
from tests.pipeline_support import Botwatch

pytestmark = pytest.mark.timeout(120)
WRONG_TOKEN = "bwtest-this-token-was-revoked-0123456789abcdef"


@pytest.fixture(scope="module")
def community():
    return simulate(SimParams(seed=9, days=1.0, humans=40))


@pytest.fixture
def server(community):
    with MastodonTestServer(community, rate_limit=100_000) as running:
        yield running


def leaked(token: str, text: str) -> bool:
    return any(token[i:i + 12] in text for i in range(0, len(token) - 11))


def runtime_with_token(server, tmp_path, token, database_url):
    document = {"botwatch": {"state_dir": str(tmp_path / "state")},
                "instances": {"sim": {"url": server.base_url, "request_timeout": 0.2}},
                "watches": {"w": {"keywords": ["vacuum"], "hashtags": ["vacuum"], "brand_accounts": ["dustwise"]}}}
    config = parse_config(document, environ={"BOTWATCH_DATABASE_URL": database_url, "BOTWATCH_TOKEN_SIM": token})
    sources = {"sim": MastodonSource(config.instances["sim"], clock=server.clock, sleep=server.advance)}
    return build_runtime(config, create_db=True, sources=sources)


def test_the_token_is_in_no_log_event_across_failing_polls_and_a_401(server, tmp_path, sqlite_url):
    token = server.token_for("dustwise")
    faults = [("error", {"status": 500}), ("html", {}), ("reset", {}), ("malformed", {}), ("truncated", {}),
              ("hang", {"delay": 1.0}), ("rate_limit", {"retry_after": 900})]
    runtime = runtime_with_token(server, tmp_path, token, sqlite_url)
    service = Service(runtime)
    with capture_logs() as logs:
        for kind, extra in faults:
            server.faults.clear()
            server.faults.add(r"^/api/v", kind, times=None, **extra)
            service.poll("w")
            server.advance(3600)
        server.faults.clear()
        refused = Service(runtime_with_token(server, tmp_path, WRONG_TOKEN, sqlite_url))
        refused.poll("w")
    failures = [e for e in logs if e["event"] == "poll.failed"]
    assert len(failures) == len(faults) + 1
    assert "401" in failures[-1]["error"] and "BOTWATCH_TOKEN_SIM" in refused.runtime.config.instances["sim"].token_source
    text = json.dumps(logs, default=str)
    assert not leaked(token, text) and not leaked(WRONG_TOKEN, text)
    runtime.store.close()
    refused.runtime.store.close()


def test_a_crash_traceback_in_the_console_log_shows_no_token(server, tmp_path, sqlite_url, monkeypatch):
    """A bug in a poll is logged with its traceback, whose frames hold the token in locals."""
    token = server.token_for("dustwise")
    runtime = runtime_with_token(server, tmp_path, token, sqlite_url)

    def buggy_poll(runtime, watch, **_):
        secret = runtime.config.instances["sim"].token.reveal()  # a local a fancy traceback would print
        raise ZeroDivisionError(len(secret) / 0)

    monkeypatch.setattr("jobs.poll.poll_watch", buggy_poll)
    for fmt in ("console", "json"):
        out = io.StringIO()
        configure_logging(fmt, "info", stream=out)
        Service(runtime).poll("w")
        assert "poll.crashed" in out.getvalue() and "ZeroDivisionError" in out.getvalue()
        assert not leaked(token, out.getvalue())
    runtime.store.close()


def test_botwatch_run_refused_by_the_server_logs_no_token(server, tmp_path):
    config = tmp_path / "botwatch.toml"
    config.write_text(f"[botwatch]\nstate_dir = '{tmp_path / 'state'}'\nlog_format = 'json'\n"
                      f"[instances.sim]\nurl = '{server.base_url}'\n"
                      "[watches.w]\nhashtags = ['vacuum']\nbrand_accounts = ['dustwise']\ninterval = '1s'\n")
    service = Botwatch(config, WRONG_TOKEN)
    failed = service.wait_for("poll.failed")
    assert "401" in failed["error"] and "BOTWATCH_TOKEN_SIM" in failed["error"] + str(failed.get("hint", ""))
    assert service.stop() == 0
    assert not leaked(WRONG_TOKEN, "".join(service.output))


def test_config_errors_and_checks_never_print_the_token(tmp_path):
    token = "s3cr3t-0123456789-abcdefghijkl"
    config = tmp_path / "botwatch.toml"
    runner = CliRunner()
    config.write_text(f"[instances.main]\nurl = 'https://x.example'\ntoken = '{token}'\n")
    in_file = runner.invoke(cli, ["-c", str(config), "config", "check"])
    assert in_file.exit_code == 1 and "tokens do not belong" in in_file.output
    config.write_text("[instances.main]\nurl = 'https://x.example'\n[watches.w]\nkeywords = 'vacuum'\n")
    bad = runner.invoke(cli, ["-c", str(config), "config", "check"], env={"BOTWATCH_TOKEN_MAIN": token})
    assert bad.exit_code == 1 and "keywords" in bad.output
    config.write_text("[instances.main]\nurl = 'https://x.example'\n[watches.w]\nkeywords = ['vacuum']\n")
    good = runner.invoke(cli, ["-c", str(config), "config", "check"], env={"BOTWATCH_TOKEN_MAIN": token})
    assert good.exit_code == 0 and "BOTWATCH_TOKEN_MAIN" in good.output
    dead_db = runner.invoke(cli, ["-c", str(config), "report", "--date", "2026-01-01"],
                            env={"BOTWATCH_TOKEN_MAIN": token,
                                 "BOTWATCH_DATABASE_URL": f"postgresql+psycopg://bw:{token}@127.0.0.1:9/x"})
    assert dead_db.exit_code == 1 and "Traceback" not in dead_db.output
    for result in (in_file, bad, good, dead_db):
        assert not leaked(token, result.output)


@pytest.mark.parametrize(("mode", "warned"), [(0o644, True), (0o640, True), (0o600, False)])
def test_a_config_file_with_a_password_readable_by_others_is_warned_about(tmp_path, mode, warned):
    config = tmp_path / "botwatch.toml"
    config.write_text("[botwatch]\ndatabase_url = 'postgresql+psycopg://bw:hunter2@db.example/bw'\n"
                      "[instances.main]\nurl = 'https://x.example'\n")
    config.chmod(mode)
    result = CliRunner().invoke(cli, ["-c", str(config), "config", "check"])
    assert result.exit_code == 0, result.output
    assert ("database password" in result.stderr and f"chmod 600 {config}" in result.stderr) is warned
    assert "hunter2" not in result.output


def test_a_world_readable_config_without_secrets_is_fine(tmp_path):
    config = tmp_path / "botwatch.toml"
    config.write_text("[botwatch]\ndatabase_url = 'postgresql+psycopg://bw@/bw?host=/run/postgresql'\n"
                      "[instances.main]\nurl = 'https://x.example'\n")
    config.chmod(0o644)
    result = CliRunner().invoke(cli, ["-c", str(config), "config", "check"])
    assert result.exit_code == 0 and "warning" not in result.stderr


def shipped_model() -> dict:
    from detector.classifier.artifact import default_model_path

    with gzip.open(default_model_path(), "rb") as handle:
        return orjson.loads(handle.read())


class _Exploit:
    def __reduce__(self):
        return (os.system, (f"touch {os.environ['BOTWATCH_EXPLOIT_MARKER']}",))


def _tampered(document: dict) -> bytes:
    document["payload"]["reply_model"]["bias"] = 12.5
    return gzip.compress(orjson.dumps(document))


def _future(document: dict) -> bytes:
    document["format_version"] += 1
    return gzip.compress(orjson.dumps(document))


@pytest.mark.parametrize(("make", "message"), [
    (_tampered, "checksum"),
    (_future, "model format version"),
    (lambda _: gzip.compress(pickle.dumps(_Exploit())), "not a botwatch model"),
    (lambda _: pickle.dumps(_Exploit()), "not a botwatch model"),
    (lambda _: b"", "not a botwatch model"),
], ids=["edited weights", "newer format", "gzipped pickle", "pickle", "empty"])
def test_score_with_a_bad_model_prints_one_clear_line(tmp_path, monkeypatch, make, message):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("BOTWATCH_EXPLOIT_MARKER", str(marker))
    model = tmp_path / "tampered.json.gz"
    model.write_bytes(make(shipped_model()))
    archive = tmp_path / "in.jsonl"
    archive.write_text("{}\n")
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["score", str(archive), "-o", str(tmp_path / "r.jsonl"),
                                      "-a", str(tmp_path / "a.jsonl"), "--model", str(model), "-q"])
    assert result.exit_code == 1 and time.monotonic() - started < 10
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: ") and message in lines[0] and str(model) in lines[0]
    assert len(lines) <= 2 and (len(lines) == 1 or lines[1].startswith("hint: "))
    assert "Traceback" not in result.output and not marker.exists()
    assert not (tmp_path / "r.jsonl").exists()
