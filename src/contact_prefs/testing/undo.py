"""``UndoContract``: the history records every batch exactly, and an undo restores within consent or conflicts.

This module imports pytest and Hypothesis: only tests import it.
"""

from __future__ import annotations

import collections
import uuid
from collections.abc import Callable

import attrs
import pytest
from hypothesis import given

from ..changes import count_changes
from ..enums import Method, Mode, Reason, Setting, Source
from ..errors import ConflictError, ContactPrefsError, StoreError, UnknownBatchError
from ..planning import plan
from ..reasons import ReasonSet
from ..snapshot import Snapshot
from ..spec import BatchSpec
from ..store import BatchSummary
from .base import EXAMPLES, ContractBase, StoreFactory
from .checks import CheckedStore, RawPoint
from .district import (
    CROWDED_DISTRICTS,
    DAY,
    DISTRICT,
    G1_CELL,
    G1_MAIL,
    G2_MAIL,
    H1_PHONE,
    NOTHING_SAVED,
    OFF_SPEC,
    SAVED_POINTS,
    SPEC,
    SPECS,
)
from .expected import (
    assert_batch_id,
    assert_private,
    assert_unchanged,
    assert_utc,
    changes_at,
    edit_point,
    point,
    recorded,
    records,
    touched,
    undone,
)

__all__ = ["UndoContract"]

CheckedFactory = Callable[[], CheckedStore]


