"""Ctrl-C and the commit point: an interrupt either stops a command before it writes, or lets it finish.

A command that writes (``apply``, ``undo``, ``import``, ``demo``, ``restore``, ``copy``, ``schedule``,
``run-due``...) passes its
commit point when its first write to the store begins.  Before that, Ctrl-C
stops it at once and nothing is written.  From then on, Ctrl-C is only
recorded: the write completes, the command prints its result (the receipt of
what was written) and exits 0, and then says that the interrupt came too late
to stop it.  A command must never report "interrupted" about a batch that is
in the history.

The command wraps its store in :class:`HeldStore` inside
``with commit_point() as point:``, whose block ends once the result is printed.
"""

from __future__ import annotations

import datetime
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Any, TypeVar

import attrs

from .chain import Link
from .changes import ChangeSet
from .consent import ConsentEvent, ConsentPolicy, Review
from .contents import StoreContents
from .enums import Method
from .ledger import LoadReport, PolicyChange
from .progress import NO_PROGRESS, Progress
from .proposals import Proposal
from .schedules import Schedule
from .snapshot import Snapshot
from .spec import BatchSpec
from .store import BatchRecord, BatchSummary, ClosesOnExit, Receipt, Store, commit_options, progress_option

T = TypeVar("T")


@attrs.define
class CommitPoint:
    """Whether a command has reached its commit point, and whether Ctrl-C came after it."""

    interrupted: bool = False
    """Ctrl-C came after the commit point (and was held back)."""
    written: bool = False
    """A write has completed: the command is past its commit point for good."""
    _previous: Any = None
    _holding: bool = False

    def reached(self) -> None:
        """A write begins: from now on, hold Ctrl-C back instead of raising ``KeyboardInterrupt``."""
        # Python delivers signals to the main thread only; elsewhere there is nothing to hold.
        if not self._holding and threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._hold)
            self._holding = True

    def failed(self) -> None:
        """The write raised, so nothing was written by it: unless an earlier write completed,
        the command is before its commit point again, and an interrupt held meanwhile is raised now."""
        if self.written:
            return
        self.release()
        if self.interrupted:
            self.interrupted = False
            raise KeyboardInterrupt

    def release(self) -> None:
        """Deliver Ctrl-C as before (the result is out, or nothing was written)."""
        if self._holding:
            signal.signal(signal.SIGINT, self._previous)
            self._holding = False

    def _hold(self, signum: int, frame: FrameType | None) -> None:
        self.interrupted = True


@contextmanager
def commit_point() -> Iterator[CommitPoint]:
    """A :class:`CommitPoint` for the block, released when the block ends."""
    point = CommitPoint()
    try:
        yield point
    finally:
        point.release()


@attrs.define
class HeldStore(ClosesOnExit):
    """``inner``, whose writes (``load``, ``commit``, ``undo`` and the consent writes) reach ``point`` first."""

    inner: Store
    point: CommitPoint

    def _write(self, write: Callable[[], T]) -> T:
        self.point.reached()
        try:
            result = write()
        except BaseException:
            self.point.failed()
            raise
        self.point.written = True
        return result

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
        return self._write(
            lambda: self.inner.load(
                snapshot,
                remove=remove,
                keep_preferences=keep_preferences,
                actor=actor,
                demo=demo,
                **progress_option(progress, self.inner.load),
            )
        )

    def holds_demo(self) -> bool:
        return self.inner.holds_demo()

    def commit(
        self,
        changeset: ChangeSet,
        *,
        actor: str,
        proposal_id: str | None = None,
        schedule_id: str | None = None,
        progress: Progress = NO_PROGRESS,
    ) -> Receipt:
        options = commit_options(proposal_id=proposal_id, schedule_id=schedule_id)
        reported = progress_option(progress, self.inner.commit)
        return self._write(lambda: self.inner.commit(changeset, actor=actor, **options, **reported))

    def revert(self, batch_id: str, *, actor: str, schedule_id: str) -> Receipt:
        return self._write(lambda: self.inner.revert(batch_id, actor=actor, schedule_id=schedule_id))

    def save_schedule(self, schedule: Schedule) -> None:
        self._write(lambda: self.inner.save_schedule(schedule))

    def cancel_schedule(self, schedule_id: str, *, actor: str, at: datetime.datetime) -> Schedule:
        return self._write(lambda: self.inner.cancel_schedule(schedule_id, actor=actor, at=at))

    def schedules(self) -> tuple[Schedule, ...]:
        return self.inner.schedules()

    def undo(self, batch_id: str, *, actor: str) -> Receipt:
        return self._write(lambda: self.inner.undo(batch_id, actor=actor))

    def record_consent(
        self, events: Sequence[ConsentEvent] = (), *, reviews: Sequence[Review] = (), actor: str
    ) -> None:
        self._write(lambda: self.inner.record_consent(events, reviews=reviews, actor=actor))

    def resolve_review(
        self, review_id: str, *, revoked: bool, actor: str, note: str, at: datetime.datetime
    ) -> Review:
        return self._write(
            lambda: self.inner.resolve_review(review_id, revoked=revoked, actor=actor, note=note, at=at)
        )

    def set_consent_policy(self, policy: ConsentPolicy, *, actor: str, why: str) -> PolicyChange:
        return self._write(lambda: self.inner.set_consent_policy(policy, actor=actor, why=why))

    def propose(self, proposal: Proposal) -> None:
        self._write(lambda: self.inner.propose(proposal))

    def approve(self, proposal_id: str, *, actor: str, at: datetime.datetime) -> Proposal:
        return self._write(lambda: self.inner.approve(proposal_id, actor=actor, at=at))

    def withdraw(self, proposal_id: str, *, actor: str, at: datetime.datetime) -> Proposal:
        return self._write(lambda: self.inner.withdraw(proposal_id, actor=actor, at=at))

    def proposals(self) -> tuple[Proposal, ...]:
        return self.inner.proposals()

    def chain(self) -> tuple[Link, ...]:
        return self.inner.chain()

    def receive(self, contents: StoreContents, *, replace: bool = False) -> None:
        self._write(lambda: self.inner.receive(contents, replace=replace))

    def contents(self) -> StoreContents:
        return self.inner.contents()

    def ledger(self, address: str) -> tuple[ConsentEvent, ...]:
        return self.inner.ledger(address)

    def consent_events(self) -> tuple[ConsentEvent, ...]:
        return self.inner.consent_events()

    def reviews(self) -> tuple[Review, ...]:
        return self.inner.reviews()

    def holders(self, address: str) -> tuple[tuple[str, Method], ...]:
        return self.inner.holders(address)

    def consent_policy(self) -> ConsentPolicy:
        return self.inner.consent_policy()

    def policy_changes(self) -> tuple[PolicyChange, ...]:
        return self.inner.policy_changes()

    def dump(self) -> Snapshot:
        return self.inner.dump()

    def snapshot(self, spec: BatchSpec, *, progress: Progress = NO_PROGRESS) -> Snapshot:
        return self.inner.snapshot(spec, **progress_option(progress, self.inner.snapshot))

    def history(self) -> tuple[BatchRecord, ...]:
        return self.inner.history()

    def batches(self, *, limit: int | None = None) -> tuple[BatchSummary, ...]:
        return self.inner.batches(limit=limit)

    def close(self) -> None:
        self.inner.close()
