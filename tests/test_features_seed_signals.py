"""Each content signal pinned on small hand-made cases, starting from the seed thread
(/work/shared/seeds/002_*: a blog's comments, scraped with their scripting artefacts) and ending
with the account-level signals of the seed's brand-named praiser."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from detector.classifier.detector import Detector
from detector.features.behaviour import to_ms
from detector.features.text import text_signals
from detector.records import Author, Mention, ParentInfo, Post

# Comments of the seed thread, as scraped (u00a0 and nn are what a script left of a no-break
# space and a blank line).
PRAISE = "Great read.u00a0 Really, tx."
PROMOTER = ("nnSocial marketing uses a range of techniques and approaches,ncommonly known as a marketing mix. "
            "I recommend visiting http:// http://www.foutsventures.comu00a0 SocialnMarketing Hopenthis helps.nnn")
PROMOTER_2 = ("u00a0nnOne easy way to learn the best strategies for u00a0Social Marketingu00a0 isnto actually follow in "
              "the footsteps of people who are social marketing successnstories. u00a0Fouts Ventures LLC is one guide "
              "that lets you in on thensecrets of social marketing.nnn")
PERSON = ("I told them NOT to purchase a Hoover.u00a0 Years ago, Hoover was a good name in durable appliances. It "
          "MUNCHES belts. Like, every third time you use the damned thing, it quits.nnAnyway, they replied with thanks.")
SPECIFIC_PRAISE = ("Justin, I loved this post. \u2014 And I cracked up when I read your tags for this post as well. Thanks "
                   "for taking a complicated, touchy subject and hitting the nail on the head.")

FIELDS = ("n_links", "domains", "n_shortened", "n_bare_links", "cta", "generic_praise", "n_artefacts")
SIGNAL_CASES = [
    # name, text, (links, domains, shortened, bare links, calls to action, generic praise, artefacts)
    ("empty", "", (0, (), 0, 0, (), False, 0)),
    ("seed praise", PRAISE, (0, (), 0, 0, (), True, 1)),
    ("seed praise, clean", "Great read.\u00a0 Really, tx.", (0, (), 0, 0, (), True, 0)),
    ("seed promoter", PROMOTER, (1, ("foutsventures.com",), 0, 0, ("recommend visiting",), False, 3)),
    ("seed promoter without a link", PROMOTER_2, (0, (), 0, 0, (), False, 5)),
    ("promoter through a shortener", "I recommend visiting http://bit.ly/fouts-sm for more.nn",
     (1, ("bit.ly",), 1, 0, ("recommend visiting",), False, 1)),
    ("two shortened links", "buy now https://bit.ly/a or https://tinyurl.com/b",
     (2, ("bit.ly", "tinyurl.com"), 2, 0, ("buy",), False, 0)),
    ("link spelled out", "Check out my channel youtube . com/kobyoshi", (0, (), 0, 1, ("check out",), False, 0)),
    ("seed person", PERSON, (0, (), 0, 0, (), False, 2)),
    ("specific praise", SPECIFIC_PRAISE, (0, (), 0, 0, (), False, 0)),
    ("escaped newlines", "Thanks!\\n\\nGreat post", (0, (), 0, 0, (), True, 2)),
]


@pytest.mark.parametrize(("name", "text", "expected"), SIGNAL_CASES, ids=[c[0] for c in SIGNAL_CASES])
def test_content_signals(name, text, expected):
    signals = text_signals(text)
    assert tuple(getattr(signals, f) for f in FIELDS) == expected


T0 = datetime(2024, 5, 6, 9, tzinfo=timezone.utc)


def account(handle: str, display_name: str) -> Author:
    return Author("mastodon", "social.example", handle.lower(), handle, display_name=display_name,
                  created_at=T0 - timedelta(days=17), followers=12, following=300, statuses=800, bot=False, bio="",
                  default_avatar=False)  # fmt: skip


def thread(replier: Author, text: str, i: int = 0) -> tuple[Post, ParentInfo]:
    """A post by someone else and ``replier``'s reply 40 minutes later (the ``i``-th such thread)."""
    poster = Author("mastodon", "social.example", "justin", "justin", display_name="Justin", created_at=T0 - timedelta(days=3000),
                    followers=5000, following=400, statuses=9000, bot=False, bio="Writer.", default_avatar=False)  # fmt: skip
    start = T0 + timedelta(hours=5 * i)
    parent = Post("mastodon", "social.example", str(to_ms(start) << 16), start, poster,
                  "The difference between social media and social marketing, and why my old vacuum outlived both")
    at = start + timedelta(minutes=40)
    reply = Post("mastodon", "social.example", str(to_ms(at) << 16), at, replier, f"@justin {text}", parent_id=parent.id,
                 parent_author_id=poster.id, mentions=(Mention(poster.id, poster.acct),))
    return reply, ParentInfo.of(parent)


@pytest.fixture(scope="module")
def detector():
    return Detector.load()


@pytest.mark.parametrize(
    ("handle", "display_name", "brand_like", "name_keyword"),
    [
        ("PacificVacuum", "Pacific Vacuum", False, "vacuum"),  # the seed: a place and the watched product
        ("VacuumRus", "", True, "vacuum"),  # "R Us"
        ("acme_store", "Acme Store", True, None),
        ("annalena", "Anna Lena", False, None),
    ],
)
def test_generic_praise_from_a_brand_named_account(detector, handle, display_name, brand_like, name_keyword):
    replier = account(handle, display_name)
    reply, parent = thread(replier, PRAISE)
    activity = detector.new_activity()
    signals = detector.observe(activity, reply, parent, ("vacuum", "hoover"))
    assert signals.generic_praise and signals.keyword == "vacuum" and signals.latency_s == 2400
    inputs = detector.account_inputs(replier, activity, at=reply.created_at)
    assert inputs.context.profile.brand_like_name is brand_like
    assert inputs.context.name_keyword == name_keyword
    assert activity.praise == 1 and activity.triggered == 1


def test_the_seed_praiser_is_flagged_with_its_name_and_praise_as_reasons(detector):
    replier = account("PacificVacuum", "Pacific Vacuum")
    activity = detector.new_activity()
    for i in range(3):
        reply, parent = thread(replier, PRAISE, i)
        detector.observe(activity, reply, parent, ("vacuum", "hoover"))
    verdict = detector.score_account(replier, activity)
    assert verdict.label == "bot"
    text = " | ".join(verdict.reasons)
    assert "all 3 replies are generic praise that would fit any post" in text, text
    assert "replied to 1 person within" in text and "mentioning 'vacuum'" in text, text
