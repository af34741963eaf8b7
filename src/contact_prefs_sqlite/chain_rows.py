"""The hash chain in SQL: each write appends the links of the entries it records, in its own transaction.

Every function runs in the caller's transaction; what an entry holds and how
links are hashed is the core's (:mod:`contact_prefs.chain`).  A write reads
the head under its transaction's write lock (``BEGIN IMMEDIATE``), so
concurrent writers, in this process or another, append one chain in the order
they commit.  The ``chain`` table is append-only (triggers refuse an UPDATE or
DELETE); rows are read back exactly as stored, never repaired, so that
:func:`~contact_prefs.chain.verify_chain` sees any edit made behind the store's back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from contact_prefs import StoreError
from contact_prefs.chain import Entry, Link, batch_entry_of, chain_after, consent_entry, policy_entry
from contact_prefs.consent import ConsentEvent
from contact_prefs.ledger import PolicyChange

from . import consent_rows, ledgers
from . import history as history_rows
from .tables import Row

LINK_COLUMNS = "seq, kind, key, digest, prev, hash"

_INSERT_LINK = f"INSERT INTO chain ({LINK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
_HEAD = f"SELECT {LINK_COLUMNS} FROM chain ORDER BY seq DESC LIMIT 1"


def link_row(link: Link) -> Row:
    return (link.seq, link.kind.value, link.key, link.digest, link.prev, link.hash)


def link_from_row(row: Row) -> Link:
    seq, kind, key, digest, prev, hash_ = row
    return Link(seq=seq, kind=kind, key=key, digest=digest, prev=prev, hash=hash_)


def links(connection: sqlite3.Connection, where: str) -> tuple[Link, ...]:
    """Every link, in chain order; a row that cannot be a link (edited behind the store's back) is a
    :class:`StoreError` naming its position in ``where``."""
    found = []
    for row in connection.execute(f"SELECT {LINK_COLUMNS} FROM chain ORDER BY seq"):
        try:
            found.append(link_from_row(row))
        except ValueError as error:
            raise StoreError(f"the chain of {where} was edited: its row {row[0]} is no link ({error})") from None
    return tuple(found)


def append(connection: sqlite3.Connection, entries: Sequence[Entry]) -> None:
    """Append the links of ``entries``, in order, after the chain's head as it is in this transaction."""
    if not entries:
        return
    head = connection.execute(_HEAD).fetchone()
    connection.executemany(
        _INSERT_LINK, map(link_row, chain_after(None if head is None else link_from_row(head), entries))
    )


def record_events(connection: sqlite3.Connection, events: Sequence[ConsentEvent]) -> None:
    """Append ``events`` to their ledgers and chain each one, keyed by its position in the store's order of events."""
    if not events:
        return
    first = _count(connection, "consent_events") + 1
    ledgers.append(connection, events)
    append(connection, [consent_entry(event, position) for position, event in enumerate(events, first)])


def record_policy_change(connection: sqlite3.Connection, change: PolicyChange) -> None:
    """Add ``change`` to the policy's changes and chain it, keyed by its position among them."""
    connection.execute(consent_rows.INSERT_CHANGE, consent_rows.change_row(change))
    append(connection, [policy_entry(change, _count(connection, "policy_changes"))])


def _count(connection: sqlite3.Connection, table: str) -> int:
    # Both tables are append-only: their count is the position of the last row.
    count: int = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return count


# --- migrating ----------------------------------------------------------------


def existing_entries(connection: sqlite3.Connection) -> Iterable[Entry]:
    """The entries of a store's history as it stands, read back as the store reads them: the batches
    in their order, then the consent events in ledger order, then the policy changes, oldest first."""
    rows = connection.execute(f"SELECT {history_rows.BATCH_COLUMNS}, points, affects FROM batches ORDER BY seq")
    for row in rows:  # one batch's points at a time: a district-wide batch's document is tens of megabytes
        yield batch_entry_of(history_rows.batch_record(row[:-2], history_rows.changes_from_json(*row[-2:])))
    events = connection.execute(f"SELECT {consent_rows.EVENT_COLUMNS} FROM consent_events ORDER BY seq").fetchall()
    for position, event_row in enumerate(events, 1):
        yield consent_entry(consent_rows.event_from_row(event_row), position)
    changes = connection.execute(f"SELECT {consent_rows.CHANGE_COLUMNS} FROM policy_changes ORDER BY seq").fetchall()
    for position, change_row in enumerate(changes, 1):
        yield policy_entry(consent_rows.change_from_row(change_row), position)


def chain_existing_history(connection: sqlite3.Connection) -> None:
    """Migrate a store kept without a chain: chain its history as it stands (see :func:`existing_entries`),
    so that it verifies intact from then on.  Runs inside the migration's transaction."""
    append(connection, list(existing_entries(connection)))
