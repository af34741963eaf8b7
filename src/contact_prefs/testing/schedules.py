"""``ScheduleContract``: batches with a start and an end, run by a daily job over simulated days.

Every day is passed in (``run_due(store, today=...)``), never read from a clock.

This module imports pytest and Hypothesis: only tests import it.
"""

from __future__ import annotations

import datetime

import attrs
import pytest

from ..chain import EntryKind
from ..enums import Reason, Source
from ..governance import verify_history
from ..planning import plan
from ..reasons import ReasonSet
from ..schedules import (
    Schedule,
    ScheduleDoneError,
    ScheduleError,
    ScheduleState,
    Step,
    UnknownScheduleError,
    new_schedule,
)
from ..scheduling import run_due, unschedule
from ..snapshot import Snapshot
from ..spec import BatchSpec
from .base import ContractBase
from .checks import CheckedStore
from .district import DAY, DISTRICT, G1_CELL, G1_MAIL, G2_MAIL, H1_PHONE, NOTHING_SAVED, OFF_SPEC, SPEC
from .expected import assert_unchanged, changes_at, point, records

__all__ = ["ScheduleContract"]

STARTS = DAY
ENDS = DAY + datetime.timedelta(days=30)
AT = datetime.datetime(2026, 11, 2, 9, 30, tzinfo=datetime.UTC)
LATER = AT + datetime.timedelta(days=3)
ONE_DAY = datetime.timedelta(days=1)


def summer(spec: BatchSpec = SPEC, *, ends_on: datetime.date | None = ENDS, schedule_id: str = "summer") -> Schedule:
    """A schedule of ``spec`` from :data:`STARTS` to ``ends_on``, made by alice at :data:`AT`."""
    return new_schedule(spec, starts_on=STARTS, ends_on=ends_on, actor="alice", at=AT, schedule_id=schedule_id)


def started(store: CheckedStore, schedule: Schedule | None = None) -> str:
    """Save ``schedule`` (:func:`summer` by default) in a store holding ``DISTRICT``, run its start; its batch id."""
    store.load(DISTRICT)
    store.save_schedule(schedule or summer())
    (ran,) = run_due(store, today=STARTS, actor="job")
    assert ran.receipt is not None, ran.problem
    return ran.receipt.batch_id


