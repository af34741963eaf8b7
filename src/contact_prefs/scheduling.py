"""Schedules through a store: the steps the command line and a daily job take, for programs that embed the library.

Every rule is the core's (:mod:`contact_prefs.schedules`, :mod:`contact_prefs.writes`);
this module only reads the store, plans, and hands the store what to record.
Days and times are passed in (``today``, ``at``), so a program and its tests own the clock.
"""

from __future__ import annotations

import datetime

import attrs

from .approval import ApprovalPolicy, approval_needed
from .batch import TRIES
from .batch_ids import find_by_prefix
from .changes import ChangeSet
from .errors import ConflictError, ContactPrefsError
from .identifiers import check_actor
from .planning import plan
from .privacy import shown
from .proposals import Proposal, ProposalError, approval_for, new_proposal, why_unapproved
from .rules import check_undoable
from .schedules import (
    Due,
    Schedule,
    ScheduleDoneError,
    ScheduleError,
    ScheduleState,
    Step,
    UnknownScheduleError,
    check_start,
    due,
    new_schedule,
    spec_on,
)
from .spec import BatchSpec
from .store import Receipt, Store, commit_options

__all__ = ["Ran", "find_schedule", "propose_start", "run_due", "schedule", "unschedule"]


def schedule(
    store: Store,
    spec: BatchSpec,
    *,
    starts_on: datetime.date,
    ends_on: datetime.date | None = None,
    actor: str,
    at: datetime.datetime,
    schedule_id: str | None = None,
) -> tuple[Schedule, ChangeSet]:
    """Record a schedule of ``spec`` by ``actor``, and the plan of ``spec`` as the district is now
    (planned for ``spec.as_of``: the caller chooses the day shown); nothing else is written."""
    check_actor(actor)
    made = new_schedule(spec, starts_on=starts_on, ends_on=ends_on, actor=actor, at=at, schedule_id=schedule_id)
    preview = plan(spec, store.snapshot(spec))
    store.save_schedule(made)
    return made, preview


def propose_start(
    store: Store, schedule_id: str, *, actor: str, at: datetime.datetime, policy: ApprovalPolicy
) -> tuple[Proposal, ChangeSet]:
    """Record a proposal by ``actor`` of the batch a pending schedule's start runs (its spec for its
    start day, planned against the district as it is now), for a second person to approve before
    the start day; it lasts until ``policy.expires_after`` past the start day.

    A start that needs approval runs only once such a proposal is approved and the district has not
    moved since (:func:`run_due`); when it has, this makes the fresh proposal to approve.
    """
    check_actor(actor)
    found = find_schedule(store, schedule_id)
    check_start(found)  # only a start still to come has a batch to approve
    spec = spec_on(found.spec, found.starts_on)
    change_set = plan(spec, store.snapshot(spec))
    start = datetime.datetime.combine(found.starts_on, datetime.time(), datetime.UTC)
    expires_at = max(start, at) + policy.expires_after
    proposal = new_proposal(change_set, proposer=actor, at=at, policy=policy, expires_at=expires_at)
    store.propose(proposal)
    return proposal, change_set


def find_schedule(store: Store, schedule_id: str) -> Schedule:
    """The schedule whose id is ``schedule_id``, or starts with it (at least 4 characters, unique)."""
    return find_by_prefix(
        store.schedules(),
        schedule_id,
        id_of=lambda found: found.schedule_id,
        kind="schedule",
        ambiguous=ScheduleError,
        unknown=UnknownScheduleError(f"no schedule {shown(schedule_id)} in this store"),
    )


@attrs.frozen(kw_only=True)
class Ran:
    """What a daily run did about one due step: the batch it recorded (``receipt``), or that another
    run had done it already (``done_already``), or why it failed (``problem``; nothing was written),
    or why it waits for a second person's approval (``waiting``; nothing was written, and the next
    run tries again)."""

    schedule_id: str
    step: Step
    day: datetime.date
    receipt: Receipt | None = None
    done_already: bool = False
    problem: str | None = None
    waiting: str | None = None

    @property
    def failed(self) -> bool:
        return self.problem is not None

    @property
    def waits(self) -> bool:
        return self.waiting is not None


