"""Everything a store holds, read in one transaction and written in one: ``contents()`` and ``receive()``.

Every function runs in the caller's transaction.  Writing keeps what it is
given as it is: batch ids, times, actors, the ledger's order (each event's
``seq``), the queue's order, the policy.  Each point's ledger key is
computed as a load computes it (:func:`contact_prefs.ledger.ledger_key`, in
the received policy's region); its ``revoked`` is written as given.  Batches
get data versions in history order, below the version the write ends at.
Proposals and schedules are written as they stand, and the chain's links as
they are (never recomputed: the store's chain keeps its head and verifies).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from contact_prefs import BatchRecord, ConsentPolicy
from contact_prefs.changes import group_by_point
from contact_prefs.consent import ConsentEvent
from contact_prefs.contents import StoreContents
from contact_prefs.ledger import ledger_key
from contact_prefs.plain import METHOD_VALUES, SOURCE_VALUES, spec_to_plain
from contact_prefs.schedules import Schedule

from . import chain_rows, ledger_rows, ledgers, proposal_rows, schedule_rows
from .history import BATCH_COLUMNS, POINT_COLUMNS, counts_plain, record_from_row
from .tables import TABLES

__all__ = ["erase", "events", "history", "holdings", "lock", "schedules", "write"]

Cursor = psycopg.Cursor[Any]

_APPEND_ONLY = ("consent_events", "policy_changes", "chain")
"""The tables whose triggers refuse an UPDATE, DELETE or TRUNCATE."""

_HELD = (
    *(table.name for table in TABLES),
    "ledger_keys",
    "batch_points",
    "schedules",  # they and proposals refer to batches: deleted before them
    "proposals",
    "batches",
    *_APPEND_ONLY,
    "reviews",
)
"""Every table holding a store's contents, but the one-row ``consent_policy`` and ``meta``, in an
order they can be deleted in."""

_COUNTED = {
    "history": "batches",
    "consent_events": "consent_events",
    "reviews": "reviews",
    "policy_changes": "policy_changes",
    "proposals": "proposals",
    "schedules": "schedules",
    "chain": "chain",
}

COPY_BATCH_POINTS = (
    "COPY batch_points (batch_id, position, owner_id, method, source_before, enabled_before, enabled_after, affects) "
    "FROM STDIN"
)
BATCH_POINT_TYPES = ("text", "int4", "text", "text", "text", "int4", "int4", "text[]")


# --- reading -------------------------------------------------------------------------


def history(cursor: Cursor) -> tuple[BatchRecord, ...]:
    """Every commit and undo, oldest first, with its changes, as :func:`~.history.record_from_row` reads it."""
    batches = cursor.execute(f"SELECT {BATCH_COLUMNS} FROM batches ORDER BY version").fetchall()
    points: dict[str, list[Any]] = {}
    for batch_id, *row in cursor.execute(
        f"SELECT batch_id, {POINT_COLUMNS} FROM batch_points ORDER BY batch_id, position"
    ).fetchall():
        points.setdefault(batch_id, []).append(row)
    return tuple(record_from_row(row, points.get(row[0], ())) for row in batches)


def events(cursor: Cursor) -> tuple[ConsentEvent, ...]:
    """Every ledger's events, in the order they were recorded."""
    rows = cursor.execute(f"SELECT {ledger_rows.EVENT_COLUMNS} FROM consent_events ORDER BY seq").fetchall()
    return tuple(map(ledger_rows.event_from_row, rows))


def schedules(cursor: Cursor) -> tuple[Schedule, ...]:
    """Every schedule, in the order they were saved."""
    rows = cursor.execute(f"SELECT {schedule_rows.SCHEDULE_COLUMNS} FROM schedules ORDER BY seq").fetchall()
    return tuple(map(schedule_rows.schedule_from_row, rows))


def holdings(cursor: Cursor) -> dict[str, int]:
    """The entries of each section the store holds (:meth:`StoreContents.holdings`)."""
    held = {"records": sum(_rows(cursor, table.name) for table in TABLES)}
    held.update({section: _rows(cursor, table) for section, table in _COUNTED.items()})
    held["consent_policy"] = int(ledgers.policy(cursor) != ConsentPolicy())
    return held


def _rows(cursor: Cursor, table: str) -> int:
    row = cursor.execute(f"SELECT count(*) FROM {table}").fetchone()
    return 0 if row is None else int(row[0])


# --- writing -------------------------------------------------------------------------


