"""``StoreStateMachine``: random sequences of store operations, checked against the memory store.

A backend subclasses the machine, says how to open its store, and exposes
the machine's ``TestCase`` to pytest::

    from hypothesis import settings
    from contact_prefs import open_store
    from contact_prefs.testing.profiles import examples
    from contact_prefs.testing.stateful import StoreStateMachine

    @settings(max_examples=examples(25), stateful_step_count=15, deadline=None)
    class MyStoreMachine(StoreStateMachine):
        def make_store(self):
            return open_store("mine://")

    TestMyStoreMachine = MyStoreMachine.TestCase

This module imports Hypothesis: only tests import it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import attrs
from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, precondition, rule

from contact_prefs_memory import MemoryStore

from ..batch import run_batch
from ..changes import ChangeSet
from ..enums import Method, Source
from ..errors import ConflictError, ContactPrefsError
from ..planning import plan
from ..records import ContactPoint
from ..snapshot import Snapshot, merge
from ..spec import BatchSpec
from ..store import BatchRecord, Receipt, Store
from . import strategies
from .district import SPECS
from .expected import records

__all__ = ["StoreStateMachine"]

ACTORS = st.sampled_from(["alice", "bob", "O'Brien"])


@attrs.frozen
class Planned:
    """One spec planned on both stores at one moment; committed later, perhaps when stale."""

    tested: ChangeSet
    reference: ChangeSet


@attrs.frozen
class Batch:
    """One history record's id in each store."""

    tested: str
    reference: str


def _point_order(point: ContactPoint) -> tuple[str, str]:
    return (point.owner_id, point.method.value)


def _key(key: tuple[str, Method]) -> str:
    """A point's key for a note: ids and methods only, never an address."""
    return f"{key[1].value} of {key[0]!r}"


def _without_basis(changeset: ChangeSet) -> tuple[Any, ...]:
    """What two stores planning one spec over the same records must agree on."""
    return (changeset.spec, changeset.updates, changeset.skips, changeset.recipients)


