"""PostgresStore: the store contract on a PostgreSQL server, shared by many processes."""

from __future__ import annotations

import datetime
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import attrs
import psycopg
from psycopg.types.json import Jsonb

from contact_prefs import (
    BatchRecord,
    BatchSpec,
    BatchSummary,
    ChangeSet,
    Method,
    Reason,
    Receipt,
    Snapshot,
    Source,
    StoreError,
    UnknownBatchError,
)
from contact_prefs.changes import count_updates
from contact_prefs.consent import ConsentEvent, ConsentPolicy, Review
from contact_prefs.errors import UnknownReviewError
from contact_prefs.identifiers import check_actor
from contact_prefs.ledger import LoadReport, PolicyChange, resolve
from contact_prefs.plain import METHOD_VALUES, METHODS, spec_from_plain, spec_to_plain
from contact_prefs.privacy import shown
from contact_prefs.rules import check_undoable
from contact_prefs.schedule_entries import cancellation_entry, schedule_entry
from contact_prefs.schedules import (
    Schedule,
    ScheduleError,
    UnknownScheduleError,
    cancelled_schedule,
    check_end,
    check_start,
    ended_schedule,
    started_schedule,
)
from contact_prefs.store import ClosesOnExit, checked_limit
from contact_prefs.writes import check_commit, revert_writes, undo_writes

