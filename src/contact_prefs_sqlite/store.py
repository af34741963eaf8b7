"""SQLiteStore: a district in one SQLite file, written in atomic, conflict-checked transactions.

Every write runs in one ``BEGIN IMMEDIATE`` transaction (one writer at a
time, others wait up to the busy timeout) and bumps the ``state`` counter,
which is the store's version.  Reads run in a deferred transaction, so a
snapshot is consistent with its version even while another process writes.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from types import TracebackType

import attrs

from contact_prefs import (
    BatchRecord,
    BatchSpec,
    ChangeSet,
    ConflictError,
    PointUpdate,
    Receipt,
    Snapshot,
    Source,
    StoreError,
    UnknownBatchError,
)
from contact_prefs.bulk import collector_paused
from contact_prefs.changes import count_updates
from contact_prefs.plain import METHOD_VALUES
from contact_prefs.rules import check_undoable, restore_within_consent
from contact_prefs.snapshot import RECORD_FIELDS, trusted_snapshot

from . import history as history_rows
from .connection import connect, describe, translated
from .narrowing import create_temporary_tables, narrowed
from .tables import PREFERENCES, TABLES
from .url import database_path

__all__ = ["SQLiteStore"]

log = logging.getLogger(__name__)

BATCH = Source.BATCH.value

# A batch writes each point with a compare-and-set, from the rows of its points document
# (``history.point_rows``, bound as ?1 to ?5): only if the point is still as planned, and never
# switching a reason on where consent is revoked.  One statement per point, by primary key:
# SQLite runs it in one pass, where an UPDATE ... FROM over the document would find every row
# and then seek it again, after parsing the document once per column.
_COMMIT_POINT = f"""
    UPDATE contact_points SET enabled = ?5, source = '{BATCH}'
    WHERE owner_id = ?1 AND method = ?2 AND source = ?3 AND enabled = ?4 AND NOT (revoked AND ?5 & ~?4)"""

# The positions of the updates whose point is gone or no longer as planned (or revoked where it switches on).
_COMMIT_CONFLICTS = f"""
    SELECT u.position FROM {history_rows.POINTS} AS u
    LEFT JOIN contact_points p ON p.owner_id = u.owner_id AND p.method = u.method
    WHERE p.owner_id IS NULL OR p.enabled <> u.enabled_before OR p.source <> u.source_before
        OR (p.revoked AND u.enabled_after & ~u.enabled_before)"""

# An undo reads the batch's points as they are now, by position (NULLs where a point is gone).
_POINTS_NOW = f"""
    SELECT u.position, p.enabled, p.source, p.revoked FROM {history_rows.POINTS} AS u
    LEFT JOIN contact_points p ON p.owner_id = u.owner_id AND p.method = u.method"""

# What an undo writes at a point, still compared and set, although it checked the point under this lock.
_RESTORE_POINT = (
    "UPDATE contact_points SET enabled = ?, source = ? WHERE owner_id = ? AND method = ? AND enabled = ? AND source = ?"
)


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
            return trusted_snapshot(collections, version=self._version(connection))

    def snapshot(self, spec: BatchSpec) -> Snapshot:
        """The records ``spec``'s plan can look at, narrowed in SQL (see :mod:`.narrowing`)."""
        with collector_paused(), self._transaction("read") as connection:
            collections, selection = narrowed(connection, spec)
            return trusted_snapshot(collections, selection=selection, version=self._version(connection))

    def history(self) -> tuple[BatchRecord, ...]:
        """Every commit and undo, newest first, with its changes rebuilt exactly."""
        with collector_paused(), self._transaction("read the history of") as connection:
            batches = connection.execute(
                f"SELECT {history_rows.BATCH_COLUMNS}, points, affects FROM batches ORDER BY seq DESC"
            )
            return tuple(
                history_rows.batch_record(
                    row[:-2],
                    tuple(change for update in history_rows.updates_from_json(*row[-2:]) for change in update.changes),
                )
                for row in batches
            )

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
        with collector_paused():
            # The history's documents are built before the write lock is taken: other writers wait for SQLite only.
            rows = history_rows.point_rows(updates)
            points, affects = history_rows.points_json(rows), history_rows.affects_json(updates)
            with self._transaction("commit a batch to", write=True) as connection:
                self._record(connection, batch_id, actor, at, spec, counts, len(changeset), points, affects)
                connection.execute("SAVEPOINT points")
                if _written(connection.executemany(_COMMIT_POINT, rows)) != len(rows):
                    connection.execute("ROLLBACK TO points")  # find the culprits among the points as they were
                    positions = sorted(connection.execute(_COMMIT_CONFLICTS, {"points": points}))
                    raise ConflictError([c for (position,) in positions for c in updates[position].changes])
        log.info("batch %s by %s: %d changes at %d contact points", batch_id, actor, len(changeset), len(updates))
        return Receipt(batch_id=batch_id, actor=actor, at=at, counts=counts, applied=len(changeset))

    def undo(self, batch_id: str, *, actor: str) -> Receipt:
        """Restore every point ``batch_id`` wrote to its enabled reasons and source before it, within consent.

        Every point must still be as the batch left it, else ``ConflictError``.
        Where consent is withdrawn now, the reasons the batch switched off stay
        off (``restore_within_consent``); a point left with nothing to write is
        not written, and the undo records only what it wrote.
        """
        undo_id, at = uuid.uuid4().hex, _now()
        with collector_paused(), self._transaction("undo a batch in", write=True) as connection:
            found = connection.execute(
                "SELECT seq, spec, undoes, undone_by, points, affects FROM batches WHERE batch_id = ?", (batch_id,)
            ).fetchone()
            if found is None:
                raise UnknownBatchError(f"no batch {batch_id!r} in the history of {describe(self.path)}")
            seq, spec, undoes, undone_by, points, affects = found
            check_undoable(batch_id, undoes=undoes, undone_by=undone_by)
            undos = self._restore(connection, points, affects)
            counts = count_updates(update for update, _ in undos)
            applied = sum(counts.values())
            written = [update for update, _ in undos]
            undo_points = history_rows.points_json(history_rows.point_rows(written))
            undo_affects = history_rows.affects_json(written)
            self._record(
                connection, undo_id, actor, at, spec, counts, applied, undo_points, undo_affects, undoes=batch_id
            )
            restore = [
                (u.enabled_after.mask, source, u.owner_id, METHOD_VALUES[u.method], u.enabled_before.mask, BATCH)
                for u, source in undos
            ]
            if _written(connection.executemany(_RESTORE_POINT, restore)) != len(restore):
                raise StoreError(
                    f"the points of batch {batch_id} changed while it was being undone; nothing was changed"
                )
            connection.execute("UPDATE batches SET undone_by = ? WHERE seq = ?", (undo_id, seq))
        log.info("batch %s by %s: undid batch %s (%d changes)", undo_id, actor, batch_id, applied)
        return Receipt(batch_id=undo_id, actor=actor, at=at, counts=counts, applied=applied, undoes=batch_id)

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
        points: str,
        affects: str,
        *,
        undoes: str | None = None,
    ) -> None:
        """Add a ``batches`` row with its points and affects documents; its ``seq`` orders the history."""
        connection.execute(
            "INSERT INTO batches (batch_id, actor, at, spec, counts, applied, undoes, points, affects) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (batch_id, actor, at.isoformat(), spec, history_rows.counts_json(counts), applied, undoes, points, affects),
        )

    @staticmethod
    def _restore(connection: sqlite3.Connection, points: str, affects: str) -> list[tuple[PointUpdate, str]]:
        """What undoing the batch whose points document is ``points`` writes: per point, the update and its old source.

        Raises ``ConflictError`` with the inverse changes of every point that is
        gone or no longer as the batch left it.
        """
        now = sorted(connection.execute(_POINTS_NOW, {"points": points}))  # already in order: sorting is linear
        undos: list[tuple[PointUpdate, str]] = []
        stale: list[PointUpdate] = []
        done_then = history_rows.updates_from_json(points, affects)
        for done, (_, enabled, source, revoked) in zip(done_then, now, strict=True):
            if enabled != done.enabled_after.mask or source != BATCH:  # NULLs: the point is gone
                stale.append(done.inverse())
            elif (undo := restore_within_consent(done, revoked=bool(revoked))) is not None:
                undos.append((undo, done.source_before.value))
        if stale:
            raise ConflictError([change for update in stale for change in update.changes])
        return undos


def _written(cursor: sqlite3.Cursor) -> int:
    """The rows an ``executemany`` changed (its rowcount is -1 when it ran no statement)."""
    return max(cursor.rowcount, 0)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