class StoreStateMachine(RuleBasedStateMachine):
    """Loads, portal edits, plans, commits, batches and undos on a backend and on :class:`MemoryStore`.

    After every step both stores must hold the same records, and every
    operation must end the same way in both: the same change set (but its
    ``basis``), the same receipt (but its id and time), the same error class
    and conflicts, and the same history (ids mapped, times ignored).

    Subclasses implement :meth:`make_store`, which returns a fresh, empty,
    open store; the machine closes it in :meth:`teardown` (extend it to
    clean up more, calling ``super().teardown()``).  Choose modest settings
    with ``@settings(max_examples=examples(25), stateful_step_count=15, deadline=None)``
    on the subclass (:func:`~contact_prefs.testing.profiles.examples` sizes it by the
    Hypothesis profile); expose ``Subclass.TestCase`` to pytest.

    Every step notes (``hypothesis.note``) what it did and how both stores
    answered, by ids, methods and counts, never an address, so a failure
    report reads as a story.
    """

    plans = Bundle("plans")
    batches = Bundle("batches")

    def __init__(self) -> None:
        super().__init__()
        self.tested = self.make_store()
        self.reference = MemoryStore()
        self.ids: dict[str, str] = {}  # the tested store's batch ids -> the reference's
        self.planned: list[Planned] = []  # what the plans bundle holds, for the preconditions

    def make_store(self) -> Store:
        """A fresh, empty, open store of the backend under test."""
        raise NotImplementedError(f"{type(self).__name__} must implement make_store(self) -> Store")

    def teardown(self) -> None:
        self.tested.close()
        self.reference.close()

    # -- writes from outside: the SIS and the portal ------------------------

    @initialize(district=st.lists(strategies.districts(), min_size=4, max_size=8).map(merge))
    def start_with(self, district: Snapshot) -> None:
        note(f"start with {len(district)} records, {len(district.contact_points)} of them contact points")
        self._both(lambda store: store.load(district))

    @rule(
        district=strategies.districts(),
        remove=st.none() | strategies.districts(),
        keep_preferences=st.booleans(),
    )
    def load(self, district: Snapshot, remove: Snapshot | None, keep_preferences: bool) -> None:
        removed = 0 if remove is None else len(remove)
        note(f"load {len(district)} records after removing {removed}, keep_preferences={keep_preferences}")
        self._both(lambda store: store.load(district, remove=remove, keep_preferences=keep_preferences))

    @precondition(lambda self: bool(self.reference.dump().contact_points))
    @rule(data=st.data())
    def portal_edit(self, data: st.DataObject) -> None:
        """A parent changes a point in the portal (or consent is withdrawn), as a one-point load."""
        points = self.reference.dump().contact_points
        stored: ContactPoint = data.draw(st.sampled_from(sorted(points, key=_point_order)))
        edited = attrs.evolve(
            stored,
            enabled=data.draw(strategies.reason_sets, label="enabled"),
            source=Source.PORTAL,
            revoked=data.draw(st.booleans(), label="revoked"),
        )
        note(f"portal edit at {_key(edited.key)}: enabled mask {edited.enabled.mask}, revoked={edited.revoked}")
        self._both(lambda store: store.load(Snapshot(contact_points=[edited])))

    @precondition(lambda self: bool(self._waiting_points()))
    @rule(data=st.data(), edit=st.sampled_from(["portal", "withdraw consent", "remove", "readdress"]))
    def interfere(self, data: st.DataObject, edit: str) -> None:
        """Someone changes a point that a plan waiting to be committed will write."""
        target: ContactPoint = data.draw(st.sampled_from(self._waiting_points()), label="target")
        note(f"{edit} at {_key(target.key)}, which a waiting plan writes")
        if edit == "remove":
            self._both(lambda store: store.load(Snapshot(), remove=Snapshot(contact_points=[target])))
        else:
            if edit == "readdress":  # a roster import: the address changes, which is no conflict
                changed = attrs.evolve(target, address=target.address + "0")
            elif edit == "withdraw consent":
                changed = attrs.evolve(target, revoked=True)
            else:
                changed = attrs.evolve(target, enabled=data.draw(strategies.reason_sets), source=Source.PORTAL)
            keep = edit == "readdress"
            self._both(lambda store: store.load(Snapshot(contact_points=[changed]), keep_preferences=keep))

    # -- batches ------------------------------------------------------------

    @rule(target=plans, spec=SPECS)
    def plan_for_later(self, spec: BatchSpec) -> Planned:
        planned = Planned(
            tested=plan(spec, self.tested.snapshot(spec)), reference=plan(spec, self.reference.snapshot(spec))
        )
        assert _without_basis(planned.tested) == _without_basis(planned.reference)
        note(f"plan {spec.mode.value} for later: {len(planned.reference.updates)} points to write")
        self.planned.append(planned)
        return planned

    @rule(target=batches, planned=plans, actor=ACTORS)
    def commit_planned(self, planned: Planned, actor: str) -> Any:
        """Commit a plan, perhaps stale: then both stores must refuse it alike."""
        note(f"commit a waiting plan of {len(planned.reference.updates)} points as {actor!r}")
        outcome = self._both(
            lambda store: store.commit(planned.tested if store is self.tested else planned.reference, actor=actor)
        )
        return self._batch(outcome)

    @rule(target=batches, spec=SPECS, actor=ACTORS, dry_run=st.booleans())
    def run_whole_batch(self, spec: BatchSpec, actor: str, dry_run: bool) -> Any:
        tested = run_batch(self.tested, spec, actor=actor, dry_run=dry_run)
        reference = run_batch(self.reference, spec, actor=actor, dry_run=dry_run)
        assert _without_basis(tested[0]) == _without_basis(reference[0])
        note(f"run_batch {spec.mode.value} as {actor!r}, dry_run={dry_run}: {len(reference[0])} changes planned")
        if tested[1] is None or reference[1] is None:
            assert tested[1] is reference[1] is None
            return self._batch(None)
        self._note_receipts((tested[1], reference[1]))
        return self._batch((tested[1], reference[1]))

    @rule(target=batches, spec=SPECS, actor=ACTORS)
    def commit_and_undo(self, spec: BatchSpec, actor: str) -> Any:
        """Take a batch back at once, before anything else touches its points."""
        note(f"run_batch {spec.mode.value} as {actor!r}, then undo it")
        done = self._batch(self._both(lambda store: run_batch(store, spec, actor=actor)[1]))
        if not isinstance(done, Batch):
            return multiple()
        return self.undo(done, actor)

    @rule(target=batches, batch=batches, actor=ACTORS)
    def undo(self, batch: Batch, actor: str) -> Any:
        """Undo any batch: one already undone, or an undo itself, must fail alike."""
        note(f"undo batch {batch.tested} as {actor!r}")
        outcome = self._both(
            lambda store: store.undo(batch.tested if store is self.tested else batch.reference, actor=actor)
        )
        return self._batch(outcome)

    # -- what must hold after every step ------------------------------------

    @invariant()
    def samerecords(self) -> None:
        assert records(self.tested.dump()) == records(self.reference.dump())

    @invariant()
    def same_history(self) -> None:
        tested, reference = self.tested.history(), self.reference.history()
        assert len(tested) == len(reference)
        for mine, theirs in zip(tested, reference, strict=True):
            assert mine.at.utcoffset() == datetime.timedelta(0)
            assert self._mapped(mine) == attrs.evolve(theirs, at=mine.at)
            assert dict(mine.counts) == dict(theirs.counts)

    @invariant()
    def version_is_stable_between_writes(self) -> None:
        assert self.tested.dump().version == self.tested.dump().version

    # -- helpers ------------------------------------------------------------

    def _both(self, operation: Callable[[Store], Any]) -> Any:
        """Run ``operation`` on both stores; both must succeed or fail alike.

        Returns ``(tested result, reference result)``, or ``None`` when both
        failed.  A failure must leave the tested version as it was, and a
        success that changed the records must change it.
        """
        before = self.tested.dump().version
        records_before = records(self.reference.dump())
        results: list[Any] = []
        errors: list[ContactPrefsError] = []
        for store in (self.tested, self.reference):
            try:
                results.append(operation(store))
            except ContactPrefsError as error:
                errors.append(error)
        if errors:
            assert len(errors) == 2, f"only one store failed: {errors[0]!r}"
            tested, reference = errors
            assert type(tested) is type(reference)
            if isinstance(tested, ConflictError) and isinstance(reference, ConflictError):
                assert sorted(tested.conflicts, key=repr) == sorted(reference.conflicts, key=repr)
            assert self.tested.dump().version == before, "a failed operation changed the version"
            conflicts = len(reference.conflicts) if isinstance(reference, ConflictError) else 0
            note(f"  both refused: {type(tested).__name__} ({conflicts} conflicting changes)")
            return None
        if isinstance(results[0], Receipt):
            self._same_receipt(results[0], results[1])
            self._note_receipts((results[0], results[1]))
        if records(self.reference.dump()) != records_before:
            assert self.tested.dump().version != before, "a write left the version unchanged"
        return tuple(results)

    def _waiting_points(self) -> list[ContactPoint]:
        """The stored points that a plan waiting in the ``plans`` bundle would write, in key order."""
        stored = {point.key: point for point in self.reference.dump().contact_points}
        keys = {update.key for planned in self.planned for update in planned.reference.updates}
        return sorted((stored[key] for key in keys & stored.keys()), key=_point_order)

    @staticmethod
    def _note_receipts(receipts: tuple[Receipt, Receipt]) -> None:
        tested, reference = receipts
        undoes = "" if reference.undoes is None else f", undoing {tested.undoes}"
        note(f"  both wrote {reference.applied} changes: batch {tested.batch_id}{undoes}")

    def _same_receipt(self, tested: Receipt, reference: Receipt) -> None:
        assert tested.at.utcoffset() == datetime.timedelta(0)
        assert tested.batch_id not in self.ids
        assert (tested.actor, tested.applied, dict(tested.counts)) == (
            reference.actor,
            reference.applied,
            dict(reference.counts),
        )
        assert (tested.undoes is None) is (reference.undoes is None)
        if tested.undoes is not None:
            assert self.ids[tested.undoes] == reference.undoes

    def _batch(self, outcome: tuple[Receipt, Receipt] | None) -> Any:
        """The new batch for the ``batches`` bundle, or nothing when there is none.

        An empty commit is recorded but not offered for undo: undos of batches
        that changed something are the ones worth the steps.
        """
        if outcome is None:
            return multiple()
        tested, reference = outcome
        self.ids[tested.batch_id] = reference.batch_id
        if tested.applied == 0 and tested.undoes is None:
            return multiple()
        return Batch(tested=tested.batch_id, reference=reference.batch_id)

    def _mapped(self, record: BatchRecord) -> BatchRecord:
        """``record`` with the tested store's batch ids replaced by the reference's."""

        def mapped(batch_id: str | None) -> str | None:
            return None if batch_id is None else self.ids[batch_id]

        return attrs.evolve(
            record,
            batch_id=self.ids[record.batch_id],
            undone_by=mapped(record.undone_by),
            undoes=mapped(record.undoes),
        )
