"""plan: a batch spec plus a snapshot in, an exact change set out.  Pure."""

from __future__ import annotations

from .changes import Change, ChangeSet, Skip
from .enums import Mode, Reason, Setting, SkipReason
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

_REASON_BITS = [(reason, reason.bit) for reason in Reason]


def plan(spec: BatchSpec, snapshot: Snapshot) -> ChangeSet:
    """Every change ``spec`` would make to ``snapshot``, and every skip, in a stable order.

    The same inputs in any order give the same change set, and planning again
    after the changes are applied gives an empty one.
    """
    district = District(snapshot, spec.as_of)
    recipients, skipped = _select(spec, district)

    points: dict[tuple[str, object], ContactPoint] = {}
    for person_id in recipients:
        reachable = points_of(person_id, district)
        if not reachable:
            skipped.append((person_id, SkipReason.NO_CONTACT_METHOD))
        for point in reachable:
            points[point.key] = point  # a point reached from several recipients is planned once

    switch_on = _mask(spec, Setting.ON)
    switch_off = _mask(spec, Setting.OFF)
    changes: list[Change] = []
    skips = [Skip(owner_id=owner, reason=reason) for owner, reason in skipped]
    for point in sorted(points.values(), key=lambda p: (p.owner_id, METHOD_ORDER[p.method])):
        on, off = switch_on, switch_off
        if not staff_reason_applies(point, district):
            on, off = on & ~STAFF_BIT, off & ~STAFF_BIT  # ignored silently, no skip
        on, off, skip = decide(point, on, off, spec.keep_portal)
        if skip is not None:
            skips.append(Skip(owner_id=point.owner_id, reason=skip, method=point.method))
        if on or off:
            changes.extend(_changes_at(point, on, off, affected_people(point, district)))

    skips.sort(key=lambda s: (s.owner_id, SKIP_ORDER[s.reason], -1 if s.method is None else METHOD_ORDER[s.method]))
    return ChangeSet(spec=spec, basis=snapshot.version, changes=changes, skips=skips, recipients=sorted(recipients))


def _select(spec: BatchSpec, district: District) -> tuple[set[str], list[tuple[str, SkipReason]]]:
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


def _changes_at(point: ContactPoint, on: int, off: int, affects: frozenset[str]) -> list[Change]:
    current = point.enabled.mask
    return [
        Change(
            owner_id=point.owner_id,
            method=point.method,
            reason=reason,
            before=bool(current & bit),
            after=bool(on & bit),
            source_before=point.source,
            enabled_before=point.enabled,
            affects=affects,
        )
        for reason, bit in _REASON_BITS
        if (on | off) & bit
    ]
