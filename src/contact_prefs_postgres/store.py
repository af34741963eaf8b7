"""PostgresStore: the store contract on a PostgreSQL server, shared by many processes."""

from __future__ import annotations

import datetime
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import psycopg
from psycopg.types.json import Jsonb

from contact_prefs import (
    BatchRecord,
    BatchSpec,
    ChangeSet,
    Receipt,
    Snapshot,
    Source,
    StoreError,
    UnknownBatchError,
)
from contact_prefs.changes import count_updates
from contact_prefs.plain import spec_from_plain, spec_to_plain
from contact_prefs.rules import check_undoable
from contact_prefs.store import ClosesOnExit
from contact_prefs.writes import check_commit, undo_writes

from .history import WriteRow, updates_from_rows, write_rows
from .schema import advisory_key, prepare, use_schema
from .scope import scoped_snapshot
from .tables import ADDRESS_ONLY, CONTACT_POINTS, TABLES
from .url import PostgresUrl
from .writes import bump_version, compare_and_set, lock_points, points_now, read_points, record_points

Cursor = psycopg.Cursor[tuple[Any, ...]]

READ = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
# Writes see the latest committed rows and lock what they change: read committed
# plus explicit row locks, whatever the server's default isolation.
WRITE = "SET TRANSACTION ISOLATION LEVEL READ COMMITTED, READ WRITE"


