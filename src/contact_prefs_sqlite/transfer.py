"""Everything a store holds, read in one transaction and written in one: ``contents()`` and ``receive()``.

Every function runs in the caller's transaction.  Writing keeps what it is
given as it is: batch ids, times, actors, the ledger's order (each event's
``seq``), the queue's order, the policy, the proposals and schedules as they
stand, the batches' approval, schedule and what a revert left alone, and the
chain's links as they are (never recomputed: the store's chain keeps its head
and verifies).  Each point's ledger key is computed as a load computes it
(:func:`contact_prefs.ledger.ledger_key`, in the received policy's region);
its ``revoked`` is written as given.
"""

from __future__ import annotations

import sqlite3

from contact_prefs import BatchRecord, ConsentPolicy
from contact_prefs.changes import group_by_point
from contact_prefs.consent import ConsentEvent
from contact_prefs.contents import StoreContents
from contact_prefs.ledger import ledger_key
from contact_prefs.schedules import Schedule
from contact_prefs.snapshot import RECORD_FIELDS

from . import chain_rows, consent_rows, ledgers, proposal_rows, schedule_rows
from . import history as history_rows
from .schema import APPEND_ONLY_TRIGGERS
from .tables import LEDGER_KEY, TABLES

_COUNTED = {
    "history": "batches",
    "consent_events": "consent_events",
    "reviews": "reviews",
    "policy_changes": "policy_changes",
    "proposals": "proposals",
    "schedules": "schedules",
    "chain": "chain",
}
"""The sections counted by the rows of one table."""

_INSERT_LINK = f"INSERT INTO chain ({chain_rows.LINK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
"""A link as given: its ``seq`` and hashes are the source's, never recomputed."""

_HELD = (*RECORD_FIELDS, "batches", "consent_events", "reviews", "policy_changes", "proposals", "schedules", "chain")
"""Every table holding a store's contents, but the one-row ``consent_policy`` and ``state``."""


def events(connection: sqlite3.Connection) -> tuple[ConsentEvent, ...]:
    """Every ledger's events, in the order they were recorded."""
    rows = connection.execute(f"SELECT {consent_rows.EVENT_COLUMNS} FROM consent_events ORDER BY seq")
    return tuple(map(consent_rows.event_from_row, rows))


def schedules(connection: sqlite3.Connection) -> tuple[Schedule, ...]:
    """Every schedule, in the order they were saved."""
    rows = connection.execute(f"SELECT {schedule_rows.SCHEDULE_COLUMNS} FROM schedules ORDER BY seq")
    return tuple(map(schedule_rows.schedule_from_row, rows))


def holdings(connection: sqlite3.Connection) -> dict[str, int]:
    """The entries of each section the store holds (:meth:`StoreContents.holdings`)."""
    held = {"records": sum(_rows(connection, name) for name in RECORD_FIELDS)}
    held.update({section: _rows(connection, table) for section, table in _COUNTED.items()})
    held["consent_policy"] = int(ledgers.policy(connection) != ConsentPolicy())
    return held


def _rows(connection: sqlite3.Connection, table: str) -> int:
    count: int = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return count


def erase(connection: sqlite3.Connection) -> None:
    """Delete everything the store holds, the append-only tables included: their triggers are dropped
    for the deletion and created again at once, inside the caller's transaction."""
    for name in APPEND_ONLY_TRIGGERS:
        connection.execute(f"DROP TRIGGER {name}")
    for table in _HELD:
        connection.execute(f"DELETE FROM {table}")
    for create in APPEND_ONLY_TRIGGERS.values():
        connection.execute(create)
    connection.execute(consent_rows.UPDATE_POLICY, consent_rows.policy_row(ConsentPolicy()))


def write(connection: sqlite3.Connection, contents: StoreContents) -> None:
    """Write every section of ``contents`` into an empty store, and its demo mark."""
    connection.execute("UPDATE state SET demo = ?", (int(contents.demo),))
    region = contents.consent_policy.region
    for name in RECORD_FIELDS:
        table, records = TABLES[name], getattr(contents.records, name)
        if name == "contact_points":
            rows = [(*table.to_row(point), ledger_key(point.method, point.address, region)) for point in records]
            connection.executemany(table.upsert(extra=LEDGER_KEY), rows)
        else:
            connection.executemany(table.upsert(), map(table.to_row, records))
    for record in contents.history:
        _write_batch(connection, record)
    ledgers.append(connection, contents.consent_events)
    connection.executemany(consent_rows.INSERT_REVIEW, map(consent_rows.review_row, contents.reviews))
    connection.execute(consent_rows.UPDATE_POLICY, consent_rows.policy_row(contents.consent_policy))
    connection.executemany(consent_rows.INSERT_CHANGE, map(consent_rows.change_row, contents.policy_changes))
    connection.executemany(proposal_rows.INSERT, map(proposal_rows.proposal_row, contents.proposals))
    connection.executemany(schedule_rows.INSERT_SCHEDULE, map(schedule_rows.schedule_row, contents.schedules))
    connection.executemany(_INSERT_LINK, map(chain_rows.link_row, contents.chain))


def _write_batch(connection: sqlite3.Connection, record: BatchRecord) -> None:
    """One ``batches`` row, in history order (its ``seq``), with its points as the store keeps them."""
    updates = group_by_point(record.changes)
    connection.execute(
        "INSERT INTO batches (batch_id, actor, at, spec, counts, applied, undoes, undone_by, points, affects, "
        "proposal_id, proposer, approver, schedule_id, left_alone) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            record.batch_id,
            record.actor,
            record.at.isoformat(),
            history_rows.spec_json(record.spec),
            history_rows.counts_json(record.counts),
            len(record.changes),
            record.undoes,
            record.undone_by,
            history_rows.points_json(history_rows.point_rows(updates)),
            history_rows.affects_json(updates),
            *history_rows.approval_row(record.approval),
            record.schedule_id,
            history_rows.left_alone_json(record.left_alone),
        ),
    )
