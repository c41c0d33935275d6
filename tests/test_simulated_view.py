"""What a watch sees of a community: the threads of the posts that mention its keywords."""

from datetime import datetime, timezone

from detector.classifier.simulated import LabelledCommunity, replays, watched_view
from detector.records import Author, Post

AT = datetime(2024, 5, 6, tzinfo=timezone.utc)
ANNA = Author("mastodon", "social.example", "1", "anna", created_at=AT)


def post(post_id: str, text: str, parent: str | None = None, hashtags: tuple[str, ...] = ()) -> Post:
    return Post("mastodon", "social.example", post_id, AT, ANNA, text, parent_id=parent, hashtags=hashtags)


COMMUNITY = LabelledCommunity(
    posts=[
        post("a", "My new robot vacuum is loud"),  # mentions the keyword
        post("b", "Which one?", parent="a"),
        post("c", "The cheap one", parent="b"),  # a reply to a reply: still the thread
        post("d", "Lovely weather today"),
        post("e", "Indeed", parent="d"),  # another thread: not fetched
        post("f", "Any tips for cleaning carpets?"),
        post("g", "A hoover with a beater bar", parent="f"),  # mentions the keyword in a reply
        post("h", "Thanks!", parent="g"),
        post("i", "Check this out", hashtags=("vacuum",)),  # the keyword as a hashtag only
    ],
    labels={},
    keywords=("vacuum", "hoover"),
    seed=0,
)


def test_the_watch_sees_matching_posts_what_they_answer_and_every_reply_below_them():
    seen = [p.id for p in watched_view(COMMUNITY, COMMUNITY.keywords).posts]
    assert seen == ["a", "b", "c", "f", "g", "h", "i"]


def test_training_replays_the_whole_community_the_watched_view_and_the_whole_without_keywords():
    ways = replays(COMMUNITY)
    assert [(len(data.posts), keywords) for data, keywords in ways] == [(9, ("vacuum", "hoover")), (7, ("vacuum", "hoover")), (9, ())]