def run_due(
    store: Store,
    *,
    today: datetime.date,
    actor: str,
    approval: ApprovalPolicy | None = None,
    at: datetime.datetime | None = None,
) -> tuple[Ran, ...]:
    """Apply every start and end due by ``today`` and not done, in date order (:func:`~contact_prefs.schedules.due`).

    A start plans its batch for its day against the district as it is now and
    commits it naming the schedule, planning again after a conflict as
    :func:`~contact_prefs.run_batch` does.  Under an ``approval`` policy a batch
    that needs a second person is applied only through the proposal of exactly
    that batch that approves it at ``at`` (:func:`~contact_prefs.proposals.approval_for`;
    ``at`` defaults to midnight UTC at the start of ``today``), naming the
    proposal and the schedule; without one the start, and an end due with it,
    are reported ``waiting`` (:func:`~contact_prefs.proposals.why_unapproved`).
    An end reverts the batch that started the schedule (never a conflict).
    Idempotent: a step another run did meanwhile is reported ``done_already``,
    and a second run on a day finds nothing due.  A failed step stops only its
    own schedule; the others go on.
    """
    check_actor(actor)
    when = at or datetime.datetime.combine(today, datetime.time(), datetime.UTC)
    failed: set[str] = set()
    waiting: set[str] = set()
    results: list[Ran] = []
    for item in due(store.schedules(), today):
        schedule_id = item.schedule.schedule_id
        if item.step is Step.START:
            ran = _start(store, item, actor=actor, approval=approval, at=when)
        elif schedule_id in failed:
            ran = Ran(schedule_id=schedule_id, step=item.step, day=item.day, problem="its start did not run")
        elif schedule_id in waiting:
            ran = Ran(schedule_id=schedule_id, step=item.step, day=item.day, waiting="its start waits for approval")
        else:
            ran = _end(store, item, actor=actor)
        if ran.failed:
            failed.add(schedule_id)
        if ran.waits:
            waiting.add(schedule_id)
        results.append(ran)
    return tuple(results)


def _start(store: Store, item: Due, *, actor: str, approval: ApprovalPolicy | None, at: datetime.datetime) -> Ran:
    schedule_id = item.schedule.schedule_id
    spec = spec_on(item.schedule.spec, item.day)
    for attempt in range(1, TRIES + 1):
        try:
            change_set = plan(spec, store.snapshot(spec))
            proposal_id = None
            if approval is not None and approval_needed(approval, change_set) is not None:
                proposals = store.proposals()
                approving = approval_for(proposals, change_set, at=at)
                if approving is None:
                    why = why_unapproved(proposals, change_set, at=at)
                    return Ran(schedule_id=schedule_id, step=item.step, day=item.day, waiting=why)
                proposal_id = approving.proposal_id
            options = commit_options(proposal_id=proposal_id, schedule_id=schedule_id)
            receipt = store.commit(change_set, actor=actor, **options)
        except ConflictError as error:
            if attempt < TRIES:
                continue
            problem = f"planned {TRIES} times, and {error}"
        except ScheduleDoneError:
            return Ran(schedule_id=schedule_id, step=item.step, day=item.day, done_already=True)
        except ProposalError as error:
            # Another run may have started it with this proposal meanwhile: the proposal is applied then.
            if find_schedule(store, schedule_id).start_batch is not None:
                return Ran(schedule_id=schedule_id, step=item.step, day=item.day, done_already=True)
            problem = str(error)
        except ContactPrefsError as error:
            problem = str(error)
        else:
            return Ran(schedule_id=schedule_id, step=item.step, day=item.day, receipt=receipt)
        return Ran(schedule_id=schedule_id, step=item.step, day=item.day, problem=problem)
    raise AssertionError("unreachable")


def _end(store: Store, item: Due, *, actor: str) -> Ran:
    schedule_id = item.schedule.schedule_id
    try:
        # Read again: its start may have run in this run, or in another.
        started = find_schedule(store, schedule_id).start_batch
        if started is None:
            raise ScheduleError(f"schedule {schedule_id} has not started: there is nothing to revert")
        receipt = store.revert(started, actor=actor, schedule_id=schedule_id)
    except ScheduleDoneError:
        return Ran(schedule_id=schedule_id, step=item.step, day=item.day, done_already=True)
    except ContactPrefsError as error:
        return Ran(schedule_id=schedule_id, step=item.step, day=item.day, problem=str(error))
    return Ran(schedule_id=schedule_id, step=item.step, day=item.day, receipt=receipt)


def unschedule(
    store: Store, schedule_id: str, *, actor: str, at: datetime.datetime, revert: bool = False
) -> tuple[Schedule, Receipt | None]:
    """Cancel a schedule (an id or a unique beginning of it); with ``revert``, also revert the batch that
    started it, as its end day would.  Without ``revert`` nothing the schedule applied is taken back.

    The schedule as it stands afterwards, and the revert's receipt (``None`` when nothing was reverted).
    """
    check_actor(actor)
    found = find_schedule(store, schedule_id)
    if found.state is ScheduleState.FINISHED and found.end_batch is None and found.start_batch is not None:
        raise ScheduleError(
            f"schedule {found.schedule_id} has no end and is finished: undo batch {found.start_batch} to take it back"
        )
    to_revert = found.start_batch if revert and found.end_batch is None else None
    if to_revert is not None:  # refuse before cancelling what could not then be reverted
        (record,) = [summary for summary in store.batches() if summary.batch_id == to_revert]
        check_undoable(to_revert, undoes=record.undoes, undone_by=record.undone_by)
    store.cancel_schedule(found.schedule_id, actor=actor, at=at)
    receipt = None
    if to_revert is not None:
        receipt = store.revert(to_revert, actor=actor, schedule_id=found.schedule_id)
    return find_schedule(store, found.schedule_id), receipt
