"""The compare-and-set write every commit and undo makes, and the version bump of every write.

What may be written is decided by the core (:mod:`contact_prefs.writes`); these
statements only compare each point with the state a row expects and set it.

Locks are always taken in one order, so that the store's own transactions
never deadlock: the undone batch's row (undo) or the proposal's row (a commit
applying it, an approval, a withdrawal), the ledger lock (loads and consent
writes, :func:`take_ledger_lock`), contact points in key order, and the
``meta`` row last, held only for the instant between the bump and the
transaction's end.  In that instant every write appends its history's chain
links (:mod:`contact_prefs_postgres.chain_rows`): the ``meta`` row is what
makes concurrent writers append one after the other.
"""

from __future__ import annotations

import datetime
from typing import Any

import psycopg

from contact_prefs import ReasonSet, StoreError
from contact_prefs.plain import SOURCES
from contact_prefs.writes import StoredPoint

from .history import WriteRow
from .schema import advisory_key

CREATE_POINT_WRITES = """
CREATE TEMP TABLE point_writes (
    position integer NOT NULL,
    owner_id text NOT NULL,
    method text NOT NULL,
    source_before text NOT NULL,
    enabled_before integer NOT NULL,
    enabled_after integer NOT NULL,
    source_after text NOT NULL,
    affects text[],  -- NULL: just the owner (sent as nothing, where an array costs a dump per row)
    revoked_before integer NOT NULL
) ON COMMIT DROP
"""
COPY_POINT_WRITES = (
    "COPY point_writes (position, owner_id, method, source_before, enabled_before, enabled_after, "
    "source_after, affects, revoked_before) FROM STDIN"
)
POINT_WRITE_TYPES = ("int4", "text", "text", "text", "int4", "int4", "text", "text[]", "int4")

# Rows are locked in key order (the ORDER BY runs before the locking), so two
# writers wanting overlapping points queue instead of deadlocking; a portal
# write to a locked point waits for this transaction and then lands on top.
LOCK_POINTS = """
SELECT count(*) FROM (
    SELECT FROM contact_points AS p JOIN point_writes AS w USING (owner_id, method)
    ORDER BY p.owner_id, p.method
    FOR UPDATE OF p
) AS locked
"""

READ_LISTED_POINTS = """
SELECT p.owner_id, p.method, p.enabled, p.source, p.revoked
FROM contact_points AS p JOIN unnest(%s::text[], %s::text[]) AS k(owner_id, method) USING (owner_id, method)
ORDER BY p.owner_id, p.method
FOR UPDATE OF p
"""
LOCK_LISTED_POINTS = f"SELECT count(*) FROM ({READ_LISTED_POINTS}) AS locked"

# The compare-and-set: every point still as its row expects is written (all of them, or the
# caller rolls back).
WRITE_POINTS = """
UPDATE contact_points AS p
SET enabled = w.enabled_after, source = w.source_after
FROM point_writes AS w
WHERE p.owner_id = w.owner_id AND p.method = w.method
  AND p.enabled = w.enabled_before AND p.source = w.source_before AND p.revoked = w.revoked_before
"""

# The points of the rows as they are now, in the rows' order (NULLs where a point is gone).
POINTS_NOW = """
SELECT p.enabled, p.source, p.revoked FROM point_writes AS w
LEFT JOIN contact_points AS p USING (owner_id, method)
ORDER BY w.position
"""


def take_ledger_lock(cursor: psycopg.Cursor[Any], schema: str) -> None:
    """Queue behind every other load and consent write of the store, until this transaction ends.

    They read the ledgers, the review queue, the policy and the points' keys
    before they write what follows from them: none may change in between.
    The key is the one loads always took (``load``), so that every load queues with them.
    """
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [advisory_key("load", schema)])


def compare_and_set(cursor: psycopg.Cursor[Any], rows: list[WriteRow], *, again: bool = False) -> bool:
    """Lock the rows' points in key order and write each, if every point is as its row expects;
    else write nothing and return ``False`` (the rows stay in ``point_writes`` for :func:`points_now`).

    ``again`` replaces the rows of an earlier call in this transaction.
    """
    if not rows:
        return True
    cursor.execute("TRUNCATE point_writes" if again else CREATE_POINT_WRITES)
    with cursor.copy(COPY_POINT_WRITES) as copy:
        copy.set_types(POINT_WRITE_TYPES)
        for row in rows:
            copy.write_row(row)
    cursor.execute(LOCK_POINTS)
    cursor.execute("SAVEPOINT point_writes")
    if cursor.execute(WRITE_POINTS).rowcount == len(rows):  # the usual case: one statement
        return True
    cursor.execute("ROLLBACK TO SAVEPOINT point_writes")
    return False


def points_now(cursor: psycopg.Cursor[Any]) -> list[StoredPoint | None]:
    """The points of the rows in ``point_writes`` as they are now, in the rows' order."""
    return [None if row[0] is None else _stored(*row) for row in cursor.execute(POINTS_NOW)]


def lock_points(cursor: psycopg.Cursor[Any], owner_ids: list[str], methods: list[str]) -> None:
    """Lock the stored contact points of these keys, in key order (a load, before it writes any)."""
    cursor.execute(LOCK_LISTED_POINTS, [owner_ids, methods])


def read_points(cursor: psycopg.Cursor[Any], owner_ids: list[str], methods: list[str]) -> list[StoredPoint | None]:
    """Lock the stored contact points of these keys, in key order, and read what a write compares:
    one per key, in the keys' order, ``None`` where no point has the key."""
    rows = cursor.execute(READ_LISTED_POINTS, [owner_ids, methods]).fetchall()
    stored = {(owner_id, method): _stored(*state) for owner_id, method, *state in rows}
    return [stored.get(key) for key in zip(owner_ids, methods, strict=True)]


def record_points(cursor: psycopg.Cursor[Any], batch_id: str) -> None:
    """Keep the points just written as the history of ``batch_id``."""
    cursor.execute(
        "INSERT INTO batch_points "
        "(batch_id, position, owner_id, method, source_before, enabled_before, enabled_after, affects) "
        "SELECT %s, position, owner_id, method, source_before, enabled_before, enabled_after, "
        "coalesce(affects, ARRAY[owner_id]) "
        "FROM point_writes",
        [batch_id],
    )


def bump_version(cursor: psycopg.Cursor[Any]) -> tuple[int, datetime.datetime]:
    """Count this transaction as a new data version; the version and the server's time now, in UTC.

    Taking the ``meta`` row lock last orders the writes: versions and times
    increase in commit order.
    """
    row = cursor.execute(
        "UPDATE meta SET data_version = data_version + 1 RETURNING data_version, clock_timestamp()"
    ).fetchone()
    if row is None:
        raise StoreError("the store's meta table has lost its row")
    return int(row[0]), row[1].astimezone(datetime.UTC)


def _stored(enabled: int, source: str, revoked: int) -> StoredPoint:
    return StoredPoint(ReasonSet.from_mask(enabled), SOURCES[source], ReasonSet.from_mask(revoked))
