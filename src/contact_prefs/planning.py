"""plan: a batch spec plus a snapshot in, an exact change set out.  Pure."""

from __future__ import annotations

from collections.abc import Set as AbstractSet

from . import _unchecked
from .changes import ChangeSet, PointUpdate, Skip
from .enums import Mode, Setting, SkipReason
from .errors import SnapshotError
from .progress import NO_PROGRESS, Progress, reporting, slices
from .reasons import BY_MASK
from .records import ContactPoint
from .rules import (
    METHOD_ORDER,
    SKIP_ORDER,
    STAFF_BIT,
    District,
    affected_people,
    census_recipients,
    decide,
    messenger_contacts_of,
    points_of,
    staff_reason_applies,
    students_in_scope,
)
from .snapshot import Snapshot
from .spec import BatchSpec

# Every field is computed here from valid values: skip the checks on the hot path.
new_update = _unchecked.constructor(PointUpdate)


def plan(spec: BatchSpec, snapshot: Snapshot, *, progress: Progress = NO_PROGRESS) -> ChangeSet:
    """Every change ``spec`` would make to ``snapshot``, and every skip, in a stable order.

    The same inputs in any order give the same change set, and planning again
    after the changes are applied gives an empty one.  ``progress`` hears of
    the recipients' contact points as they are decided, a chunk at a time.
    """
    district = District(snapshot, spec.as_of)
    recipients, skipped = _select(spec, district)
    points, unreached = points_of(recipients, district)
    skipped.extend((person_id, SkipReason.NO_CONTACT_METHOD) for person_id in unreached)

    switch_on, switch_off = _mask(spec, Setting.ON), _mask(spec, Setting.OFF)
    staff_set = (switch_on | switch_off) & STAFF_BIT
    keep_portal = spec.keep_portal
    points.sort(key=_point_order)  # the change set's order, so updates come out in it
    updates: list[PointUpdate] = []
    held: list[Skip] = []
    with reporting(progress, len(points), "Planning"):
        for chunk in slices(points):  # reported a chunk at a time: the loop is the hot path
            for point in chunk:
                on, off = switch_on, switch_off
                if staff_set and not staff_reason_applies(point, district):
                    on, off = on & ~STAFF_BIT, off & ~STAFF_BIT  # ignored silently, no skip
                on, off, held_back = decide(point, on, off, keep_portal)
                if on or off:
                    enabled = point.enabled
                    updates.append(
                        new_update(
                            point.owner_id,
                            point.method,
                            point.source,
                            enabled,
                            BY_MASK[(enabled.mask | on) & ~off],
                            affected_people(point, district),
                            point.revoked,  # decide() switched nothing on if so
                        )
                    )
                if held_back is not None:
                    held.append(Skip(owner_id=point.owner_id, reason=held_back, method=point.method))
            progress.advance(len(chunk))

    skips = [Skip(owner_id=owner, reason=reason) for owner, reason in skipped]
    skips.extend(held)
    skips.sort(key=lambda s: (s.owner_id, SKIP_ORDER[s.reason], -1 if s.method is None else METHOD_ORDER[s.method]))
    return ChangeSet(spec=spec, basis=snapshot.version, updates=updates, skips=skips, recipients=sorted(recipients))


def _point_order(point: ContactPoint) -> tuple[str, int]:
    return (point.owner_id, METHOD_ORDER[point.method])


def _select(spec: BatchSpec, district: District) -> tuple[AbstractSet[str], list[tuple[str, SkipReason]]]:
    selection = district.snapshot.selection
    if selection is not None:  # the store applied the selection rules already
        if not selection.answers(spec):
            raise SnapshotError(
                "this snapshot was narrowed for another spec (a different mode, school, calendar, filter or day); "
                "take a snapshot for this spec with store.snapshot(spec)"
            )
        return selection.recipients, list(selection.skipped)
    if spec.mode is Mode.CENSUS_STAFF:
        return census_recipients(spec, district)
    students = students_in_scope(spec, district)
    if spec.mode is Mode.STUDENTS:
        return students, []
    return messenger_contacts_of(students, district), []


def _mask(spec: BatchSpec, setting: Setting) -> int:
    mask = 0
    for reason, value in spec.settings.items():
        if value is setting:
            mask |= reason.bit
    return mask
