"""The reference store: every record in dicts in memory, one lock around every operation.

It defines the store semantics the other backends are tested against, so it
is written to be obviously right rather than fast.  ``open_store("memory://")``
opens a fresh, empty one; nothing outlives the process.
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import attrs

import contact_prefs
from contact_prefs import (
    BatchRecord,
    BatchSpec,
    BatchSummary,
    Change,
    ChangeSet,
    ContactPoint,
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
    chain_after,
    consent_entry,
    policy_entry,
    proposal_entry,
    withdrawal_entry,
)
from contact_prefs.changes import count_changes
from contact_prefs.consent import ConsentEvent, ConsentPolicy, Review
from contact_prefs.contents import StoreContents, check_receivable
from contact_prefs.errors import ContactPrefsError, UnknownReviewError
from contact_prefs.hookspecs import RegisterStore
from contact_prefs.identifiers import check_actor
from contact_prefs.ledger import (
    LoadReport,
    PolicyChange,
    consent_of_load,
    floors,
    ledger_key,
    resolve,
    set_aside_loaded_consent,
)
from contact_prefs.privacy import shown
from contact_prefs.progress import NO_PROGRESS, Progress, reporting
from contact_prefs.proposals import (
    Approval,
    Proposal,
    ProposalError,
    UnknownProposalError,
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

__all__ = ["MemoryStore"]

SCHEME = "memory"


def _empty_records() -> dict[str, dict[Any, Any]]:
    return {name: {} for name in RECORD_FIELDS}


@attrs.define
class MemoryStore(ClosesOnExit):
    """A store held in dicts, one per record collection, keyed by each record's ``key``.

    ``version`` counts the writes; ``history`` is kept oldest first and
    returned newest first.  Thread-safe: every operation holds one lock.
    """

    _records: dict[str, dict[Any, Any]] = attrs.field(factory=_empty_records, repr=False)
    _history: list[BatchRecord] = attrs.field(factory=list, repr=False)
    _events: list[ConsentEvent] = attrs.field(factory=list, repr=False)
    _reviews: dict[str, Review] = attrs.field(factory=dict, repr=False)  # in queue order
    _policy: ConsentPolicy = attrs.field(factory=ConsentPolicy, repr=False)
    _policy_changes: list[PolicyChange] = attrs.field(factory=list, repr=False)
    _proposals: dict[str, Proposal] = attrs.field(factory=dict, repr=False)  # in the order proposed
    _schedules: dict[str, Schedule] = attrs.field(factory=dict, repr=False)  # in the order saved
    _chain: list[Link] = attrs.field(factory=list, repr=False)
    _demo: bool = False
    _writes: int = 0
    _closed: bool = False
    _lock: threading.RLock = attrs.field(factory=threading.RLock, repr=False)

    @property
    def _version(self) -> str:
        return str(self._writes)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the store's lock for one operation, on an open store."""
        with self._lock:
            if self._closed:
                raise StoreError("the memory store is closed")
            yield

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
        """Delete the records keyed in ``remove``, then upsert every record of ``snapshot``; every loaded
        point's ``revoked`` as :func:`~contact_prefs.ledger.consent_of_load` decides; with ``demo``, mark
        the store as holding demo data.  ``progress`` advances once per collection written.

        With ``keep_preferences`` an existing contact point keeps everything but its address (and its
        consent, which belongs to the address).
        """
        with reporting(progress, len(snapshot), "Loading"), self._locked():
            removed = {name: {r.key for r in records} for name, records in (remove or Snapshot()).collections().items()}
            stored_points = self._records["contact_points"]
            points: list[ContactPoint] = list(snapshot.contact_points)
            if keep_preferences:
                kept = {p.key for p in points if p.key in stored_points and p.key not in removed["contact_points"]}
                merged = [attrs.evolve(stored_points[p.key], address=p.address) if p.key in kept else p for p in points]
                points = set_aside_loaded_consent(merged, kept)
            keys = [self._key(point) for point in points]
            consent = consent_of_load(
                points, keys, self._ledgers(), self._waiting(), self._policy, at=_now(), actor=actor
            )
            # Decided: now write (nothing above wrote anything).
            for name, keys_removed in removed.items():
                for key in keys_removed:
                    self._records[name].pop(key, None)
            for name, records in snapshot.collections().items():
                if name != "contact_points":
                    self._records[name].update((record.key, record) for record in records)
                    progress.advance(len(records))
            stored_points.update((point.key, point) for point in consent.points)
            progress.advance(len(snapshot.contact_points))
            self._append_events(consent.events)
            self._refresh({event.address for event in consent.events})  # the other points holding them
            self._demo = self._demo or demo
            self._writes += 1
            return consent.report

    def holds_demo(self) -> bool:
        """Whether a load with ``demo=True`` marked the store."""
        with self._locked():
            return self._demo

    def dump(self) -> Snapshot:
        """Everything stored."""
        with self._locked():
            collections: dict[str, Any] = {name: tuple(records.values()) for name, records in self._records.items()}
            return Snapshot(**collections, version=self._version)

    def snapshot(self, spec: BatchSpec, *, progress: Progress = NO_PROGRESS) -> Snapshot:
        """Everything stored: the reference store does not narrow to the spec.  ``progress`` advances
        once, by every record read."""
        with self._locked():  # the count and the reading under one hold of the lock: they agree
            total = sum(map(len, self._records.values()))
            with reporting(progress, total, "Reading the district"):
                snapshot = self.dump()
                progress.advance(total)
                return snapshot

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
        ``proposal_id``, only as :func:`~contact_prefs.proposals.check_application` allows; with
        ``schedule_id``, only as :func:`~contact_prefs.schedules.check_start` allows.  ``progress``
        advances once, by the points written."""
        with reporting(progress, len(changeset.updates), "Applying"), self._locked():
            at = _now()
            proposal = None
            if proposal_id is not None:
                proposal = self._proposal(proposal_id)
                check_application(proposal, changeset, at=at)
            schedule = None
            if schedule_id is not None:
                schedule = self._schedule(schedule_id)
                check_start(schedule)
            writes = check_commit(changeset.updates, self._now(changeset.updates))
            for update in writes:
                self._write(update, source=Source.BATCH)
            progress.advance(len(changeset.updates))
            approval = None if proposal is None else approval_of(proposal)
            record = self._record(
                changeset.spec, changeset.changes, actor=actor, at=at, approval=approval, schedule_id=schedule_id
            )
            if proposal is not None:
                applied = applied_proposal(proposal, batch_id=record.batch_id, actor=actor, at=at)
                self._proposals[applied.proposal_id] = applied
                self._link([application_entry(applied)])
            if schedule is not None:
                self._schedules[schedule.schedule_id] = started_schedule(schedule, batch_id=record.batch_id)
            return self._receipt(record)

    def history(self) -> tuple[BatchRecord, ...]:
        """Every commit and undo, newest first."""
        with self._locked():
            return tuple(reversed(self._history))

    def batches(self, *, limit: int | None = None) -> tuple[BatchSummary, ...]:
        """The newest ``limit`` entries of the history, newest first, without their changes."""
        with self._locked():
            newest_first = itertools.islice(reversed(self._history), checked_limit(limit))
            return tuple(BatchSummary.of(record) for record in newest_first)

    def undo(self, batch_id: str, *, actor: str) -> Receipt:
        """Write back what :func:`~contact_prefs.writes.undo_writes` decides for the points ``batch_id`` wrote."""
        with self._locked():
            index, original = self._find(batch_id)
            check_undoable(batch_id, undoes=original.undoes, undone_by=original.undone_by)
            done = ChangeSet(spec=original.spec, basis="", changes=original.changes).updates
            writes = undo_writes(done, self._now(done))
            for write in writes:
                self._write(write.update, source=write.source)
            changes = tuple(change for write in writes for change in write.update.changes)
            record = self._record(original.spec, changes, actor=actor, undoes=batch_id)
            self._history[index] = attrs.evolve(original, undone_by=record.batch_id)
            return self._receipt(record)

    def revert(self, batch_id: str, *, actor: str, schedule_id: str) -> Receipt:
        """Write back what :func:`~contact_prefs.writes.revert_writes` decides for the points ``batch_id``
        wrote, ending schedule ``schedule_id`` as :func:`~contact_prefs.schedules.ended_schedule` decides."""
        with self._locked():
            schedule = self._schedule(schedule_id)
            check_end(schedule, batch_id)
            index, original = self._find(batch_id)
            check_undoable(batch_id, undoes=original.undoes, undone_by=original.undone_by)
            done = ChangeSet(spec=original.spec, basis="", changes=original.changes).updates
            writes, left_alone = revert_writes(done, self._now(done))
            for write in writes:
                self._write(write.update, source=write.source)
            changes = tuple(change for write in writes for change in write.update.changes)
            record = self._record(
                original.spec, changes, actor=actor, undoes=batch_id, schedule_id=schedule_id, left_alone=left_alone
            )
            self._history[index] = attrs.evolve(original, undone_by=record.batch_id)
            self._schedules[schedule_id] = ended_schedule(
                schedule, reverted=batch_id, batch_id=record.batch_id, left_alone=left_alone
            )
            return self._receipt(record)

    # --- schedules ----------------------------------------------------------------

    def save_schedule(self, schedule: Schedule) -> None:
        with self._locked():
            if schedule.schedule_id in self._schedules:
                raise ScheduleError(f"a schedule with the id {shown(schedule.schedule_id)} exists already")
            self._schedules[schedule.schedule_id] = schedule
            self._link([schedule_entry(schedule)])
            self._writes += 1

    def schedules(self) -> tuple[Schedule, ...]:
        with self._locked():
            return tuple(self._schedules.values())

    def cancel_schedule(self, schedule_id: str, *, actor: str, at: datetime.datetime) -> Schedule:
        with self._locked():
            cancelled = cancelled_schedule(self._schedule(schedule_id), actor=actor, at=at)
            self._schedules[schedule_id] = cancelled
            self._link([cancellation_entry(cancelled)])
            self._writes += 1
            return cancelled

    # --- consent ----------------------------------------------------------------

    def record_consent(
        self, events: Sequence[ConsentEvent] = (), *, reviews: Sequence[Review] = (), actor: str
    ) -> None:
        """Append ``events``, queue ``reviews``, and give the points of their addresses ``revoked`` anew."""
        with self._locked():
            check_actor(actor)
            taken = [review.review_id for review in reviews if review.review_id in self._reviews]
            if taken or len({review.review_id for review in reviews}) != len(reviews):
                listed = ", ".join(map(shown, taken)) or "none"  # an id may be a number someone pasted
                raise ContactPrefsError(f"review ids must be new and distinct; taken: {listed}")
            self._append_events(events)
            self._reviews.update((review.review_id, review) for review in reviews)
            self._refresh({event.address for event in events} | {review.address for review in reviews})
            self._writes += 1

    def resolve_review(
        self, review_id: str, *, revoked: bool, actor: str, note: str, at: datetime.datetime
    ) -> Review:
        """Record a reviewer's reading of a waiting message, as :func:`~contact_prefs.ledger.resolve` decides."""
        with self._locked():
            if review_id not in self._reviews:
                raise UnknownReviewError(f"no review {shown(review_id)} in the queue of this store")
            resolved, event = resolve(self._reviews[review_id], revoked=revoked, actor=actor, note=note, at=at)
            self._reviews[review_id] = resolved
            self._append_events(() if event is None else (event,))
            self._refresh({resolved.address})
            self._writes += 1
            return resolved

    def ledger(self, address: str) -> tuple[ConsentEvent, ...]:
        with self._locked():
            return tuple(event for event in self._events if event.address == address)

    def consent_events(self) -> tuple[ConsentEvent, ...]:
        with self._locked():
            return tuple(self._events)

    def reviews(self) -> tuple[Review, ...]:
        with self._locked():
            return tuple(self._reviews.values())

    def holders(self, address: str) -> tuple[tuple[str, Method], ...]:
        with self._locked():
            points = self._records["contact_points"].values()
            return tuple(sorted((p.key for p in points if self._key(p) == address), key=_point_order))

    def consent_policy(self) -> ConsentPolicy:
        with self._locked():
            return self._policy

    def set_consent_policy(self, policy: ConsentPolicy, *, actor: str, why: str) -> PolicyChange:
        """Record the new policy and give every point ``revoked`` as it says."""
        with self._locked():
            change = PolicyChange(policy=policy, actor=actor, at=_now(), why=why)
            self._policy = policy
            self._policy_changes.append(change)
            self._link([policy_entry(change, len(self._policy_changes))])
            self._refresh({key for p in self._records["contact_points"].values() if (key := self._key(p))})
            self._writes += 1
            return change

    def policy_changes(self) -> tuple[PolicyChange, ...]:
        with self._locked():
            return tuple(self._policy_changes)

    # --- proposals and the chain ----------------------------------------------------

    def propose(self, proposal: Proposal) -> None:
        with self._locked():
            if proposal.proposal_id in self._proposals:
                raise ProposalError(f"a proposal with the id {shown(proposal.proposal_id)} exists already")
            self._proposals[proposal.proposal_id] = proposal
            self._link([proposal_entry(proposal)])
            self._writes += 1

    def approve(self, proposal_id: str, *, actor: str, at: datetime.datetime) -> Proposal:
        with self._locked():
            approved = approve_proposal(self._proposal(proposal_id), approver=actor, at=at)
            self._proposals[proposal_id] = approved
            self._link([approval_entry(approved)])
            self._writes += 1
            return approved

    def withdraw(self, proposal_id: str, *, actor: str, at: datetime.datetime) -> Proposal:
        with self._locked():
            withdrawn = withdraw_proposal(self._proposal(proposal_id), actor=actor, at=at)
            self._proposals[proposal_id] = withdrawn
            self._link([withdrawal_entry(withdrawn)])
            self._writes += 1
            return withdrawn

    def proposals(self) -> tuple[Proposal, ...]:
        with self._locked():
            return tuple(self._proposals.values())

    def chain(self) -> tuple[Link, ...]:
        with self._locked():
            return tuple(self._chain)


    # --- everything at once -----------------------------------------------------------

    def contents(self) -> StoreContents:
        """Everything stored, under the lock."""
        with self._locked():
            return StoreContents(
                records=self.dump(),
                history=tuple(self._history),
                consent_events=tuple(self._events),
                reviews=tuple(self._reviews.values()),
                consent_policy=self._policy,
                policy_changes=tuple(self._policy_changes),
                proposals=tuple(self._proposals.values()),
                schedules=tuple(self._schedules.values()),
                chain=tuple(self._chain),
                demo=self._demo,
            )

    def receive(self, contents: StoreContents, *, replace: bool = False) -> None:
        """Hold ``contents`` as it is, in place of nothing (or, with ``replace``, of what was held)."""
        with self._locked():
            check_receivable(self.contents().holdings(), replace=replace, store="the memory store")
            records = _empty_records()
            for name, collection in contents.records.collections().items():
                records[name].update((record.key, record) for record in collection)
            self._records = records
            self._history = list(contents.history)
            self._events = list(contents.consent_events)
            self._reviews = {review.review_id: review for review in contents.reviews}
            self._policy = contents.consent_policy
            self._policy_changes = list(contents.policy_changes)
            self._proposals = {proposal.proposal_id: proposal for proposal in contents.proposals}
            self._schedules = {schedule.schedule_id: schedule for schedule in contents.schedules}
            self._chain = list(contents.chain)  # as given, never recomputed: the same head
            self._demo = contents.demo
            self._writes += 1

    def close(self) -> None:
        """Mark the store closed; closing twice is harmless."""
        with self._lock:
            self._closed = True

    # --- internals --------------------------------------------------------------

    def _key(self, point: ContactPoint) -> str | None:
        return ledger_key(point.method, point.address, self._policy.region)

    def _ledgers(self) -> dict[str, list[ConsentEvent]]:
        ledgers: dict[str, list[ConsentEvent]] = {}
        for event in self._events:
            ledgers.setdefault(event.address, []).append(event)
        return ledgers

    def _waiting(self) -> set[str]:
        return {review.address for review in self._reviews.values() if review.waiting}

    def _refresh(self, keys: set[str]) -> None:
        """Give every point holding one of ``keys`` ``revoked`` as the ledger says."""
        floor = floors(keys, self._ledgers(), self._waiting(), self._policy)
        points = self._records["contact_points"]
        for point in list(points.values()):
            key = self._key(point)
            if key in floor and point.revoked != floor[key]:
                points[point.key] = attrs.evolve(point, revoked=floor[key])

    def _now(self, updates: Iterable[PointUpdate]) -> list[StoredPoint | None]:
        """The points these updates are for, as they are now."""
        points = self._records["contact_points"]
        return [StoredPoint.of(points.get(update.key)) for update in updates]

    def _write(self, update: PointUpdate, *, source: Source) -> None:
        """The compare-and-set, trivially true under the store's lock (the rules read the points under it)."""
        points = self._records["contact_points"]
        points[update.key] = attrs.evolve(points[update.key], enabled=update.enabled_after, source=source)

    def _record(
        self,
        spec: BatchSpec,
        changes: tuple[Change, ...],
        *,
        actor: str,
        at: datetime.datetime | None = None,
        undoes: str | None = None,
        approval: Approval | None = None,
        schedule_id: str | None = None,
        left_alone: dict[Reason, int] | None = None,
    ) -> BatchRecord:
        record = BatchRecord(
            batch_id=uuid.uuid4().hex,
            actor=actor,
            at=at or _now(),
            spec=spec,
            counts=count_changes(changes),
            changes=changes,
            undoes=undoes,
            approval=approval,
            schedule_id=schedule_id,
            left_alone=left_alone or {},
        )
        self._history.append(record)
        self._link(
            [
                batch_entry(
                    batch_id=record.batch_id,
                    actor=actor,
                    at=record.at,
                    spec=spec,
                    counts=record.counts,
                    updates=ChangeSet(spec=spec, basis="", changes=changes).updates,
                    undoes=undoes,
                    approval=approval,
                    schedule_id=schedule_id,
                    left_alone=left_alone,
                )
            ]
        )
        self._writes += 1
        return record

    def _append_events(self, events: Sequence[ConsentEvent]) -> None:
        first = len(self._events) + 1
        self._events.extend(events)
        self._link([consent_entry(event, n) for n, event in enumerate(events, first)])

    def _link(self, entries: Sequence[Entry]) -> None:
        """Append the chain links of ``entries``: under the lock, so every write joins one chain."""
        self._chain.extend(chain_after(self._chain[-1] if self._chain else None, entries))

    def _schedule(self, schedule_id: str) -> Schedule:
        if schedule_id not in self._schedules:
            raise UnknownScheduleError(f"no schedule {shown(schedule_id)} in this store")
        return self._schedules[schedule_id]

    def _proposal(self, proposal_id: str) -> Proposal:
        if proposal_id not in self._proposals:
            raise UnknownProposalError(f"no proposal {shown(proposal_id)} in this store")
        return self._proposals[proposal_id]

    @staticmethod
    def _receipt(record: BatchRecord) -> Receipt:
        return Receipt(
            batch_id=record.batch_id,
            actor=record.actor,
            at=record.at,
            counts=dict(record.counts),
            applied=len(record.changes),
            undoes=record.undoes,
            schedule_id=record.schedule_id,
            left_alone=record.left_alone,
        )

    def _find(self, batch_id: str) -> tuple[int, BatchRecord]:
        for index, record in enumerate(self._history):
            if record.batch_id == batch_id:
                return index, record
        raise UnknownBatchError(f"no batch {batch_id!r} in the history of this store")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _point_order(key: tuple[str, Method]) -> tuple[str, str]:
    return (key[0], key[1].value)


def _open(url: str) -> MemoryStore:
    if url != f"{SCHEME}://":
        raise StoreError(f"a memory store URL is just {SCHEME}:// (a fresh, empty store), not {url!r}")
    return MemoryStore()


@contact_prefs.hookimpl
def contact_prefs_register_stores(register: RegisterStore) -> None:
    """Serve ``memory://``."""
    register(SCHEME, _open)
