"""The Store: what the poll job, the scorer and the reports read and write, one method per need.

Every write method is ONE transaction: it commits whole or leaves the database as it was, so a
discovery checkpoint is never ahead of the posts it covers and a crash between two calls
re-fetches at most one page, which the idempotent upserts (keyed by ``(platform, instance,
id)``) make harmless.

Methods that return many rows (:meth:`Store.replies_between`, :meth:`Store.export_posts`) stream
them; they hold a database connection until the iterator is exhausted or closed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Integer, Select, and_, cast, exists, func, literal, null, select, union_all, update
from sqlalchemy.engine import RowMapping

from detector.config import Secret
from detector.errors import SchemaMismatch, StoreError
from detector.records import Post
from detector.store import db, leases, locks, migrate, rows, sql
from detector.store.leases import Lease
from detector.store.records import (
    AccountKey,
    AccountTotal,
    AccountScore,
    Label,
    PostKey,
    ReplyForScoring,
    ReplyScore,
    ReplyTotals,
    ReportReply,
    Summary,
    TrackedPost,
)
from detector.store.tables import (
    ACCOUNT_SCORES,
    ACCOUNTS,
    ACTIVITY,
    CHECKPOINTS,
    LABELS,
    POSTS,
    REPLY_SCORES,
    SCORING_CURSORS,
    SUMMARIES,
    TRACKED,
    WATCH_POSTS,
    WATCHES,
    MODEL_LABELS,
    Base,
)

_ACCOUNT_KEY = ("platform", "instance", "account_id")
_POST_KEY = ("platform", "instance", "post_id")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Store:
    """botwatch's database. Build it with :meth:`open`; it is safe to share between threads."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self._engine = engine
        self._clock = clock
        self._watch_ids: dict[str, int] = {}
        self.where = db.mask_url(engine.url)

    @classmethod
    def open(
        cls,
        url: str | Secret,
        *,
        create: bool = False,
        clock: Callable[[], datetime] = _utcnow,
        busy_timeout: float = db.DEFAULT_BUSY_TIMEOUT,
    ) -> Store:
        """Open the database at ``url``, checking that its schema is the one this botwatch needs.

        ``create=True`` migrates a new or older database to head first (the embedded SQLite
        default, the demo, tests). Otherwise a database at another revision raises
        :class:`SchemaMismatch` saying what to run, and one that cannot be reached raises
        :class:`StoreError`. ``busy_timeout`` is how long SQLite waits for another writer;
        ``clock`` stamps labels, summaries and behaviour state.
        """
        parsed = db.parse_url(url.reveal() if isinstance(url, Secret) else url)
        where = db.mask_url(parsed)
        path = db.sqlite_path(parsed)
        if create:
            db.ensure_sqlite_directory(parsed)
        elif path is not None and not path.exists():  # do not leave an empty file behind
            if not path.parent.is_dir():
                raise StoreError(
                    f"cannot open SQLite database {path}: directory {path.parent} does not exist"
                )
            hint = f"run: {migrate.UPGRADE_COMMAND}"
            needed = migrate.head_revision()
            raise SchemaMismatch(
                f"SQLite database {path} does not exist", found=None, needed=needed, hint=hint
            )
        engine = db.make_engine(parsed, busy_timeout=busy_timeout)
        try:
            with db.transaction(engine, write=create) as connection:
                if create:
                    migrate.upgrade_connection(connection, where)
                else:
                    migrate.check_schema(connection, where)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, clock=clock)

    @property
    def engine(self) -> Engine:
        """The engine, for neighbours that share the database (APScheduler's job store)."""
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.where})"

    # ---- discovery ------------------------------------------------------------------------------

    def save_discovered(
        self,
        watch: str,
        route: str,
        posts: Sequence[Post],
        checkpoint: str | None,
        *,
        fetched_at: datetime,
        track_until_hours: float,
    ) -> int:
        """Store one discovery page and its route's checkpoint together; returns how many posts
        were new to this watch.

        Posts and their authors are upserted (the latest profile snapshot wins), linked to the
        watch as triggers found by ``route``, and tracked: their first context check is due at
        ``fetched_at`` and tracking ends ``track_until_hours`` after each post was created. A
        post already tracked keeps its schedule. ``checkpoint=None`` leaves the checkpoint be.
        """
        _require_aware(fetched_at=fetched_at)
        watch_id = self._watch_id(watch)
        window = timedelta(hours=track_until_hours)
        unique = _unique_posts(posts)
        with self._write() as conn:
            ids = _upsert_posts(conn, unique, fetched_at)
            authors = _authors(conn, ids.values())
            links = [
                rows.trigger_link_row(watch_id, ids[k], authors[ids[k]], post, fetched_at, route)
                for k, post in unique.items()
            ]
            new = sql.insert_ignore(conn, WATCH_POSTS, ("watch_id", "post_id", "role"), links)
            tracked = [
                rows.tracked_row(watch_id, ids[k], fetched_at, post.created_at + window)
                for k, post in unique.items()
            ]
            sql.insert_ignore(conn, TRACKED, ("watch_id", "post_id"), tracked)
            if checkpoint is not None:
                row = {"watch_id": watch_id, "route": route, "value": checkpoint, "updated_at": fetched_at}
                sql.upsert(conn, CHECKPOINTS, ("watch_id", "route"), [row])
        return new

    def checkpoints(self, watch: str) -> dict[str, str]:
        """Every discovery route's checkpoint for ``watch`` (empty before its first poll)."""
        watch_id = self._existing_watch_id(watch)
        if watch_id is None:
            return {}
        query = select(CHECKPOINTS.c.route, CHECKPOINTS.c.value).where(CHECKPOINTS.c.watch_id == watch_id)
        with self._read() as conn:
            return {route: value for route, value in conn.execute(query)}

    # ---- reply tracking -------------------------------------------------------------------------

    def due_tracked(self, watch: str, now: datetime, limit: int) -> list[TrackedPost]:
        """Tracked posts whose next context check is due at ``now``, the longest overdue first."""
        _require_aware(now=now)
        watch_id = self._existing_watch_id(watch)
        if watch_id is None:
            return []
        p, a = POSTS.alias("p"), ACCOUNTS.alias("a")
        schedule = (
            TRACKED.c.checks,
            TRACKED.c.next_check_at,
            TRACKED.c.track_until,
            TRACKED.c.last_checked_at,
        )
        query = (
            select(*rows.post_columns(p, a), *schedule)
            .select_from(TRACKED.join(p, p.c.id == TRACKED.c.post_id).join(a, a.c.id == p.c.account_id))
            .where(TRACKED.c.watch_id == watch_id, TRACKED.c.next_check_at <= now)
            .order_by(TRACKED.c.next_check_at, p.c.id)
            .limit(limit)
        )
        with self._read() as conn:
            return [
                TrackedPost(
                    rows.post_from(m), m["checks"], m["next_check_at"], m["track_until"], m["last_checked_at"]
                )
                for m in conn.execute(query).mappings()
            ]

    def save_replies(
        self,
        watch: str,
        parent_key: PostKey,
        replies: Sequence[Post],
        *,
        checked_at: datetime,
        next_check_at: datetime | None,
    ) -> int:
        """Store the replies found under the tracked post ``parent_key`` and its next check time
        (``None``: stop tracking it); returns how many replies were new to this watch.

        Replies and their authors are upserted and linked to the watch as replies found under
        ``parent_key``; the post itself is skipped should the context include it.
        """
        _require_aware(checked_at=checked_at)
        if next_check_at is not None:
            _require_aware(next_check_at=next_check_at)
        watch_id = self._watch_id(watch)
        parent_key = rows.clean_key(parent_key)
        unique = _unique_posts(r for r in replies if rows.clean_key(r.key) != parent_key)
        this_tracked_post = (TRACKED.c.watch_id == watch_id, TRACKED.c.post_id == POSTS.c.id)
        with self._write() as conn:
            trigger_id = conn.scalar(
                select(POSTS.c.id).where(
                    *_is_key(POSTS, _POST_KEY, parent_key), exists().where(*this_tracked_post)
                )
            )
            if trigger_id is None:
                raise StoreError(f"post {'/'.join(parent_key)} is not tracked by watch {watch!r}")
            ids = _upsert_posts(conn, unique, checked_at)
            authors = _authors(conn, ids.values())
            links = [
                rows.reply_link_row(watch_id, ids[k], authors[ids[k]], post, checked_at, trigger_id)
                for k, post in unique.items()
            ]
            new = sql.insert_ignore(conn, WATCH_POSTS, ("watch_id", "post_id", "role"), links)
            if links:
                _rewind_scoring(conn, watch_id, min(link["created_at"] for link in links))
            conn.execute(
                update(TRACKED)
                .where(TRACKED.c.watch_id == watch_id, TRACKED.c.post_id == trigger_id)
                .values(checks=TRACKED.c.checks + 1, last_checked_at=checked_at, next_check_at=next_check_at)
            )
        return new

    # ---- scoring --------------------------------------------------------------------------------

    def unscored_replies(self, watch: str, model_version: str, limit: int) -> list[ReplyForScoring]:
        """Replies found by ``watch`` that ``model_version`` has not scored, oldest first (the
        order in which the classifier's incremental behaviour state must see them).

        The search starts at the watch's scoring cursor and moves it up to the oldest reply
        still unscored, so a poll reads the replies it has not scored yet (and the batch just
        scored), not every reply ever stored. A write: the cursor row is locked meanwhile, so a
        reply stored concurrently either is seen here or moves the cursor back after.
        """
        watch_id = self._existing_watch_id(watch)
        if watch_id is None:
            return []
        this_cursor = (SCORING_CURSORS.c.watch_id == watch_id, SCORING_CURSORS.c.model_version == model_version)
        with self._write() as conn:
            row = {"watch_id": watch_id, "model_version": model_version, "scored_before": None}
            stmt = sql.insert(conn, SCORING_CURSORS).values(row)
            conn.execute(stmt.on_conflict_do_nothing(index_elements=["watch_id", "model_version"]))
        with self._write() as conn:
            position = conn.scalar(select(SCORING_CURSORS.c.scored_before).where(*this_cursor).with_for_update())
            found = conn.execute(_unscored_query(watch_id, model_version, position, limit)).mappings().all()
            if found:
                moved = found[0]["wp_created_at"]
            else:
                moved = conn.scalar(
                    select(func.max(WATCH_POSTS.c.created_at)).where(
                        WATCH_POSTS.c.watch_id == watch_id, WATCH_POSTS.c.role == "reply"
                    )
                )
            if moved is not None and moved != position:
                conn.execute(update(SCORING_CURSORS).where(*this_cursor).values(scored_before=moved))
        return [ReplyForScoring(watch, rows.post_from(m), rows.parent_from(m, "parent")) for m in found]

    def load_activity(self, account_keys: Iterable[AccountKey]) -> dict[AccountKey, dict[str, Any]]:
        """The classifier's behaviour state of each account that has one (others are absent)."""
        with self._read() as conn:
            ids = sql.ids_by_key(
                conn, ACCOUNTS, ACCOUNTS.c.account_id, {rows.clean_key(k) for k in account_keys}
            )
            key_of = {account_id: key for key, account_id in ids.items()}
            states: dict[AccountKey, dict[str, Any]] = {}
            for chunk in sql.chunks(sorted(key_of)):
                query = select(ACTIVITY.c.account_id, ACTIVITY.c.state).where(
                    ACTIVITY.c.account_id.in_(chunk)
                )
                states.update({key_of[account_id]: state for account_id, state in conn.execute(query)})
            return states

    def recent_activity(self, since: datetime, limit: int = 20_000) -> dict[AccountKey, dict[str, Any]]:
        """Behaviour state of the accounts scored since ``since``, most recent first: what the
        coordination index (several accounts, one script) is rebuilt from."""
        _require_aware(since=since)
        query = (
            select(ACCOUNTS.c.platform, ACCOUNTS.c.instance, ACCOUNTS.c.account_id, ACTIVITY.c.state)
            .select_from(ACTIVITY.join(ACCOUNTS, ACCOUNTS.c.id == ACTIVITY.c.account_id))
            .where(ACTIVITY.c.updated_at >= since)
            .order_by(ACTIVITY.c.updated_at.desc())
            .limit(limit)
        )
        with self._read() as conn:
            return {(m["platform"], m["instance"], m["account_id"]): m["state"] for m in conn.execute(query).mappings()}

    def save_scores(
        self,
        model_version: str,
        reply_scores: Sequence[ReplyScore] = (),
        account_scores: Sequence[AccountScore] = (),
        activity: Mapping[AccountKey, Mapping[str, Any]] | None = None,
    ) -> None:
        """Store one scoring round in one transaction: reply scores (replacing this model
        version's earlier score of the same reply), account scores (kept if newer than the one
        given) and the accounts' behaviour state. Every post and account must be stored already.
        """
        if not model_version:
            raise ValueError("model_version must not be empty")
        activity = activity or {}
        now = self._clock()
        post_keys = {rows.clean_key(s.post_key) for s in reply_scores}
        account_keys = {rows.clean_key(s.account_key) for s in account_scores} | {
            rows.clean_key(k) for k in activity
        }
        with self._write() as conn:
            post_ids = sql.require_ids(conn, POSTS, POSTS.c.post_id, post_keys, "post")
            account_ids = sql.require_ids(conn, ACCOUNTS, ACCOUNTS.c.account_id, account_keys, "account")
            replies = [
                rows.reply_score_row(s, post_ids[rows.clean_key(s.post_key)], model_version)
                for s in reply_scores
            ]
            sql.upsert(conn, REPLY_SCORES, ("post_id", "model_version"), replies)
            accounts = [
                rows.account_score_row(s, account_ids[rows.clean_key(s.account_key)], model_version)
                for s in account_scores
            ]
            sql.upsert(conn, ACCOUNT_SCORES, ("account_id", "model_version"), accounts, newer="scored_at")
            states = [
                {"account_id": account_ids[rows.clean_key(k)], "state": dict(state), "updated_at": now}
                for k, state in activity.items()
            ]
            sql.upsert(conn, ACTIVITY, ("account_id",), states)

    # ---- people's labels ------------------------------------------------------------------------

    def set_label(self, account_key: AccountKey, label: str, note: str = "", *, by: str) -> None:
        """Record a person's verdict (``bot`` or ``human``) on an account, seen yet or not."""
        verdict = Label(label, note, by, self._clock())
        platform, instance, account_id = rows.clean_key(account_key)
        row = {
            "platform": platform, "instance": instance, "account_id": account_id, "label": verdict.label,
            "note": verdict.note, "labelled_by": verdict.by, "labelled_at": verdict.at,
        }  # fmt: skip
        with self._write() as conn:
            sql.upsert(conn, LABELS, _ACCOUNT_KEY, [row])

    def restate_account_scores(
        self, account_key: AccountKey, restate: Callable[[float, str, list[str]], tuple[str, list[str]]]
    ) -> int:
        """Rewrite the stored verdicts on one account (every model version) through ``restate``,
        which maps ``(score, label, reasons)`` to a new label and reasons; the number rewritten.

        What a person's label changes at once, without waiting for the account's next reply."""
        acs = ACCOUNT_SCORES
        with self._write() as conn:
            ids = list(sql.ids_by_key(conn, ACCOUNTS, ACCOUNTS.c.account_id, [rows.clean_key(account_key)]).values())
            if not ids:
                return 0
            stored = conn.execute(
                select(acs.c.account_id, acs.c.model_version, acs.c.score, acs.c.label, acs.c.reasons).where(acs.c.account_id == ids[0])
            ).all()
            for account_id, version, score, label, reasons in stored:
                new_label, new_reasons = restate(score, label, list(reasons))
                conn.execute(
                    update(acs).where(acs.c.account_id == account_id, acs.c.model_version == version)
                    .values(label=new_label, reasons=new_reasons)
                )
            return len(stored)

    def remove_label(self, account_key: AccountKey) -> bool:
        """Forget a person's verdict on an account; ``False`` if there was none."""
        with self._write() as conn:
            deleted = conn.execute(
                LABELS.delete().where(*_is_key(LABELS, _ACCOUNT_KEY, rows.clean_key(account_key)))
            )
            return deleted.rowcount > 0

    def find_accounts(
        self, *, handle: str | None = None, account_id: str | None = None
    ) -> dict[AccountKey, str]:
        """Stored accounts by handle or id, with their ``acct``: how a person names an account.

        ``handle`` is ``name@host`` or ``name`` (case-insensitive); ``name@host`` also matches
        the local account ``name`` of an instance botwatch reads at ``host``.
        """
        a = ACCOUNTS
        if account_id is not None:
            condition = a.c.account_id == account_id
        else:
            assert handle is not None
            name, _, host = handle.lower().lstrip("@").partition("@")
            condition = func.lower(a.c.acct) == handle.lower().lstrip("@")
            if host:
                condition = condition | (and_(func.lower(a.c.acct) == name, a.c.instance == host))
        query = select(a.c.platform, a.c.instance, a.c.account_id, a.c.acct).where(condition)
        with self._read() as conn:
            return {(p, i, account): acct for p, i, account, acct in conn.execute(query)}

    def replies_of(self, account_keys: Iterable[AccountKey]) -> list[Post]:
        """Every stored reply by these accounts and every stored post they answer, oldest first:
        what ``botwatch train --labels-from`` replays for the accounts people labelled."""
        p, a = POSTS.alias("p"), ACCOUNTS.alias("a")
        child = POSTS.alias("child")
        with self._read() as conn:
            ids = list(sql.ids_by_key(conn, ACCOUNTS, ACCOUNTS.c.account_id, {rows.clean_key(k) for k in account_keys}).values())
            found: dict[int, Post] = {}
            for chunk in sql.chunks(sorted(ids)):
                replies = p.c.account_id.in_(chunk) & p.c.parent_id.is_not(None)
                parents = exists().where(rows.is_parent(p, child), child.c.account_id.in_(chunk))
                query = select(p.c.id.label("row_id"), *rows.post_columns(p, a)).select_from(
                    p.join(a, a.c.id == p.c.account_id)
                )
                for m in conn.execute(query.where(replies | parents)).mappings():
                    found[m["row_id"]] = rows.post_from(m)
        return sorted(found.values(), key=lambda post: (post.created_at, post.id))

    def labels(self) -> dict[AccountKey, Label]:
        """Every person's verdict, by account key."""
        with self._read() as conn:
            return {
                (m["platform"], m["instance"], m["account_id"]): Label(
                    m["label"], m["note"], m["labelled_by"], m["labelled_at"]
                )
                for m in conn.execute(select(LABELS)).mappings()
            }

    # ---- reports --------------------------------------------------------------------------------

    def reply_totals(
        self, watch: str, start: datetime, end: datetime, model_version: str, *, top_label: str, top: int
    ) -> ReplyTotals:
        """:meth:`watches_reply_totals` of one watch."""
        return self.watches_reply_totals([watch], start, end, model_version, top_label=top_label, top=top)[watch]

    def watches_reply_totals(
        self, watches: Sequence[str], start: datetime, end: datetime, model_version: str, *, top_label: str,
        top: int,
    ) -> dict[str, ReplyTotals]:
        """The replies each of ``watches`` found that were posted in ``[start, end)``, counted in
        the database by ``model_version``'s labels (see :class:`ReplyTotals`), with each watch's
        ``top`` accounts labelled ``top_label``: what the daily summaries need without reading
        every reply, for all watches in two statements (a day is read once, not once a watch).

        Accounts are the stored ones, ``(platform, instance, id)``; a watch reads one instance.
        """
        _require_aware(start=start, end=end)
        totals = {watch: ReplyTotals({}, 0, {}, {}, ()) for watch in watches}
        names = {self._existing_watch_id(watch): watch for watch in watches}
        names.pop(None, None)
        if not names:
            return totals
        wp = WATCH_POSTS
        rs, acs, a = REPLY_SCORES.alias("rs"), ACCOUNT_SCORES.alias("acs"), ACCOUNTS.alias("a")
        # One pass over the day's replies counts them per watch, author and reply label; the
        # author's verdict is joined after, on the authors rather than on every reply. The pass
        # is a CTE read twice (counts by verdict, top accounts), so it runs once: both databases
        # materialise a CTE used more than once.
        counts = [func.count().filter(rs.c.label == label).label(label) for label in MODEL_LABELS]
        per_author = (
            select(wp.c.watch_id, wp.c.author_id.label("account_id"), func.count(rs.c.label).label("scored"),
                   func.count().label("all"), *counts)
            .select_from(
                wp.outerjoin(rs, and_(rs.c.post_id == wp.c.post_id, rs.c.model_version == model_version))
            )
            .where(wp.c.watch_id.in_(sorted(names)), wp.c.role == "reply", wp.c.created_at >= start,
                   wp.c.created_at < end)
            .group_by(wp.c.watch_id, wp.c.author_id)
            .subquery("per_author")
        )  # fmt: skip
        verdict = and_(acs.c.account_id == per_author.c.account_id, acs.c.model_version == model_version)
        judged = (
            select(*per_author.c, acs.c.label.label("verdict"), acs.c.score)
            .select_from(per_author.outerjoin(acs, verdict))
            .cte("judged")
        )
        by_account_label = select(
            judged.c.watch_id,
            judged.c.verdict,
            func.count().filter(judged.c.scored > 0),
            func.sum(judged.c.scored),
            func.sum(judged.c["all"] - judged.c.scored),
            *(func.sum(judged.c[label]) for label in MODEL_LABELS),
            *(cast(null(), kind) for kind in (a.c.account_id.type, a.c.acct.type, acs.c.score.type, Integer())),
        ).group_by(judged.c.watch_id, judged.c.verdict)
        order = (judged.c.scored.desc(), judged.c.score.desc(), a.c.acct, a.c.account_id)
        ranked = (
            select(
                judged.c.watch_id, judged.c.verdict, judged.c.scored, a.c.account_id, a.c.acct, judged.c.score,
                func.row_number().over(partition_by=judged.c.watch_id, order_by=order).label("rank"),
            )
            .select_from(judged.join(a, a.c.id == judged.c.account_id))
            .where(judged.c.verdict == top_label, judged.c.scored > 0)
            .subquery("ranked")
        )  # fmt: skip
        zero = literal(0)
        leaders = select(
            ranked.c.watch_id, ranked.c.verdict, zero, ranked.c.scored, *(zero for _ in range(1 + len(MODEL_LABELS))),
            ranked.c.account_id, ranked.c.acct, ranked.c.score, ranked.c.rank,
        ).where(ranked.c.rank <= top)  # fmt: skip
        labels: dict[int, dict[str, int]] = {watch_id: {} for watch_id in names}
        accounts: dict[int, dict[str | None, int]] = {watch_id: {} for watch_id in names}
        account_replies: dict[int, dict[str | None, int]] = {watch_id: {} for watch_id in names}
        unscored = dict.fromkeys(names, 0)
        leading: dict[int, list[tuple[int, AccountTotal]]] = {watch_id: [] for watch_id in names}
        with self._read() as conn:
            for watch_id, label, authors, scored, not_scored, *by_label, account_id, acct, score, rank in conn.execute(
                union_all(by_account_label, leaders)
            ):
                if rank is not None:
                    leading[watch_id].append((rank, AccountTotal(account_id, acct, label, score, int(scored))))
                    continue
                if authors:
                    accounts[watch_id][label], account_replies[watch_id][label] = authors, int(scored)
                unscored[watch_id] += int(not_scored or 0)
                for name, count in zip(MODEL_LABELS, by_label):
                    labels[watch_id][name] = labels[watch_id].get(name, 0) + int(count or 0)
        for watch_id, watch in names.items():
            totals[watch] = ReplyTotals({k: v for k, v in labels[watch_id].items() if v}, unscored[watch_id],
                                        accounts[watch_id], account_replies[watch_id],
                                        tuple(total for _, total in sorted(leading[watch_id], key=lambda x: x[0])))
        return totals

    def replies_between(
        self,
        watch: str,
        start: datetime,
        end: datetime,
        model_version: str,
        *,
        with_raw: bool = False,
        account_ids: Collection[str] | None = None,
    ) -> Iterator[ReportReply]:
        """Stream the replies ``watch`` found that were posted in ``[start, end)``, oldest
        first, with ``model_version``'s scores of each reply and of its author (and each
        reply's raw API JSON with ``with_raw``, for exports); only those by authors with
        these native ``account_ids`` if given (a summary's top accounts)."""
        _require_aware(start=start, end=end)
        watch_id = self._existing_watch_id(watch)
        if watch_id is None:
            return
        query = self._report_query([watch_id], start, end, model_version, with_raw)
        if account_ids is None:
            chunks: Iterable[Sequence[int] | None] = [None]
        else:  # found from the authors' posts of the day, in order: a few, not the whole day
            chunks = sql.chunks(self._posts_by({watch_id: account_ids}, start, end))
        for chunk in chunks:
            for m in self._stream(query if chunk is None else query.where(WATCH_POSTS.c.post_id.in_(chunk))):
                yield _report_reply(watch, m)

    def replies_by_accounts(
        self, accounts: Mapping[str, Collection[str]], start: datetime, end: datetime, model_version: str
    ) -> dict[str, list[ReportReply]]:
        """:meth:`replies_between` of several watches at once, each only by the authors with the
        native ids given for it: the daily summaries' top accounts of every watch read in one
        statement rather than two a watch."""
        _require_aware(start=start, end=end)
        found: dict[str, list[ReportReply]] = {watch: [] for watch in accounts}
        wanted = {
            watch_id: (watch, set(accounts[watch]))
            for watch in accounts if accounts[watch] and (watch_id := self._existing_watch_id(watch)) is not None
        }  # fmt: skip
        if not wanted:
            return found
        post_ids = self._posts_by({watch_id: ids for watch_id, (_, ids) in wanted.items()}, start, end)
        query = self._report_query(sorted(wanted), start, end, model_version, with_raw=False)
        for chunk in sql.chunks(post_ids):
            for m in self._stream(query.where(WATCH_POSTS.c.post_id.in_(chunk))):
                watch, ids = wanted[m["wp_watch_id"]]
                if m["a_account_id"] in ids:  # a post of one watch's top account found by another
                    found[watch].append(_report_reply(watch, m))
        return found

    def _report_query(
        self, watch_ids: Sequence[int], start: datetime, end: datetime, model_version: str, with_raw: bool
    ) -> Select[Any]:
        """The day's replies of these watches with what a report shows of each, oldest first."""
        p, a = POSTS.alias("p"), ACCOUNTS.alias("a")
        parent, parent_author = POSTS.alias("parent"), ACCOUNTS.alias("parent_author")
        trigger, trigger_author = POSTS.alias("trigger"), ACCOUNTS.alias("trigger_author")
        rs, acs = REPLY_SCORES.alias("rs"), ACCOUNT_SCORES.alias("acs")
        wp = WATCH_POSTS
        return (
            select(
                *rows.post_columns(p, a),
                *rows.parent_columns(parent, parent_author, "parent"),
                *rows.parent_columns(trigger, trigger_author, "trigger"),
                wp.c.first_seen_at,
                wp.c.watch_id.label("wp_watch_id"),
                *rows.prefixed(rs, "rs", rows.REPLY_SCORE_FIELDS),
                *rows.prefixed(acs, "acs", rows.ACCOUNT_SCORE_FIELDS),
                *([p.c.raw.label("p_raw")] if with_raw else []),
            )
            .select_from(
                wp.join(p, p.c.id == wp.c.post_id)
                .join(a, a.c.id == p.c.account_id)
                .outerjoin(rs, and_(rs.c.post_id == p.c.id, rs.c.model_version == model_version))
                .outerjoin(acs, and_(acs.c.account_id == a.c.id, acs.c.model_version == model_version))
                .outerjoin(parent, rows.is_parent(parent, p))
                .outerjoin(parent_author, parent_author.c.id == parent.c.account_id)
                .outerjoin(trigger, trigger.c.id == wp.c.trigger_post_id)
                .outerjoin(trigger_author, trigger_author.c.id == trigger.c.account_id)
            )
            .where(
                wp.c.watch_id.in_(watch_ids),
                wp.c.role == "reply",
                wp.c.created_at >= start,
                wp.c.created_at < end,
            )
            .order_by(wp.c.created_at, wp.c.post_id, wp.c.watch_id)
        )

    def _posts_by(
        self, accounts: Mapping[int, Collection[str]], start: datetime, end: datetime
    ) -> list[int]:
        """Row ids of the replies each watch id found in ``[start, end)`` by authors with the
        native ids given for it, oldest first: looked up from the authors' posts, not the
        watches' whole day (``watch_posts``' author index). Which author goes with which watch is
        sorted out here, not in SQL (a thousand ``(watch, author)`` pairs make a slow filter in
        either database)."""
        pairs = {(watch_id, account) for watch_id, ids in accounts.items() for account in ids}
        wp = WATCH_POSTS
        query = (
            select(wp.c.watch_id, ACCOUNTS.c.account_id, wp.c.post_id)
            .select_from(ACCOUNTS.join(wp, wp.c.author_id == ACCOUNTS.c.id))
            .where(
                ACCOUNTS.c.account_id.in_(sorted({account for _, account in pairs})),
                wp.c.watch_id.in_(sorted(accounts)), wp.c.role == "reply",
                wp.c.created_at >= start, wp.c.created_at < end,
            )
            .order_by(wp.c.created_at, wp.c.post_id)
        )  # fmt: skip
        with self._read() as conn:
            found = (post_id for watch_id, account, post_id in conn.execute(query) if (watch_id, account) in pairs)
            return list(dict.fromkeys(found))

    def save_summary(
        self, watch: str, day: date, markdown: str, data: Mapping[str, Any], *, replace: bool = False
    ) -> bool:
        """Store the summary of ``watch`` for ``day``, at most one per watch and day.

        Returns ``False``, changing nothing, when that day already has one, unless ``replace``.
        """
        watch_id = self._watch_id(watch)
        row = {
            "watch_id": watch_id,
            "day": day,
            "markdown": markdown,
            "data": dict(data),
            "created_at": self._clock(),
        }
        with self._write() as conn:
            if replace:
                sql.upsert(conn, SUMMARIES, ("watch_id", "day"), [row])
                return True
            stmt = (
                sql.insert(conn, SUMMARIES)
                .values(row)
                .on_conflict_do_nothing(index_elements=["watch_id", "day"])
            )
            return conn.execute(stmt.returning(SUMMARIES.c.day)).first() is not None

    def summary(self, watch: str, day: date) -> Summary | None:
        """The stored summary of ``watch`` for ``day``, if any."""
        watch_id = self._existing_watch_id(watch)
        if watch_id is None:
            return None
        query = select(SUMMARIES).where(SUMMARIES.c.watch_id == watch_id, SUMMARIES.c.day == day)
        with self._read() as conn:
            m = conn.execute(query).mappings().first()
        return None if m is None else Summary(watch, m["day"], m["markdown"], m["data"], m["created_at"])

    def last_summary_day(self, watch: str) -> date | None:
        """The latest day ``watch`` has a summary for: where the daily job resumes after downtime."""
        watch_id = self._existing_watch_id(watch)
        if watch_id is None:
            return None
        with self._read() as conn:
            return conn.scalar(select(func.max(SUMMARIES.c.day)).where(SUMMARIES.c.watch_id == watch_id))

    def watch_started_at(self, watch: str) -> datetime | None:
        """When botwatch first stored anything for ``watch``: no summaries are due before it."""
        watch_id = self._existing_watch_id(watch)
        if watch_id is None:
            return None
        with self._read() as conn:
            return conn.scalar(select(WATCHES.c.created_at).where(WATCHES.c.id == watch_id))

    # ---- several workers on one database (see leases.py) ----------------------------------------

    def claim_lease(self, watch: str, worker: str, *, now: datetime, ttl: timedelta) -> Lease | None:
        """Take, take over or renew the lease on ``watch``; ``None`` while another worker holds it."""
        _require_aware(now=now)
        watch_id = self._watch_id(watch)
        with self._write() as conn:
            return leases.claim(conn, watch_id, watch, worker, now, ttl)

    def renew_lease(self, lease: Lease, *, now: datetime, ttl: timedelta) -> Lease | None:
        """Extend a lease still held; ``None`` once it expired or moved to another worker."""
        _require_aware(now=now)
        watch_id = self._watch_id(lease.watch)
        with self._write() as conn:
            return leases.renew(conn, watch_id, lease, now, ttl)

    def release_lease(self, lease: Lease) -> bool:
        """Give a lease up at once (a clean stop, or more than a fair share)."""
        watch_id = self._watch_id(lease.watch)
        with self._write() as conn:
            return leases.release(conn, watch_id, lease)

    def heartbeat(self, worker: str, *, now: datetime, ttl: timedelta) -> int:
        """Mark ``worker`` alive until ``now + ttl``; returns how many workers are alive."""
        _require_aware(now=now)
        with self._write() as conn:
            return leases.heartbeat(conn, worker, now, ttl)

    def leave(self, worker: str) -> None:
        """Forget ``worker``'s heartbeat (it is stopping)."""
        with self._write() as conn:
            leases.leave(conn, worker)

    def live_workers(self, *, now: datetime) -> list[str]:
        """Workers whose heartbeat has not expired."""
        with self._read() as conn:
            return leases.live_workers(conn, now)

    def expire_worker(self, worker: str, *, now: datetime) -> int:
        """End a dead worker's heartbeat and leases now; returns how many leases it held."""
        with self._write() as conn:
            return leases.expire_worker(conn, worker, now)

    def lease_owners(self, now: datetime) -> dict[str, str]:
        """Which worker holds an unexpired lease on which watch."""
        with self._read() as conn:
            return leases.owners(conn, now)

    def exclusive(self, name: str, *, wait: float = 60.0) -> AbstractContextManager[locks.Held]:
        """A lock across every process on this database, held for the block, waited for up to
        ``wait`` seconds (then :class:`~detector.store.locks.LockBusy`); see locks.py."""
        return locks.exclusive(self._engine, name, wait=wait)

    # ---- retention ------------------------------------------------------------------------------

    def prune_raw(self, before: datetime, limit: int) -> int:
        """Drop the raw JSON of up to ``limit`` posts created before ``before``, oldest first;
        returns how many. One short transaction: call again until it returns less than ``limit``."""
        _require_aware(before=before)
        oldest = (
            select(POSTS.c.id)
            .where(POSTS.c.raw.is_not(None), POSTS.c.created_at < before)
            .order_by(POSTS.c.created_at)
            .limit(limit)
        )
        with self._write() as conn:
            ids = conn.scalars(oldest).all()
            if ids:
                conn.execute(update(POSTS).where(POSTS.c.id.in_(ids)).values(raw=None))
        return len(ids)

    def prune_posts(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` posts created before ``before``, oldest first, with what hangs
        off them (links to watches, tracking, reply scores); returns how many. A post that a
        post created since still answers, or that a reply kept was found under, stays: the
        summaries of the kept replies need their parents and triggers."""
        _require_aware(before=before)
        p, child = POSTS.alias("p"), POSTS.alias("child")
        answered = exists().where(rows.is_parent(p, child), child.c.created_at >= before)
        found_under = exists().where(WATCH_POSTS.c.trigger_post_id == p.c.id, WATCH_POSTS.c.created_at >= before)
        oldest = (
            select(p.c.id)
            .where(p.c.created_at < before, ~answered, ~found_under)
            .order_by(p.c.created_at)
            .limit(limit)
        )
        with self._write() as conn:
            ids = conn.scalars(oldest).all()
            if ids:
                conn.execute(POSTS.delete().where(POSTS.c.id.in_(ids)))
        return len(ids)

    def prune_accounts(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` accounts last seen before ``before`` that no stored post is by,
        with their scores and behaviour state; returns how many. People's labels are kept: they
        are keyed by the account's own id and apply again if it comes back."""
        _require_aware(before=before)
        has_posts = exists().where(POSTS.c.account_id == ACCOUNTS.c.id)
        oldest = select(ACCOUNTS.c.id).where(ACCOUNTS.c.seen_at < before, ~has_posts).limit(limit)
        with self._write() as conn:
            ids = conn.scalars(oldest).all()
            if ids:
                conn.execute(ACCOUNTS.delete().where(ACCOUNTS.c.id.in_(ids)))
        return len(ids)

    # ---- research -------------------------------------------------------------------------------

    def export_posts(
        self, *, watch: str | None = None, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[str]:
        """Stream the raw API JSON of stored posts, one compact document (a JSONL line without
        its newline) each, oldest first; optionally only ``watch``'s, created in ``[start, end)``."""
        query = select(POSTS.c.raw).where(POSTS.c.raw.is_not(None)).order_by(POSTS.c.created_at, POSTS.c.id)
        if watch is not None:
            watch_id = self._existing_watch_id(watch)
            if watch_id is None:
                return
            query = query.where(
                exists().where(WATCH_POSTS.c.post_id == POSTS.c.id, WATCH_POSTS.c.watch_id == watch_id)
            )
        if start is not None:
            _require_aware(start=start)
            query = query.where(POSTS.c.created_at >= start)
        if end is not None:
            _require_aware(end=end)
            query = query.where(POSTS.c.created_at < end)
        for m in self._stream(query):
            yield m["raw"]

    def post(self, key: PostKey) -> Post | None:
        """One stored post with its author's latest snapshot and its raw JSON."""
        p, a = POSTS.alias("p"), ACCOUNTS.alias("a")
        query = (
            select(*rows.post_columns(p, a), p.c.raw.label("p_raw"))
            .select_from(p.join(a, a.c.id == p.c.account_id))
            .where(*_is_key(p, _POST_KEY, rows.clean_key(key)))
        )
        with self._read() as conn:
            m = conn.execute(query).mappings().first()
        return None if m is None else rows.post_from(m)

    def counts(self) -> dict[str, int]:
        """Rows per table, for ``botwatch db status`` and for tests."""
        with self._read() as conn:
            return {
                name: conn.scalar(select(func.count()).select_from(table)) or 0
                for name, table in Base.metadata.tables.items()
            }

    # ---- internals ------------------------------------------------------------------------------

    def _read(self) -> AbstractContextManager[Connection]:
        return db.transaction(self._engine)

    def _write(self) -> AbstractContextManager[Connection]:
        return db.transaction(self._engine, write=True)

    def _stream(self, query: Select[Any]) -> Iterator[RowMapping]:
        with self._read() as conn:
            yield from conn.execute(query.execution_options(yield_per=1000)).mappings()

    def _watch_id(self, name: str) -> int:
        watch_id = self._lookup_watch(name, create=True)
        assert watch_id is not None
        return watch_id

    def _existing_watch_id(self, name: str) -> int | None:
        """``None`` for a watch never written to: reads do not create watches."""
        return self._lookup_watch(name, create=False)

    def _lookup_watch(self, name: str, *, create: bool) -> int | None:
        """The id of a watch, created on first use in its own transaction so that the cache
        never holds the id of a row that a failed transaction rolled back."""
        if name in self._watch_ids:
            return self._watch_ids[name]
        query = select(WATCHES.c.id).where(WATCHES.c.name == name)
        with db.transaction(self._engine, write=create) as conn:
            watch_id = conn.scalar(query)
            if watch_id is None and create:
                new = sql.insert(conn, WATCHES).values(name=name, created_at=self._clock())
                conn.execute(new.on_conflict_do_nothing(index_elements=["name"]))
                watch_id = conn.scalar(query)
        if watch_id is not None:
            self._watch_ids[name] = watch_id
        return watch_id


def _unscored_query(watch_id: int, model_version: str, since: datetime | None, limit: int) -> Select[Any]:
    """``watch_id``'s replies posted at or after ``since`` without a score by ``model_version``."""
    p, a = POSTS.alias("p"), ACCOUNTS.alias("a")
    parent, parent_author = POSTS.alias("parent"), ACCOUNTS.alias("parent_author")
    scored = REPLY_SCORES.alias("scored")
    wp = WATCH_POSTS
    query = (
        select(
            *rows.post_columns(p, a),
            *rows.parent_columns(parent, parent_author, "parent"),
            wp.c.created_at.label("wp_created_at"),
        )
        .select_from(
            wp.join(p, p.c.id == wp.c.post_id)
            .join(a, a.c.id == p.c.account_id)
            .outerjoin(scored, and_(scored.c.post_id == wp.c.post_id, scored.c.model_version == model_version))
            .outerjoin(parent, rows.is_parent(parent, p))
            .outerjoin(parent_author, parent_author.c.id == parent.c.account_id)
        )
        .where(wp.c.watch_id == watch_id, wp.c.role == "reply", scored.c.post_id.is_(None))
        .order_by(wp.c.created_at, wp.c.post_id)
        .limit(limit)
    )
    return query if since is None else query.where(wp.c.created_at >= since)


def _rewind_scoring(conn: Connection, watch_id: int, posted_at: datetime) -> None:
    """Move the watch's scoring cursors back before a reply posted at ``posted_at`` being stored."""
    conn.execute(
        update(SCORING_CURSORS)
        .where(SCORING_CURSORS.c.watch_id == watch_id, SCORING_CURSORS.c.scored_before > posted_at)
        .values(scored_before=posted_at)
    )


def _unique_posts(posts: Iterable[Post]) -> dict[PostKey, Post]:
    """One post per key, the last given winning (pages can repeat a post)."""
    return {rows.clean_key(post.key): post for post in posts}


def _is_key(table: Any, columns: Sequence[str], key: Sequence[str]) -> list[Any]:
    return [table.c[column] == value for column, value in zip(columns, key, strict=True)]


def _upsert_posts(conn: Connection, unique: Mapping[PostKey, Post], when: datetime) -> dict[PostKey, int]:
    """Upsert posts and their authors; returns each post's row id by key.

    A stored row is only overwritten by a fetch at least as recent, so an archive replayed later
    cannot roll back an edited post or a newer profile; raw JSON is kept if a later fetch lacks it.
    """
    if not unique:
        return {}
    accounts = [rows.account_row(post.author, rows.fetched_at(post, when)) for post in unique.values()]
    sql.upsert(conn, ACCOUNTS, _ACCOUNT_KEY, accounts, newer="seen_at", keep=("first_seen_at",))
    account_ids = sql.ids_by_key(
        conn, ACCOUNTS, ACCOUNTS.c.account_id, {rows.author_key(p.author) for p in unique.values()}
    )
    posts = [rows.post_row(post, account_ids[rows.author_key(post.author)], when) for post in unique.values()]
    stmt = sql.insert(conn, POSTS)
    changes = {
        name: stmt.excluded[name] for name in posts[0] if name not in (*_POST_KEY, "created_at", "account_id")
    }
    changes["raw"] = func.coalesce(stmt.excluded.raw, POSTS.c.raw)
    where = POSTS.c.fetched_at <= stmt.excluded.fetched_at
    conn.execute(stmt.on_conflict_do_update(index_elements=list(_POST_KEY), set_=changes, where=where),
                 sql.one_per_key(posts, _POST_KEY))  # fmt: skip
    return sql.ids_by_key(conn, POSTS, POSTS.c.post_id, unique)


def _authors(conn: Connection, post_ids: Iterable[int]) -> dict[int, int]:
    """The stored author (account row id) of each post: what its watch links copy. Read back
    rather than taken from the fetch, since a stored post keeps the author it was stored with."""
    found: dict[int, int] = {}
    for chunk in sql.chunks(sorted(set(post_ids))):
        stored = conn.execute(select(POSTS.c.id, POSTS.c.account_id).where(POSTS.c.id.in_(chunk)))
        found.update({post_id: author_id for post_id, author_id in stored})
    return found


def _report_reply(watch: str, m: RowMapping) -> ReportReply:
    post = rows.post_from(m)
    return ReportReply(
        watch=watch,
        post=post,
        parent=rows.parent_from(m, "parent"),
        trigger=rows.parent_from(m, "trigger"),
        found_at=m["first_seen_at"],
        reply_score=rows.reply_score_from(m, "rs", post),
        account_score=rows.account_score_from(m, "acs", post.author),
    )


def _require_aware(**times: datetime) -> None:
    for name, value in times.items():
        if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be an aware datetime (UTC), got {value!r}")
