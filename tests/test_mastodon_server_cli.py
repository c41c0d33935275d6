"""``python -m detector.mastodon_server``: writes the community's files and serves it."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import requests

from detector.mastodon_server.__main__ import main


def test_writes_statuses_and_labels_without_serving(tmp_path, capsys) -> None:
    assert main(["--seed", "2", "--days", "0.5", "--humans", "60", "--no-serve",
                 "--jsonl", str(tmp_path / "s.jsonl"), "--labels", str(tmp_path / "l.csv")]) == 0
    lines = (tmp_path / "s.jsonl").read_text().splitlines()
    assert lines and all(json.loads(line)["account"]["id"] for line in lines)
    with (tmp_path / "l.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {r["kind"] for r in rows} >= {"human", "keyword_replier", "brand_support"}
    assert "statuses" in capsys.readouterr().err


def test_serves_and_prints_base_url_and_tokens() -> None:
    process = subprocess.Popen([sys.executable, "-m", "detector.mastodon_server", "--seed", "1", "--days", "0.5",
                                "--humans", "60"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        base_url = process.stdout.readline().split(": ", 1)[1].strip()
        token_line = process.stdout.readline()
        assert token_line.startswith("token botwatch: bwtest-")
        token = token_line.split(": ", 1)[1].strip()
        me = requests.get(f"{base_url}/api/v1/accounts/verify_credentials",
                          headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert me.status_code == 200 and me.json()["acct"] == "botwatch"
    finally:
        process.terminate()
        process.wait(timeout=10)
