"""The community is hard in the right way: words alone do not separate scripts from people, behaviour does."""

from __future__ import annotations

import pytest

from detector.mastodon_server.community import SimParams, simulate
from detector.mastodon_server.realism import behaviour, text_only


@pytest.fixture(scope="module")
def pair():
    small = dict(days=3.0, humans=250, power_users=8, news_sharers=10)
    return simulate(SimParams.training(31, **small)), simulate(SimParams.training(32, **small))


def test_text_alone_flags_many_people_before_it_catches_every_script(pair) -> None:
    result = text_only(*pair)
    assert result["people_flagged_at_full_bot_recall"] > 0.05, result
    assert result["account_pr_auc"] < 0.95, result


def test_behaviour_separates_scripts_from_people_and_hard_negatives(pair) -> None:
    result = behaviour(*pair)
    assert result["account_roc_auc"] > 0.97, result
    for key, value in result.items():
        if key.startswith("flagged[") and any(k in key for k in ("human", "power_user", "brand_support", "news_sharer")):
            assert value <= 0.1, (key, value)
