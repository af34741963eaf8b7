"""Snapshot: everything a plan reads, as one immutable value."""

from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter
from typing import Any

import attrs

from .enums import Method
from .errors import SnapshotError
from .records import (
    ContactPoint,
    DistrictAssignment,
    Enrollment,
    HouseholdMember,
    Person,
    Relationship,
    start_order,
)
from .selection import Selection

_POINT_KEY = attrgetter("owner_id", "method")


def _unique_points(instance: Snapshot, attribute: attrs.Attribute[Any], points: tuple[ContactPoint, ...]) -> None:
    keys = set(map(_POINT_KEY, points))  # attrgetter: C speed
    if len(keys) != len(points):
        seen: set[object] = set()
        for point in points:
            if point.key in seen:
                raise SnapshotError(
                    f"two contact points have the key (owner_id={point.owner_id!r}, method={point.method.value!r}); "
                    "a person or household has at most one point per method"
                )
            seen.add(point.key)


def _frozen(records: Iterable[Any]) -> tuple[Any, ...]:
    # Any, not a TypeVar: the attrs plugin for mypy cannot follow generic converters.
    return records if type(records) is tuple else tuple(records)


@attrs.frozen(kw_only=True)
class Snapshot:
    """The records of a district (or of the part a batch needs) at one version.

    The record collections accept any iterables and are stored as tuples.
    ``version`` names the stored state the snapshot was read from; a change
    set remembers it as its ``basis``.  A store that narrowed the snapshot to
    a spec may give its ``selection`` (see :mod:`contact_prefs.selection`)
    instead of the enrollments, relationships, people and household
    memberships it selected from.
    """

    persons: tuple[Person, ...] = attrs.field(default=(), converter=_frozen)
    household_members: tuple[HouseholdMember, ...] = attrs.field(default=(), converter=_frozen)
    enrollments: tuple[Enrollment, ...] = attrs.field(default=(), converter=_frozen)
    relationships: tuple[Relationship, ...] = attrs.field(default=(), converter=_frozen)
    assignments: tuple[DistrictAssignment, ...] = attrs.field(default=(), converter=_frozen)
    contact_points: tuple[ContactPoint, ...] = attrs.field(default=(), converter=_frozen, validator=_unique_points)
    selection: Selection | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.instance_of(Selection))
    )
    version: str = attrs.field(default="", validator=attrs.validators.instance_of(str))

    def __len__(self) -> int:
        """The number of records."""
        return sum(len(records) for records in self.collections().values())

    def collections(self) -> dict[str, tuple[Any, ...]]:
        """The record tuples by field name, in declaration order."""
        return {name: getattr(self, name) for name in RECORD_FIELDS}

    def sorted(self) -> Snapshot:
        """The same records in key order, so two snapshots of one state compare equal."""
        return Snapshot(
            version=self.version,
            selection=self.selection,
            persons=sorted(self.persons, key=lambda r: r.id),
            household_members=sorted(
                self.household_members, key=lambda r: (r.household_id, r.person_id, start_order(r.start))
            ),
            enrollments=sorted(
                self.enrollments, key=lambda r: (r.student_id, r.school_id, r.calendar_id, start_order(r.start))
            ),
            relationships=sorted(self.relationships, key=lambda r: r.key),
            assignments=sorted(self.assignments, key=lambda r: (r.person_id, start_order(r.start))),
            contact_points=sorted(self.contact_points, key=lambda r: (r.owner_id, _METHOD_ORDER[r.method])),
        )


RECORD_FIELDS = ("persons", "household_members", "enrollments", "relationships", "assignments", "contact_points")
"""The names of a snapshot's record collections, in the order stores and files use."""

RECORD_TYPES: dict[str, type[Any]] = {
    "persons": Person,
    "household_members": HouseholdMember,
    "enrollments": Enrollment,
    "relationships": Relationship,
    "assignments": DistrictAssignment,
    "contact_points": ContactPoint,
}
"""The record type held by each collection."""


_METHOD_ORDER = {method: index for index, method in enumerate(Method)}

def merge(snapshots: Iterable[Snapshot]) -> Snapshot:
    """One snapshot holding the records of all, later records replacing earlier ones by key."""
    merged: dict[str, dict[Any, Any]] = {name: {} for name in RECORD_FIELDS}
    for snapshot in snapshots:
        for name, records in snapshot.collections().items():
            for record in records:
                merged[name][record.key] = record
    return Snapshot(**{name: tuple(records.values()) for name, records in merged.items()})  # type: ignore[arg-type]