class UndoContract(ContractBase):
    """``history`` and ``undo``: exact records, restoring within consent, and every refusal."""

    def test_history_is_newest_first_with_exact_records(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        first = plan(OFF_SPEC, store.snapshot(OFF_SPEC))
        first_receipt = store.commit(first, actor="alice")
        second = plan(SPEC, store.snapshot(SPEC))
        second_receipt = store.commit(second, actor="bob")
        assert store.history() == (
            recorded(second_receipt, "bob", SPEC, second.changes),
            recorded(first_receipt, "alice", OFF_SPEC, first.changes),
        )
        for record, changeset in zip(store.history(), (second, first), strict=True):
            assert dict(record.counts) == changeset.counts()
            assert_utc(record.at)
        assert first_receipt.at <= second_receipt.at

    def test_batches_are_the_history_without_changes_newest_first_up_to_a_limit(self, store: CheckedStore) -> None:
        assert store.batches() == store.batches(limit=3) == ()
        store.load(DISTRICT)
        first = store.commit(plan(OFF_SPEC, store.snapshot(OFF_SPEC)), actor="alice")
        second = store.commit(plan(SPEC, store.snapshot(SPEC)), actor="bob")
        undone = store.undo(second.batch_id, actor="carol")
        history = store.history()
        assert [record.batch_id for record in history] == [undone.batch_id, second.batch_id, first.batch_id]
        summaries = tuple(BatchSummary.of(record) for record in history)
        assert store.batches() == summaries
        for limit in range(len(history) + 2):
            assert store.batches(limit=limit) == summaries[:limit]
        newest, middle, oldest = store.batches()
        assert (newest.undoes, newest.applied, dict(newest.counts)) == (second.batch_id, undone.applied, undone.counts)
        assert (middle.undone_by, middle.applied, middle.spec) == (undone.batch_id, second.applied, SPEC)
        assert (oldest.actor, oldest.applied, dict(oldest.counts)) == ("alice", first.applied, first.counts)
        assert oldest.applied > 0 and sum(oldest.counts.values()) == oldest.applied

    @pytest.mark.parametrize("limit", [-1, 1.5, "3"])
    def test_a_limit_that_is_not_a_whole_number_of_zero_or_more_is_refused(
        self, store: CheckedStore, limit: object
    ) -> None:
        with pytest.raises(ValueError, match="a limit is a whole number of zero or more"):
            store.batches(limit=limit)  # type: ignore[arg-type]

    def test_batches_of_a_closed_store_fail(self, new_store: StoreFactory) -> None:
        store = new_store()
        store.close()
        with pytest.raises(StoreError):
            store.batches()

    @EXAMPLES
    @given(district=CROWDED_DISTRICTS, spec=SPECS)
    def test_any_commit_writes_the_plan_and_undo_restores(
        self, new_checked_store: CheckedFactory, district: Snapshot, spec: BatchSpec
    ) -> None:
        with new_checked_store() as store:
            store.load(district)
            changeset = plan(spec, store.snapshot(spec))
            receipt = store.commit(changeset, actor="staff")
            assert records(store.dump()) == records(changeset.apply_to(district))
            assert receipt.applied == len(changeset)
            assert dict(receipt.counts) == changeset.counts()
            # An undo takes every point back, but leaves off what it switched off where consent is revoked.
            undo = store.undo(receipt.batch_id, actor="staff")
            expected, restored = undone(district, changeset)
            assert records(store.dump()) == records(expected)
            assert undo.applied == len(restored) <= len(changeset)
            assert dict(undo.counts) == count_changes(restored)
            assert store.history()[0].changes == restored
            assert store.batches() == tuple(BatchSummary.of(record) for record in store.history())

    # -- undo ---------------------------------------------------------------

    def test_undo_restores_enabled_and_source(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        changeset = plan(SPEC, store.snapshot(SPEC))
        done = store.commit(changeset, actor="alice")
        undone = store.undo(done.batch_id, actor="bob")
        assert records(store.dump()) == records(DISTRICT)
        for restored in SAVED_POINTS:  # the rows too: each its original reasons and source
            assert store.stored(restored) == RawPoint.of(restored)

        inverse = changeset.inverse()
        assert_batch_id(undone.batch_id)
        assert undone.batch_id != done.batch_id
        assert (undone.actor, undone.undoes, undone.applied) == ("bob", done.batch_id, len(changeset))
        assert dict(undone.counts) == inverse.counts()
        assert_utc(undone.at)
        assert store.history() == (
            recorded(undone, "bob", SPEC, inverse.changes, undoes=done.batch_id),
            recorded(done, "alice", SPEC, changeset.changes, undone_by=undone.batch_id),
        )
        assert dict(store.history()[0].counts) == inverse.counts()

    def test_undo_keeps_a_new_address(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        done = store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff")
        store.load(Snapshot(contact_points=[attrs.evolve(G2_MAIL, address="555-0177")]), keep_preferences=True)
        store.undo(done.batch_id, actor="staff")
        assert point(store.dump(), G2_MAIL) == attrs.evolve(G2_MAIL, address="555-0177")

    @pytest.mark.parametrize("edit", ["enabled changed", "source changed", "point gone"])
    def test_undo_of_a_point_changed_since_conflicts(self, store: CheckedStore, edit: str) -> None:
        store.load(DISTRICT)
        changeset = plan(SPEC, store.snapshot(SPEC))
        done = store.commit(changeset, actor="staff")
        edit_point(store, G1_MAIL, edit)
        before, history = store.dump(), store.history()
        with pytest.raises(ConflictError) as raised:
            store.undo(done.batch_id, actor="staff")
        expected = changes_at(changeset.inverse(), G1_MAIL)
        assert collections.Counter(raised.value.conflicts) == collections.Counter(expected)
        assert_private(str(raised.value))
        assert_unchanged(store, before, history)
        assert store.history()[0].undone_by is None

    def test_undo_conflicts_with_a_later_batch_at_the_same_point(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        done = store.commit(plan(OFF_SPEC, store.snapshot(OFF_SPEC)), actor="staff")
        later = BatchSpec(mode=Mode.STUDENT_MESSENGER_CONTACTS, settings={Reason.TEACHER: Setting.ON}, as_of=DAY)
        store.commit(plan(later, store.snapshot(later)), actor="staff")
        before, history = store.dump(), store.history()
        with pytest.raises(ConflictError) as raised:
            store.undo(done.batch_id, actor="staff")
        assert {change.point_key for change in raised.value.conflicts} == {G2_MAIL.key}
        assert_unchanged(store, before, history)

    def test_undo_leaves_off_what_it_switched_off_at_a_point_revoked_since(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        changeset = plan(SPEC, store.snapshot(SPEC))
        done = store.commit(changeset, actor="alice")
        written = point(store.dump(), G2_MAIL)
        assert written.enabled == ReasonSet({Reason.EMERGENCY, Reason.ATTENDANCE})  # and General switched off
        store.load(Snapshot(contact_points=[attrs.evolve(written, revoked=True)]))
        undone = store.undo(done.batch_id, actor="bob")

        # At g2's e-mail Attendance goes off again and General stays off; the rest is as before.
        held = attrs.evolve(G2_MAIL, enabled={Reason.EMERGENCY}, revoked=True)
        assert records(store.dump()) == records(
            attrs.evolve(DISTRICT, contact_points=[G1_CELL, G1_MAIL, held, H1_PHONE, NOTHING_SAVED])
        )
        general_back_on = [c for c in changes_at(changeset.inverse(), G2_MAIL) if c.reason is Reason.GENERAL]
        assert len(general_back_on) == 1
        written_changes = tuple(c for c in changeset.inverse().changes if c not in general_back_on)
        assert (undone.undoes, undone.applied) == (done.batch_id, len(changeset) - 1)
        assert dict(undone.counts) == count_changes(written_changes)
        assert undone.counts[Method.EMAIL, Reason.GENERAL] == 0
        assert store.history() == (
            recorded(undone, "bob", SPEC, written_changes, undoes=done.batch_id),
            recorded(done, "alice", SPEC, changeset.changes, undone_by=undone.batch_id),
        )

    def test_undo_with_nothing_left_to_write_at_a_revoked_point(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        changeset = plan(OFF_SPEC, store.snapshot(OFF_SPEC))
        assert touched(changeset) == {G2_MAIL.key}
        done = store.commit(changeset, actor="staff")
        written = attrs.evolve(point(store.dump(), G2_MAIL), revoked=True)
        store.load(Snapshot(contact_points=[written]))
        version = store.dump().version
        undone = store.undo(done.batch_id, actor="staff")

        # General stays off, so the point is not written: its source stays BATCH.
        assert point(store.dump(), G2_MAIL) == written
        assert store.stored(G2_MAIL) == RawPoint.of(written)
        assert written.source is Source.BATCH and written.enabled == ReasonSet({Reason.EMERGENCY})
        assert store.dump().version != version  # the history was written
        assert (undone.undoes, undone.applied, set(undone.counts.values())) == (done.batch_id, 0, {0})
        record, original = store.history()
        assert (record.batch_id, record.changes, record.undoes) == (undone.batch_id, (), done.batch_id)
        assert set(record.counts.values()) == {0}
        assert original.undone_by == undone.batch_id
        with pytest.raises(ContactPrefsError, match="already undone"):
            store.undo(done.batch_id, actor="staff")

    def test_undo_may_switch_off_at_a_revoked_point(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        done = store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff")
        written = point(store.dump(), G1_CELL)
        store.load(Snapshot(contact_points=[attrs.evolve(written, revoked=True)]))
        store.undo(done.batch_id, actor="staff")
        assert point(store.dump(), G1_CELL) == attrs.evolve(G1_CELL, revoked=True)

    def test_undo_twice_fails_naming_the_undo(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        done = store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff")
        undone = store.undo(done.batch_id, actor="staff")
        before, history = store.dump(), store.history()
        with pytest.raises(ContactPrefsError, match=undone.batch_id) as raised:
            store.undo(done.batch_id, actor="staff")
        assert not isinstance(raised.value, ConflictError | UnknownBatchError)
        assert "already undone" in str(raised.value)
        assert_unchanged(store, before, history)

    def test_an_undo_cannot_be_undone(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        done = store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff")
        undone = store.undo(done.batch_id, actor="staff")
        before, history = store.dump(), store.history()
        with pytest.raises(ContactPrefsError, match=undone.batch_id) as raised:
            store.undo(undone.batch_id, actor="staff")
        assert not isinstance(raised.value, ConflictError | UnknownBatchError)
        assert_unchanged(store, before, history)

    def test_undo_of_an_unknown_batch(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff")
        before, history = store.dump(), store.history()
        unknown = uuid.uuid4().hex
        with pytest.raises(UnknownBatchError, match=unknown) as raised:
            store.undo(unknown, actor="staff")
        assert isinstance(raised.value, LookupError)
        assert_unchanged(store, before, history)

    def test_undo_of_one_batch_leaves_another(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        only_students = BatchSpec(mode=Mode.STUDENTS, settings={Reason.TEACHER: Setting.ON}, as_of=DAY)
        first = store.commit(plan(OFF_SPEC, store.snapshot(OFF_SPEC)), actor="staff")
        second_changes = plan(only_students, store.snapshot(only_students))
        assert touched(second_changes) == {H1_PHONE.key}
        store.commit(second_changes, actor="staff")
        store.undo(first.batch_id, actor="staff")
        assert records(store.dump()) == records(second_changes.apply_to(DISTRICT))

