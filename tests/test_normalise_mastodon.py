"""Status entities to Post records, including nulls the spec allows and fields it requires."""

from datetime import datetime, timezone

import pytest

from detector.errors import InputError
from detector.normalise.mastodon import normalise_status


def status(**overrides):
    data = {
        "id": "103270115826048975",
        "created_at": "2019-12-08T03:48:33.901Z",
        "in_reply_to_id": "103270115826000000",
        "in_reply_to_account_id": "14715",
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": "en",
        "uri": "https://mastodon.social/users/Gargron/statuses/103270115826048975",
        "url": "https://mastodon.social/@Gargron/103270115826048975",
        "content": '<p>Great read.\u00a0 Really, tx. <a href="https://shop.example/p">shop.example/p</a></p>',
        "reblog": None,
        "account": {
            "id": "1",
            "username": "PacificVacuum",
            "acct": "PacificVacuum@shop.example",
            "display_name": "Pacific Vacuum",
            "bot": False,
            "created_at": "2019-12-01T00:00:00.000Z",
            "note": "<p>Best <b>vacuums</b></p>",
            "url": "https://shop.example/@PacificVacuum",
            "avatar": "https://mastodon.social/avatars/original/missing.png",
            "followers_count": 3,
            "following_count": 2000,
            "statuses_count": 900,
            "last_status_at": "2019-12-08",
        },
        "mentions": [{"id": "14715", "username": "alice", "acct": "alice", "url": "https://mastodon.social/@alice"}],
        "tags": [{"name": "Vacuum", "url": "https://mastodon.social/tags/vacuum"}],
        "card": None,
    }
    data.update(overrides)
    return data


def test_reply_is_normalised():
    post = normalise_status(status(), instance="mastodon.social")
    assert post.key == ("mastodon", "mastodon.social", "103270115826048975")
    assert post.created_at == datetime(2019, 12, 8, 3, 48, 33, 901000, tzinfo=timezone.utc)
    assert post.text == "Great read. Really, tx. https://shop.example/p"
    assert post.parent_id == "103270115826000000" and post.parent_author_id == "14715"
    assert post.link_domains == ("shop.example",)
    assert post.hashtags == ("vacuum",)
    assert post.mentions[0].acct == "alice"
    assert post.author.handle == "PacificVacuum"
    assert post.author.default_avatar is True
    assert post.author.bio == "Best vacuums"
    assert post.author.last_status_at == datetime(2019, 12, 8, tzinfo=timezone.utc)
    assert post.raw["id"] == "103270115826048975"


def test_nullable_fields_may_be_null():
    data = status(in_reply_to_id=None, in_reply_to_account_id=None, language=None, url=None, content=None, mentions=None, tags=None)
    data["account"].update(avatar=None, note=None, bot=None, last_status_at=None, followers_count=None)
    post = normalise_status(data, instance="x")
    assert post.parent_id is None and post.text == "" and post.author.default_avatar is None
    assert post.author.followers is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"id": None}, "status.id"),
        ({"created_at": "yesterday"}, "status.created_at"),
        ({"account": "bob"}, "status.account"),
        ({"in_reply_to_id": 3.5}, "in_reply_to_id"),
    ],
)
def test_required_fields_are_checked_with_the_field_named(overrides, message):
    with pytest.raises(InputError, match=message):
        normalise_status(status(**overrides), instance="x")


def test_not_an_object_is_an_input_error():
    with pytest.raises(InputError, match="expected a JSON object"):
        normalise_status(["a", "list"], instance="x")
