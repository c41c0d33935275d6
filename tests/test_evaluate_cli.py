"""``botwatch evaluate`` on hand-made files: exact numbers, every kind of broken input, and the
simulated pair that ``python -m detector.mastodon_server simulate`` writes."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from detector.classifier.detector import Detector
from detector.classifier.evaluate import evaluate, read_labels
from detector.classifier.metrics import ScoreTally, binary_metrics, calibration_table, per_kind
from detector.cli.app import cli
from detector.errors import InputError
from detector.mastodon_server.__main__ import main as server_main

ARCHIVE = Path(__file__).parent / "data" / "mastodon_docs_statuses.jsonl"
VACUUMRUS, PACIFIC, TRWNH = "109350000000000001", "109350000000000002", "14715"


@pytest.fixture(scope="module")
def detector():
    return Detector.load()


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_hand_labelled_archive_gives_the_numbers_worked_out_by_hand(detector, tmp_path):
    # The archive's replies: VacuumRus twice (1.0), PacificVacuum once (0.9997), trwnh once (0.0009).
    labels = write(tmp_path / "labels.csv", f"account_id,is_bot,kind\n{VACUUMRUS},1,keyword_replier\n"
                   f"{PACIFIC},true,generic_praise\n{TRWNH},0,brand_support\n42,0,human\n")
    report = evaluate(ARCHIVE, labels, detector=detector, on_bad_line=lambda _: None)
    account = report["account"]["at_bot_threshold"]
    assert (account["n"], account["positives"], account["roc_auc"], account["pr_auc"]) == (3, 2, 1.0, 1.0)
    assert (account["precision"], account["recall"], account["f1"], account["false_positive_rate"]) == (1.0, 1.0, 1.0, 0.0)
    kinds = report["account"]["per_kind_at_bot_threshold"]
    assert kinds["keyword_replier"] == {"n": 1, "is_bot": True, "flagged": 1, "recall": 1.0}
    assert kinds["brand_support"] == {"n": 1, "is_bot": False, "flagged": 0, "false_positive_rate": 0.0}
    reply = report["reply"]["at_bot_threshold"]
    assert (reply["n"], reply["positives"], reply["recall"]) == (4, 3, 1.0)
    assert report["reply"]["per_kind_at_bot_threshold"]["keyword_replier"]["n"] == 2
    assert [(r["band"], r["n"], r["observed"]) for r in report["account"]["calibration"]] == [("0.0-0.1", 1, 0.0), ("0.9-1.0", 2, 1.0)]
    assert report["labels"] == 4 and report["labels_not_replying"] == 1 and report["unlabelled_accounts"] == 0
    assert report["statuses"] == 6 and report["bad_lines"] == 2 and report["seconds"] >= 0


def test_threshold_option_and_swapped_labels(detector, tmp_path):
    labels = write(tmp_path / "labels.csv", f"{VACUUMRUS},1\n{PACIFIC},1\n{TRWNH},0\n")
    strict = evaluate(ARCHIVE, labels, detector=detector, threshold=0.99995)
    assert strict["thresholds"]["bot"] == 0.99995
    assert strict["account"]["at_bot_threshold"]["recall"] == 0.5  # PacificVacuum's 0.9997 is below it
    swapped = write(tmp_path / "swapped.csv", f"{VACUUMRUS},0,\n{PACIFIC},0\n{TRWNH},1\n")
    report = evaluate(ARCHIVE, swapped, detector=detector)
    assert report["account"]["at_bot_threshold"]["roc_auc"] == 0.0
    assert report["account"]["at_bot_threshold"]["precision"] == 0.0
    assert report["account"]["per_kind_at_bot_threshold"]["human"]["false_positive_rate"] == 1.0


def test_tally_metrics_equal_the_row_by_row_metrics():
    rng = random.Random(7)
    rows = [(rng.random() < 0.4, rng.choice("abc"), round(rng.betavariate(0.5, 0.5), 4)) for _ in range(500)]
    rows = [(int(y), f"{k}{int(y)}", s) for y, k, s in rows]
    tally = ScoreTally()
    for y, kind, score in rows:
        tally.add(y, kind, score)
    y, kinds, s = [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
    assert tally.metrics(0.6) == pytest.approx(binary_metrics(y, s, 0.6))
    assert tally.per_kind(0.6) == per_kind(y, s, kinds, 0.6)
    assert [pytest.approx(row) for row in calibration_table(y, s)] == tally.calibration()
    assert len(ScoreTally().merge(tally).merge(tally)) == 1000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("account_id,is_bot\n1,1\n2\n", r"labels.csv:3: expected 'account_id,is_bot\[,kind\]', got '2'"),
        ("1,1,keyword_replier,extra\n", r"labels.csv:1: expected 'account_id,is_bot\[,kind\]'"),
        ("1,1\n,0\n", r"labels.csv:2: the account id is empty"),
        ("account_id,is_bot\n1,maybe\n", r"labels.csv:2: is_bot must be 1 or 0"),
        ("1,1,spam\n2,0,spam\n", r"labels.csv:2: kind 'spam' is used for bots and non-bots \(see line 1\)"),
        ("1,1\n1,0\n", r"labels.csv:2: account 1 is labelled again, differently"),
        ('1,1\n"2,0\n', r"labels.csv:\d+: "),
        ("", r"labels.csv: no labels in the file"),
        ("account_id,is_bot,kind\n\n", r"labels.csv: no labels in the file"),
    ],
    ids=["missing-column", "extra-column", "empty-id", "bad-flag", "mixed-kind", "contradiction", "open-quote", "empty",
         "header-only"],
)
def test_malformed_labels_name_the_line_and_the_problem(tmp_path, text, message):
    with pytest.raises(InputError, match=message):
        read_labels(write(tmp_path / "labels.csv", text))


def test_labels_that_are_not_utf8_or_repeat_consistently(tmp_path):
    (tmp_path / "latin.csv").write_bytes(b"1,1,caf\xe9\n")
    with pytest.raises(InputError, match=r"latin.csv:\d+: not UTF-8"):
        read_labels(tmp_path / "latin.csv")
    assert read_labels(write(tmp_path / "ok.csv", "1,1\n1,1\n@2,false\n")) == {"1": (1, "bot"), "2": (0, "human")}


def test_empty_archive_and_unknown_ids_are_errors(detector, tmp_path):
    labels = write(tmp_path / "labels.csv", f"{VACUUMRUS},1\n")
    with pytest.raises(InputError, match="no Mastodon statuses"):
        evaluate(write(tmp_path / "empty.jsonl", ""), labels, detector=detector)
    unknown = write(tmp_path / "unknown.csv", "1,1\n2,0\n")
    with pytest.raises(InputError, match=r"none of its 2 account ids \(such as '1'\) is one of the 3 accounts that replied in"):
        evaluate(ARCHIVE, unknown, detector=detector)


def test_cli_prints_tables_and_writes_json(tmp_path):
    labels = write(tmp_path / "labels.csv", f"{VACUUMRUS},1,keyword_replier\n{PACIFIC},1,generic_praise\n{TRWNH},0,brand_support\n")
    result = CliRunner().invoke(cli, ["evaluate", str(ARCHIVE), str(labels), "--json", str(tmp_path / "r.json"), "-q"],
                                terminal_width=80)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "How the verdicts match the labels" in out and "keyword_replier" in out and "Calibration, reply level" in out
    assert "skipped" in out and ":7: not JSON" in out  # bad lines reported on stderr (mixed in here)
    assert "…" not in out  # nothing cut off in 80 columns
    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["account"]["at_bot_threshold"]["n"] == 3 and saved["reply"]["at_bot_threshold"]["n"] == 4
    stdout_json = CliRunner().invoke(cli, ["evaluate", str(ARCHIVE), str(labels), "--json", "-", "-q"])
    assert json.loads(stdout_json.stdout)["labels"] == 3


def test_cli_turns_bad_labels_into_one_line(tmp_path):
    labels = write(tmp_path / "labels.csv", "account_id,is_bot\n1,1\n2,perhaps\n")
    result = CliRunner().invoke(cli, ["evaluate", str(ARCHIVE), str(labels), "-q"])
    assert result.exit_code == 1 and "labels.csv:3: is_bot must be 1 or 0" in result.output
    assert "Traceback" not in result.output


def test_simulate_writes_pairs_that_evaluate_reads(tmp_path, capsys):
    assert server_main(["simulate", "--seed", "61", "--seed", "62", "--days", "0.3", "--out", str(tmp_path)]) == 0
    assert "keywords vacuum,hoover" in capsys.readouterr().err
    for seed in (61, 62):
        labels = read_labels(tmp_path / f"labels-{seed}.csv")
        assert {kind for _, kind in labels.values()} >= {"keyword_replier", "brand_support", "human"}
    result = CliRunner().invoke(cli, ["evaluate", str(tmp_path / "statuses-61.jsonl"), str(tmp_path / "labels-61.csv"),
                                      "--keywords", "vacuum,hoover", "--json", str(tmp_path / "r.json"), "-q"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["account"]["at_bot_threshold"]["positives"] > 0 and report["bad_lines"] == 0