class ScheduleContract(ContractBase):
    """``save_schedule``, ``schedules``, ``cancel_schedule``, ``commit(schedule_id=)`` and ``revert``."""

    def test_schedules_are_kept_as_saved_in_order(self, store: CheckedStore) -> None:
        first, second = summer(), summer(OFF_SPEC, ends_on=None, schedule_id="exams")
        store.save_schedule(first)
        store.save_schedule(second)
        assert store.schedules() == (first, second)
        assert [schedule.state for schedule in store.schedules()] == [ScheduleState.PENDING] * 2
        with pytest.raises(ScheduleError, match="exists already"):
            store.save_schedule(attrs.evolve(first, actor="mallory"))
        assert store.schedules() == (first, second)
        assert store.history() == ()

    def test_unknown_schedules_are_refused(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        with pytest.raises(UnknownScheduleError):
            store.cancel_schedule("no-such-schedule", actor="bob", at=AT)
        with pytest.raises(UnknownScheduleError):
            store.commit(plan(SPEC, store.snapshot(SPEC)), actor="job", schedule_id="no-such-schedule")
        done = store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff")
        before, history = store.dump(), store.history()
        with pytest.raises(UnknownScheduleError):
            store.revert(done.batch_id, actor="job", schedule_id="no-such-schedule")
        assert_unchanged(store, before, history)

    def test_nothing_is_due_before_the_start(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        store.save_schedule(summer())
        assert run_due(store, today=STARTS - ONE_DAY, actor="job") == ()
        assert store.history() == ()
        assert records(store.dump()) == records(DISTRICT)

    def test_the_start_applies_the_batch_naming_its_schedule(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        store.save_schedule(summer())
        expected = plan(SPEC, store.snapshot(SPEC))  # SPEC is planned for STARTS
        (ran,) = run_due(store, today=STARTS, actor="job")
        assert (ran.schedule_id, ran.step, ran.day, ran.failed) == ("summer", Step.START, STARTS, False)
        assert ran.receipt is not None
        assert (ran.receipt.schedule_id, ran.receipt.applied) == ("summer", len(expected))
        (record,) = store.history()
        assert (record.batch_id, record.actor, record.schedule_id) == (ran.receipt.batch_id, "job", "summer")
        assert (record.spec, record.changes, record.undoes) == (SPEC, expected.changes, None)
        assert store.batches()[0].schedule_id == "summer"
        assert records(store.dump()) == records(expected.apply_to(DISTRICT))
        (schedule,) = store.schedules()
        assert (schedule.start_batch, schedule.end_batch) == (ran.receipt.batch_id, None)
        assert schedule.state is ScheduleState.ACTIVE

    def test_the_start_plans_for_its_day(self, store: CheckedStore) -> None:
        later = attrs.evolve(summer(), starts_on=STARTS + ONE_DAY, spec=attrs.evolve(SPEC, as_of=DAY - ONE_DAY))
        store.load(DISTRICT)
        store.save_schedule(later)
        (ran,) = run_due(store, today=ENDS - ONE_DAY, actor="job")
        assert ran.day == STARTS + ONE_DAY
        assert store.history()[0].spec == attrs.evolve(SPEC, as_of=STARTS + ONE_DAY)

    def test_a_schedule_starts_once_even_when_asked_twice(self, store: CheckedStore) -> None:
        started(store)
        before, history = store.dump(), store.history()
        again = plan(IDLE_TEACHER, store.snapshot(IDLE_TEACHER))
        assert again  # a batch that would write something, refused all the same
        with pytest.raises(ScheduleDoneError, match="started already"):
            store.commit(again, actor="job", schedule_id="summer")
        assert_unchanged(store, before, history)

    def test_running_due_twice_on_a_day_does_nothing_the_second_time(self, store: CheckedStore) -> None:
        started(store)
        assert run_due(store, today=STARTS, actor="job") == ()
        assert run_due(store, today=ENDS - ONE_DAY, actor="job") == ()
        (ended,) = run_due(store, today=ENDS, actor="job")
        assert ended.step is Step.END and ended.receipt is not None
        before, history = store.dump(), store.history()
        assert run_due(store, today=ENDS, actor="job") == ()
        assert run_due(store, today=ENDS + 40 * ONE_DAY, actor="job") == ()
        assert_unchanged(store, before, history)
        assert len(history) == 2

    def test_the_end_reverts_the_batch(self, store: CheckedStore) -> None:
        start = started(store)
        (ran,) = run_due(store, today=ENDS, actor="job")
        assert ran.receipt is not None
        assert (ran.step, ran.day, ran.receipt.undoes, ran.receipt.left_alone) == (Step.END, ENDS, start, {})
        assert records(store.dump()) == records(DISTRICT)
        revert, original = store.history()
        assert (revert.undoes, revert.schedule_id, revert.left_alone) == (start, "summer", {})
        assert revert.changes == plan(SPEC, DISTRICT).inverse().changes
        assert (original.undone_by, original.schedule_id) == (revert.batch_id, "summer")
        (schedule,) = store.schedules()
        assert (schedule.start_batch, schedule.end_batch, schedule.state) == (
            start,
            revert.batch_id,
            ScheduleState.FINISHED,
        )
        with pytest.raises(ScheduleDoneError, match="reverted already"):
            store.revert(start, actor="job", schedule_id="summer")

    def test_the_end_leaves_a_parent_edit_alone_and_counts_it(self, store: CheckedStore) -> None:
        start = started(store)
        applied = plan(SPEC, DISTRICT)
        # A parent switches Teacher on at g1's e-mail in the portal, between the start and the end.
        written = point(store.dump(), G1_MAIL)
        edited = attrs.evolve(written, enabled=written.enabled | {Reason.TEACHER}, source=Source.PORTAL)
        store.load(Snapshot(contact_points=[edited]))
        (ran,) = run_due(store, today=ENDS, actor="job")
        assert ran.receipt is not None and not ran.failed
        kept = {change.reason: 1 for change in changes_at(applied, G1_MAIL)}
        assert kept == {Reason.ATTENDANCE: 1}
        assert point(store.dump(), G1_MAIL) == edited  # the parent's choice stands
        assert records(store.dump()) == records(
            attrs.evolve(DISTRICT, contact_points=[G1_CELL, edited, G2_MAIL, H1_PHONE, NOTHING_SAVED])
        )
        revert = store.history()[0]
        assert ran.receipt.left_alone == revert.left_alone == store.schedules()[0].left_alone == kept
        assert store.batches()[0].left_alone == kept
        reverted = [change for change in applied.inverse().changes if change.point_key != G1_MAIL.key]
        assert (revert.changes, revert.undoes) == (tuple(reverted), start)

    def test_the_end_respects_a_revocation_made_since(self, store: CheckedStore) -> None:
        started(store)
        written = point(store.dump(), G2_MAIL)
        assert written.enabled == ReasonSet({Reason.EMERGENCY, Reason.ATTENDANCE})  # and General switched off
        store.load(Snapshot(contact_points=[attrs.evolve(written, revoked=True)]))
        (ran,) = run_due(store, today=ENDS, actor="job")
        assert ran.receipt is not None
        # Attendance goes off again; General, whose consent is withdrawn now, stays off.
        held = attrs.evolve(G2_MAIL, enabled={Reason.EMERGENCY}, revoked=True)
        assert records(store.dump()) == records(
            attrs.evolve(DISTRICT, contact_points=[G1_CELL, G1_MAIL, held, H1_PHONE, NOTHING_SAVED])
        )
        general = [change for change in store.history()[0].changes if change.reason is Reason.GENERAL]
        assert general == []
        assert ran.receipt.left_alone == {}

    def test_missed_days_are_caught_up_in_date_order(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        exams = attrs.evolve(summer(OFF_SPEC, ends_on=None, schedule_id="exams"), starts_on=STARTS + 10 * ONE_DAY)
        store.save_schedule(summer())
        store.save_schedule(exams)
        ran = run_due(store, today=ENDS + 3 * ONE_DAY, actor="job")
        assert [(r.schedule_id, r.step, r.day, r.failed) for r in ran] == [
            ("summer", Step.START, STARTS, False),
            ("exams", Step.START, STARTS + 10 * ONE_DAY, False),
            ("summer", Step.END, ENDS, False),
        ]
        oldest_first = list(reversed(store.history()))
        assert [r.receipt.batch_id for r in ran if r.receipt] == [record.batch_id for record in oldest_first]
        assert [record.schedule_id for record in oldest_first] == ["summer", "exams", "summer"]
        assert [schedule.state for schedule in store.schedules()] == [ScheduleState.FINISHED] * 2
        assert run_due(store, today=ENDS + 3 * ONE_DAY, actor="job") == ()

    def test_an_empty_start_is_recorded_so_that_it_runs_once(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        store.save_schedule(summer(IDLE_TEACHER_OFF))
        (ran,) = run_due(store, today=STARTS, actor="job")
        assert ran.receipt is not None and ran.receipt.applied == 0
        assert store.schedules()[0].start_batch == ran.receipt.batch_id
        assert run_due(store, today=STARTS, actor="job") == ()

    def test_a_schedule_cancelled_before_its_start_never_runs(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        store.save_schedule(summer())
        cancelled = store.cancel_schedule("summer", actor="bob", at=LATER)
        assert (cancelled.cancelled_by, cancelled.cancelled_at) == ("bob", LATER)
        assert cancelled.state is ScheduleState.CANCELLED
        assert store.schedules() == (cancelled,)
        with pytest.raises(ScheduleError, match="cancelled already"):
            store.cancel_schedule("summer", actor="carol", at=LATER)
        with pytest.raises(ScheduleError, match="cancelled"):
            store.commit(plan(SPEC, store.snapshot(SPEC)), actor="job", schedule_id="summer")
        assert run_due(store, today=ENDS, actor="job") == ()
        assert store.history() == ()
        assert records(store.dump()) == records(DISTRICT)

    def test_cancelling_after_the_start_keeps_the_batch(self, store: CheckedStore) -> None:
        start = started(store)
        applied = store.dump()
        cancelled, receipt = unschedule(store, "summer", actor="bob", at=LATER)
        assert receipt is None
        assert (cancelled.state, cancelled.start_batch, cancelled.end_batch) == (ScheduleState.CANCELLED, start, None)
        assert run_due(store, today=ENDS, actor="job") == ()
        assert records(store.dump()) == records(applied)
        assert len(store.history()) == 1

    def test_cancelling_after_the_start_with_a_revert(self, store: CheckedStore) -> None:
        start = started(store)
        cancelled, receipt = unschedule(store, "summer", actor="bob", at=LATER, revert=True)
        assert receipt is not None and receipt.undoes == start and receipt.schedule_id == "summer"
        assert (cancelled.state, cancelled.end_batch) == (ScheduleState.CANCELLED, receipt.batch_id)
        assert records(store.dump()) == records(DISTRICT)
        assert run_due(store, today=ENDS, actor="job") == ()
        assert [record.batch_id for record in store.history()] == [receipt.batch_id, start]

    def test_scheduling_and_cancelling_are_chained(self, store: CheckedStore) -> None:
        started(store)
        store.save_schedule(summer(schedule_id="winter"))
        store.cancel_schedule("winter", actor="bob", at=LATER)
        kinds = [(link.kind, link.key) for link in store.chain()]
        start = store.history()[0].batch_id
        assert kinds == [
            (EntryKind.SCHEDULE, "summer"),
            (EntryKind.BATCH, start),
            (EntryKind.SCHEDULE, "winter"),
            (EntryKind.CANCELLATION, "winter"),
        ]
        report = verify_history(store)
        assert report.intact, report.problem


IDLE_TEACHER = BatchSpec(mode="student_messenger_contacts", settings={Reason.TEACHER: "on"}, as_of=DAY)
"""Teacher on for every guardian: a batch that writes after :data:`~.district.SPEC` too."""

IDLE_TEACHER_OFF = BatchSpec(mode="students", settings={Reason.TEACHER: "off"}, as_of=DAY)
"""Teacher off for the students: nobody has it on in ``DISTRICT``, so it plans nothing."""
