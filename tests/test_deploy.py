"""The systemd deployment: the unit verifies and is hardened, the administrator's guide matches the
unit and the config, and ``botwatch run`` speaks systemd's notify protocol (READY, WATCHDOG,
STOPPING) over a real Unix datagram socket.

``systemd-analyze`` comes from Debian's ``systemd`` package. When it is missing the tests install
it (as root, with apt-get), else they are skipped with the reason in pytest's summary.
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from detector.cli.app import cli
from detector.config import default_config_path, default_state_dir, load_config
from detector.mastodon_server import MastodonTestServer, SimParams, simulate
from jobs import notify
from tests.pipeline_support import Botwatch

pytestmark = pytest.mark.timeout(300)
ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "deploy" / "botwatch.service"
EXAMPLE = ROOT / "deploy" / "botwatch.example.toml"
GUIDE = ROOT / "deploy" / "README.md"
MAX_EXPOSURE = 2.0


@pytest.fixture(scope="module")
def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        install = ["apt-get", "install", "-y", "--no-install-recommends", "systemd"]
        env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        if subprocess.run(install, env=env, capture_output=True, timeout=240).returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, capture_output=True, timeout=240)
            subprocess.run(install, env=env, capture_output=True, timeout=240)
        found = shutil.which("systemd-analyze")
    if found is None:
        pytest.skip("systemd-analyze is not installed and cannot be (needs root and apt-get): "
                    "apt-get install systemd to run the unit checks")
    return found


def unit_settings() -> dict[str, list[str]]:
    """Every ``Key=value`` of the unit, keys may repeat (``SystemCallFilter=``)."""
    settings: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_the_unit_verifies(systemd_analyze, tmp_path):
    """``systemd-analyze verify`` checks that ExecStart exists, so a copy points at a real botwatch."""
    executable = Path(sys.prefix) / "bin" / "botwatch"
    assert executable.exists(), "botwatch is not installed in this environment"
    copy = tmp_path / "botwatch.service"
    text = UNIT.read_text()
    assert "ExecStart=/opt/botwatch/venv/bin/botwatch run" in text
    copy.write_text(text.replace("/opt/botwatch/venv/bin/botwatch", str(executable)))
    result = subprocess.run([systemd_analyze, "verify", str(copy)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "" and result.stderr.strip() == "", result.stderr


def test_verify_would_catch_a_broken_unit(systemd_analyze, tmp_path):
    """Guards the test above: a misspelt key and a missing binary are reported."""
    broken = tmp_path / "broken.service"
    broken.write_text(UNIT.read_text().replace("ProtectHome=yes", "ProtectHomes=yes"))
    result = subprocess.run([systemd_analyze, "verify", str(broken)], capture_output=True, text=True, timeout=120)
    assert "ProtectHomes" in result.stderr and "/opt/botwatch/venv/bin/botwatch" in result.stderr


def test_the_unit_is_rated_at_most_2_0_exposed(systemd_analyze):
    result = subprocess.run([systemd_analyze, "security", "--offline=yes", str(UNIT)], capture_output=True,
                            text=True, timeout=120)
    if "--offline" in result.stderr and result.returncode != 0:
        pytest.skip(f"this systemd-analyze cannot rate unit files offline: {result.stderr.strip()[:200]}")
    found = re.search(r"Overall exposure level for botwatch\.service: (\d+\.\d)", result.stdout)
    assert found, result.stdout[-500:] + result.stderr[-500:]
    assert float(found.group(1)) <= MAX_EXPOSURE
    assert re.search(rf"\({found.group(1)} with the shipped settings\)", GUIDE.read_text()), "the guide's figure"


def test_the_unit_asks_for_what_the_issue_asks():
    settings = unit_settings()
    for key, value in {"Type": "notify", "DynamicUser": "yes", "StateDirectory": "botwatch",
                       "ConfigurationDirectory": "botwatch", "ProtectSystem": "strict", "ProtectHome": "yes",
                       "PrivateTmp": "yes", "NoNewPrivileges": "yes"}.items():
        assert settings.get(key) == [value], key
    assert settings["SystemCallFilter"][0] == "@system-service" and settings["WatchdogSec"]
    assert set(settings["RestrictAddressFamilies"][0].split()) == {"AF_UNIX", "AF_INET", "AF_INET6"}


def test_the_guide_the_unit_and_the_example_config_agree(tmp_path):
    settings, guide = unit_settings(), GUIDE.read_text()
    credential, _, source = settings["LoadCredential"][0].partition(":")
    example = configparser.ConfigParser()
    example.read_string(EXAMPLE.read_text().replace('"', ""))
    assert example["instances.main"]["token_credential"] == credential  # the name the unit loads
    assert f"install -m 0600 /dev/null {source}" in guide  # the guide creates that file, root-only
    venv = settings["ExecStart"][0].split("/bin/botwatch")[0]
    assert f"python3 -m venv {venv}" in guide and f"{venv}/bin/pip install" in guide
    config_dir, state_dir = Path("/etc") / settings["ConfigurationDirectory"][0], Path("/var/lib") / "botwatch"
    assert f"{config_dir}/botwatch.toml" in guide and str(state_dir) in guide
    assert "token_credential" in guide and "$CREDENTIALS_DIRECTORY" in guide
    # what systemd sets, botwatch reads: the config from $CONFIGURATION_DIRECTORY, state in $STATE_DIRECTORY
    env = {"CONFIGURATION_DIRECTORY": str(config_dir), "STATE_DIRECTORY": str(state_dir),
           "CREDENTIALS_DIRECTORY": "/run/credentials/botwatch.service"}
    assert default_config_path(env) == config_dir / "botwatch.toml" and default_state_dir(env) == state_dir
    # and the example config, installed as the guide says, loads under those variables
    (tmp_path / "etc").mkdir()
    shutil.copy(EXAMPLE, tmp_path / "etc" / "botwatch.toml")
    (tmp_path / "creds").mkdir()
    (tmp_path / "creds" / credential).write_text("a-token\n")
    env = {"CONFIGURATION_DIRECTORY": str(tmp_path / "etc"), "STATE_DIRECTORY": str(tmp_path / "state"),
           "CREDENTIALS_DIRECTORY": str(tmp_path / "creds")}
    config = load_config(None, environ=env)
    assert config.state_dir == tmp_path / "state" and config.instances["main"].token.reveal() == "a-token"
    assert config.warnings == ()


def test_every_botwatch_command_in_the_guide_exists():
    commands = set(re.findall(r"bin/botwatch(?: -c \S+)? ([a-z]+)", GUIDE.read_text()))
    assert {"db", "config", "report"} <= commands
    for command in commands:
        assert command in cli.commands, command
    result = CliRunner().invoke(cli, ["db", "upgrade", "--help"])
    assert result.exit_code == 0


def test_watchdog_interval_follows_systemd():
    assert notify.watchdog_interval({"WATCHDOG_USEC": "120000000"}) == 60.0
    assert notify.watchdog_interval({}) is None and notify.watchdog_interval({"WATCHDOG_USEC": "x"}) is None
    assert notify.watchdog_interval({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}) is None  # another process's


@pytest.fixture(scope="module")
def live_server():
    community = simulate(SimParams(seed=13, start=SimParams().start, days=1.0, humans=30))
    with MastodonTestServer(community, clock=time.time, rate_limit=100_000) as server:
        yield server


def test_botwatch_run_sends_ready_watchdog_and_stopping_over_notify_socket(tmp_path, live_server):
    address = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(address)
    listener.settimeout(30)
    config = tmp_path / "botwatch.toml"
    config.write_text(f"[botwatch]\nstate_dir = '{tmp_path / 'state'}'\nlog_format = 'json'\n"
                      f"[instances.sim]\nurl = '{live_server.base_url}'\n"
                      "[watches.w]\nhashtags = ['vacuum']\ninterval = '1h'\n")
    service = Botwatch(config, live_server.token_for("dustwise"),
                       env={"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "600000"})  # ping every 0.3 s
    try:
        messages = [listener.recv(4096).decode()]
        assert messages[0].startswith("READY=1")
        started = time.monotonic()
        while sum(m == "WATCHDOG=1" for m in messages) < 3:
            messages.append(listener.recv(4096).decode())
        assert time.monotonic() - started < 5  # every 0.3 s, not every 10
        assert service.stop() == 0
        messages.append(listener.recv(4096).decode())
        assert messages[-1].startswith("STOPPING=1")
        assert any(e["event"] == "service.started" for e in service.events + drain(service))
    finally:
        if service.process.poll() is None:
            service.process.kill()
        listener.close()


def drain(service: Botwatch) -> list[dict]:
    service.drain()
    return service.events
