"""SQLiteStore: a district in one SQLite file, written in atomic, conflict-checked transactions.

Every write runs in one ``BEGIN IMMEDIATE`` transaction (one writer at a
time, others wait up to the busy timeout) and bumps the ``state`` counter,
which is the store's version.  Reads run in a deferred transaction, so a
snapshot is consistent with its version even while another process writes.
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
import logging
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any

import attrs

from contact_prefs import (
    BatchRecord,
    BatchSpec,
    Change,
    ChangeSet,
    ConflictError,
    ContactPrefsError,
    PointUpdate,
    Receipt,
    Snapshot,
    Source,
    StoreError,
    UnknownBatchError,
)
from contact_prefs.bulk import collector_paused
from contact_prefs.snapshot import RECORD_FIELDS

from . import history as history_rows
from .connection import connect, describe, translated
from .narrowing import create_temporary_tables, narrowed
from .tables import PREFERENCES, SOURCES, TABLES
from .url import database_path

__all__ = ["SQLiteStore"]

log = logging.getLogger(__name__)

BATCH = Source.BATCH.value

# The compare-and-set, in SQL: a point is written only if it is still as planned, and
# never switched on where consent is revoked; a commit counts the rows written.  Its
# parameters are a batch_points row (history.point_rows), so one list serves both statements.
_WRITE_POINT = (
    f"UPDATE contact_points SET enabled = ?8, source = '{BATCH}' "
    "WHERE owner_id = ?4 AND method = ?5 AND source = ?6 AND enabled = ?7 AND NOT (revoked AND ?8 & ~?7)"
)

# The points of a batch that are no longer as it left them (or that it would switch on where revoked).
_UNDO_CONFLICTS = """
    SELECT b.owner_id, b.method, b.source_before, b.enabled_before, b.enabled_after, b.affects
    FROM batch_points b LEFT JOIN contact_points p ON p.owner_id = b.owner_id AND p.method = b.method
    WHERE b.batch_seq = :seq AND (
        p.owner_id IS NULL OR p.enabled <> b.enabled_after OR p.source <> :batch
        OR (p.revoked AND (b.enabled_before & ~b.enabled_after)))
    ORDER BY b.position"""

_UNDO_POINTS = """
    UPDATE contact_points AS p SET enabled = b.enabled_before, source = b.source_before
    FROM batch_points AS b
    WHERE b.batch_seq = :seq AND p.owner_id = b.owner_id AND p.method = b.method"""

# An undo's points are the batch's, before and after swapped, as ChangeSet.inverse() makes them.
_UNDO_HISTORY = """
    INSERT INTO batch_points (batch_seq, position, owner_id, method, source_before,
                              enabled_before, enabled_after, affects)
    SELECT :undo_seq, position, owner_id, method, :batch, enabled_after, enabled_before, affects
    FROM batch_points WHERE batch_seq = :seq"""


@attrs.define
class SQLiteStore:
    """A store in a SQLite file (or a private in-memory database when ``path`` is ``":memory:"``).

    Open one with :meth:`open` or ``open_store("sqlite:///district.db")``.
    One connection per store, guarded by a lock, so a store may be shared
    between threads; processes share the file.
    """

    path: str
    _connection: sqlite3.Connection = attrs.field(repr=False, alias="connection")
    _lock: threading.RLock = attrs.field(factory=threading.RLock, repr=False)
    _closed: bool = attrs.field(default=False, repr=False)

    @classmethod
    def open(cls, path: str) -> SQLiteStore:
        """Open (creating and migrating if needed) the database at ``path``."""
        connection = connect(path)
        create_temporary_tables(connection)
        connection.execute(
            "CREATE TEMP TABLE IF NOT EXISTS touched (owner_id TEXT, method TEXT, PRIMARY KEY (owner_id, method)) "
            "WITHOUT ROWID"
        )
        return cls(path, connection=connection)

    @classmethod
    def from_url(cls, url: str) -> SQLiteStore:
        """Open ``sqlite:///relative.db``, ``sqlite:////absolute.db`` or ``sqlite://`` (in memory)."""
        return cls.open(database_path(url))

    # --- reading ----------------------------------------------------------------

    def dump(self) -> Snapshot:
        """Everything stored."""
        with collector_paused(), self._transaction("read") as connection:
            collections = {
                name: TABLES[name].records(connection.execute(f"SELECT {TABLES[name].select()} FROM {name}"))
                for name in RECORD_FIELDS
            }
            return Snapshot(**collections, version=self._version(connection))

    def snapshot(self, spec: BatchSpec) -> Snapshot:
        """The records ``spec``'s plan can look at, narrowed in SQL (see :mod:`.narrowing`)."""
        with collector_paused(), self._transaction("read") as connection:
            return Snapshot(**narrowed(connection, spec), version=self._version(connection))

    def history(self) -> tuple[BatchRecord, ...]:
        """Every commit and undo, newest first, with its changes rebuilt exactly."""
        with collector_paused(), self._transaction("read the history of") as connection:
            batches = connection.execute(
                f"SELECT {history_rows.BATCH_COLUMNS} FROM batches ORDER BY seq DESC"
            ).fetchall()
            points = connection.execute(
                f"SELECT batch_seq, {history_rows.POINT_COLUMNS} FROM batch_points ORDER BY batch_seq, position"
            )
            changes = {
                seq: tuple(
                    change
                    for update in history_rows.updates_from_rows(row[1:] for row in rows)
                    for change in update.changes
                )
                for seq, rows in itertools.groupby(points, key=lambda row: row[0])
            }
            return tuple(history_rows.batch_record(row, changes.get(row[0], ())) for row in batches)

    # --- writing ----------------------------------------------------------------

    def load(self, snapshot: Snapshot, *, remove: Snapshot | None = None, keep_preferences: bool = False) -> None:
        """Delete the records keyed in ``remove``, then upsert every record of ``snapshot``, atomically."""
        with self._transaction("load records into", write=True) as connection:
            if remove is not None:
                for name, records in remove.collections().items():
                    table = TABLES[name]
                    connection.executemany(table.delete(), map(table.key_row, records))
            for name, records in snapshot.collections().items():
                table = TABLES[name]
                keep = PREFERENCES if keep_preferences and name == "contact_points" else ()
                connection.executemany(table.upsert(keep), map(table.to_row, records))

    def commit(self, changeset: ChangeSet, *, actor: str) -> Receipt:
        """Write every point update or none, each only if the point is still as planned."""
        updates = changeset.point_updates()
        batch_id, at = uuid.uuid4().hex, _now()
        counts = changeset.counts()
        spec = history_rows.spec_json(changeset.spec)
        with collector_paused(), self._transaction("commit a batch to", write=True) as connection:
            seq = self._record(connection, batch_id, actor, at, spec, counts, len(changeset))
            rows = history_rows.point_rows(seq, updates)  # also the parameters of the compare-and-set
            connection.execute("SAVEPOINT points")
            written = connection.executemany(_WRITE_POINT, rows).rowcount if rows else 0
            if written != len(rows):
                connection.execute("ROLLBACK TO points")
                raise ConflictError(self._conflicts(connection, updates))
            connection.executemany(history_rows.INSERT_POINTS, rows)
        log.info("batch %s by %s: %d changes at %d contact points", batch_id, actor, len(changeset), len(updates))
        return Receipt(batch_id=batch_id, actor=actor, at=at, counts=counts, applied=len(changeset))

    def undo(self, batch_id: str, *, actor: str) -> Receipt:
        """Restore every point ``batch_id`` wrote to its enabled reasons and source before it."""
        undo_id, at = uuid.uuid4().hex, _now()
        with self._transaction("undo a batch in", write=True) as connection:
            found = connection.execute(
                "SELECT seq, spec, counts, applied, undoes, undone_by FROM batches WHERE batch_id = ?", (batch_id,)
            ).fetchone()
            if found is None:
                raise UnknownBatchError(f"no batch {batch_id!r} in the history of {describe(self.path)}")
            seq, spec, counts, applied, undoes, undone_by = found
            if undoes is not None:
                raise ContactPrefsError(
                    f"batch {batch_id} is the undo of batch {undoes} and cannot be undone; plan a new batch instead"
                )
            if undone_by is not None:
                raise ContactPrefsError(f"batch {batch_id} was already undone by batch {undone_by}")
            keys = {"seq": seq, "batch": BATCH}
            conflicting = connection.execute(_UNDO_CONFLICTS, keys).fetchall()
            if conflicting:
                updates = history_rows.updates_from_rows(conflicting)
                raise ConflictError([change for update in updates for change in update.inverse().changes])
            connection.execute(_UNDO_POINTS, keys)
            undo_seq = self._record(
                connection, undo_id, actor, at, spec, history_rows.counts_from_json(counts), applied, undoes=batch_id
            )
            connection.execute(_UNDO_HISTORY, {**keys, "undo_seq": undo_seq})
            connection.execute("UPDATE batches SET undone_by = ? WHERE seq = ?", (undo_id, seq))
        log.info("batch %s by %s: undid batch %s (%d changes)", undo_id, actor, batch_id, applied)
        return Receipt(
            batch_id=undo_id,
            actor=actor,
            at=at,
            counts=history_rows.counts_from_json(counts),
            applied=applied,
            undoes=batch_id,
        )

    def close(self) -> None:
        """Close the connection; closing twice is harmless."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._connection.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    # --- internals --------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self, action: str, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        """One transaction: ``BEGIN IMMEDIATE`` that bumps the version for a write, a consistent read otherwise.

        Anything raised inside rolls everything back; ``sqlite3`` errors become :class:`StoreError`.
        """
        with self._lock:
            if self._closed:
                raise StoreError(f"{describe(self.path)} is closed")
            connection = self._connection
            with translated(self.path, action):
                connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield connection
                    if write:
                        connection.execute("UPDATE state SET version = version + 1")
                    connection.execute("COMMIT")
                except BaseException:
                    if connection.in_transaction:
                        connection.execute("ROLLBACK")
                    raise

    @staticmethod
    def _version(connection: sqlite3.Connection) -> str:
        return str(connection.execute("SELECT version FROM state").fetchone()[0])

    @staticmethod
    def _record(
        connection: sqlite3.Connection,
        batch_id: str,
        actor: str,
        at: datetime.datetime,
        spec: str,
        counts: history_rows.Counts,
        applied: int,
        *,
        undoes: str | None = None,
    ) -> int:
        """Add a ``batches`` row; its ``seq`` orders the history."""
        cursor = connection.execute(
            "INSERT INTO batches (batch_id, actor, at, spec, counts, applied, undoes) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (batch_id, actor, at.isoformat(), spec, history_rows.counts_json(counts), applied, undoes),
        )
        seq = cursor.lastrowid
        assert seq is not None
        return seq

    @staticmethod
    def _conflicts(connection: sqlite3.Connection, updates: Sequence[PointUpdate]) -> list[Change]:
        """Every change at a point that is gone, changed, or revoked where the update switches a reason on."""
        connection.execute("DELETE FROM temp.touched")
        connection.executemany(
            "INSERT INTO temp.touched (owner_id, method) VALUES (?, ?)", ((u.owner_id, u.method.value) for u in updates)
        )
        current: dict[tuple[str, str], tuple[Any, ...]] = {
            (owner_id, method): rest
            for owner_id, method, *rest in connection.execute(
                "SELECT p.owner_id, p.method, p.enabled, p.source, p.revoked FROM temp.touched t "
                "JOIN contact_points p ON p.owner_id = t.owner_id AND p.method = t.method"
            )
        }
        conflicts: list[Change] = []
        for update in updates:
            state = current.get((update.owner_id, update.method.value))
            if (
                state is None
                or state[0] != update.enabled_before.mask
                or SOURCES[state[1]] is not update.source_before
                or (state[2] and update.enabled_after - update.enabled_before)
            ):
                conflicts.extend(update.changes)
        return conflicts


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
