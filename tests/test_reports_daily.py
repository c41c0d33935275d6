"""Daily summary: counts, shares with intervals, flagged accounts with evidence, safe rendering."""

import json
from datetime import date, datetime, timedelta, timezone

import pytest

from detector.reports.daily import SummaryReply, keyword_in, summarise_day, template_of, wilson_interval
from detector.reports.render import md_escape, to_json, to_markdown

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def reply(i, acct, label, *, text="nice", latency=600, parent_text="my new vacuum", account_label=None, parent_acct=None):
    parent_at = T0 + timedelta(minutes=10 * i)
    return SummaryReply(
        reply_id=f"r{i}", reply_url=f"https://social.example/@{acct}/r{i}", created_at=parent_at + timedelta(seconds=latency),
        text=text, account_id=f"id-{acct}", acct=acct, reply_label=label, reply_score=0.9 if label == "bot" else 0.1,
        account_label=account_label or label, account_score=0.95 if (account_label or label) == "bot" else 0.05,
        account_reasons=("replied within seconds",) if (account_label or label) == "bot" else (),
        parent_id=f"p{i}", parent_created_at=parent_at, parent_text=parent_text, parent_acct=parent_acct or f"user{i}",
    )


def day_of_replies():
    bot = [reply(i, "VacuumRus", "bot", text=f"@user{i} Best vacuum deals at https://deals.example/{i} !", latency=4)
           for i in range(6)]
    humans = [reply(10 + i, f"human{i}", "human", text=f"I like mine, #{i}", parent_text="weather is nice") for i in range(4)]
    return bot + humans


def test_counts_and_shares():
    summary = summarise_day("vacuums", date(2026, 11, 23), day_of_replies(), keywords=("vacuum",))
    assert summary.replies_seen == 10 and summary.accounts_seen == 5
    assert summary.replies_by_label == {"bot": 6, "suspect": 0, "human": 4}
    assert summary.accounts_by_label == {"bot": 1, "suspect": 0, "human": 4}
    assert summary.flagged_account_reply_share.count == 6
    assert 0.3 < summary.flagged_account_reply_share.low < 0.6 < summary.flagged_account_reply_share.high < 0.9


def test_flagged_account_evidence():
    (account,) = summarise_day("vacuums", date(2026, 11, 23), day_of_replies(), keywords=("vacuum",)).top_accounts
    assert account.acct == "VacuumRus" and account.replies == 6 and account.distinct_targets == 6
    assert account.median_latency_seconds == 4
    assert account.trigger_keyword == "vacuum" and account.trigger_count == 6
    assert account.template == "best vacuum deals at <link> !" and account.template_count == 6
    assert len(account.samples) == 3 and account.samples[0].latency_seconds == 4


def test_suspect_accounts_are_counted_but_not_listed():
    replies = [reply(i, "maybe", "suspect") for i in range(3)]
    summary = summarise_day("w", date(2026, 11, 23), replies)
    assert summary.accounts_by_label["suspect"] == 1 and summary.top_accounts == ()


def test_account_label_is_the_latest_verdict():
    replies = [reply(0, "x", "human", account_label="human"), reply(1, "x", "bot", account_label="bot")]
    assert summarise_day("w", date(2026, 11, 23), replies).accounts_by_label["bot"] == 1


def test_empty_day():
    summary = summarise_day("w", date(2026, 11, 23), [])
    assert summary.replies_seen == 0 and summary.flagged_account_reply_share.value == 0
    assert "No account was flagged" in to_markdown(summary)


@pytest.mark.parametrize(("count", "total"), [(0, 10), (10, 10), (3, 7), (500, 1000)])
def test_wilson_interval_contains_estimate_and_stays_in_range(count, total):
    low, high = wilson_interval(count, total)
    assert 0 <= low <= count / total <= high <= 1


def test_wilson_interval_known_value():
    low, high = wilson_interval(10, 100)
    assert low == pytest.approx(0.0552, abs=1e-4) and high == pytest.approx(0.1744, abs=1e-4)


def test_keyword_and_template_helpers():
    assert keyword_in("Which VACUUMS are best?", ["hoover", "vacuum"]) == "vacuum"
    assert keyword_in("vacuuming", ["hoover"]) is None
    assert template_of("@bob Great read.  Really, tx. https://x.example/1") == "great read. really, tx. <link>"


def test_markdown_escapes_hostile_text():
    hostile = reply(0, "evil<script>", "bot", text="<script>alert(1)</script> [click](javascript:x) | *bold*")
    markdown = to_markdown(summarise_day("w", date(2026, 11, 23), [hostile]))
    assert "<script>" not in markdown and "[click](javascript" not in markdown
    assert r"\<script\>" in markdown and r"\[click\](javascript" in markdown
    assert md_escape("a\nb|c") == r"a b\|c"


def test_json_round_trips():
    summary = summarise_day("vacuums", date(2026, 11, 23), day_of_replies(), keywords=("vacuum",), model_version="m1")
    data = json.loads(to_json(summary))
    assert data["day"] == "2026-11-23" and data["model_version"] == "m1"
    assert data["top_accounts"][0]["acct"] == "VacuumRus"
    assert data["flagged_account_reply_share"]["ci95"][0] < 0.6
