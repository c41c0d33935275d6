"""Statement helpers shared by the repository: dialect upserts and key lookups.

Upserts use each dialect's own ``INSERT ... ON CONFLICT`` (SQLite and PostgreSQL spell it the
same). Rows go in key order, one per key: PostgreSQL refuses to touch one row twice in a
statement, and a fixed order means concurrent writers take row locks in the same order and
cannot deadlock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from detector.errors import StoreError

Key = tuple[str, str, str]  # (platform, instance, native id)
CHUNK = 500  # keys per IN (...) list: far below SQLite's and PostgreSQL's parameter limits


def insert(conn: Connection, table: Table) -> Any:
    """The dialect's own INSERT, which has ``on_conflict_do_update`` / ``on_conflict_do_nothing``."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def one_per_key(rows: Iterable[dict[str, Any]], key: Sequence[str]) -> list[dict[str, Any]]:
    """One row per key (the last given wins), in key order."""
    unique = {tuple(row[k] for k in key): row for row in rows}
    return [unique[k] for k in sorted(unique)]


def upsert(
    conn: Connection,
    table: Table,
    key: Sequence[str],
    rows: Sequence[dict[str, Any]],
    *,
    newer: str | None = None,
    keep: Sequence[str] = (),
) -> None:
    """Insert ``rows`` or update the stored row with the same key, except the ``keep`` columns;
    with ``newer``, only by a row whose ``newer`` column is at least as recent."""
    if not rows:
        return
    stmt = insert(conn, table)
    changes = {name: stmt.excluded[name] for name in rows[0] if name not in key and name not in keep}
    where = table.c[newer] <= stmt.excluded[newer] if newer else None
    stmt = stmt.on_conflict_do_update(index_elements=list(key), set_=changes, where=where)
    conn.execute(stmt, one_per_key(rows, key))


def insert_ignore(conn: Connection, table: Table, key: Sequence[str], rows: Sequence[dict[str, Any]]) -> int:
    """Insert the rows whose key is not stored yet, leaving the others as they are; returns how
    many were inserted (exact under concurrent writers: RETURNING gives only inserted rows)."""
    if not rows:
        return 0
    stmt = insert(conn, table).on_conflict_do_nothing(index_elements=list(key)).returning(table.c[key[0]])
    return len(conn.execute(stmt, one_per_key(rows, key)).all())


def ids_by_key(conn: Connection, table: Table, id_column: Column[Any], keys: Iterable[Key]) -> dict[Key, int]:
    """Row ids of the stored ones among ``keys``, for a table with platform and instance columns."""
    by_place: dict[tuple[str, str], set[str]] = defaultdict(set)
    for platform, instance, native_id in keys:
        by_place[(platform, instance)].add(native_id)
    found: dict[Key, int] = {}
    for (platform, instance), native_ids in by_place.items():
        for chunk in chunks(sorted(native_ids)):
            rows = conn.execute(
                select(table.c.id, id_column).where(
                    table.c.platform == platform, table.c.instance == instance, id_column.in_(chunk)
                )
            )
            found.update({(platform, instance, native_id): row_id for row_id, native_id in rows})
    return found


def require_ids(
    conn: Connection, table: Table, id_column: Column[Any], keys: set[Key], what: str
) -> dict[Key, int]:
    """:func:`ids_by_key`, raising :class:`StoreError` naming the first keys that are not stored."""
    ids = ids_by_key(conn, table, id_column, keys)
    missing = sorted(keys - ids.keys())
    if missing:
        shown = ", ".join("/".join(key) for key in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise StoreError(f"cannot store scores for {what}s that are not stored: {shown}{more}")
    return ids
