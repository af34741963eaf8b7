"""The store contract every backend fulfils, and the records a store keeps of its batches."""

from __future__ import annotations

import datetime
import inspect
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self, TypedDict, runtime_checkable

import attrs

from .chain import Link
from .changes import Change, ChangeSet
from .consent import ConsentEvent, ConsentPolicy, Review
from .enums import Method, Reason
from .ledger import LoadReport, PolicyChange
from .progress import NO_PROGRESS, Progress
from .proposals import Approval, Proposal
from .schedules import Schedule, left_alone_counts
from .snapshot import Snapshot
from .spec import BatchSpec

if TYPE_CHECKING:
    from .contents import StoreContents

Counts = Mapping[tuple[Method, Reason], int]


@attrs.frozen(kw_only=True)
class Receipt:
    """What a commit or an undo did.  ``counts`` has the shape of ``ChangeSet.counts()``.

    ``undoes`` is the batch id an undo reverted, ``None`` for a commit;
    ``schedule_id`` the schedule a batch applied or reverted, and ``left_alone``
    what a revert left alone, by reason (see :class:`BatchRecord`).
    """

    batch_id: str
    actor: str
    at: datetime.datetime
    counts: Counts = attrs.field(hash=False)
    applied: int
    undoes: str | None = None
    schedule_id: str | None = None
    left_alone: dict[Reason, int] = attrs.field(factory=dict, converter=left_alone_counts, hash=False)


@attrs.frozen(kw_only=True)
class BatchRecord:
    """One entry of a store's history: a commit, or the undo of one.

    ``changes`` are the changes as planned (an undo's are those it wrote: the
    inverse, within consent, see :func:`~contact_prefs.rules.restore_within_consent`);
    ``undone_by`` is the id of the undo that reverted this batch, if any;
    ``approval`` who proposed and approved it, for a batch applied through a proposal;
    ``schedule_id`` the schedule it applied (on its start day) or reverted (on its end day, or when
    cancelled with a revert); ``left_alone`` counts, by reason, the changes a revert left alone
    because their points had changed since the batch it reverts (empty for any other batch).
    """

    batch_id: str
    actor: str
    at: datetime.datetime
    spec: BatchSpec
    counts: Counts = attrs.field(hash=False)
    changes: tuple[Change, ...]
    undone_by: str | None = None
    undoes: str | None = None
    approval: Approval | None = None
    schedule_id: str | None = None
    left_alone: dict[Reason, int] = attrs.field(factory=dict, converter=left_alone_counts, hash=False)


@attrs.frozen(kw_only=True)
class BatchSummary:
    """One entry of a store's history without its changes, to list batches: a
    :class:`BatchRecord` whose ``changes`` are told only by their number, ``applied``."""

    batch_id: str
    actor: str
    at: datetime.datetime
    spec: BatchSpec
    counts: Counts = attrs.field(hash=False)
    applied: int
    undone_by: str | None = None
    undoes: str | None = None
    approval: Approval | None = None
    schedule_id: str | None = None
    left_alone: dict[Reason, int] = attrs.field(factory=dict, converter=left_alone_counts, hash=False)

    @classmethod
    def of(cls, record: BatchRecord) -> BatchSummary:
        """The summary of ``record``."""
        return cls(
            batch_id=record.batch_id,
            actor=record.actor,
            at=record.at,
            spec=record.spec,
            counts=record.counts,
            applied=len(record.changes),
            undone_by=record.undone_by,
            undoes=record.undoes,
            approval=record.approval,
            schedule_id=record.schedule_id,
            left_alone=record.left_alone,
        )


def checked_limit(limit: int | None) -> int | None:
    """``limit`` if it is ``None`` or a whole number of zero or more, else ``ValueError``: every store's
    ``batches(limit=)`` reads it alike (SQL dialects disagree about negative limits)."""
    if limit is not None and (type(limit) is not int or limit < 0):
        raise ValueError(f"a limit is a whole number of zero or more, not {limit!r}")
    return limit


class CommitOptions(TypedDict, total=False):
    """The options of a ``commit`` that were given."""

    proposal_id: str
    schedule_id: str


class ProgressOption(TypedDict, total=False):
    """The ``progress`` of a ``snapshot``, ``load`` or ``commit``, when it reports somewhere."""

    progress: Progress


def commit_options(*, proposal_id: str | None, schedule_id: str | None) -> CommitOptions:
    """The options of a ``commit`` that were given, for wrappers to pass on: a store written before
    proposals or schedules takes no ``proposal_id`` or ``schedule_id``."""
    options = CommitOptions()
    if proposal_id is not None:
        options["proposal_id"] = proposal_id
    if schedule_id is not None:
        options["schedule_id"] = schedule_id
    return options


