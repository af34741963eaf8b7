"""The rules of what a commit and an undo write (contact_prefs.writes), by example and as properties."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contact_prefs import BatchSpec, ConflictError, Method, PointUpdate, Reason, ReasonSet, Snapshot, Source, plan
from contact_prefs.testing.strategies import districts, specs
from contact_prefs.writes import (
    PointWrite,
    StoredPoint,
    check_commit,
    conflicts_at_commit,
    conflicts_at_undo,
    undo_writes,
)

E, A, G, T = Reason.EMERGENCY, Reason.ATTENDANCE, Reason.GENERAL, Reason.TEACHER


def update(
    before: set[Reason], after: set[Reason], *, source: Source = Source.STAFF, revoked: bool = False
) -> PointUpdate:
    return PointUpdate(
        owner_id="g1",
        method=Method.CELL_PHONE,
        source_before=source,
        enabled_before=ReasonSet(before),
        enabled_after=ReasonSet(after),
        affects=frozenset({"g1"}),
        revoked_before=revoked,
    )


def stored(enabled: set[Reason], source: Source = Source.STAFF, *, revoked: bool = False) -> StoredPoint:
    return StoredPoint(ReasonSet(enabled), source, revoked)


# --- commit ---------------------------------------------------------------------------------------

SWITCH_ON = update({E}, {E, A})
SWITCH_OFF = update({E, G}, {E})


def test_a_point_as_planned_is_written_as_planned() -> None:
    assert check_commit([SWITCH_ON, SWITCH_OFF], [stored({E}), stored({E, G})]) == (SWITCH_ON, SWITCH_OFF)


@pytest.mark.parametrize(
    "now",
    [None, stored({E, T}), stored({E}, Source.PORTAL), stored({E}, Source.BATCH)],
    ids=["gone", "reasons changed", "a parent's portal edit", "another batch"],
)
def test_a_point_that_moved_since_planning_conflicts_and_nothing_is_written(now: StoredPoint | None) -> None:
    assert conflicts_at_commit(SWITCH_ON, now)
    with pytest.raises(ConflictError) as raised:
        check_commit([SWITCH_OFF, SWITCH_ON], [stored({E, G}), now])
    assert raised.value.conflicts == SWITCH_ON.changes  # only the moved point, every change at it


def test_consent_withdrawn_since_planning_conflicts_where_the_update_switches_a_reason_on() -> None:
    assert conflicts_at_commit(SWITCH_ON, stored({E}, revoked=True))
    with pytest.raises(ConflictError):
        check_commit([SWITCH_ON], [stored({E}, revoked=True)])


def test_consent_withdrawn_since_planning_lets_a_switch_off_through_compared_with_the_consent_read_now() -> None:
    assert not conflicts_at_commit(SWITCH_OFF, stored({E, G}, revoked=True))
    (written,) = check_commit([SWITCH_OFF], [stored({E, G}, revoked=True)])
    assert written == attrs.evolve(SWITCH_OFF, revoked_before=True)


def test_consent_given_back_since_planning_is_no_conflict() -> None:
    held_back = update({E, G}, {E}, revoked=True)
    assert check_commit([held_back], [stored({E, G})]) == (attrs.evolve(held_back, revoked_before=False),)


def test_an_update_cannot_switch_a_reason_on_where_it_was_planned_under_a_revocation() -> None:
    with pytest.raises(ValueError, match="consent is withdrawn"):
        update({E}, {E, A}, revoked=True)


def test_the_inverse_of_an_update_claims_nothing_about_consent() -> None:
    assert update({E, G}, {E}, revoked=True).inverse().revoked_before == ReasonSet()


# --- undo -----------------------------------------------------------------------------------------

DONE_ON = update({E}, {E, A, T}, source=Source.PORTAL)  # the batch switched Attendance and Teacher on
DONE_MIXED = update({E, G}, {E, A}, source=Source.IMPORT)  # General off, Attendance on


def test_undo_gives_every_point_back_its_reasons_and_source() -> None:
    writes = undo_writes([DONE_ON], [stored({E, A, T}, Source.BATCH)])
    assert writes == (PointWrite(DONE_ON.inverse(), Source.PORTAL),)


@pytest.mark.parametrize(
    "now",
    [None, stored({E, A}, Source.BATCH), stored({E, A, T}, Source.PORTAL), stored({E, A, T}, Source.STAFF)],
    ids=["gone", "reasons changed", "a parent's portal edit", "a staff edit"],
)
def test_undo_refuses_a_point_no_longer_as_the_batch_left_it_with_the_inverse_changes(now: StoredPoint | None) -> None:
    assert conflicts_at_undo(DONE_ON, now)
    with pytest.raises(ConflictError) as raised:
        undo_writes([DONE_MIXED, DONE_ON], [stored({E, A}, Source.BATCH), now])
    assert raised.value.conflicts == DONE_ON.inverse().changes


def test_undo_at_a_point_revoked_since_leaves_off_what_the_batch_switched_off() -> None:
    (write,) = undo_writes([DONE_MIXED], [stored({E, A}, Source.BATCH, revoked=True)])
    assert write.update.enabled_after == ReasonSet({E})  # Attendance off again, General stays off
    assert write.update.revoked_before == ReasonSet.all() and write.source is Source.IMPORT


def test_undo_writes_nothing_at_a_revoked_point_where_the_batch_only_switched_off() -> None:
    done_off = update({E, G}, {E})
    assert undo_writes([done_off], [stored({E}, Source.BATCH, revoked=True)]) == ()


def test_a_revocation_since_is_no_conflict_for_an_undo() -> None:
    assert not conflicts_at_undo(DONE_ON, stored({E, A, T}, Source.BATCH, revoked=True))


# --- properties -----------------------------------------------------------------------------------


@given(districts(), specs())
def test_a_commit_against_the_district_it_was_planned_from_writes_the_plan_unchanged(
    snapshot: Snapshot, spec: BatchSpec
) -> None:
    # The soundness of every store's first compare-and-set against the planned state.
    updates = plan(spec, snapshot).updates
    points = {point.key: point for point in snapshot.contact_points}
    assert check_commit(updates, [StoredPoint.of(points[u.key]) for u in updates]) == updates
    assert all(u.revoked_before is points[u.key].revoked for u in updates)


@given(districts(), specs(), st.data())
def test_no_write_ever_switches_a_reason_on_where_consent_is_withdrawn_now(
    snapshot: Snapshot, spec: BatchSpec, data: st.DataObject
) -> None:
    updates = plan(spec, snapshot).updates
    points = {point.key: point for point in snapshot.contact_points}
    revoked_now = [data.draw(st.booleans(), label=f"revoked now at {u.key}") for u in updates]
    now = [
        StoredPoint(points[u.key].enabled, points[u.key].source, revoked)
        for u, revoked in zip(updates, revoked_now, strict=True)
    ]
    try:
        written = check_commit(updates, now)
    except ConflictError as error:
        conflicting = {(c.owner_id, c.method) for c in error.conflicts}
        assert conflicting == {u.key for u, point in zip(updates, now, strict=True) if conflicts_at_commit(u, point)}
        return
    for written_update, point in zip(written, now, strict=True):
        assert not (point.revoked and written_update.switched_on)
    # An undo of the batch as written never switches on where consent is withdrawn either.
    left = [StoredPoint(u.enabled_after, Source.BATCH, r) for u, r in zip(updates, revoked_now, strict=True)]
    for write in undo_writes(updates, left):
        assert not (write.update.revoked_before and write.update.switched_on)


@given(districts(), specs())
def test_undo_after_an_untouched_commit_restores_every_point(snapshot: Snapshot, spec: BatchSpec) -> None:
    updates = plan(spec, snapshot).updates
    left = [StoredPoint(u.enabled_after, Source.BATCH, u.revoked_before) for u in updates]
    restored = {w.update.key: (w.update.enabled_after, w.source) for w in undo_writes(updates, left)}
    for u in updates:
        if u.key in restored:
            assert restored[u.key] == (u.enabled_before, u.source_before)
        else:  # nothing to write: only at a revoked point whose reasons the batch switched off
            assert u.revoked_before and not u.switched_on


def _points(snapshot: Snapshot, updates: tuple[PointUpdate, ...]) -> list[object]:
    points = {point.key: point for point in snapshot.contact_points}
    return [points[u.key] for u in updates]
