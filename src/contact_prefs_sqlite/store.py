"""SQLiteStore: a district in one SQLite file, written in atomic, conflict-checked transactions.

Every write runs in one ``BEGIN IMMEDIATE`` transaction (one writer at a
time, others wait up to the busy timeout) and bumps the ``state`` counter,
which is the store's version.  Reads run in a deferred transaction, so a
snapshot is consistent with its version even while another process writes.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence

import attrs

from contact_prefs import (
    BatchRecord,
    BatchSpec,
    BatchSummary,
    ChangeSet,
    ContactPrefsError,
    Method,
    Reason,
    Receipt,
    Snapshot,
    Source,
    StoreError,
    UnknownBatchError,
)
from contact_prefs._unchecked import snapshot as unchecked_snapshot
from contact_prefs.chain import (
    Entry,
    Link,
    application_entry,
    approval_entry,
    batch_entry,
    proposal_entry,
    withdrawal_entry,
)
from contact_prefs.changes import count_updates
from contact_prefs.consent import ConsentEvent, ConsentPolicy, Review
from contact_prefs.contents import StoreContents, check_receivable
from contact_prefs.errors import UnknownReviewError
from contact_prefs.identifiers import check_actor
from contact_prefs.ledger import LoadReport, PolicyChange, resolve
from contact_prefs.plain import METHODS, SOURCE_VALUES, SOURCES
from contact_prefs.privacy import shown
from contact_prefs.progress import CHUNK, NO_PROGRESS, Progress, reporting, slices
from contact_prefs.proposals import (
    Approval,
    Proposal,
    ProposalError,
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
from contact_prefs.snapshot import RECORD_FIELDS
from contact_prefs.store import ClosesOnExit, checked_limit
from contact_prefs.writes import StoredPoint, check_commit, revert_writes, undo_writes

from . import chain_rows, consent_rows, ledgers, proposal_rows, schedule_rows, transfer
from . import history as history_rows
from .connection import connect, describe, translated
from .narrowing import create_temporary_tables, narrowed
from .tables import LEDGER_KEY, PREFERENCES, TABLES, Row, reasons
from .url import database_path

__all__ = ["SQLiteStore"]

log = logging.getLogger(__name__)

BATCH = Source.BATCH.value

# Every write is a compare-and-set by primary key, from the rows of a points document
# (``history.point_rows``, bound as ?1 to ?6): the point is written only if it is still as the
# row's before-state says.  What may be written was decided by the core (``contact_prefs.writes``);
# these statements only compare and set.  One statement per point: SQLite runs it in one pass,
# where an UPDATE ... FROM over the document would find every row and then seek it again.
_COMPARED = "owner_id = ?1 AND method = ?2 AND source = ?3 AND enabled = ?4 AND revoked = ?6"
_COMMIT_POINT = f"UPDATE contact_points SET enabled = ?5, source = '{BATCH}' WHERE {_COMPARED}"
_RESTORE_POINT = f"UPDATE contact_points SET enabled = ?5, source = ?7 WHERE {_COMPARED}"

COMMIT_CHUNK = CHUNK
"""How many points a commit compares and sets between two reports of its progress."""

# The points of a points document as they are now, by position (NULLs where a point is gone).
_POINTS_NOW = f"""
    SELECT u.position, p.enabled, p.source, p.revoked FROM {history_rows.POINTS} AS u
    LEFT JOIN contact_points p ON p.owner_id = u.owner_id AND p.method = u.method"""


@attrs.define
class SQLiteStore(ClosesOnExit):
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
        with self._transaction("read") as connection:
            return self._dump(connection)

    def snapshot(self, spec: BatchSpec, *, progress: Progress = NO_PROGRESS) -> Snapshot:
        """The records ``spec``'s plan can look at, narrowed in SQL (see :mod:`.narrowing`).

        ``progress`` advances by the rows of each table read; how many there will be is not known
        before the narrowing has run, so the step has no total."""
        with reporting(progress, None, "Reading the district"), self._transaction("read") as connection:
            collections, selection = narrowed(connection, spec, progress)
            return unchecked_snapshot(collections, selection=selection, version=self._version(connection))

    def holds_demo(self) -> bool:
        """Whether a load with ``demo=True`` marked the store (``state.demo``)."""
        with self._transaction("read") as connection:
            return bool(connection.execute("SELECT demo FROM state").fetchone()[0])

    def history(self) -> tuple[BatchRecord, ...]:
        """Every commit and undo, newest first, with its changes rebuilt exactly."""
        with self._transaction("read the history of") as connection:
            return self._history(connection, "DESC")

    def batches(self, *, limit: int | None = None) -> tuple[BatchSummary, ...]:
        """The newest ``limit`` entries of the history, newest first: their ``batches`` rows alone."""
        with self._transaction("read the history of") as connection:
            rows = connection.execute(
                f"SELECT {history_rows.BATCH_COLUMNS} FROM batches ORDER BY seq DESC LIMIT ?",
                (-1 if checked_limit(limit) is None else limit,),  # a negative limit is none in SQLite
            )
            return tuple(history_rows.batch_summary(row) for row in rows)

    # --- writing ----------------------------------------------------------------

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
        """Delete the records keyed in ``remove``, then upsert every record of ``snapshot``, atomically;
        every loaded point's ``revoked`` as :func:`~contact_prefs.ledger.consent_of_load` decides.

        The revocations the load records reach every point holding their
        addresses, loaded or not, in the same transaction; so does the mark of ``demo``.
        ``progress`` advances per :data:`~contact_prefs.progress.CHUNK` of records written.
        """
        loading = reporting(progress, len(snapshot), "Loading")
        with loading, self._transaction("load records into", write=True) as connection:
            if remove is not None:
                for name, records in remove.collections().items():
                    table = TABLES[name]
                    connection.executemany(table.delete(), map(table.key_row, records))
            consent, keys = ledgers.consent_of_loading(
                connection, snapshot.contact_points, keep_preferences=keep_preferences, actor=actor
            )
            chain_rows.record_events(connection, consent.events)
            for name, records in snapshot.collections().items():
                if name != "contact_points":
                    table = TABLES[name]
                    for chunk in slices(records):
                        connection.executemany(table.upsert(), map(table.to_row, chunk))
                        progress.advance(len(chunk))
            points = TABLES["contact_points"]
            point_rows = [(*points.to_row(point), key) for point, key in zip(consent.points, keys, strict=True)]
            for chunk in slices(point_rows):
                connection.executemany(points.upsert(PREFERENCES if keep_preferences else (), extra=LEDGER_KEY), chunk)
                progress.advance(len(chunk))
            ledgers.refresh(connection, {event.address for event in consent.events})
            if demo:
                connection.execute("UPDATE state SET demo = 1")
        if consent.events:
            log.info("load by %s: %d revocations recorded", actor, len(consent.events))
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
        ``proposal_id``, only as :func:`~contact_prefs.proposals.check_application` allows, and the proposal
        recorded as applied by this batch; with ``schedule_id``, only as
        :func:`~contact_prefs.schedules.check_start` allows.  The batch's chain link (and the application's)
        in the same transaction.  ``progress`` advances per slice of the points written, inside it.
        """
        updates = changeset.point_updates()
        batch_id, at = uuid.uuid4().hex, _now()
        counts = changeset.counts()
        spec = history_rows.spec_json(changeset.spec)
        # The history's documents and the batch's chain entry are built before the write lock is
        # taken: other writers wait for SQLite only.  An entry naming an approval waits for the proposal.
        rows = history_rows.point_rows(updates)
        points, affects = history_rows.points_json(rows), history_rows.affects_json(updates)
        unapproved = (
            batch_entry(
                batch_id=batch_id,
                actor=actor,
                at=at,
                spec=changeset.spec,
                counts=counts,
                updates=updates,
                schedule_id=schedule_id,
            )
            if proposal_id is None
            else None
        )
        applying = reporting(progress, len(rows), "Applying")
        with applying, self._transaction("commit a batch to", write=True) as connection:
            proposal = approval = schedule = None
            if proposal_id is not None:
                proposal = proposal_rows.find(connection, proposal_id, describe(self.path))
                check_application(proposal, changeset, at=at)  # before anything is written
                approval = approval_of(proposal)
            if schedule_id is not None:  # under the write lock: two daily jobs at once start it once
                schedule = self._schedule(connection, schedule_id)
                check_start(schedule)
            self._record(
                connection,
                batch_id,
                actor,
                at,
                spec,
                counts,
                len(changeset),
                points,
                affects,
                approval=approval,
                schedule_id=schedule_id,
            )
            if schedule is not None:
                started = started_schedule(schedule, batch_id=batch_id)
                connection.execute(schedule_rows.UPDATE_SCHEDULE, schedule_rows.schedule_row(started))
            connection.execute("SAVEPOINT points")
            # Every point as planned is the usual case, and check_commit lets such updates through as they are.
            if _written_in_slices(connection, _COMMIT_POINT, rows, progress) != len(rows):
                connection.execute("ROLLBACK TO points")
                writes = check_commit(updates, self._points_now(connection, points))
                self._write(connection, _COMMIT_POINT, history_rows.point_rows(writes))
            entries = [
                unapproved
                or batch_entry(
                    batch_id=batch_id,
                    actor=actor,
                    at=at,
                    spec=changeset.spec,
                    counts=counts,
                    updates=updates,
                    approval=approval,
                    schedule_id=schedule_id,
                )
            ]
            if proposal is not None:
                applied = applied_proposal(proposal, batch_id=batch_id, actor=actor, at=at)
                connection.execute(proposal_rows.UPDATE_STATE, proposal_rows.proposal_row(applied))
                entries.append(application_entry(applied))
            chain_rows.append(connection, entries)
        log.info("batch %s by %s: %d changes at %d contact points", batch_id, actor, len(changeset), len(updates))
        return Receipt(
            batch_id=batch_id, actor=actor, at=at, counts=counts, applied=len(changeset), schedule_id=schedule_id
        )

    def undo(self, batch_id: str, *, actor: str) -> Receipt:
        """Write back what :func:`~contact_prefs.writes.undo_writes` decides for the points ``batch_id`` wrote."""
        undo_id, at = uuid.uuid4().hex, _now()
        with self._transaction("undo a batch in", write=True) as connection:
            seq, spec, points, affects = self._undoable(connection, batch_id)
            writes = undo_writes(history_rows.updates_from_json(points, affects), self._points_now(connection, points))
            written = [write.update for write in writes]
            rows = history_rows.point_rows(written)
            counts = count_updates(written)
            applied = sum(counts.values())
            undo_points, undo_affects = history_rows.points_json(rows), history_rows.affects_json(written)
            self._record(
                connection, undo_id, actor, at, spec, counts, applied, undo_points, undo_affects, undoes=batch_id
            )
            undone_spec = history_rows.spec_from_json(spec)
            chain_rows.append(
                connection,
                [
                    batch_entry(
                        batch_id=undo_id,
                        actor=actor,
                        at=at,
                        spec=undone_spec,
                        counts=counts,
                        updates=written,
                        undoes=batch_id,
                    )
                ],
            )
            sources = [(*row, SOURCE_VALUES[write.source]) for row, write in zip(rows, writes, strict=True)]
            self._write(connection, _RESTORE_POINT, sources)
            connection.execute("UPDATE batches SET undone_by = ? WHERE seq = ?", (undo_id, seq))
        log.info("batch %s by %s: undid batch %s (%d changes)", undo_id, actor, batch_id, applied)
        return Receipt(batch_id=undo_id, actor=actor, at=at, counts=counts, applied=applied, undoes=batch_id)

    def revert(self, batch_id: str, *, actor: str, schedule_id: str) -> Receipt:
        """Write back what :func:`~contact_prefs.writes.revert_writes` decides for the points ``batch_id`` wrote,
        ending schedule ``schedule_id`` as :func:`~contact_prefs.schedules.ended_schedule` decides."""
        revert_id, at = uuid.uuid4().hex, _now()
        with self._transaction("revert a batch in", write=True) as connection:
            schedule = self._schedule(connection, schedule_id)
            check_end(schedule, batch_id)
            seq, spec, points, affects = self._undoable(connection, batch_id)
            writes, left_alone = revert_writes(
                history_rows.updates_from_json(points, affects), self._points_now(connection, points)
            )
            written = [write.update for write in writes]
            rows = history_rows.point_rows(written)
            counts = count_updates(written)
            applied = sum(counts.values())
            self._record(
                connection,
                revert_id,
                actor,
                at,
                spec,
                counts,
                applied,
                history_rows.points_json(rows),
                history_rows.affects_json(written),
                undoes=batch_id,
                schedule_id=schedule_id,
                left_alone=left_alone,
            )
            reverted_spec = history_rows.spec_from_json(spec)
            entry = batch_entry(
                batch_id=revert_id,
                actor=actor,
                at=at,
                spec=reverted_spec,
                counts=counts,
                updates=written,
                undoes=batch_id,
                schedule_id=schedule_id,
                left_alone=left_alone,
            )
            chain_rows.append(connection, [entry])
            sources = [(*row, SOURCE_VALUES[write.source]) for row, write in zip(rows, writes, strict=True)]
            self._write(connection, _RESTORE_POINT, sources)
            connection.execute("UPDATE batches SET undone_by = ? WHERE seq = ?", (revert_id, seq))
            ended = ended_schedule(schedule, reverted=batch_id, batch_id=revert_id, left_alone=left_alone)
            connection.execute(schedule_rows.UPDATE_SCHEDULE, schedule_rows.schedule_row(ended))
        log.info(
            "batch %s by %s: reverted batch %s of schedule %s (%d changes)",
            *(revert_id, actor, batch_id, shown(schedule_id), applied),
        )
        return Receipt(
            batch_id=revert_id,
            actor=actor,
            at=at,
            counts=counts,
            applied=applied,
            undoes=batch_id,
            schedule_id=schedule_id,
            left_alone=left_alone,
        )

    # --- schedules ----------------------------------------------------------------

    def save_schedule(self, schedule: Schedule) -> None:
        """Record a new schedule, and its chain link, in one transaction."""
        with self._transaction("save a schedule in", write=True) as connection:
            if schedule_rows.read_schedule(connection, schedule.schedule_id) is not None:
                raise ScheduleError(f"a schedule with the id {shown(schedule.schedule_id)} exists already")
            connection.execute(schedule_rows.INSERT_SCHEDULE, schedule_rows.schedule_row(schedule))
            chain_rows.append(connection, [schedule_entry(schedule)])
        log.info("schedule %s saved by %s", shown(schedule.schedule_id), schedule.actor)

    def schedules(self) -> tuple[Schedule, ...]:
        """Every schedule, in the order they were saved."""
        with self._transaction("read the schedules of") as connection:
            return transfer.schedules(connection)

    def cancel_schedule(self, schedule_id: str, *, actor: str, at: datetime.datetime) -> Schedule:
        """Record the cancellation as :func:`~contact_prefs.schedules.cancelled_schedule` decides, with its
        chain link, in one transaction."""
        with self._transaction("cancel a schedule in", write=True) as connection:
            cancelled = cancelled_schedule(self._schedule(connection, schedule_id), actor=actor, at=at)
            connection.execute(schedule_rows.UPDATE_SCHEDULE, schedule_rows.schedule_row(cancelled))
            chain_rows.append(connection, [cancellation_entry(cancelled)])
        log.info("schedule %s cancelled by %s", shown(schedule_id), actor)
        return cancelled

    # --- consent ----------------------------------------------------------------

    def record_consent(
        self, events: Sequence[ConsentEvent] = (), *, reviews: Sequence[Review] = (), actor: str
    ) -> None:
        """Append ``events``, queue ``reviews``, and give every point holding their addresses ``revoked``
        as :func:`~contact_prefs.ledger.floors` says, in one transaction."""
        check_actor(actor)
        with self._transaction("record consent in", write=True) as connection:
            ids = [review.review_id for review in reviews]
            taken = [
                review_id
                for (review_id,) in connection.execute(
                    "SELECT review_id FROM reviews WHERE review_id IN (SELECT value FROM json_each(?))",
                    (json.dumps(ids),),
                )
            ]
            if taken or len(set(ids)) != len(ids):
                raise ContactPrefsError(
                    "review ids must be new and distinct; "
                    f"taken: {', '.join(shown(review_id) for review_id in taken) or 'none'}"
                )
            chain_rows.record_events(connection, events)
            connection.executemany(consent_rows.INSERT_REVIEW, map(consent_rows.review_row, reviews))
            ledgers.refresh(connection, {event.address for event in events} | {review.address for review in reviews})
        log.info("consent recorded by %s: %d events, %d messages to review", actor, len(events), len(reviews))

    def resolve_review(self, review_id: str, *, revoked: bool, actor: str, note: str, at: datetime.datetime) -> Review:
        """Record a reviewer's reading of a waiting message as :func:`~contact_prefs.ledger.resolve` decides,
        and the ``revoked`` that follows at every point holding its address, in one transaction."""
        with self._transaction("resolve a review in", write=True) as connection:
            row = connection.execute(
                f"SELECT {consent_rows.REVIEW_COLUMNS} FROM reviews WHERE review_id = ?", (review_id,)
            ).fetchone()
            if row is None:
                raise UnknownReviewError(f"no review {shown(review_id)} in the queue of {describe(self.path)}")
            resolved, event = resolve(consent_rows.review_from_row(row), revoked=revoked, actor=actor, note=note, at=at)
            connection.execute(consent_rows.UPDATE_REVIEW, consent_rows.review_row(resolved))
            chain_rows.record_events(connection, () if event is None else (event,))
            ledgers.refresh(connection, {resolved.address})
        log.info("review %s resolved by %s", shown(review_id), actor)
        return resolved

    def ledger(self, address: str) -> tuple[ConsentEvent, ...]:
        """Every event of the address key ``address``, in ledger order."""
        with self._transaction("read the consent ledger of") as connection:
            return tuple(ledgers.ledgers(connection, (address,)).get(address, ()))

    def reviews(self) -> tuple[Review, ...]:
        """Every queued message, waiting or resolved, in queue order."""
        with self._transaction("read the review queue of") as connection:
            return self._reviews(connection)

    def holders(self, address: str) -> tuple[tuple[str, Method], ...]:
        """The keys of the points whose address key is ``address``, sorted."""
        with self._transaction("read the holders of an address in") as connection:
            rows = connection.execute(
                "SELECT owner_id, method FROM contact_points WHERE ledger_key = ? ORDER BY owner_id, method",
                (address,),
            )
            return tuple((owner_id, METHODS[method]) for owner_id, method in rows)

    def consent_policy(self) -> ConsentPolicy:
        """The district's consent policy."""
        with self._transaction("read the consent policy of") as connection:
            return ledgers.policy(connection)

    def set_consent_policy(self, policy: ConsentPolicy, *, actor: str, why: str) -> PolicyChange:
        """Record the new policy (who, when, why) and give every point ``revoked`` as it says, in one transaction.

        A new region moves every phone number's key (it is read in that region), so every point is keyed anew.
        """
        change = PolicyChange(policy=policy, actor=actor, at=ledgers.now(), why=why)
        with self._transaction("set the consent policy of", write=True) as connection:
            before = ledgers.policy(connection)
            connection.execute(consent_rows.UPDATE_POLICY, consent_rows.policy_row(policy))
            chain_rows.record_policy_change(connection, change)
            if policy.region != before.region:
                ledgers.key_points(connection, policy.region)
            ledgers.refresh_all(connection)
        log.info("consent policy set by %s", actor)
        return change

    def policy_changes(self) -> tuple[PolicyChange, ...]:
        """Every change of the consent policy, oldest first."""
        with self._transaction("read the consent policy changes of") as connection:
            return self._policy_changes(connection)

    # --- everything at once -----------------------------------------------------

    def contents(self) -> StoreContents:
        """Everything stored, read in one transaction."""
        with self._transaction("read everything in") as connection:
            return StoreContents(
                records=self._dump(connection),
                history=self._history(connection, "ASC"),
                consent_events=transfer.events(connection),
                reviews=self._reviews(connection),
                consent_policy=ledgers.policy(connection),
                policy_changes=self._policy_changes(connection),
                proposals=proposal_rows.every(connection),
                schedules=transfer.schedules(connection),
                chain=chain_rows.links(connection, describe(self.path)),
                demo=bool(connection.execute("SELECT demo FROM state").fetchone()[0]),
            )

    def receive(self, contents: StoreContents, *, replace: bool = False) -> None:
        """Write ``contents`` as it is, in one transaction, into this store if it is empty, or in place
        of what it holds with ``replace`` (:func:`~contact_prefs.contents.check_receivable` decides)."""
        with self._transaction("write everything into", write=True) as connection:
            check_receivable(transfer.holdings(connection), replace=replace, store=describe(self.path))
            transfer.erase(connection)
            transfer.write(connection, contents)
        log.info("received %s", ", ".join(f"{n} {name}" for name, n in contents.counts().items()))

    def consent_events(self) -> tuple[ConsentEvent, ...]:
        """Every consent event, in the store's order (ledger order across all addresses)."""
        with self._transaction("read the consent events of") as connection:
            rows = connection.execute(f"SELECT {consent_rows.EVENT_COLUMNS} FROM consent_events ORDER BY seq")
            return tuple(map(consent_rows.event_from_row, rows))

    # --- proposals and the chain ------------------------------------------------

    def propose(self, proposal: Proposal) -> None:
        """Keep ``proposal`` as proposed, and chain it; a proposal id is never reused."""
        with self._transaction("record a proposal in", write=True) as connection:
            taken = connection.execute("SELECT 1 FROM proposals WHERE proposal_id = ?", (proposal.proposal_id,))
            if taken.fetchone() is not None:
                raise ProposalError(f"a proposal with the id {shown(proposal.proposal_id)} exists already")
            connection.execute(proposal_rows.INSERT, proposal_rows.proposal_row(proposal))
            chain_rows.append(connection, [proposal_entry(proposal)])
        log.info("proposal %s by %s", proposal.proposal_id, proposal.proposer)

    def approve(self, proposal_id: str, *, actor: str, at: datetime.datetime) -> Proposal:
        """Record ``actor``'s approval as :func:`~contact_prefs.proposals.approve_proposal` decides, and chain it."""
        return self._step(
            proposal_id, "approve a proposal in", lambda p: approve_proposal(p, approver=actor, at=at), approval_entry
        )

    def withdraw(self, proposal_id: str, *, actor: str, at: datetime.datetime) -> Proposal:
        """Record ``actor``'s withdrawal as :func:`~contact_prefs.proposals.withdraw_proposal` decides, and chain it."""
        return self._step(
            proposal_id, "withdraw a proposal in", lambda p: withdraw_proposal(p, actor=actor, at=at), withdrawal_entry
        )

    def proposals(self) -> tuple[Proposal, ...]:
        """Every proposal, in the order proposed."""
        with self._transaction("read the proposals of") as connection:
            return proposal_rows.every(connection)

    def chain(self) -> tuple[Link, ...]:
        """Every link of the chain, in order, as stored."""
        with self._transaction("read the chain of") as connection:
            return chain_rows.links(connection, describe(self.path))

    def close(self) -> None:
        """Close the connection; closing twice is harmless."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._connection.close()

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

    def _step(
        self,
        proposal_id: str,
        action: str,
        rule: Callable[[Proposal], Proposal],
        entry_of: Callable[[Proposal], Entry],
    ) -> Proposal:
        """Read a proposal, take it through ``rule``, write the result and chain ``entry_of`` it: one transaction."""
        with self._transaction(action, write=True) as connection:
            after = rule(proposal_rows.find(connection, proposal_id, describe(self.path)))
            connection.execute(proposal_rows.UPDATE_STATE, proposal_rows.proposal_row(after))
            chain_rows.append(connection, [entry_of(after)])
        log.info("proposal %s: %s", proposal_id, action.removesuffix(" in"))
        return after

    def _dump(self, connection: sqlite3.Connection) -> Snapshot:
        collections = {
            name: TABLES[name].records(connection.execute(f"SELECT {TABLES[name].select()} FROM {name}"))
            for name in RECORD_FIELDS
        }
        return unchecked_snapshot(collections, version=self._version(connection))

    @staticmethod
    def _history(connection: sqlite3.Connection, order: str) -> tuple[BatchRecord, ...]:
        """Every commit and undo, in ``order`` ("ASC": oldest first), with its changes rebuilt exactly."""
        batches = connection.execute(
            f"SELECT {history_rows.BATCH_COLUMNS}, points, affects FROM batches ORDER BY seq {order}"
        )
        return tuple(history_rows.batch_record(row[:-2], history_rows.changes_from_json(*row[-2:])) for row in batches)

    @staticmethod
    def _reviews(connection: sqlite3.Connection) -> tuple[Review, ...]:
        rows = connection.execute(f"SELECT {consent_rows.REVIEW_COLUMNS} FROM reviews ORDER BY seq")
        return tuple(map(consent_rows.review_from_row, rows))

    @staticmethod
    def _policy_changes(connection: sqlite3.Connection) -> tuple[PolicyChange, ...]:
        rows = connection.execute(f"SELECT {consent_rows.CHANGE_COLUMNS} FROM policy_changes ORDER BY seq")
        return tuple(map(consent_rows.change_from_row, rows))

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
        approval: Approval | None = None,
        schedule_id: str | None = None,
        left_alone: Mapping[Reason, int] | None = None,
    ) -> None:
        """Add a ``batches`` row with its points and affects documents; its ``seq`` orders the history."""
        connection.execute(
            "INSERT INTO batches (batch_id, actor, at, spec, counts, applied, undoes, points, affects, "
            "proposal_id, proposer, approver, schedule_id, left_alone) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                batch_id,
                actor,
                at.isoformat(),
                spec,
                history_rows.counts_json(counts),
                applied,
                undoes,
                points,
                affects,
                *history_rows.approval_row(approval),
                schedule_id,
                history_rows.left_alone_json(left_alone or {}),
            ),
        )

    def _undoable(self, connection: sqlite3.Connection, batch_id: str) -> tuple[int, str, str, str]:
        """The ``seq``, spec, points and affects of batch ``batch_id``, once
        :func:`~contact_prefs.rules.check_undoable` allows undoing it."""
        found = connection.execute(
            "SELECT seq, spec, undoes, undone_by, points, affects FROM batches WHERE batch_id = ?", (batch_id,)
        ).fetchone()
        if found is None:
            raise UnknownBatchError(f"no batch {batch_id!r} in the history of {describe(self.path)}")
        seq, spec, undoes, undone_by, points, affects = found
        check_undoable(batch_id, undoes=undoes, undone_by=undone_by)
        return seq, spec, points, affects

    @staticmethod
    def _schedule(connection: sqlite3.Connection, schedule_id: str) -> Schedule:
        """The schedule ``schedule_id`` as stored now, in this transaction."""
        schedule = schedule_rows.read_schedule(connection, schedule_id)
        if schedule is None:
            raise UnknownScheduleError(f"no schedule {shown(schedule_id)} in this store")
        return schedule

    @staticmethod
    def _points_now(connection: sqlite3.Connection, points: str) -> list[StoredPoint | None]:
        """The points of the points document ``points`` as they are now, in its order."""
        rows = sorted(connection.execute(_POINTS_NOW, {"points": points}))  # already in order: sorting is linear
        return [
            None if enabled is None else StoredPoint(reasons(enabled), SOURCES[source], reasons(revoked))
            for _, enabled, source, revoked in rows
        ]

    def _write(self, connection: sqlite3.Connection, statement: str, rows: list[Row]) -> None:
        """Compare and set every row; the rules checked the points under this transaction's lock, so all hold."""
        if _written(connection.executemany(statement, rows)) != len(rows):
            raise StoreError(
                f"contact points in {describe(self.path)} changed under the write lock; nothing was written"
            )


def _written(cursor: sqlite3.Cursor) -> int:
    """The rows an ``executemany`` changed (its rowcount is -1 when it ran no statement)."""
    return max(cursor.rowcount, 0)


def _written_in_slices(connection: sqlite3.Connection, statement: str, rows: list[Row], progress: Progress) -> int:
    """The rows ``statement`` changed, run over ``rows`` in slices of :data:`COMMIT_CHUNK` within the
    caller's transaction, advancing ``progress`` after each slice."""
    written = 0
    for chunk in slices(rows, COMMIT_CHUNK):
        written += _written(connection.executemany(statement, chunk))
        progress.advance(len(chunk))
    return written


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
