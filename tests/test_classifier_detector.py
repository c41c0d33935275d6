"""The shipped detector on hand-made cases: the seed's scripts are flagged with checkable reasons,
people are not, and people's decisions override the model."""

from datetime import datetime, timedelta, timezone

import pytest

from detector.classifier.detector import Detector
from detector.classifier.verdicts import AccountVerdict, ReplyVerdict, Thresholds, apply_override
from detector.features.behaviour import AccountActivity, to_ms
from detector.features.coordination import CoordinationIndex
from detector.records import Author, Mention, ParentInfo, Post

T0 = datetime(2024, 5, 6, 9, tzinfo=timezone.utc)
KEYWORDS = ("vacuum", "hoover")


def snowflake(moment: datetime, seq: int) -> str:
    return str((to_ms(moment) << 16) | seq)


def person(i: int) -> Author:
    return Author("mastodon", "social.example", f"p{i}", f"person{i}", display_name=f"Person {i}",
                  created_at=T0 - timedelta(days=900 + i), followers=300, following=250, statuses=4000, bot=False,
                  bio="Runner, cook, bad at plants.", default_avatar=False)  # fmt: skip


def parent_post(i: int, text: str, at: datetime) -> Post:
    return Post("mastodon", "social.example", snowflake(at, i), at, person(i), text)


def reply(author: Author, parent: Post, text: str, delay_s: float, seq: int, links=()) -> Post:
    at = parent.created_at + timedelta(seconds=delay_s)
    return Post("mastodon", "social.example", snowflake(at, seq), at, author, f"@{parent.author.acct} {text}",
                parent_id=parent.id, parent_author_id=parent.author.id, mentions=(Mention(parent.author.id, parent.author.acct),),
                links=tuple(links), link_domains=tuple(l.split("/")[2] for l in links))  # fmt: skip


@pytest.fixture(scope="module")
def detector():
    return Detector.load()


VACUUM_RUS = Author("mastodon", "social.example", "bot1", "VacuumRus", display_name="VacuumRus",
                    created_at=T0 - timedelta(days=2), followers=3, following=1480, statuses=412, bot=False, bio="",
                    default_avatar=True)  # fmt: skip


def keyword_replier(detector, n=12):
    activity = detector.new_activity()
    replies = []
    for i in range(n):
        parent = parent_post(i, f"Which vacuum should I get? Mine died again ({i})", T0 + timedelta(minutes=37 * i))
        r = reply(VACUUM_RUS, parent, "Get the Acme V8, best vacuum for the price! 40% off today https://bit.ly/acmev8",
                  8 + i % 5, 500 + i, links=("https://bit.ly/acmev8",))  # fmt: skip
        replies.append(detector.observe(activity, r, ParentInfo.of(parent), KEYWORDS))
    return activity, replies


def test_keyword_auto_replier_is_a_bot_with_checkable_reasons(detector):
    activity, replies = keyword_replier(detector)
    verdict = detector.score_account(VACUUM_RUS, activity)
    assert verdict.label == "bot" and verdict.score >= detector.thresholds.bot
    text = " | ".join(verdict.reasons)
    assert "12 people" in text and "'vacuum'" in text
    assert verdict.evidence["trigger_keyword"] == "vacuum"
    assert verdict.evidence["template_count"] == 12
    assert verdict.evidence["median_latency_s"] < 30
    assert set(verdict.evidence["sample_reply_ids"]) <= {r.reply_id for r in replies}
    reply_verdict = detector.score_reply(replies[0], verdict)
    assert reply_verdict.label == "bot"
    assert any("'vacuum'" in r for r in reply_verdict.reasons)


def test_a_person_talking_with_friends_is_human(detector):
    me = person(99)
    activity = detector.new_activity()
    lines = ["ha, same here, the dog hates it", "did you try the other cafe on 5th?", "congrats!! when is the party",
             "I read that one last winter, the ending is wild", "no idea, ask Sam, he fixed mine", "that photo is gorgeous"]
    for i, line in enumerate(lines * 2):
        parent = parent_post(i % 4, f"@{me.acct} {['lunch?', 'my hoover is so loud', 'new job!', 'book club'][i % 4]}",
                             T0 + timedelta(hours=5 * i))  # fmt: skip
        detector.observe(activity, reply(me, parent, line, 1800 + 600 * i, 900 + i), ParentInfo.of(parent), KEYWORDS)
    verdict = detector.score_account(me, activity)
    assert verdict.label == "human" and verdict.score < detector.thresholds.suspect


