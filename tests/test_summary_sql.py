"""The daily summary counted in SQL equals the one computed in Python from every reply."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from detector.config import WatchConfig
from detector.reports.daily import summarise_day
from detector.store import AccountScore, ReplyScore
from jobs.summary import day_counts, day_window, summarise, summary_reply, top_replies
from tests.conftest import T0, make_author, make_post

WATCH = WatchConfig(name="acme", instance="social", keywords=("vacuum",))
ZONE = ZoneInfo("Europe/Berlin")


def _day_of_mixed_replies(store) -> None:
    """Two bots (one with more replies), a suspect, humans, an unscored reply, an unscored
    account, a reply of another model version, one outside the day."""
    trigger = make_post("1", text="my vacuum broke", minutes=-300)
    other = make_post("2", text="new hoover day", minutes=-200, author=make_author("5", "carol"))
    bots = [make_author("66", "VacuumRus"), make_author("67", "DustBuster")]
    suspect, human = make_author("70", "maybe"), make_author("71", "bob")
    twin_here, twin_there = make_author("80", "twin"), make_author("81", "twin2")
    unscored_author = make_author("90", "newcomer")
    replies = []
    for n in range(6):
        replies.append(make_post(f"1{n}", author=bots[0], minutes=-299 + n, parent=trigger, text="Buy the X-9000!"))
    for n in range(4):
        replies.append(make_post(f"2{n}", author=bots[1], minutes=-199 + n, parent=other, text=f"Great read {n}."))
    replies += [
        make_post("30", author=suspect, minutes=-150, parent=trigger, text="try vinegar"),
        make_post("31", author=human, minutes=-100, parent=trigger, text="same here"),
        make_post("32", author=human, minutes=-90, parent=other, text="descale it"),
        make_post("33", author=twin_here, minutes=-80, parent=trigger, text="hi"),
        make_post("34", author=twin_there, minutes=-70, parent=trigger, text="hello"),
        make_post("35", author=unscored_author, minutes=-60, parent=trigger, text="scored reply, account not"),
        make_post("36", author=human, minutes=-50, parent=trigger, text="not scored yet"),
        make_post("37", author=human, minutes=-40, parent=trigger, text="scored by another model"),
        make_post("38", author=bots[0], minutes=24 * 60, parent=trigger, text="tomorrow"),
    ]
    store.save_discovered("acme", "hashtag:vacuum", [trigger, other], "2", fetched_at=T0, track_until_hours=48)
    store.save_replies("acme", trigger.key, [r for r in replies if r.parent_id == "1"], checked_at=T0, next_check_at=None)
    store.save_replies("acme", other.key, [r for r in replies if r.parent_id == "2"], checked_at=T0, next_check_at=None)
    label_of = {"66": "bot", "67": "bot", "70": "suspect"}
    reply_scores = [
        ReplyScore(r.key, 0.9 if label_of.get(r.author.id) == "bot" else 0.1,
                   "bot" if label_of.get(r.author.id) == "bot" and r.id != "15" else "human", T0)
        for r in replies if r.id not in ("36", "37")
    ]
    account_scores = [
        AccountScore((a.platform, a.instance, a.id), score, label, T0, (f"because {a.acct}",), {}, 3)
        for a, score, label in [(bots[0], 0.97, "bot"), (bots[1], 0.95, "bot"), (suspect, 0.6, "suspect"),
                                (human, 0.05, "human"), (twin_here, 0.9, "bot"), (twin_there, 0.1, "human")]
    ]
    store.save_scores("m1", reply_scores, account_scores)
    store.save_scores("m0", [ReplyScore(replies[-2].key, 0.5, "suspect", T0)])


def test_sql_counts_give_the_summary_python_gives(store):
    _day_of_mixed_replies(store)
    day = T0.astimezone(ZONE).date()
    start, end = day_window(day, ZONE)
    everything = [summary_reply(r) for r in store.replies_between("acme", start, end, "m1")]
    expected = summarise_day("acme", day, everything, keywords=("vacuum",), timezone=ZONE.key, model_version="m1")

    assert summarise(store, WATCH, day, ZONE, "m1") == expected
    assert expected.replies_seen == 16 and expected.unscored == 2
    assert [a.acct for a in expected.top_accounts] == ["VacuumRus", "DustBuster", "twin"]
    assert expected.accounts_by_label == {"bot": 3, "suspect": 1, "human": 2}


def test_top_accounts_are_cut_after_sorting_and_read_alone(store):
    _day_of_mixed_replies(store)
    day = T0.astimezone(ZONE).date()
    start, end = day_window(day, ZONE)
    everything = [summary_reply(r) for r in store.replies_between("acme", start, end, "m1")]
    expected = summarise_day("acme", day, everything, keywords=("vacuum",), timezone=ZONE.key, model_version="m1",
                             top=1)
    (top,) = expected.top_accounts
    assert top.acct == "VacuumRus" and top.replies == 6 and top.template == "buy the x-9000!"
    only_top = list(store.replies_between("acme", start, end, "m1", account_ids={"66"}))
    assert {r.post.author.id for r in only_top} == {"66"} and len(only_top) == 6
    assert summarise(store, WATCH, day, ZONE, "m1").top_accounts[0] == top


def test_an_empty_or_unknown_day_summarises_to_zeros(store):
    day = (T0 - timedelta(days=30)).date()
    assert summarise(store, WATCH, day, ZONE, "m1") == summarise_day("acme", day, [], keywords=("vacuum",),
                                                                        timezone=ZONE.key, model_version="m1")


def test_a_day_counted_for_several_watches_at_once_gives_each_watch_its_own_counts(store):
    _day_of_mixed_replies(store)
    trigger = make_post("900", text="vacuum day", minutes=-30, author=make_author("901", "dave"))
    spam = [make_post(f"91{n}", author=make_author("66", "VacuumRus"), minutes=-29 + n, parent=trigger, text="Buy!")
            for n in range(3)]
    store.save_discovered("other", "hashtag:vacuum", [trigger], "9", fetched_at=T0, track_until_hours=48)
    store.save_replies("other", trigger.key, spam, checked_at=T0, next_check_at=None)
    store.save_scores("m1", [ReplyScore(r.key, 0.9, "bot", T0) for r in spam])
    day = T0.astimezone(ZONE).date()
    start, end = day_window(day, ZONE)

    together = store.watches_reply_totals(["acme", "other", "unknown"], start, end, "m1", top_label="bot", top=2)

    alone = {w: store.reply_totals(w, start, end, "m1", top_label="bot", top=2) for w in ("acme", "other", "unknown")}
    assert together == alone
    assert together["other"].replies_by_label == {"bot": 3} and together["other"].top[0].replies == 3
    assert [a.acct for a in together["acme"].top] == ["VacuumRus", "DustBuster"]
    assert together["unknown"].accounts_by_label == {} and together["unknown"].top == ()


def test_top_accounts_replies_read_for_several_watches_at_once_stay_with_their_watch(store):
    _day_of_mixed_replies(store)
    trigger = make_post("900", text="vacuum day", minutes=-30, author=make_author("901", "dave"))
    spam = [make_post(f"91{n}", author=make_author(author, acct), minutes=-29 + n, parent=trigger, text="Buy!")
            for n, (author, acct) in enumerate([("66", "VacuumRus"), ("67", "DustBuster"), ("66", "VacuumRus")])]
    store.save_discovered("other", "hashtag:vacuum", [trigger], "9", fetched_at=T0, track_until_hours=48)
    store.save_replies("other", trigger.key, spam, checked_at=T0, next_check_at=None)
    store.save_scores("m1", [ReplyScore(r.key, 0.9, "bot", T0) for r in spam])
    day = T0.astimezone(ZONE).date()
    start, end = day_window(day, ZONE)
    wanted = {"acme": {"67", "70"}, "other": {"66"}, "unknown": {"66"}, "nobody": set()}

    together = store.replies_by_accounts(wanted, start, end, "m1")

    alone = {w: list(store.replies_between(w, start, end, "m1", account_ids=ids)) if ids else []
             for w, ids in wanted.items()}
    assert together == alone
    assert [(r.post.id, r.post.author.id) for r in together["other"]] == [("910", "66"), ("912", "66")]
    assert {r.post.author.id for r in together["acme"]} == {"67", "70"} and len(together["acme"]) == 5
    assert together["unknown"] == [] and together["nobody"] == []
    watches = [WATCH, WatchConfig(name="other", instance="social", keywords=("vacuum",))]
    counts = day_counts(store, watches, day, ZONE, "m1")
    evidence = top_replies(store, counts, day, ZONE, "m1")
    for watch in watches:
        assert summarise(store, watch, day, ZONE, "m1", counts[watch.name], evidence[watch.name]) == \
            summarise(store, watch, day, ZONE, "m1")
