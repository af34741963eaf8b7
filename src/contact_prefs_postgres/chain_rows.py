"""The history's chain in SQL: the ``chain`` table, a row per :class:`~contact_prefs.chain.Link`.

Every write appends the links of the entries it records in its own
transaction, after :func:`~contact_prefs_postgres.writes.bump_version`: the
``meta`` row it locks is held by every write until it ends, so the head read
here is the last one committed and concurrent writers append one after the
other, into one chain.  (``seq`` is the primary key besides: a writer that
read a stale head would fail, never fork the chain.)

The links are the core's (:func:`~contact_prefs.chain.chain_after`); rows are
read back as they are, never repaired, so that
:func:`~contact_prefs.chain.verify_chain` sees what the server holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import psycopg

from contact_prefs import StoreError
from contact_prefs.chain import Entry, EntryKind, Link, batch_entry_of, chain_after, consent_entry, policy_entry
from contact_prefs.privacy import shown

from . import ledger_rows
from .history import BATCH_COLUMNS, POINT_COLUMNS, record_from_row

Cursor = psycopg.Cursor[Any]

COLUMNS = "seq, kind, key, digest, prev, hash"
_INSERT = (
    f"INSERT INTO chain ({COLUMNS}) "
    "SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[])"
)
KINDS = frozenset(kind.value for kind in EntryKind)
_CHUNK = 10_000  # links per statement when chaining a whole history


def _link(row: tuple[Any, ...]) -> Link:
    seq, kind, key, digest, prev, hash_ = row
    if kind not in KINDS:  # only an edit of the table can put one there: say so, do not guess
        raise StoreError(f"the chain's link {seq} has the kind {shown(kind)}, which no entry has: the chain was edited")
    return Link(seq=seq, kind=kind, key=key, digest=digest, prev=prev, hash=hash_)


def links(cursor: Cursor) -> tuple[Link, ...]:
    """Every link, in chain order."""
    return tuple(map(_link, cursor.execute(f"SELECT {COLUMNS} FROM chain ORDER BY seq").fetchall()))


def _head(cursor: Cursor) -> Link | None:
    row = cursor.execute(f"SELECT {COLUMNS} FROM chain ORDER BY seq DESC LIMIT 1").fetchone()
    return None if row is None else _link(row)


def insert_links(cursor: Cursor, new: Sequence[Link]) -> None:
    """Insert ``new`` as they are (a store received whole keeps the chain it was given)."""
    _insert(cursor, new)


def _insert(cursor: Cursor, new: Sequence[Link]) -> None:
    columns = [
        [link.seq for link in new],
        [link.kind.value for link in new],
        [link.key for link in new],
        [link.digest for link in new],
        [link.prev for link in new],
        [link.hash for link in new],
    ]
    cursor.execute(_INSERT, columns)


def append(cursor: Cursor, entries: Sequence[Entry]) -> None:
    """Append the links of ``entries``, in order, to the chain; call it after the transaction's
    version bump (see this module's documentation)."""
    if entries:
        _insert(cursor, chain_after(_head(cursor), entries))


def consent_events_recorded(cursor: Cursor) -> int:
    """How many consent events the store holds: the next one's position is this plus one."""
    row = cursor.execute("SELECT count(*) FROM consent_events").fetchone()
    return int(row[0]) if row else 0


def policy_changes_recorded(cursor: Cursor) -> int:
    """How many changes of the consent policy the store holds."""
    row = cursor.execute("SELECT count(*) FROM policy_changes").fetchone()
    return int(row[0]) if row else 0


# --- migrating -------------------------------------------------------------------


def _history_entries(cursor: Cursor) -> Iterator[Entry]:
    """Every batch's entry, oldest first, each read as ``history()`` reads it."""
    batches = cursor.execute(f"SELECT {BATCH_COLUMNS} FROM batches ORDER BY version").fetchall()
    for row in batches:
        points = cursor.execute(
            f"SELECT {POINT_COLUMNS} FROM batch_points WHERE batch_id = %s ORDER BY position", [row[0]]
        ).fetchall()
        yield batch_entry_of(record_from_row(row, points))


def _entries(cursor: Cursor) -> Iterator[Entry]:
    yield from _history_entries(cursor)
    events = cursor.execute(f"SELECT {ledger_rows.EVENT_COLUMNS} FROM consent_events ORDER BY seq").fetchall()
    for position, row in enumerate(events, 1):
        yield consent_entry(ledger_rows.event_from_row(row), position)
    changes = cursor.execute(f"SELECT {ledger_rows.CHANGE_COLUMNS} FROM policy_changes ORDER BY seq").fetchall()
    for position, row in enumerate(changes, 1):
        yield policy_entry(ledger_rows.change_from_row(row), position)


def _chunks(entries: Iterable[Entry]) -> Iterator[list[Entry]]:
    chunk: list[Entry] = []
    for entry in entries:
        chunk.append(entry)
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def chain_existing_history(cursor: Cursor) -> None:
    """Migrate a store that kept no chain: chain what it holds, in the order the schema module
    documents (batches by version, then consent events, then policy changes)."""
    head: Link | None = None
    # Each query's rows are fetched whole before its entries are made, so inserting in between is safe.
    for chunk in _chunks(_entries(cursor)):
        new = chain_after(head, chunk)
        _insert(cursor, new)
        head = new[-1]