def lock(cursor: Cursor) -> None:
    """Keep every other writer out until the transaction ends (readers go on reading what was there)."""
    cursor.execute(f"LOCK TABLE {', '.join(_HELD)}, consent_policy, meta IN EXCLUSIVE MODE")


def erase(cursor: Cursor) -> None:
    """Delete everything the store holds, the append-only tables included: their triggers (the ones
    refusing a TRUNCATE too) are disabled for the deletion and enabled again at once, inside the
    caller's transaction."""
    for table in _APPEND_ONLY:
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    # The history refers to itself and to proposals, which refer to it.
    cursor.execute("UPDATE batches SET undone_by = NULL, undoes = NULL, proposal_id = NULL")
    for table in _HELD:
        cursor.execute(f"DELETE FROM {table}")
    for table in _APPEND_ONLY:
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    cursor.execute(ledger_rows.UPDATE_POLICY, ledger_rows.policy_row(ConsentPolicy()))


def write(cursor: Cursor, contents: StoreContents) -> None:
    """Write every section of ``contents`` into an empty store, and its demo mark."""
    cursor.execute("UPDATE meta SET demo = %s", [contents.demo])
    region = contents.consent_policy.region
    for table in TABLES:
        records = getattr(contents.records, table.name)
        if records:
            cursor.execute(table.upsert(), table.arrays(records))
    points = contents.records.contact_points
    ledgers.set_keys(
        cursor,
        [point.owner_id for point in points],
        [METHOD_VALUES[point.method] for point in points],
        [ledger_key(point.method, point.address, region) for point in points],
    )
    _write_history(cursor, contents.history)
    ledgers.append(cursor, contents.consent_events)
    ledgers.queue(cursor, contents.reviews)
    cursor.execute(ledger_rows.UPDATE_POLICY, ledger_rows.policy_row(contents.consent_policy))
    cursor.executemany(ledger_rows.INSERT_CHANGE, [ledger_rows.change_row(c) for c in contents.policy_changes])
    for proposal in contents.proposals:
        proposal_rows.insert(cursor, proposal)
    cursor.executemany(schedule_rows.INSERT_SCHEDULE, [schedule_rows.schedule_row(s) for s in contents.schedules])
    # The batches applying a proposal name it once it exists (the proposal names its batch too).
    cursor.executemany(
        "UPDATE batches SET proposal_id = %s WHERE batch_id = %s",
        [(r.approval.proposal_id, r.batch_id) for r in contents.history if r.approval is not None],
    )
    if contents.chain:
        chain_rows.insert_links(cursor, contents.chain)  # as given: the same head
    cursor.execute(
        "UPDATE meta SET data_version = data_version + %s", [len(contents.history)]
    )  # the batches took the versions up to it


def _write_history(cursor: Cursor, records: tuple[BatchRecord, ...]) -> None:
    """The batches in history order, each at a data version of its own, then who undid whom (the
    references must point at rows that exist), then every batch's points in one COPY."""
    row = cursor.execute("SELECT data_version FROM meta").fetchone()
    base = 0 if row is None else int(row[0])
    cursor.executemany(
        "INSERT INTO batches (batch_id, version, actor, at, spec, counts, proposer, approver, schedule_id, "
        "left_alone) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [
            (
                r.batch_id,
                base + n,
                r.actor,
                r.at,
                Jsonb(spec_to_plain(r.spec)),
                Jsonb(counts_plain(r.counts)),
                None if r.approval is None else r.approval.proposer,
                None if r.approval is None else r.approval.approver,
                r.schedule_id,
                Jsonb(schedule_rows.left_alone_plain(r.left_alone)),
            )
            for n, r in enumerate(records, start=1)
        ],
    )
    cursor.executemany(
        "UPDATE batches SET undoes = %s, undone_by = %s WHERE batch_id = %s",
        [(r.undoes, r.undone_by, r.batch_id) for r in records if r.undoes or r.undone_by],
    )
    with cursor.copy(COPY_BATCH_POINTS) as copy:
        copy.set_types(BATCH_POINT_TYPES)
        for record in records:
            for position, update in enumerate(group_by_point(record.changes)):
                copy.write_row(
                    (
                        record.batch_id,
                        position,
                        update.owner_id,
                        METHOD_VALUES[update.method],
                        SOURCE_VALUES[update.source_before],
                        update.enabled_before.mask,
                        update.enabled_after.mask,
                        sorted(update.affects),
                    )
                )