def progress_option(progress: Progress, call: Callable[..., object]) -> ProgressOption:
    """``progress`` as a keyword for wrappers to pass on to ``call`` (a store's ``snapshot``, ``load``
    or ``commit``) when it reports somewhere and ``call`` takes it: a store written before progress
    takes no ``progress``, and works on as before, without reporting."""
    if progress is NO_PROGRESS or not _takes_progress(call):
        return ProgressOption()
    return ProgressOption(progress=progress)


def _takes_progress(call: Callable[..., object]) -> bool:
    try:
        parameters = inspect.signature(call).parameters.values()
    except (TypeError, ValueError):  # no signature to read: pass it, as to any store
        return True
    return any(p.name == "progress" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


@runtime_checkable
class Store(Protocol):
    """Where a district's records live.  Open one with :func:`contact_prefs.open_store`.

    Stores are context managers; leaving the block closes them.
    """

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
        """Atomically delete the records keyed in ``remove``, then upsert every record of ``snapshot`` by key.

        With ``demo`` (the demo district, :mod:`contact_prefs.demo`) the store is marked as holding demo
        data in the same transaction; the mark stays through later loads (see :meth:`holds_demo`).

        With ``keep_preferences`` an existing contact point keeps its ``enabled``,
        ``text`` and ``source``; only its address changes.  Every loaded point's
        ``revoked`` is what its address's ledger says, after the load recorded
        the revocations of points loaded as revoked
        (:func:`contact_prefs.ledger.consent_of_load`, with ``actor``): a load
        never clears a revocation.

        ``progress`` (optional: a store written before it takes none) hears how far the load got, in
        coarse steps, from inside its one transaction; see :mod:`contact_prefs.progress`.
        """

    def holds_demo(self) -> bool:
        """Whether a load with ``demo=True`` marked the store: it holds the demo district, and
        :func:`contact_prefs.demo_data.check_import_target` keeps real records out of it."""

    def dump(self) -> Snapshot:
        """Everything stored."""

    def snapshot(self, spec: BatchSpec, *, progress: Progress = NO_PROGRESS) -> Snapshot:
        """What ``spec`` needs: planning it gives the same change set as planning everything stored.

        ``progress`` (optional) hears how far the reading got, in coarse steps."""

    def commit(
        self,
        changeset: ChangeSet,
        *,
        actor: str,
        proposal_id: str | None = None,
        schedule_id: str | None = None,
        progress: Progress = NO_PROGRESS,
    ) -> Receipt:
        """Write every change or none, compare-and-set per point; raises ``ConflictError``.

        With ``proposal_id``, the batch applies that proposal: in the same transaction the store
        reads it, refuses unless :func:`contact_prefs.proposals.check_application` allows it at the
        commit's time, records the batch with :func:`~contact_prefs.proposals.approval_of` and the
        proposal as :func:`~contact_prefs.proposals.applied_proposal`; raises ``UnknownProposalError``
        or ``ProposalError``.  With ``schedule_id``, the batch is the start of that schedule: in the
        same transaction the store reads it, refuses unless :func:`contact_prefs.schedules.check_start`
        allows it (so two daily jobs at once start it once), records the batch naming the schedule and
        the schedule as :func:`~contact_prefs.schedules.started_schedule`; raises
        ``UnknownScheduleError`` or ``ScheduleError``.  Every commit appends its chain links
        (:mod:`contact_prefs.chain`) in its transaction.  ``progress`` (optional) hears how many
        changes were written, in coarse steps, from inside that one transaction: it never splits a
        commit, and it finishes whether the commit succeeds, conflicts or fails.
        """

    def history(self) -> tuple[BatchRecord, ...]:
        """Every commit and undo, newest first."""

    def batches(self, *, limit: int | None = None) -> tuple[BatchSummary, ...]:
        """The newest ``limit`` entries of the history (all of them for ``None``), newest first,
        without their changes: in time that grows with the entries listed, not with their changes."""

    def undo(self, batch_id: str, *, actor: str) -> Receipt:
        """Restore every point ``batch_id`` touched, if each is still as the batch left it.

        Where consent has been withdrawn, reasons the batch switched off stay off
        (:func:`contact_prefs.rules.restore_within_consent`).
        """

    def revert(self, batch_id: str, *, actor: str, schedule_id: str) -> Receipt:
        """End schedule ``schedule_id`` by reverting ``batch_id``, the batch that started it: a partial undo.

        In one transaction the store reads the schedule, refuses unless
        :func:`contact_prefs.schedules.check_end` and :func:`contact_prefs.rules.check_undoable`
        allow it, and writes what :func:`contact_prefs.writes.revert_writes` decides: every point
        still as the batch left it goes back within consent, the others are left alone.  The revert
        is recorded as an undo of ``batch_id`` (which it marks ``undone_by``) naming the schedule and
        the left-alone counts, and the schedule as :func:`~contact_prefs.schedules.ended_schedule`.
        Never a conflict.  Raises ``UnknownScheduleError``, ``UnknownBatchError`` or ``ContactPrefsError``.
        """

    def save_schedule(self, schedule: Schedule) -> None:
        """Record a new schedule (its id must be new, else ``ScheduleError``) and its chain link, in one
        transaction."""

    def schedules(self) -> tuple[Schedule, ...]:
        """Every schedule, in the order they were saved, as it stands (started, reverted, cancelled)."""

    def cancel_schedule(self, schedule_id: str, *, actor: str, at: datetime.datetime) -> Schedule:
        """Record the cancellation as :func:`contact_prefs.schedules.cancelled_schedule` decides, with its
        chain link, in one transaction; the cancelled schedule.  Nothing is reverted.  Raises
        ``UnknownScheduleError`` or ``ScheduleError``."""

    def record_consent(
        self, events: Sequence[ConsentEvent] = (), *, reviews: Sequence[Review] = (), actor: str
    ) -> None:
        """Append ``events`` to their addresses' ledgers and queue ``reviews``, all or nothing; in the
        same transaction every point holding one of those addresses gets ``revoked`` as
        :func:`contact_prefs.ledger.floors` says."""

    def resolve_review(
        self, review_id: str, *, revoked: bool, actor: str, note: str, at: datetime.datetime
    ) -> Review:
        """Record a reviewer's reading of a waiting message (:func:`contact_prefs.ledger.resolve`), its
        REVOKE event if read as a revocation, and the points' ``revoked`` that follow, in one
        transaction; the resolved review.  Raises ``UnknownReviewError``, or ``ContactPrefsError``
        for a review resolved already."""

    def ledger(self, address: str) -> tuple[ConsentEvent, ...]:
        """Every event of the address key ``address``, in the order they were recorded."""

    def consent_events(self) -> tuple[ConsentEvent, ...]:
        """Every event of every ledger, in the order they were recorded."""

    def reviews(self) -> tuple[Review, ...]:
        """Every queued message, waiting or resolved, in the order they were queued."""

    def holders(self, address: str) -> tuple[tuple[str, Method], ...]:
        """The keys ``(owner_id, method)`` of the points whose address is the key ``address``, sorted."""

    def consent_policy(self) -> ConsentPolicy:
        """The district's consent policy (``ConsentPolicy()`` until one is set)."""

    def set_consent_policy(self, policy: ConsentPolicy, *, actor: str, why: str) -> PolicyChange:
        """Record a new policy (who, when, why) and give every point ``revoked`` as it says, in one transaction."""

    def policy_changes(self) -> tuple[PolicyChange, ...]:
        """Every change of the consent policy, oldest first."""

    def propose(self, proposal: Proposal) -> None:
        """Record a new proposal (its id must be new) and its chain link, in one transaction."""

    def approve(self, proposal_id: str, *, actor: str, at: datetime.datetime) -> Proposal:
        """Record ``actor``'s approval as :func:`contact_prefs.proposals.approve_proposal` decides, with
        its chain link, in one transaction; the approved proposal.  Raises ``UnknownProposalError`` or
        ``ProposalError``."""

    def withdraw(self, proposal_id: str, *, actor: str, at: datetime.datetime) -> Proposal:
        """Record the withdrawal as :func:`contact_prefs.proposals.withdraw_proposal` decides, with its
        chain link, in one transaction; the withdrawn proposal."""

    def proposals(self) -> tuple[Proposal, ...]:
        """Every proposal, in the order proposed, as it stands (approved, withdrawn, applied)."""

    def chain(self) -> tuple[Link, ...]:
        """Every link of the history's chain, in order (see :mod:`contact_prefs.chain`): one per batch,
        consent event, policy change, proposal, approval, withdrawal, application, schedule and
        cancellation, appended in
        the transaction that recorded it."""

    def contents(self) -> StoreContents:
        """Everything stored (records, history oldest first, every consent event in ledger order, the
        review queue, the policy and its changes), read in one consistent snapshot."""

    def receive(self, contents: StoreContents, *, replace: bool = False) -> None:
        """Write ``contents`` as it is (the same batch ids, times, actors, ledger order, review ids and
        policy), all or nothing, in one transaction.  Points' ledger keys are computed as a load
        computes them; their ``revoked`` is kept as given.  A store that holds anything refuses with
        :class:`~contact_prefs.errors.StoreNotEmptyError`, unless ``replace``: then what it held is
        erased in the same transaction."""

    def close(self) -> None:
        """Release the store's resources; closing twice is harmless."""

    def __enter__(self) -> Store: ...

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None: ...


class ClosesOnExit:
    """A store's context manager, for store classes to inherit: ``with`` opens nothing and
    closes the store on leaving, whatever happened inside; errors are never swallowed."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
