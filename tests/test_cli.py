"""The command line: help for every command, clear errors, and the demo end to end."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from detector.cli.app import cli
from detector.store import head_revision


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from all_commands(command, prefix + (name,))


@pytest.mark.parametrize("path", [p for p, _ in all_commands(cli)], ids=" ".join)
def test_every_command_has_help(path):
    command = cli
    for name in path:
        command = command.commands[name]
    assert command.help and len(command.help.strip()) > 20
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_init_then_check(tmp_path):
    runner = CliRunner()
    config = tmp_path / "botwatch.toml"
    assert runner.invoke(cli, ["-c", str(config), "init"]).exit_code == 0
    result = runner.invoke(cli, ["-c", str(config), "config", "check"], env={"BOTWATCH_TOKEN_MAIN": "sekret-token"})
    assert result.exit_code == 0, result.output
    assert "watch vacuums" in result.output and "environment variable BOTWATCH_TOKEN_MAIN" in result.output
    assert "sekret-token" not in result.output
    again = runner.invoke(cli, ["-c", str(config), "init"])
    assert again.exit_code == 1 and "already exists" in again.output and "--force" in again.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[watches.a]\nkeywords = 'vacuum'\n", "keywords: expected a list of non-empty strings"),
        ("[botwatch]\ntimezon = 'UTC'\n", "did you mean 'timezone'"),
        ("not toml at all [", "not valid TOML"),
    ],
)
def test_bad_config_is_one_clear_line(tmp_path, text, message):
    config = tmp_path / "botwatch.toml"
    config.write_text("[instances.main]\nurl = 'https://x.example'\n" + text)
    result = CliRunner().invoke(cli, ["-c", str(config), "config", "check"])
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_missing_config_suggests_init(tmp_path):
    result = CliRunner().invoke(cli, ["-c", str(tmp_path / "nope.toml"), "config", "check"])
    assert result.exit_code == 1 and "no such file" in result.output and "botwatch init" in result.output


def test_report_on_a_database_that_is_not_there_says_what_to_do(tmp_path):
    config = tmp_path / "botwatch.toml"
    config.write_text(f"[botwatch]\nstate_dir = '{tmp_path}'\n[instances.m]\nurl = 'https://x.example'\n"
                      "[watches.w]\nkeywords = ['vacuum']\n")
    result = CliRunner().invoke(cli, ["-c", str(config), "report", "--date", "2026-11-23"])
    assert result.exit_code == 1 and "botwatch db upgrade" in result.output
    bad_date = CliRunner().invoke(cli, ["-c", str(config), "report", "--date", "23/11/2026"])
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.output


def test_score_reports_bad_lines_and_writes_both_files(tmp_path):
    from detector.mastodon_server import SimParams, simulate

    community = simulate(SimParams(seed=5, days=0.5, humans=60))
    archive = tmp_path / "in.jsonl"
    community.write_jsonl(archive)
    with archive.open("a") as handle:
        handle.write('{"not": "a status"}\n[1, 2]\n')
    result = CliRunner().invoke(cli, ["score", str(archive), "-o", str(tmp_path / "r.jsonl"), "-a", str(tmp_path / "a.jsonl"), "-q"])
    assert result.exit_code == 0, result.output
    assert "2 bad lines skipped" in result.output and "skipped" in result.output
    replies = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    accounts = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert len(replies) == sum(1 for s in community.statuses if s.is_reply)
    assert {a["account_id"] for a in accounts} == {r["account_id"] for r in replies}


def test_demo_flags_the_scripted_accounts_and_not_the_support_desk(tmp_path):
    result = CliRunner().invoke(cli, ["demo", "--state-dir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "# botwatch daily summary: dustwise" in out and "## Flagged accounts" in out
    assert "vacuumrus" in out.lower() and "trigger keyword: 'vacuum'" in out
    assert "dustwise_support" not in out.split("## Flagged accounts")[1].split("Verdicts against")[0]
    assert (tmp_path / "demo" / "reports" / "dustwise").is_dir()
    again = CliRunner().invoke(cli, ["-c", str(tmp_path / "demo" / "botwatch.toml"), "report", "--date", "2024-05-07"])
    assert again.exit_code == 0 and again.output.startswith("# botwatch daily summary: dustwise, 2024-05-07")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "precious.txt").write_text("keep me")
    refused = CliRunner().invoke(cli, ["demo", "--state-dir", str(tmp_path / "mine")])
    assert refused.exit_code == 1 and "not made by the demo" in refused.output
    assert (tmp_path / "mine" / "precious.txt").exists()


@pytest.mark.parametrize("revision, says", [
    ("0001", ["schema revision 0001", f"needs {head_revision()}", "botwatch db upgrade"]),
    ("0099", ["schema revision 0099", "does not know", "upgrade botwatch"]),  # a newer botwatch migrated it
])
def test_run_refuses_a_schema_it_does_not_know_and_says_what_to_do(tmp_path, database_url, revision, says):
    from sqlalchemy import text

    from detector.store import db, upgrade

    upgrade(database_url)
    engine = db.make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
    engine.dispose()
    config = tmp_path / "botwatch.toml"
    config.write_text(f"[botwatch]\nstate_dir = '{tmp_path}'\n[instances.m]\nurl = 'https://x.example'\n"
                      "[watches.w]\nkeywords = ['vacuum']\n")
    result = CliRunner().invoke(cli, ["-c", str(config), "run"], env={"BOTWATCH_DATABASE_URL": database_url})
    assert result.exit_code == 1, result.output
    assert all(s in result.output for s in says) and "Traceback" not in result.output, result.output
