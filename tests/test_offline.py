"""``botwatch score`` on archives: a hand-written one from the API documentation, a simulated one,
and broken ones."""

import json
from pathlib import Path

import orjson
import pytest

from detector.classifier.detector import Detector
from detector.errors import InputError
from detector.mastodon_server.community import SimParams, simulate
from detector.offline import score_file

DOCS_ARCHIVE = Path(__file__).parent / "data" / "mastodon_docs_statuses.jsonl"


@pytest.fixture(scope="module")
def detector():
    return Detector.load()


def read(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_hand_written_archive_from_the_api_documentation(detector, tmp_path):
    bad, progress = [], []
    summary = score_file(
        DOCS_ARCHIVE, tmp_path / "replies.jsonl", tmp_path / "accounts.jsonl", detector=detector,
        on_bad_line=bad.append, progress=lambda stage, done, total: progress.append(stage),
    )  # fmt: skip
    replies, accounts = read(tmp_path / "replies.jsonl"), read(tmp_path / "accounts.jsonl")
    # 8 lines: 1 top-level post, 4 replies, an API error entity, a line that is not JSON, a boost.
    assert summary.lines == 8 and summary.statuses == 6 and summary.replies == 4
    assert summary.bad_lines == 2 and [n for n, _ in summary.bad_examples] == [6, 7]
    assert ":6: not a Status entity" in bad[0] and ":7: not JSON" in bad[1]
    assert {r["status_id"] for r in replies} == {"103270117023417554", "103270119535412434", "103270214533252306", "103270083546318034"}
    for row in replies:
        assert set(row) == {"status_id", "account_id", "score", "label", "reasons"}
        assert isinstance(row["status_id"], str) and isinstance(row["account_id"], str)
        assert 0.0 <= row["score"] <= 1.0 and row["label"] in ("bot", "suspect", "human") and row["reasons"]
    by_acct = {a["acct"]: a for a in accounts}
    assert set(by_acct) == {"VacuumRus@deals.example", "PacificVacuum@shops.example", "trwnh"}
    assert by_acct["VacuumRus@deals.example"]["replies"] == 2 and by_acct["VacuumRus@deals.example"]["account_id"] == "109350000000000001"
    assert by_acct["VacuumRus@deals.example"]["score"] > by_acct["trwnh"]["score"]
    assert by_acct["trwnh"]["label"] == "human"
    # The reply whose parent is not in the file was timed from the parent's Snowflake id (21.3 s).
    assert "103270083546318034" in by_acct["VacuumRus@deals.example"]["evidence"]["fastest_reply_ids"]
    assert "reading" in progress and "writing" in progress


def test_simulated_archive_flags_the_scripts_and_clears_the_people(detector, tmp_path):
    community = simulate(SimParams(seed=4242, days=1.0))
    archive = tmp_path / "sim.jsonl"
    community.write_jsonl(archive)
    summary = score_file(archive, tmp_path / "r.jsonl", tmp_path / "a.jsonl", detector=detector, keywords=("vacuum", "hoover"))
    kinds = {a.id: (a.is_bot, a.kind) for a in community.accounts}
    accounts = read(tmp_path / "a.jsonl")
    bots = [a for a in accounts if kinds[a["account_id"]][0]]
    people = [a for a in accounts if not kinds[a["account_id"]][0]]
    assert sum(a["label"] != "human" for a in bots) >= 0.9 * len(bots)
    assert sum(a["label"] == "bot" for a in people) <= max(1, 0.02 * len(people))
    support = [a for a in accounts if kinds[a["account_id"]][1] == "brand_support"]
    assert support and all(a["label"] != "bot" for a in support)
    assert summary.replies == sum(1 for _ in (tmp_path / "r.jsonl").open())


def test_parents_after_their_replies_still_count_as_triggers(detector, tmp_path):
    community = simulate(SimParams(seed=4243, days=0.5))
    forward, backward = tmp_path / "forward.jsonl", tmp_path / "backward.jsonl"
    community.write_jsonl(forward)
    backward.write_text("".join(reversed(forward.read_text(encoding="utf-8").splitlines(keepends=True))), encoding="utf-8")
    scores = {}
    for name, path in (("forward", forward), ("backward", backward)):
        summary = score_file(path, tmp_path / f"{name}.r", tmp_path / f"{name}.a", detector=detector, keywords=("vacuum",))
        scores[name] = {a["account_id"]: a for a in read(tmp_path / f"{name}.a")}
        if name == "backward":
            assert summary.late_parents > 0
    triggered = [a for a in scores["forward"].values() if a["evidence"].get("trigger_keyword")]
    assert triggered
    for account in triggered:
        assert scores["backward"][account["account_id"]]["evidence"].get("triggered_replies") == account["evidence"]["triggered_replies"]


def test_an_input_that_is_not_a_status_archive_stops_early(detector, tmp_path):
    archive = tmp_path / "not-statuses.jsonl"
    archive.write_bytes(b"".join(orjson.dumps({"id": str(i), "name": "a row of something else"}) + b"\n" for i in range(500)))
    with pytest.raises(InputError, match="are not Mastodon statuses") as caught:
        score_file(archive, tmp_path / "r", tmp_path / "a", detector=detector)
    assert "Status entity per line" in caught.value.hint


def test_missing_input_is_a_clear_error(detector, tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        score_file(tmp_path / "absent.jsonl", tmp_path / "r", tmp_path / "a", detector=detector)
