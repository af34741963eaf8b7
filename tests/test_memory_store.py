"""The memory store runs the conformance kit exactly as a third-party backend would."""

from __future__ import annotations

import sys
import threading

import pytest
from hypothesis import settings

from contact_prefs import (
    BatchSpec,
    ChangeSet,
    ConflictError,
    ContactPoint,
    Enrollment,
    Method,
    Mode,
    Person,
    Reason,
    ReasonSet,
    Receipt,
    Setting,
    Snapshot,
    Store,
    StoreError,
    open_store,
    plan,
)
from contact_prefs.testing.checks import RawPoint, RawPointReader
from contact_prefs.testing.profiles import examples
from contact_prefs.testing.stateful import StoreStateMachine
from contact_prefs.testing.store import StoreContract, StoreFactory
from contact_prefs.testing.strategies import DAY
from contact_prefs_memory import MemoryStore


def stored_point(store: Store, owner_id: str, method: Method) -> RawPoint | None:
    """The kit's side channel: the point as the memory store's own dict holds it, not as dump() gives it.

    The memory store keeps the records themselves, so their documented row is what it stores.
    """
    backend = getattr(store, "inner", store)  # open_store wraps the backend to announce its commits
    assert isinstance(backend, MemoryStore)
    held = backend._records["contact_points"].get((owner_id, method))
    return None if held is None else RawPoint.of(held)


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def new_store(self) -> StoreFactory:
        return lambda: open_store("memory://")

    @pytest.fixture
    def raw_point(self) -> RawPointReader:
        return stored_point


@settings(max_examples=examples(25), stateful_step_count=15, deadline=None)
class MemoryMachine(StoreStateMachine):
    """Memory against memory: a check of the kit itself, and of the memory store's determinism."""

    def make_store(self) -> Store:
        return open_store("memory://")


TestMemoryMachine = MemoryMachine.TestCase


# -- memory-specific --------------------------------------------------------

STUDENTS = [f"s{n:02}" for n in range(64)]
ROSTER = Snapshot(
    persons=[Person(id=student) for student in STUDENTS],
    enrollments=[Enrollment(student_id=student, school_id="north", calendar_id="north:2026") for student in STUDENTS],
    contact_points=[ContactPoint(owner_id=student, method=Method.EMAIL, address="a@b.example") for student in STUDENTS],
)


def attendance_on(students: list[str]) -> BatchSpec:
    return BatchSpec(mode=Mode.STUDENTS, settings={Reason.ATTENDANCE: Setting.ON}, filter_ids=students, as_of=DAY)


def commit_together(store: Store, changesets: list[ChangeSet]) -> list[Receipt | ConflictError]:
    """Commit every change set from its own thread, all released at once."""
    start = threading.Barrier(len(changesets))
    outcomes: list[Receipt | ConflictError] = [ConflictError(())] * len(changesets)

    def commit(index: int) -> None:
        start.wait()
        try:
            outcomes[index] = store.commit(changesets[index], actor=f"thread {index}")
        except ConflictError as error:
            outcomes[index] = error

    threads = [threading.Thread(target=commit, args=(index,)) for index in range(len(changesets))]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, so that races show
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    return outcomes


def test_threads_committing_different_points_all_succeed() -> None:
    groups = [STUDENTS[n : n + 8] for n in range(0, len(STUDENTS), 8)]
    for _ in range(5):
        store = MemoryStore()
        store.load(ROSTER)
        changesets = [plan(attendance_on(group), store.snapshot(attendance_on(group))) for group in groups]
        outcomes = commit_together(store, changesets)
        assert all(isinstance(outcome, Receipt) for outcome in outcomes)
        assert {point.enabled for point in store.dump().contact_points} == {ReasonSet({Reason.ATTENDANCE})}
        assert len({record.batch_id for record in store.history()}) == len(groups)


def test_threads_committing_one_plan_conflict_but_one() -> None:
    spec = attendance_on(STUDENTS)
    for _ in range(20):  # a race shows only now and then: give it many chances
        store = MemoryStore()
        store.load(ROSTER)
        changesets = [plan(spec, store.snapshot(spec)) for _ in range(8)]
        outcomes = commit_together(store, changesets)
        assert len([outcome for outcome in outcomes if isinstance(outcome, Receipt)]) == 1
        assert len(store.history()) == 1
        for outcome in outcomes:
            if isinstance(outcome, ConflictError):
                assert len(outcome.conflicts) == len(STUDENTS)


def test_a_closed_store_refuses_to_work() -> None:
    store = MemoryStore()
    store.close()
    for use in (store.dump, store.history, lambda: store.load(ROSTER)):
        with pytest.raises(StoreError, match="closed"):
            use()


def test_repr_is_short() -> None:
    store = MemoryStore()
    store.load(ROSTER)
    assert len(repr(store)) < 100
