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
    PointUpdate,
    Reason,
    Receipt,
    Snapshot,
    Source,
    StoreError,
    UnknownBatchError,
)
from contact_prefs.chain import (
    Entry,
    Link,
    application_entry,
    approval_entry,
    batch_entry,
    consent_entry,
    policy_entry,
    proposal_entry,
    withdrawal_entry,
)
from contact_prefs.consent import ConsentEvent, ConsentPolicy, Review
from contact_prefs.contents import StoreContents, check_receivable
from contact_prefs.errors import UnknownReviewError
from contact_prefs.identifiers import check_actor
from contact_prefs.ledger import LoadReport, PolicyChange, resolve
from contact_prefs.plain import METHOD_VALUES, METHODS, spec_from_plain, spec_to_plain
from contact_prefs.privacy import shown
from contact_prefs.progress import NO_PROGRESS, Progress, reporting
from contact_prefs.proposals import (
    Approval,
    Proposal,
    applied_proposal,
    approval_of,
    approve_proposal,
    check_application,
    withdraw_proposal,
)
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

from . import chain_rows, ledger_rows, ledgers, proposal_rows, schedule_rows, transfer
from .history import (
    WriteRow,
    approval_from,
    counts_from_plain,
    counts_plain,
    left_alone_from_plain,
    updates_from_rows,
    write_rows,
)
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
            return self._dump(cursor)

    def snapshot(self, spec: BatchSpec, *, progress: Progress = NO_PROGRESS) -> Snapshot:
        """The records ``spec``'s plan can look at, scoped in SQL; ``progress`` advances once, by the
        records read (a few statements, whose size is not known before they ran)."""
        with reporting(progress, None, "Reading the district"), self._transaction(READ) as cursor:
            snapshot = scoped_snapshot(cursor, spec, self._version(cursor))
            progress.advance(len(snapshot))
            return snapshot

    def holds_demo(self) -> bool:
        """Whether a load with ``demo=True`` marked the store (``meta.demo``)."""
        with self._transaction(READ) as cursor:
            row = cursor.execute("SELECT demo FROM meta").fetchone()
        if row is None:
            raise StoreError(f"the store at {self.url} has lost its meta row")
        return bool(row[0])

    def history(self) -> tuple[BatchRecord, ...]:
        with self._transaction(READ) as cursor:
            return tuple(reversed(transfer.history(cursor)))

    def batches(self, *, limit: int | None = None) -> tuple[BatchSummary, ...]:
        """The newest ``limit`` entries of the history, newest first: their ``batches`` rows alone."""
        with self._transaction(READ) as cursor:
            rows = cursor.execute(
                "SELECT batch_id, actor, at, spec, counts, undone_by, undoes, proposal_id, proposer, approver, "
                "schedule_id, left_alone "
                "FROM batches ORDER BY version DESC LIMIT %s",
                [checked_limit(limit)],  # LIMIT NULL is no limit
            ).fetchall()
        summaries = []
        for batch_id, actor, at, spec, plain_counts, undone_by, undoes, *approval, schedule_id, left_alone in rows:
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
                    approval=approval_from(*approval),
                    schedule_id=schedule_id,
                    left_alone=left_alone_from_plain(left_alone),
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
        demo: bool = False,
        progress: Progress = NO_PROGRESS,
    ) -> LoadReport:
        """Delete the records keyed in ``remove``, upsert every record of ``snapshot``, and record
        the revocations of points loaded as revoked; every loaded point's ``revoked`` is what
        :func:`~contact_prefs.ledger.consent_of_load` says, and so is that of every stored point
        holding an address the load revoked.  With ``demo``, ``meta.demo`` marks the store in the
        same transaction.  ``progress`` advances per table written (one statement each)."""
        removed = remove.collections() if remove is not None else {}
        gone = [(p.owner_id, METHOD_VALUES[p.method]) for p in removed.get(CONTACT_POINTS.name, ())]
        loading = reporting(progress, len(snapshot), "Loading")
        with loading, self._transaction(WRITE) as cursor:
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
                progress.advance(len(getattr(snapshot, table.name)))
            ledgers.set_keys(cursor, [owner for owner, _ in loaded], [method for _, method in loaded], consent.keys)
            chained = self._consent_entries(cursor, consent.events)
            ledgers.append(cursor, consent.events)
            ledgers.write_floors(cursor, consent.reached)
            bump_version(cursor)
            if demo:  # the meta row is locked by the bump already
                cursor.execute("UPDATE meta SET demo = true")
            chain_rows.append(cursor, chained)
        return consent.report

    def commit(
        self,
        changeset: ChangeSet,
        *,
        actor: str,
        proposal_id: str | None = None,
        schedule_id: str | None = None,
        progress: Progress = NO_PROGRESS,
    ) -> Receipt:
        """Write every point update or none, as :func:`~contact_prefs.writes.check_commit` decides; with
        ``proposal_id``, only as :func:`~contact_prefs.proposals.check_application` allows, at the
        server's time before anything is written (the proposal's row is locked first, so that
        two applications of one proposal queue and the second finds it applied); with ``schedule_id``,
        only as :func:`~contact_prefs.schedules.check_start` allows, in the same transaction.
        ``progress`` advances once the points are written: one statement writes them all."""
        rows = write_rows(changeset.updates, lambda update: Source.BATCH)
        applying = reporting(progress, len(changeset.updates), "Applying")
        with applying, self._transaction(WRITE) as cursor:
            proposal = schedule = None
            if proposal_id is not None:
                proposal = proposal_rows.locked(cursor, proposal_id)
                check_application(proposal, changeset, at=ledgers.now(cursor))
            if schedule_id is not None:  # its row locked first: two daily jobs at once start it once
                schedule = self._schedule(cursor, schedule_id)
                check_start(schedule)
            # Every point as planned is the usual case, and check_commit lets such updates through as they are.
            if not compare_and_set(cursor, rows):
                writes = check_commit(changeset.updates, points_now(cursor))
                self._write(cursor, write_rows(writes, lambda update: Source.BATCH), again=True)
            progress.advance(len(changeset.updates))
            approval = None if proposal is None else approval_of(proposal)
            batch_id, at, entry = self._record(
                cursor, changeset, actor, recorded=bool(rows), approval=approval, schedule_id=schedule_id
            )
            chained = [entry]
            if proposal is not None:
                applied = applied_proposal(proposal, batch_id=batch_id, actor=actor, at=at)
                proposal_rows.write_state(cursor, applied)
                chained.append(application_entry(applied))
            if schedule is not None:
                started = started_schedule(schedule, batch_id=batch_id)
                cursor.execute(schedule_rows.UPDATE_SCHEDULE, schedule_rows.update_row(started))
            chain_rows.append(cursor, chained)
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
            spec, done = self._undoable(cursor, batch_id)
            writes = undo_writes(done, read_points(cursor, [u.owner_id for u in done], [u.method.value for u in done]))
            restored = ChangeSet(spec=spec, basis="", updates=[write.update for write in writes])
            sources = {write.update.key: write.source for write in writes}
            rows = write_rows(restored.updates, lambda update: sources[update.key])
            self._write(cursor, rows)
            undo_id, at, entry = self._record(cursor, restored, actor, recorded=bool(rows), undoes=batch_id)
            cursor.execute("UPDATE batches SET undone_by = %s WHERE batch_id = %s", [undo_id, batch_id])
            chain_rows.append(cursor, [entry])
        return Receipt(
            batch_id=undo_id, actor=actor, at=at, counts=restored.counts(), applied=len(restored), undoes=batch_id
        )

    def revert(self, batch_id: str, *, actor: str, schedule_id: str) -> Receipt:
        """Write back what :func:`~contact_prefs.writes.revert_writes` decides for the points ``batch_id`` wrote,
        ending schedule ``schedule_id`` as :func:`~contact_prefs.schedules.ended_schedule` decides."""
        with self._transaction(WRITE) as cursor:
            schedule = self._schedule(cursor, schedule_id)
            check_end(schedule, batch_id)
            spec, done = self._undoable(cursor, batch_id)
            writes, left_alone = revert_writes(
                done, read_points(cursor, [u.owner_id for u in done], [u.method.value for u in done])
            )
            restored = ChangeSet(spec=spec, basis="", updates=[write.update for write in writes])
            sources = {write.update.key: write.source for write in writes}
            rows = write_rows(restored.updates, lambda update: sources[update.key])
            self._write(cursor, rows)
            revert_id, at, entry = self._record(
                cursor,
                restored,
                actor,
                recorded=bool(rows),
                undoes=batch_id,
                schedule_id=schedule_id,
                left_alone=left_alone,
            )
            chain_rows.append(cursor, [entry])
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
            chain_rows.append(cursor, [schedule_entry(schedule)])
            bump_version(cursor)

    def schedules(self) -> tuple[Schedule, ...]:
        with self._transaction(READ) as cursor:
            return transfer.schedules(cursor)

    def cancel_schedule(self, schedule_id: str, *, actor: str, at: datetime.datetime) -> Schedule:
        """Record the cancellation as :func:`~contact_prefs.schedules.cancelled_schedule` decides, with its
        chain link, in one transaction."""
        with self._transaction(WRITE) as cursor:
            cancelled = cancelled_schedule(self._schedule(cursor, schedule_id), actor=actor, at=at)
            cursor.execute(schedule_rows.UPDATE_SCHEDULE, schedule_rows.update_row(cancelled))
            chain_rows.append(cursor, [cancellation_entry(cancelled)])
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
            chained = self._consent_entries(cursor, events)
            ledgers.append(cursor, events)
            ledgers.refresh(cursor, {event.address for event in events} | {review.address for review in reviews})
            bump_version(cursor)
            chain_rows.append(cursor, chained)

    def resolve_review(self, review_id: str, *, revoked: bool, actor: str, note: str, at: datetime.datetime) -> Review:
        """Record a reviewer's reading of a waiting message, as :func:`~contact_prefs.ledger.resolve` decides."""
        with self._transaction(WRITE) as cursor:
            take_ledger_lock(cursor, self.url.schema)
            waiting = ledgers.review(cursor, review_id)
            if waiting is None:
                raise UnknownReviewError(f"no review {shown(review_id)} in the queue of the store at {self.url}")
            resolved, event = resolve(waiting, revoked=revoked, actor=actor, note=note, at=at)
            cursor.execute(ledger_rows.UPDATE_REVIEW, ledger_rows.resolution_row(resolved))
            recorded = [] if event is None else [event]
            chained = self._consent_entries(cursor, recorded)
            ledgers.append(cursor, recorded)
            ledgers.refresh(cursor, {resolved.address})
            bump_version(cursor)
            chain_rows.append(cursor, chained)
        return resolved

    def ledger(self, address: str) -> tuple[ConsentEvent, ...]:
        with self._transaction(READ) as cursor:
            return ledgers.ledger_of(cursor, address)

    def consent_events(self) -> tuple[ConsentEvent, ...]:
        with self._transaction(READ) as cursor:
            rows = cursor.execute(f"SELECT {ledger_rows.EVENT_COLUMNS} FROM consent_events ORDER BY seq").fetchall()
        return tuple(map(ledger_rows.event_from_row, rows))

    def reviews(self) -> tuple[Review, ...]:
        with self._transaction(READ) as cursor:
            return self._reviews(cursor)

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
            chain_rows.append(cursor, [policy_entry(change, chain_rows.policy_changes_recorded(cursor))])
        return change

    def policy_changes(self) -> tuple[PolicyChange, ...]:
        with self._transaction(READ) as cursor:
            return self._policy_changes(cursor)

    # -- everything at once -----------------------------------------------------

    def contents(self) -> StoreContents:
        """Everything stored, read in one repeatable-read transaction."""
        with self._transaction(READ) as cursor:
            demo = cursor.execute("SELECT demo FROM meta").fetchone()
            return StoreContents(
                records=self._dump(cursor),
                history=transfer.history(cursor),
                consent_events=transfer.events(cursor),
                reviews=self._reviews(cursor),
                consent_policy=ledgers.policy(cursor),
                policy_changes=self._policy_changes(cursor),
                proposals=proposal_rows.every(cursor),
                schedules=transfer.schedules(cursor),
                chain=chain_rows.links(cursor),
                demo=bool(demo and demo[0]),
            )

    def receive(self, contents: StoreContents, *, replace: bool = False) -> None:
        """Write ``contents`` as it is, in one transaction that keeps every other writer out, into this
        store if it is empty, or in place of what it holds with ``replace``
        (:func:`~contact_prefs.contents.check_receivable` decides)."""
        with self._transaction(WRITE) as cursor:
            take_ledger_lock(cursor, self.url.schema)
            transfer.lock(cursor)
            check_receivable(transfer.holdings(cursor), replace=replace, store=f"the store at {self.url}")
            transfer.erase(cursor)
            transfer.write(cursor, contents)
            bump_version(cursor)

    # -- proposals and the chain ------------------------------------------------

    def propose(self, proposal: Proposal) -> None:
        """Record ``proposal`` (its id must be new) and its link."""
        with self._transaction(WRITE) as cursor:
            proposal_rows.insert(cursor, proposal)
            bump_version(cursor)
            chain_rows.append(cursor, [proposal_entry(proposal)])

    def approve(self, proposal_id: str, *, actor: str, at: datetime.datetime) -> Proposal:
        """Record ``actor``'s approval as :func:`~contact_prefs.proposals.approve_proposal` decides, and its link."""
        with self._transaction(WRITE) as cursor:
            approved = approve_proposal(proposal_rows.locked(cursor, proposal_id), approver=actor, at=at)
            proposal_rows.write_state(cursor, approved)
            bump_version(cursor)
            chain_rows.append(cursor, [approval_entry(approved)])
        return approved

    def withdraw(self, proposal_id: str, *, actor: str, at: datetime.datetime) -> Proposal:
        """Record the withdrawal as :func:`~contact_prefs.proposals.withdraw_proposal` decides, and its link."""
        with self._transaction(WRITE) as cursor:
            withdrawn = withdraw_proposal(proposal_rows.locked(cursor, proposal_id), actor=actor, at=at)
            proposal_rows.write_state(cursor, withdrawn)
            bump_version(cursor)
            chain_rows.append(cursor, [withdrawal_entry(withdrawn)])
        return withdrawn

    def proposals(self) -> tuple[Proposal, ...]:
        with self._transaction(READ) as cursor:
            return proposal_rows.every(cursor)

    def chain(self) -> tuple[Link, ...]:
        with self._transaction(READ) as cursor:
            return chain_rows.links(cursor)

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

    def _dump(self, cursor: Cursor) -> Snapshot:
        collections: dict[str, Any] = {
            table.name: table.records(cursor.execute(table.select()).fetchall()) for table in TABLES
        }
        return Snapshot(version=self._version(cursor), **collections)

    @staticmethod
    def _reviews(cursor: Cursor) -> tuple[Review, ...]:
        rows = cursor.execute(f"SELECT {ledger_rows.REVIEW_COLUMNS} FROM reviews ORDER BY seq").fetchall()
        return tuple(map(ledger_rows.review_from_row, rows))

    @staticmethod
    def _policy_changes(cursor: Cursor) -> tuple[PolicyChange, ...]:
        rows = cursor.execute(f"SELECT {ledger_rows.CHANGE_COLUMNS} FROM policy_changes ORDER BY seq").fetchall()
        return tuple(map(ledger_rows.change_from_row, rows))

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

    def _undoable(self, cursor: Cursor, batch_id: str) -> tuple[BatchSpec, list[PointUpdate]]:
        """The spec and the point updates of batch ``batch_id``, its row locked, once
        :func:`~contact_prefs.rules.check_undoable` allows undoing it."""
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
        return spec, list(done)

    def _record(
        self,
        cursor: Cursor,
        written: ChangeSet,
        actor: str,
        *,
        recorded: bool,
        undoes: str | None = None,
        approval: Approval | None = None,
        schedule_id: str | None = None,
        left_alone: Mapping[Reason, int] | None = None,
    ) -> tuple[str, datetime.datetime, Entry]:
        """Add the batch just written to the history; its id, its time and its chain entry, made from
        what :meth:`history` reads back (the updates as written, in order; the time as stored)."""
        batch_id = uuid.uuid4().hex
        version, at = bump_version(cursor)
        named = (None, None, None) if approval is None else (approval.proposal_id, approval.proposer, approval.approver)
        cursor.execute(
            "INSERT INTO batches (batch_id, version, actor, at, spec, counts, undoes, proposal_id, proposer, approver, "
            "schedule_id, left_alone) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                batch_id,
                version,
                actor,
                at,
                Jsonb(spec_to_plain(written.spec)),
                Jsonb(counts_plain(written.counts())),
                undoes,
                *named,
                schedule_id,
                Jsonb(schedule_rows.left_alone_plain(left_alone or {})),
            ],
        )
        if recorded:
            record_points(cursor, batch_id)
        entry = batch_entry(
            batch_id=batch_id,
            actor=actor,
            at=at,
            spec=written.spec,
            counts=written.counts(),
            updates=written.updates,
            undoes=undoes,
            approval=approval,
            schedule_id=schedule_id,
            left_alone=left_alone,
        )
        return batch_id, at, entry

    @staticmethod
    def _consent_entries(cursor: Cursor, events: Sequence[ConsentEvent]) -> list[Entry]:
        """The entries of ``events``, about to be appended to the ledgers (call it before they are)."""
        first = chain_rows.consent_events_recorded(cursor) + 1 if events else 1
        return [consent_entry(event, position) for position, event in enumerate(events, first)]
