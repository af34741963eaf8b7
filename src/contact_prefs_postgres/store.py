"""PostgresStore: the store contract on a PostgreSQL server, shared by many processes."""

from __future__ import annotations

import datetime
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import attrs
import psycopg
from psycopg.types.json import Jsonb

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
from contact_prefs.plain import spec_from_plain, spec_to_plain
from contact_prefs.rules import check_undoable, restore_within_consent

from .history import updates_from_rows, write_rows
from .schema import advisory_key, prepare, use_schema
from .scope import scoped_snapshot
from .tables import ADDRESS_ONLY, CONTACT_POINTS, TABLES
from .url import PostgresUrl
from .writes import PointKey, PointState, bump_version, lock_points, read_points, record_points, write_points

Cursor = psycopg.Cursor[tuple[Any, ...]]

READ = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
# Writes see the latest committed rows and lock what they change: read committed
# plus explicit row locks, whatever the server's default isolation.
WRITE = "SET TRANSACTION ISOLATION LEVEL READ COMMITTED, READ WRITE"


@attrs.define
class PostgresStore:
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
        with collector_paused(), self._transaction(READ) as cursor:
            version = self._version(cursor)
            collections: dict[str, Any] = {
                table.name: table.records(cursor.execute(table.select()).fetchall()) for table in TABLES
            }
        return Snapshot(version=version, **collections)

    def snapshot(self, spec: BatchSpec) -> Snapshot:
        with collector_paused(), self._transaction(READ) as cursor:
            return scoped_snapshot(cursor, spec, self._version(cursor))

    def history(self) -> tuple[BatchRecord, ...]:
        with collector_paused():
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
        with collector_paused():
            rows = write_rows(changeset.updates, lambda update: Source.BATCH)
            with self._transaction(WRITE) as cursor:
                _conflicts(changeset.updates, write_points(cursor, rows))
                batch_id, at = self._record(cursor, changeset.spec, actor, recorded=bool(rows), undoes=None)
        return Receipt(batch_id=batch_id, actor=actor, at=at, counts=changeset.counts(), applied=len(changeset))

    def undo(self, batch_id: str, *, actor: str) -> Receipt:
        with collector_paused(), self._transaction(WRITE) as cursor:
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
            stored = read_points(cursor, [u.owner_id for u in done], [u.method.value for u in done])
            restored = ChangeSet(spec=spec, basis="", updates=_restore(done, stored))
            sources = {update.key: update.source_before for update in done}
            rows = write_rows(restored.updates, lambda update: sources[update.key])
            # The points are locked and checked, so this compare-and-set holds; it is the one write path.
            _conflicts(restored.updates, write_points(cursor, rows))
            undo_id, at = self._record(cursor, spec, actor, recorded=bool(rows), undoes=batch_id)
            cursor.execute("UPDATE batches SET undone_by = %s WHERE batch_id = %s", [undo_id, batch_id])
        return Receipt(
            batch_id=undo_id, actor=actor, at=at, counts=restored.counts(), applied=len(restored), undoes=batch_id
        )

    # -- lifetime -------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self.connection.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

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


def _conflicts(updates: Iterable[PointUpdate], failed: set[tuple[str, str]]) -> None:
    """Raise ``ConflictError`` with every change at the points that ``failed`` (keys as stored)."""
    if failed:
        raise ConflictError([change for u in updates if (u.owner_id, u.method.value) in failed for change in u.changes])


def _restore(done: Iterable[PointUpdate], stored: dict[PointKey, PointState]) -> list[PointUpdate]:
    """What an undo writes at each point of the batch ``done``, given the points as ``stored`` now.

    Every point must still be as the batch left it, else ``ConflictError``;
    consent withdrawn since is no conflict but holds back what the batch
    switched off (``restore_within_consent``), and a point left with nothing
    to write is not written.
    """
    restored, stale = [], []
    for update in done:
        point = stored.get((update.owner_id, update.method.value))
        if point is None or point[:2] != (update.enabled_after.mask, Source.BATCH.value):
            stale.append(update.inverse())
        elif (undo := restore_within_consent(update, revoked=point[2])) is not None:
            restored.append(undo)
    if stale:
        raise ConflictError([change for update in stale for change in update.changes])
    return restored
