"""``CommitContract``: a commit writes its plan, all or nothing, compare-and-set per point, with a receipt.

This module imports pytest and Hypothesis: only tests import it.
"""

from __future__ import annotations

import collections
import datetime

import attrs
import pytest

from ..enums import Method, Reason, Source
from ..errors import ConflictError
from ..planning import plan
from ..reasons import ReasonSet
from ..snapshot import Snapshot
from ..store import Receipt
from .base import ContractBase
from .checks import CheckedStore, RawPoint
from .district import (
    DISTRICT,
    G1_CELL,
    G1_MAIL,
    G2_MAIL,
    H1_PHONE,
    IDLE_SPEC,
    NOTHING_SAVED,
    OFF_SPEC,
    OTHER_MAIL,
    REVOKED,
    SAVED_POINTS,
    SPEC,
)
from .expected import (
    assert_batch_id,
    assert_private,
    assert_unchanged,
    assert_utc,
    changes_at,
    edit_point,
    point,
    records,
    touched,
)

__all__ = ["CommitContract"]


class CommitContract(ContractBase):
    """``commit``: what it writes, its receipt, and the conflicts that make it write nothing."""

    def test_commit_writes_every_change_with_source_batch(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        changeset = plan(SPEC, store.snapshot(SPEC))
        assert touched(changeset) == {point.key for point in SAVED_POINTS}
        store.commit(changeset, actor="staff")
        after = store.dump()
        assert records(after) == records(changeset.apply_to(DISTRICT))
        for before in SAVED_POINTS:
            written = point(after, before)
            assert written.source is Source.BATCH
            assert (written.text, written.address, written.revoked) == (before.text, before.address, before.revoked)
        assert point(after, G2_MAIL).enabled == ReasonSet({Reason.EMERGENCY, Reason.ATTENDANCE})
        assert point(after, NOTHING_SAVED) == NOTHING_SAVED
        # In the tables: Emergency (1) and Attendance (2), the source "batch".
        assert store.stored(G2_MAIL) == RawPoint(
            address=OTHER_MAIL, enabled=1 | 2, text=0, source="batch", revoked=0
        )

    def test_receipt(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        changeset = plan(SPEC, store.snapshot(SPEC))
        earliest = datetime.datetime.now(datetime.UTC)
        receipt = store.commit(changeset, actor="Ms. Staff")
        latest = datetime.datetime.now(datetime.UTC)
        assert isinstance(receipt, Receipt)
        assert_batch_id(receipt.batch_id)
        assert receipt.actor == "Ms. Staff"
        assert_utc(receipt.at)
        assert earliest <= receipt.at <= latest
        assert set(receipt.counts) == {(method, reason) for method in Method for reason in Reason}
        assert dict(receipt.counts) == changeset.counts()
        assert receipt.counts[Method.EMAIL, Reason.ATTENDANCE] == 2
        assert receipt.applied == len(changeset.changes) == 5
        assert receipt.undoes is None

    def test_every_commit_gets_a_new_batch_id(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        ids = {store.commit(plan(IDLE_SPEC, store.snapshot(IDLE_SPEC)), actor="staff").batch_id for _ in range(3)}
        assert len(ids) == 3
        for batch_id in ids:
            assert_batch_id(batch_id)

    def test_an_empty_commit_is_recorded(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        changeset = plan(IDLE_SPEC, store.snapshot(IDLE_SPEC))
        assert len(changeset) == 0
        receipt = store.commit(changeset, actor="staff")
        assert receipt.applied == 0
        assert dict(receipt.counts) == changeset.counts()
        assert set(receipt.counts.values()) == {0}
        assert records(store.dump()) == records(DISTRICT)
        (record,) = store.history()
        assert (record.batch_id, record.changes, record.spec) == (receipt.batch_id, (), IDLE_SPEC)

    # -- conflicts ----------------------------------------------------------

    @pytest.mark.parametrize(
        "edit",
        [
            "enabled changed",
            "source changed",
            "point gone",
            "newly revoked",
        ],
    )
    def test_a_point_that_changed_since_planning_conflicts(self, store: CheckedStore, edit: str) -> None:
        store.load(DISTRICT)
        changeset = plan(SPEC, store.snapshot(SPEC))
        edit_point(store, G2_MAIL, edit)
        before, history = store.dump(), store.history()
        with pytest.raises(ConflictError) as raised:
            store.commit(changeset, actor="staff")
        assert collections.Counter(raised.value.conflicts) == collections.Counter(changes_at(changeset, G2_MAIL))
        assert_private(str(raised.value))
        assert_unchanged(store, before, history)

    def test_every_conflicting_point_is_listed(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        changeset = plan(SPEC, store.snapshot(SPEC))
        edit_point(store, G1_CELL, "enabled changed")
        edit_point(store, H1_PHONE, "point gone")
        before, history = store.dump(), store.history()
        with pytest.raises(ConflictError) as raised:
            store.commit(changeset, actor="staff")
        expected = changes_at(changeset, G1_CELL, H1_PHONE)
        assert collections.Counter(raised.value.conflicts) == collections.Counter(expected)
        assert_unchanged(store, before, history)
        assert store.stored(G1_MAIL) == RawPoint.of(G1_MAIL)  # the points without conflict were not written either

    def test_a_revoked_point_can_still_be_switched_off(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        changeset = plan(OFF_SPEC, store.snapshot(OFF_SPEC))
        assert touched(changeset) == {G2_MAIL.key}
        edit_point(store, G2_MAIL, "newly revoked")
        store.commit(changeset, actor="staff")
        written = point(store.dump(), G2_MAIL)
        assert (written.enabled, written.revoked) == (ReasonSet({Reason.EMERGENCY}), REVOKED)

    def test_a_new_address_does_not_conflict(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        changeset = plan(SPEC, store.snapshot(SPEC))
        moved = attrs.evolve(G1_CELL, address="555-0188")
        store.load(Snapshot(contact_points=[moved]), keep_preferences=True)
        store.commit(changeset, actor="staff")
        assert point(store.dump(), G1_CELL).address == "555-0188"

    def test_a_stale_change_set_conflicts_after_a_commit(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        changeset = plan(SPEC, store.snapshot(SPEC))
        store.commit(changeset, actor="staff")
        before, history = store.dump(), store.history()
        with pytest.raises(ConflictError) as raised:
            store.commit(changeset, actor="staff")
        assert collections.Counter(raised.value.conflicts) == collections.Counter(changeset.changes)
        assert_unchanged(store, before, history)