@attrs.define
class PostgresStore(ClosesOnExit):
    """A store in one schema of a PostgreSQL database; open it with :meth:`open` or ``open_store``.

    One connection, used by one operation at a time; every operation is one
    transaction.  Reads see one consistent state (repeatable read); writes lock
    the contact points they compare and set.  See ``docs/postgres.md``.
    """

    url: PostgresUrl
    connection: psycopg.Connection[tuple[Any, ...]] = attrs.field(repr=False)
    _lock: threading.RLock = attrs.field(factory=threading.RLock, repr=False, init=False)

    @classmethod
    def open(cls, url: str) -> PostgresStore:
        """Connect to the server at ``url``, creating or migrating the store's schema on first use."""
        where = PostgresUrl.parse(url)
        try:
            connection = psycopg.connect(
                where.conninfo, autocommit=True, fallback_application_name="contact-prefs", client_encoding="utf8"
            )
        except psycopg.Error as error:
            raise StoreError(f"cannot connect to PostgreSQL at {where}: {where.scrub(str(error)).strip()}") from None
        try:
            prepare(connection, where)
        except BaseException as error:
            connection.close()
            if isinstance(error, psycopg.Error):
                raise StoreError(f"cannot prepare the store at {where}: {where.scrub(str(error)).strip()}") from None
            raise
        return cls(where, connection)

    # -- reading --------------------------------------------------------------

    def dump(self) -> Snapshot:
        with self._transaction(READ) as cursor:
            version = self._version(cursor)
            collections: dict[str, Any] = {
                table.name: table.records(cursor.execute(table.select()).fetchall()) for table in TABLES
            }
        return Snapshot(version=version, **collections)

    def snapshot(self, spec: BatchSpec) -> Snapshot:
        with self._transaction(READ) as cursor:
            return scoped_snapshot(cursor, spec, self._version(cursor))

    def history(self) -> tuple[BatchRecord, ...]:
        with self._transaction(READ) as cursor:
            batches = cursor.execute(
                "SELECT batch_id, actor, at, spec, undone_by, undoes FROM batches ORDER BY version DESC"
            ).fetchall()
            points: dict[str, list[Any]] = {}
            for batch_id, *row in cursor.execute(
                "SELECT batch_id, owner_id, method, source_before, enabled_before, enabled_after, affects "
                "FROM batch_points ORDER BY batch_id, position"
            ).fetchall():
                points.setdefault(batch_id, []).append(row)
        records = []
        for batch_id, actor, at, spec, undone_by, undoes in batches:
            updates = updates_from_rows(points.get(batch_id, ()))
            records.append(
                BatchRecord(
                    batch_id=batch_id,
                    actor=actor,
                    at=at.astimezone(datetime.UTC),
                    spec=spec_from_plain(spec),
                    counts=count_updates(updates),
                    changes=tuple(change for update in updates for change in update.changes),
                    undone_by=undone_by,
                    undoes=undoes,
                )
            )
        return tuple(records)

    # -- writing --------------------------------------------------------------

    def load(self, snapshot: Snapshot, *, remove: Snapshot | None = None, keep_preferences: bool = False) -> None:
        removed = remove.collections() if remove is not None else {}
        with self._transaction(WRITE) as cursor:
            # Loads queue behind each other (one upserts what another deletes), not behind commits.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [advisory_key("load", self.url.schema)])
            points = [*removed.get(CONTACT_POINTS.name, ()), *snapshot.contact_points]
            if points:
                lock_points(cursor, *CONTACT_POINTS.arrays(points, keys_only=True))
            for table in TABLES:
                if removed.get(table.name):
                    cursor.execute(table.delete(), table.arrays(removed[table.name], keys_only=True))
            for table in TABLES:
                records = getattr(snapshot, table.name)
                if records:
                    updated = ADDRESS_ONLY if keep_preferences and table is CONTACT_POINTS else None
                    cursor.execute(table.upsert(updated), table.arrays(records))
            bump_version(cursor)

    def commit(self, changeset: ChangeSet, *, actor: str) -> Receipt:
        """Write every point update or none, as :func:`~contact_prefs.writes.check_commit` decides."""
        rows = write_rows(changeset.updates, lambda update: Source.BATCH)
        with self._transaction(WRITE) as cursor:
            # Every point as planned is the usual case, and check_commit lets such updates through as they are.
            if not compare_and_set(cursor, rows):
                writes = check_commit(changeset.updates, points_now(cursor))
                self._write(cursor, write_rows(writes, lambda update: Source.BATCH), again=True)
            batch_id, at = self._record(cursor, changeset.spec, actor, recorded=bool(rows), undoes=None)
        return Receipt(batch_id=batch_id, actor=actor, at=at, counts=changeset.counts(), applied=len(changeset))

    def undo(self, batch_id: str, *, actor: str) -> Receipt:
        """Write back what :func:`~contact_prefs.writes.undo_writes` decides for the points ``batch_id`` wrote."""
        with self._transaction(WRITE) as cursor:
            original = cursor.execute(
                "SELECT spec, undone_by, undoes FROM batches WHERE batch_id = %s FOR UPDATE", [batch_id]
            ).fetchone()
            if original is None:
                raise UnknownBatchError(f"no batch {batch_id!r} in the history of the store at {self.url}")
            spec, undone_by, undoes = spec_from_plain(original[0]), original[1], original[2]
            check_undoable(batch_id, undoes=undoes, undone_by=undone_by)
            done = updates_from_rows(
                cursor.execute(
                    "SELECT owner_id, method, source_before, enabled_before, enabled_after, affects "
                    "FROM batch_points WHERE batch_id = %s ORDER BY position",
                    [batch_id],
                )
            )
            writes = undo_writes(done, read_points(cursor, [u.owner_id for u in done], [u.method.value for u in done]))
            restored = ChangeSet(spec=spec, basis="", updates=[write.update for write in writes])
            sources = {write.update.key: write.source for write in writes}
            rows = write_rows(restored.updates, lambda update: sources[update.key])
            self._write(cursor, rows)
            undo_id, at = self._record(cursor, spec, actor, recorded=bool(rows), undoes=batch_id)
            cursor.execute("UPDATE batches SET undone_by = %s WHERE batch_id = %s", [undo_id, batch_id])
        return Receipt(
            batch_id=undo_id, actor=actor, at=at, counts=restored.counts(), applied=len(restored), undoes=batch_id
        )

    # -- lifetime -------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self.connection.close()

    # -- internals ------------------------------------------------------------

    @contextmanager
    def _transaction(self, mode: str) -> Iterator[Cursor]:
        """One transaction in ``mode`` on the store's schema; server errors become ``StoreError``."""
        with self._lock:
            if self.connection.closed:
                raise StoreError(f"the store at {self.url} is closed")
            try:
                with self.connection.transaction(), self.connection.cursor() as cursor:
                    cursor.execute(mode)
                    use_schema(cursor, self.url.schema)
                    yield cursor
            except psycopg.Error as error:
                raise StoreError(f"the store at {self.url} failed: {self.url.scrub(str(error)).strip()}") from error

    def _version(self, cursor: Cursor) -> str:
        row = cursor.execute("SELECT data_version FROM meta").fetchone()
        if row is None:
            raise StoreError(f"the store at {self.url} has lost its meta row")
        return str(row[0])

    def _write(self, cursor: Cursor, rows: list[WriteRow], *, again: bool = False) -> None:
        """Compare and set every row; the rules checked the points under this transaction's locks, so all hold."""
        if not compare_and_set(cursor, rows, again=again):
            raise StoreError(f"contact points in the store at {self.url} changed under its locks; nothing was written")

    def _record(
        self, cursor: Cursor, spec: BatchSpec, actor: str, *, recorded: bool, undoes: str | None
    ) -> tuple[str, datetime.datetime]:
        """Add the batch just written to the history; its id and time."""
        batch_id = uuid.uuid4().hex
        version, at = bump_version(cursor)
        cursor.execute(
            "INSERT INTO batches (batch_id, version, actor, at, spec, undoes) VALUES (%s, %s, %s, %s, %s, %s)",
            [batch_id, version, actor, at, Jsonb(spec_to_plain(spec)), undoes],
        )
        if recorded:
            record_points(cursor, batch_id)
        return batch_id, at
