"""Several writers at once (the service's poll jobs run in threads; issue 4 adds processes)."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from detector.store import Store
from tests.conftest import T0, make_author, make_post


def test_concurrent_writers_on_overlapping_posts_store_everything_once(database_url):
    """Eight threads, two Stores (as two processes would have), the same posts and authors in
    different orders: no lock error, no deadlock, no duplicate."""
    authors = [make_author(f"a{i}", f"user{i}") for i in range(10)]
    posts = [make_post(str(i), author=authors[i % 10], minutes=i) for i in range(60)]
    with Store.open(database_url, create=True) as first, Store.open(database_url) as second:

        def poll(worker: int) -> int:
            store = (first, second)[worker % 2]
            mine = posts[worker::2] + posts[::-1][:20]
            new = 0
            for start in range(0, len(mine), 10):
                new += store.save_discovered(
                    f"watch{worker % 4}",
                    "public",
                    mine[start : start + 10],
                    str(start),
                    fetched_at=T0 + timedelta(seconds=worker),
                    track_until_hours=24,
                )
            return new

        with ThreadPoolExecutor(max_workers=8) as pool:
            new = sum(pool.map(poll, range(8)))
        counts = first.counts()
        assert new == counts["watch_posts"]  # "new" is exact even when two writers race on a post
        assert (counts["posts"], counts["accounts"], counts["watches"]) == (60, 10, 4)
        linked = sum(len(first.due_tracked(f"watch{w}", T0 + timedelta(hours=1), 1000)) for w in range(4))
        assert linked == counts["watch_posts"] == counts["tracked_posts"]
