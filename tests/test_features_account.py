"""Profile signals from an Author at a moment."""

import math
from datetime import datetime, timedelta, timezone

from detector.features.account import PROFILE_FEATURES, brand_like, name_is_handle, profile_snapshot, profile_vector, split_name
from detector.records import Author

NOW = datetime(2024, 5, 8, 12, tzinfo=timezone.utc)


def author(**kw):
    base = dict(platform="mastodon", instance="social.example", id="1", acct="VacuumRus@deals.example", display_name="VacuumRus",
                created_at=NOW - timedelta(days=2), followers=3, following=1480, statuses=412, bot=False, bio="", default_avatar=True)
    base.update(kw)
    return Author(**base)


def test_snapshot_measures_age_at_the_given_moment_and_rates():
    snap = profile_snapshot(author(), NOW)
    assert snap.age_days == 2.0
    assert snap.statuses_per_day == 206.0
    assert snap.empty_bio and snap.default_avatar and snap.name_is_handle


def test_unknown_counts_are_nan_not_zero():
    vector = profile_vector(author(followers=None, created_at=None), NOW)
    named = dict(zip(PROFILE_FEATURES, vector))
    assert math.isnan(named["log_followers"]) and math.isnan(named["log_age_days"]) and math.isnan(named["follow_balance"])
    assert named["log_following"] == math.log1p(1480)


def test_business_names():
    assert split_name("VacuumRus") == ["vacuum", "rus"]
    assert brand_like("VacuumRus", "")  # "R Us"
    assert brand_like("acme_store", "Acme")
    assert brand_like("x", "Coastal Cleaning Supply Co")
    assert not brand_like("PacificVacuum", "Pacific Vacuum")  # a place and a product: the watched keyword decides
    assert not brand_like("annalena", "Anna Lena")


def test_handle_patterns():
    snap = profile_snapshot(author(acct="samirhughes243", display_name="Samir Hughes"), NOW)
    assert snap.handle_digit_run == 3 and not snap.name_is_handle
    assert name_is_handle("kai_costa", "Kai Costa")
    assert name_is_handle("kai", "")