from . import ledger_rows, ledgers, schedule_rows
from .history import WriteRow, counts_from_plain, counts_plain, updates_from_rows, write_rows
from .loading import points_load
from .schema import prepare, use_schema
from .scope import scoped_snapshot
from .tables import ADDRESS_AND_CONSENT, CONTACT_POINTS, TABLES
from .url import PostgresUrl
from .writes import (
    bump_version,
    compare_and_set,
    lock_points,
    points_now,
    read_points,
    record_points,
    take_ledger_lock,
)

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
                "SELECT batch_id, actor, at, spec, undone_by, undoes, schedule_id, left_alone FROM batches "
                "ORDER BY version DESC"
            ).fetchall()
            points: dict[str, list[Any]] = {}
            for batch_id, *row in cursor.execute(
                "SELECT batch_id, owner_id, method, source_before, enabled_before, enabled_after, affects "
                "FROM batch_points ORDER BY batch_id, position"
            ).fetchall():
                points.setdefault(batch_id, []).append(row)
        records = []
        for batch_id, actor, at, spec, undone_by, undoes, schedule_id, left_alone in batches:
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
                    schedule_id=schedule_id,
                    left_alone=schedule_rows.left_alone_from_plain(left_alone),
                )
            )
        return tuple(records)

    def batches(self, *, limit: int | None = None) -> tuple[BatchSummary, ...]:
        """The newest ``limit`` entries of the history, newest first: their ``batches`` rows alone."""
        with self._transaction(READ) as cursor:
            rows = cursor.execute(
                "SELECT batch_id, actor, at, spec, counts, undone_by, undoes, schedule_id, left_alone FROM batches "
                "ORDER BY version DESC LIMIT %s",
                [checked_limit(limit)],  # LIMIT NULL is no limit
            ).fetchall()
        summaries = []
        for batch_id, actor, at, spec, plain_counts, undone_by, undoes, schedule_id, left_alone in rows:
            counts = counts_from_plain(plain_counts)
            summaries.append(
                BatchSummary(
                    batch_id=batch_id,
                    actor=actor,
                    at=at.astimezone(datetime.UTC),
                    spec=spec_from_plain(spec),
                    counts=counts,
                    applied=sum(counts.values()),
                    undone_by=undone_by,
                    undoes=undoes,
                    schedule_id=schedule_id,
                    left_alone=schedule_rows.left_alone_from_plain(left_alone),
                )
            )
        return tuple(summaries)

    # -- writing --------------------------------------------------------------

    def load(
        self,
        snapshot: Snapshot,
        *,
        remove: Snapshot | None = None,
        keep_preferences: bool = False,
        actor: str = "import",
    ) -> LoadReport:
        """Delete the records keyed in ``remove``, upsert every record of ``snapshot``, and record
        the revocations of points loaded as revoked; every loaded point's ``revoked`` is what
        :func:`~contact_prefs.ledger.consent_of_load` says, and so is that of every stored point
        holding an address the load revoked."""
        removed = remove.collections() if remove is not None else {}
        gone = [(p.owner_id, METHOD_VALUES[p.method]) for p in removed.get(CONTACT_POINTS.name, ())]
        with self._transaction(WRITE) as cursor:
            # Loads queue behind each other (one upserts what another deletes) and behind consent
            # writes (the ledgers they read must not change before they write), not behind commits.
            take_ledger_lock(cursor, self.url.schema)
            consent = points_load(
                cursor, snapshot.contact_points, set(gone), keep_preferences=keep_preferences, actor=actor
            )
            loaded = [(p.owner_id, METHOD_VALUES[p.method]) for p in consent.points]
            locked = list(dict.fromkeys([*gone, *loaded, *consent.holders]))
            if locked:
                lock_points(cursor, [owner for owner, _ in locked], [method for _, method in locked])
            for table in TABLES:
                if removed.get(table.name):
                    cursor.execute(table.delete(), table.arrays(removed[table.name], keys_only=True))
            ledgers.drop_keys(cursor, [owner for owner, _ in gone], [method for _, method in gone])
            for table in TABLES:
                records = consent.points if table is CONTACT_POINTS else getattr(snapshot, table.name)
                if records:
                    updated = ADDRESS_AND_CONSENT if keep_preferences and table is CONTACT_POINTS else None
                    cursor.execute(table.upsert(updated), table.arrays(records))
            ledgers.set_keys(cursor, [owner for owner, _ in loaded], [method for _, method in loaded], consent.keys)
            ledgers.append(cursor, consent.events)
            ledgers.write_floors(cursor, consent.reached)
            bump_version(cursor)
        return consent.report

    def commit(self, changeset: ChangeSet, *, actor: str, schedule_id: str | None = None) -> Receipt:
        """Write every point update or none, as :func:`~contact_prefs.writes.check_commit` decides; with
        ``schedule_id``, only as :func:`~contact_prefs.schedules.check_start` allows, in the same transaction."""
        rows = write_rows(changeset.updates, lambda update: Source.BATCH)
        with self._transaction(WRITE) as cursor:
            schedule = None
            if schedule_id is not None:  # its row locked first: two daily jobs at once start it once
                schedule = self._schedule(cursor, schedule_id)
                check_start(schedule)
            # Every point as planned is the usual case, and check_commit lets such updates through as they are.
            if not compare_and_set(cursor, rows):
                writes = check_commit(changeset.updates, points_now(cursor))
                self._write(cursor, write_rows(writes, lambda update: Source.BATCH), again=True)
            batch_id, at = self._record(
                cursor, changeset, actor, recorded=bool(rows), undoes=None, schedule_id=schedule_id
            )
            if schedule is not None:
                started = started_schedule(schedule, batch_id=batch_id)
                cursor.execute(schedule_rows.UPDATE_SCHEDULE, schedule_rows.update_row(started))
        return Receipt(
            batch_id=batch_id,
            actor=actor,
            at=at,
            counts=changeset.counts(),
            applied=len(changeset),
            schedule_id=schedule_id,
        )

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
            undo_id, at = self._record(cursor, restored, actor, recorded=bool(rows), undoes=batch_id)
            cursor.execute("UPDATE batches SET undone_by = %s WHERE batch_id = %s", [undo_id, batch_id])
        return Receipt(
            batch_id=undo_id, actor=actor, at=at, counts=restored.counts(), applied=len(restored), undoes=batch_id
        )

    def revert(self, batch_id: str, *, actor: str, schedule_id: str) -> Receipt:
        """Write back what :func:`~contact_prefs.writes.revert_writes` decides for the points ``batch_id`` wrote,
        ending schedule ``schedule_id`` as :func:`~contact_prefs.schedules.ended_schedule` decides."""
        with self._transaction(WRITE) as cursor:
            schedule = self._schedule(cursor, schedule_id)
            check_end(schedule, batch_id)
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
            writes, left_alone = revert_writes(
                done, read_points(cursor, [u.owner_id for u in done], [u.method.value for u in done])
            )
            restored = ChangeSet(spec=spec, basis="", updates=[write.update for write in writes])
            sources = {write.update.key: write.source for write in writes}
            rows = write_rows(restored.updates, lambda update: sources[update.key])
            self._write(cursor, rows)
            revert_id, at = self._record(
                cursor,
                restored,
                actor,
                recorded=bool(rows),
                undoes=batch_id,
                schedule_id=schedule_id,
                left_alone=left_alone,
            )
            cursor.execute("UPDATE batches SET undone_by = %s WHERE batch_id = %s", [revert_id, batch_id])
            ended = ended_schedule(schedule, reverted=batch_id, batch_id=revert_id, left_alone=left_alone)
            cursor.execute(schedule_rows.UPDATE_SCHEDULE, schedule_rows.update_row(ended))
        return Receipt(
            batch_id=revert_id,
            actor=actor,
            at=at,
            counts=restored.counts(),
            applied=len(restored),
            undoes=batch_id,
            schedule_id=schedule_id,
            left_alone=left_alone,
        )

    # -- schedules ------------------------------------------------------------

    def save_schedule(self, schedule: Schedule) -> None:
        """Record a new schedule, and its chain link, in one transaction."""
        with self._transaction(WRITE) as cursor:
            cursor.execute(schedule_rows.INSERT_SCHEDULE, schedule_rows.schedule_row(schedule))
            if cursor.rowcount != 1:
                raise ScheduleError(f"a schedule with the id {shown(schedule.schedule_id)} exists already")
            schedule_rows.append_schedule_links(cursor, [schedule_entry(schedule)])
            bump_version(cursor)

    def schedules(self) -> tuple[Schedule, ...]:
        with self._transaction(READ) as cursor:
            rows = cursor.execute(f"SELECT {schedule_rows.SCHEDULE_COLUMNS} FROM schedules ORDER BY seq").fetchall()
        return tuple(map(schedule_rows.schedule_from_row, rows))

    def cancel_schedule(self, schedule_id: str, *, actor: str, at: datetime.datetime) -> Schedule:
        """Record the cancellation as :func:`~contact_prefs.schedules.cancelled_schedule` decides, with its
        chain link, in one transaction."""
        with self._transaction(WRITE) as cursor:
            cancelled = cancelled_schedule(self._schedule(cursor, schedule_id), actor=actor, at=at)
            cursor.execute(schedule_rows.UPDATE_SCHEDULE, schedule_rows.update_row(cancelled))
            schedule_rows.append_schedule_links(cursor, [cancellation_entry(cancelled)])
            bump_version(cursor)
        return cancelled

    # -- consent --------------------------------------------------------------

    def record_consent(
        self, events: Sequence[ConsentEvent] = (), *, reviews: Sequence[Review] = (), actor: str
    ) -> None:
        """Append ``events``, queue ``reviews``, and give the points of their addresses ``revoked`` anew."""
        check_actor(actor)
        with self._transaction(WRITE) as cursor:
            take_ledger_lock(cursor, self.url.schema)
            ledgers.queue(cursor, reviews)
            ledgers.append(cursor, events)
            ledgers.refresh(cursor, {event.address for event in events} | {review.address for review in reviews})
            bump_version(cursor)

    def resolve_review(self, review_id: str, *, revoked: bool, actor: str, note: str, at: datetime.datetime) -> Review:
        """Record a reviewer's reading of a waiting message, as :func:`~contact_prefs.ledger.resolve` decides."""
        with self._transaction(WRITE) as cursor:
            take_ledger_lock(cursor, self.url.schema)
            waiting = ledgers.review(cursor, review_id)
            if waiting is None:
                raise UnknownReviewError(f"no review {shown(review_id)} in the queue of the store at {self.url}")
            resolved, event = resolve(waiting, revoked=revoked, actor=actor, note=note, at=at)
            cursor.execute(ledger_rows.UPDATE_REVIEW, ledger_rows.resolution_row(resolved))
            ledgers.append(cursor, [] if event is None else [event])
            ledgers.refresh(cursor, {resolved.address})
            bump_version(cursor)
        return resolved

    def ledger(self, address: str) -> tuple[ConsentEvent, ...]:
        with self._transaction(READ) as cursor:
            return ledgers.ledger_of(cursor, address)

    def reviews(self) -> tuple[Review, ...]:
        with self._transaction(READ) as cursor:
            rows = cursor.execute(f"SELECT {ledger_rows.REVIEW_COLUMNS} FROM reviews ORDER BY seq").fetchall()
        return tuple(map(ledger_rows.review_from_row, rows))

    def holders(self, address: str) -> tuple[tuple[str, Method], ...]:
        with self._transaction(READ) as cursor:
            found = ledgers.holders(cursor, [address])
        return tuple((owner_id, METHODS[method]) for owner_id, method in sorted(found))  # in Python's order

    def consent_policy(self) -> ConsentPolicy:
        with self._transaction(READ) as cursor:
            return ledgers.policy(cursor)

    def set_consent_policy(self, policy: ConsentPolicy, *, actor: str, why: str) -> PolicyChange:
        """Record the new policy (who, when, why) and give every point ``revoked`` as it says."""
        check_actor(actor)
        with self._transaction(WRITE) as cursor:
            take_ledger_lock(cursor, self.url.schema)
            if policy.region != ledgers.policy(cursor).region:  # the keys are the addresses' forms in the region
                ledgers.key_every_point(cursor, policy.region)
            cursor.execute(ledger_rows.UPDATE_POLICY, ledger_rows.policy_row(policy))
            ledgers.refresh_all(cursor)
            _, at = bump_version(cursor)
            change = PolicyChange(policy=policy, actor=actor, at=at, why=why)
            cursor.execute(ledger_rows.INSERT_CHANGE, ledger_rows.change_row(change))
        return change

    def policy_changes(self) -> tuple[PolicyChange, ...]:
        with self._transaction(READ) as cursor:
            rows = cursor.execute(f"SELECT {ledger_rows.CHANGE_COLUMNS} FROM policy_changes ORDER BY seq").fetchall()
        return tuple(map(ledger_rows.change_from_row, rows))

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

    def _schedule(self, cursor: Cursor, schedule_id: str) -> Schedule:
        """The schedule ``schedule_id`` as stored now, its row locked for this transaction."""
        schedule = schedule_rows.locked_schedule(cursor, schedule_id)
        if schedule is None:
            raise UnknownScheduleError(f"no schedule {shown(schedule_id)} in the store at {self.url}")
        return schedule

    def _record(
        self,
        cursor: Cursor,
        written: ChangeSet,
        actor: str,
        *,
        recorded: bool,
        undoes: str | None,
        schedule_id: str | None = None,
        left_alone: Mapping[Reason, int] | None = None,
    ) -> tuple[str, datetime.datetime]:
        """Add the batch just written to the history; its id and time."""
        batch_id = uuid.uuid4().hex
        version, at = bump_version(cursor)
        cursor.execute(
            "INSERT INTO batches (batch_id, version, actor, at, spec, counts, undoes, schedule_id, left_alone) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                batch_id,
                version,
                actor,
                at,
                Jsonb(spec_to_plain(written.spec)),
                Jsonb(counts_plain(written.counts())),
                undoes,
                schedule_id,
                Jsonb(schedule_rows.left_alone_plain(left_alone or {})),
            ],
        )
        if recorded:
            record_points(cursor, batch_id)
        return batch_id, at
