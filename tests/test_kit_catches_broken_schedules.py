"""The schedule contract fails stores that get schedules wrong, and passes the honest memory store.

Each broken store is the memory store with one rule of :mod:`contact_prefs.schedules` or
:func:`contact_prefs.writes.revert_writes` left out, as a backend might forget it.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest

from contact_prefs import ChangeSet, Method, Receipt, Source, Store
from contact_prefs.testing.checks import CheckedStore, RawPoint
from contact_prefs.testing.schedules import ScheduleContract
from contact_prefs_memory import MemoryStore


def memory_row(store: Store, owner_id: str, method: Method) -> RawPoint | None:
    backend = getattr(store, "inner", store)
    assert isinstance(backend, MemoryStore)
    held = backend._records["contact_points"].get((owner_id, method))
    return None if held is None else RawPoint.of(held)


@attrs.define
class RevertsOverEdits(MemoryStore):
    """Reverts every point its batch wrote, whatever happened to it since: a parent's newer choice is lost."""

    def revert(self, batch_id: str, *, actor: str, schedule_id: str) -> Receipt:
        with self._locked():
            _, original = self._find(batch_id)
            for update in ChangeSet(spec=original.spec, basis="", changes=original.changes).updates:
                self._write(update.inverse(), source=update.source_before)
        return super().revert(batch_id, actor=actor, schedule_id=schedule_id)


@attrs.define
class StartsTwice(MemoryStore):
    """Checks nothing about the schedule it commits for: a second daily job applies the batch again."""

    def commit(
        self, changeset: ChangeSet, *, actor: str, proposal_id: str | None = None, schedule_id: str | None = None
    ) -> Receipt:
        receipt = super().commit(changeset, actor=actor, proposal_id=proposal_id)
        if schedule_id is not None:
            with self._locked():
                schedule = self._schedule(schedule_id)
                self._schedules[schedule_id] = attrs.evolve(schedule, start_batch=receipt.batch_id)
        return receipt


@attrs.define
class RevertsAsBatch(MemoryStore):
    """Records the revert as it should, but leaves the points it writes back with source BATCH."""

    def _write(self, update: object, *, source: Source) -> None:
        super()._write(update, source=Source.BATCH)  # type: ignore[arg-type]


CASES: list[tuple[Callable[[], MemoryStore], str]] = [
    (RevertsOverEdits, "test_the_end_leaves_a_parent_edit_alone_and_counts_it"),
    (StartsTwice, "test_a_schedule_starts_once_even_when_asked_twice"),
    (RevertsAsBatch, "test_the_end_reverts_the_batch"),
]


@pytest.mark.parametrize(("broken", "test"), CASES, ids=[test for _, test in CASES])
def test_the_contract_fails_a_broken_store_and_passes_the_honest_one(
    broken: Callable[[], MemoryStore], test: str
) -> None:
    contract = ScheduleContract()
    with CheckedStore(broken(), memory_row) as store, pytest.raises((AssertionError, pytest.fail.Exception)):
        getattr(contract, test)(store)
    with CheckedStore(MemoryStore(), memory_row) as store:
        getattr(contract, test)(store)
