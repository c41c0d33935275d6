"""``evaluate``: a labelled archive scored by the scoring code, reported per level and per kind."""

import pytest

from detector.classifier.detector import Detector
from detector.classifier.evaluate import evaluate, read_labels
from detector.errors import InputError
from detector.mastodon_server.community import SimParams, simulate


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    folder = tmp_path_factory.mktemp("eval")
    community = simulate(SimParams(seed=5151, days=1.0))
    community.write_jsonl(folder / "statuses.jsonl")
    community.write_labels_csv(folder / "labels.csv")
    with (folder / "statuses.jsonl").open("a", encoding="utf-8") as handle:
        handle.write("not json\n")
    return folder


def test_report_has_every_metric_the_issue_asks_for(archive):
    report = evaluate(archive / "statuses.jsonl", archive / "labels.csv", detector=Detector.load(), keywords=("vacuum", "hoover"))
    assert report["bad_lines"] == 1 and report["seconds"] > 0
    for level in ("account", "reply"):
        m = report[level]["at_bot_threshold"]
        assert {"roc_auc", "pr_auc", "precision", "recall", "f1", "false_positive_rate", "n", "positives"} <= set(m)
        assert m["pr_auc"] > 0.9
    kinds = report["account"]["per_kind_at_bot_threshold"]
    assert "recall" in kinds["keyword_replier"] and "false_positive_rate" in kinds["brand_support"]
    assert sum(row["n"] for row in report["account"]["calibration"]) == report["account"]["at_bot_threshold"]["n"]


def test_labels_file_formats_and_errors(tmp_path):
    good = tmp_path / "labels.csv"
    good.write_text("account_id,is_bot,kind\n1,1,keyword_replier\n2,0\n3,true,\n", encoding="utf-8")
    assert read_labels(good) == {"1": (1, "keyword_replier"), "2": (0, "human"), "3": (1, "bot")}
    bad = tmp_path / "bad.csv"
    bad.write_text("account_id,is_bot\n1,maybe\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.csv:2: is_bot"):
        read_labels(bad)
    with pytest.raises(InputError, match="cannot read"):
        read_labels(tmp_path / "absent.csv")
