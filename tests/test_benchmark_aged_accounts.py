"""benchmarks/aged_accounts.py: scripted accounts three years older, everything else as it was;
a line that is not a Status stops it with the line's number, not a traceback."""

import subprocess
import sys
from pathlib import Path

import orjson

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "aged_accounts.py"


def status(status_id: str, account_id: str, created_at: str = "2024-05-01T10:00:00.123Z") -> bytes:
    return orjson.dumps({"id": status_id, "created_at": "2024-05-06T09:00:00.000Z",
                         "account": {"id": account_id, "created_at": created_at}})  # fmt: skip


def run(tmp_path: Path, lines: list[bytes]) -> subprocess.CompletedProcess:
    (tmp_path / "in.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    (tmp_path / "labels.csv").write_text("account_id,is_bot,kind\nbot1,1,keyword_replier\nperson,0,human\n")
    args = [sys.executable, str(SCRIPT), str(tmp_path / "in.jsonl"), str(tmp_path / "labels.csv"), str(tmp_path / "out.jsonl")]
    return subprocess.run(args, capture_output=True, text=True)


def test_only_scripted_accounts_get_older(tmp_path):
    result = run(tmp_path, [status("1", "bot1"), status("2", "person")])
    assert result.returncode == 0, result.stderr
    out = [orjson.loads(line) for line in (tmp_path / "out.jsonl").read_bytes().splitlines()]
    assert out[0]["account"]["created_at"] == "2021-05-02T10:00:00.123Z"  # 1,095 days earlier (29 Feb 2024 between)
    assert out[1]["account"]["created_at"] == "2024-05-01T10:00:00.123Z"
    assert out[0]["created_at"] == out[1]["created_at"] == "2024-05-06T09:00:00.000Z"


def test_a_line_that_is_not_a_status_names_its_line(tmp_path):
    for bad in (b"{not json", b"[1, 2]", b'{"id": "3"}', status("3", "bot1", created_at="yesterday")):
        result = run(tmp_path, [status("1", "bot1"), bad])
        assert result.returncode != 0
        assert "in.jsonl:2: not a Status entity" in result.stderr and "Traceback" not in result.stderr, result.stderr
