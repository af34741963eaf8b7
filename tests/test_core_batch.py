"""run_batch: snapshot, plan, commit, and plan again when a parent got there first."""

from __future__ import annotations

import attrs
import pytest

from contact_prefs import BatchSpec, ConflictError, Reason, Snapshot, Source, Store, open_store, run_batch
from contact_prefs.testing.store import DISTRICT, G1_CELL, SPEC

PORTAL_CHOICES = (Reason.TEACHER, Reason.BEHAVIOR, Reason.PRIORITY)


@attrs.define
class PortalRace:
    """A store where a parent edits a point in the portal right after each of the first ``edits`` snapshots."""

    store: Store
    edits: int
    snapshots: int = 0

    def snapshot(self, spec: BatchSpec) -> Snapshot:
        taken = self.store.snapshot(spec)
        self.snapshots += 1
        if self.snapshots <= self.edits:
            (point,) = [p for p in self.store.dump().contact_points if p.key == G1_CELL.key]
            chosen = PORTAL_CHOICES[self.snapshots - 1]
            edited = attrs.evolve(point, enabled=point.enabled | {chosen}, source=Source.PORTAL)
            self.store.load(Snapshot(contact_points=[edited]))
        return taken

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)


@pytest.fixture
def store() -> Store:
    store = open_store("memory://")
    store.load(DISTRICT)
    return store


def test_a_conflict_is_planned_again_and_the_parents_edit_is_kept(store: Store) -> None:
    race = PortalRace(store, edits=2)
    changeset, receipt = run_batch(race, SPEC, actor="office")  # type: ignore[arg-type]
    assert race.snapshots == 3
    assert receipt is not None and receipt.applied == len(changeset) > 0
    (point,) = [p for p in store.dump().contact_points if p.key == G1_CELL.key]
    assert not G1_CELL.enabled & {Reason.TEACHER, Reason.BEHAVIOR}
    assert {Reason.TEACHER, Reason.BEHAVIOR} <= point.enabled  # both of the parent's choices stayed
    assert len(store.history()) == 1


def test_after_three_conflicts_the_last_one_is_raised_and_nothing_is_written(store: Store) -> None:
    race = PortalRace(store, edits=3)
    with pytest.raises(ConflictError) as raised:
        run_batch(race, SPEC, actor="office")  # type: ignore[arg-type]
    assert race.snapshots == 3
    assert {change.point_key for change in raised.value.conflicts} == {G1_CELL.key}
    assert store.history() == ()


def test_a_dry_run_plans_and_writes_nothing(store: Store) -> None:
    before = store.dump()
    changeset, receipt = run_batch(store, SPEC, actor="office", dry_run=True)
    assert receipt is None and len(changeset) > 0
    assert store.dump() == before and store.history() == ()