def test_seed_generic_praise_from_a_brand_named_account_is_flagged(detector):
    pacific = Author("mastodon", "social.example", "bot2", "PacificVacuum", display_name="Pacific Vacuum",
                     created_at=T0 - timedelta(days=20), followers=12, following=890, statuses=230,
                     bio="Pacific Vacuum - family owned since 1994. Visit us online!", default_avatar=False)  # fmt: skip
    activity = detector.new_activity()
    topics = ["Finally got a robot vacuum, the cat is terrified", "Hoover or Dyson for a small flat?",
              "Vacuum cleaner recommendations for pet hair?", "Our vacuum broke after two years"]  # fmt: skip
    for i in range(16):
        parent = parent_post(i, topics[i % 4], T0 + timedelta(hours=3 * i))
        detector.observe(activity, reply(pacific, parent, "Great read.\u00a0 Really, tx.", 900 + 60 * i, 700 + i), ParentInfo.of(parent), KEYWORDS)
    verdict = detector.score_account(pacific, activity)
    assert verdict.label in ("bot", "suspect")
    assert any("Great read. Really, tx." in r for r in verdict.reasons) or any("generic praise" in r for r in verdict.reasons)


def test_incremental_state_through_json_gives_the_same_verdict(detector):
    activity, _ = keyword_replier(detector)
    restored = AccountActivity.from_json(activity.to_json())
    assert detector.score_account(VACUUM_RUS, restored).score == detector.score_account(VACUUM_RUS, activity).score


def test_unknown_parent_still_gives_latency_from_its_snowflake(detector):
    parent = parent_post(1, "vacuum advice please", T0)
    signals = detector.signals(reply(VACUUM_RUS, parent, "buy ours", 12, 1), None, KEYWORDS)
    assert signals.latency_source == "snowflake" and signals.latency_s == pytest.approx(12, abs=0.01)
    assert signals.keyword is None  # the parent's text is unknown


def test_coordination_reason(detector):
    script = "Still looking for a robot vacuum? We stock the Dustwise Aero 2 and it handles pet hair. Order now"
    authors = [Author("mastodon", "social.example", f"c{k}", f"deal_hunter{k}", display_name=f"Deal Hunter {k}",
                      created_at=T0 - timedelta(days=5), followers=4, following=300, statuses=40) for k in range(4)]  # fmt: skip
    activities = {a.id: detector.new_activity() for a in authors}
    for i in range(24):
        author = authors[i % 4]
        parent = parent_post(i, "any robot vacuum tips?", T0 + timedelta(hours=i))
        detector.observe(activities[author.id], reply(author, parent, script, 300 + i, 300 + i), ParentInfo.of(parent), KEYWORDS)
    index = CoordinationIndex.build(activities)
    verdict = detector.score_account(authors[0], activities["c0"], coordination=index)
    assert verdict.evidence["coordinated_with"] == ["c1", "c2", "c3"]
    assert verdict.label in ("bot", "suspect")


def test_overrides_keep_the_model_score_and_say_who_decided():
    verdict = AccountVerdict("9", "acmesupport", 0.97, "bot", ("replied within 30 s",), 40, 3.5)
    allowed = apply_override(verdict, allowlisted=True, user_label="bot")
    assert allowed.label == "human" and allowed.score == 0.97 and allowed.override == "allowlist"
    assert allowed.reasons[0].startswith("on the watch's allowlist") and "0.97" in allowed.reasons[0]
    labelled = apply_override(verdict, user_label="human", note="our intern")
    assert labelled.label == "human" and "labelled human by a user: our intern" in labelled.reasons[0]
    assert apply_override(verdict) is verdict
    reply = ReplyVerdict("1", "9", 0.9, "bot", ("x",))
    assert apply_override(reply, user_label="human").label == "human"
    with pytest.raises(ValueError):
        apply_override(verdict, user_label="maybe")


def test_overridden_account_carries_its_label_to_its_replies(detector):
    activity, replies = keyword_replier(detector)
    verdict = apply_override(detector.score_account(VACUUM_RUS, activity), allowlisted=True)
    assert detector.score_reply(replies[0], verdict).label == "human"


def test_thresholds_are_ordered():
    with pytest.raises(ValueError):
        Thresholds(bot=0.4, suspect=0.6)
    assert Thresholds(0.9, 0.5).label(0.7) == "suspect"
