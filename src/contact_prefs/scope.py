"""Why a batch reaches nobody, and which school and calendar ids a store knows.  Pure.

A batch's scope narrows in steps (see :mod:`contact_prefs.rules`): enrollments
in the school and calendar, active on the day; the student filter; in Student
Messenger Contacts mode, the relationships with the Messenger flag; then the
saved phones and e-mail addresses.  When nobody is left, :func:`diagnose` says
which step came up empty, with the counts of the steps before it, using the
very rules a plan uses.  :func:`unknown_scope_ids` finds a ``--school`` or
``--calendar`` that no enrollment names, with the closest known ids.

Both read a whole district (``Store.dump()``), not a store's narrowed snapshot.
"""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Iterable, Sequence

import attrs

from .enums import Mode
from .records import Enrollment
from .rules import District, messenger_contacts_of, points_of, students_in_scope
from .snapshot import Snapshot
from .spec import BatchSpec

SUGGESTIONS = 3
"""How many close ids an unknown id's message suggests."""


@attrs.frozen
class Coverage:
    """The enrollments of a school (or of a school and calendar): how many, and the days they span.

    ``first``/``last`` are ``None`` when some enrollment is open-ended on that side (or there is none)."""

    enrollments: int
    first: datetime.date | None
    last: datetime.date | None

    def describe(self) -> str:
        first = self.first.isoformat() if self.first else "an open start"
        last = self.last.isoformat() if self.last else "an open end"
        return f"{self.enrollments:,} enrollment(s) there cover {first} to {last}"


def coverage(enrollments: Iterable[Enrollment]) -> Coverage:
    count, starts, ends = 0, [], []
    open_start = open_end = False
    for enrollment in enrollments:
        count += 1
        if enrollment.start is None:
            open_start = True
        else:
            starts.append(enrollment.start)
        if enrollment.end is None:
            open_end = True
        else:
            ends.append(enrollment.end)
    first = None if open_start or not starts else min(starts)
    last = None if open_end or not ends else max(ends)
    return Coverage(count, first, last)


@attrs.frozen
class UnknownId:
    """An option's id that no enrollment names, and the known ids closest to it."""

    option: str  # "--school" or "--calendar"
    value: str
    closest: tuple[str, ...]


def closest_ids(value: str, known: Iterable[str]) -> tuple[str, ...]:
    """The known ids closest to ``value`` (case aside), best first, by :func:`difflib.get_close_matches`."""
    by_folded: dict[str, str] = {}
    for identifier in sorted(known):
        by_folded.setdefault(identifier.casefold(), identifier)
    matches = difflib.get_close_matches(value.casefold(), by_folded, n=SUGGESTIONS, cutoff=0.6)
    return tuple(by_folded[match] for match in matches)


def unknown_scope_ids(spec: BatchSpec, snapshot: Snapshot) -> tuple[UnknownId, ...]:
    """The spec's school and calendar ids that no enrollment of ``snapshot`` names (none for census-staff,
    which ignores them)."""
    if spec.mode is Mode.CENSUS_STAFF:
        return ()
    schools = {e.school_id for e in snapshot.enrollments}
    calendars = {e.calendar_id for e in snapshot.enrollments}
    unknown = []
    for option, value, known in (("--school", spec.school_id, schools), ("--calendar", spec.calendar_id, calendars)):
        if value is not None and value not in known:
            unknown.append(UnknownId(option, value, closest_ids(value, known)))
    return tuple(unknown)


@attrs.frozen(kw_only=True)
class EmptyScope:
    """The step of a scope that came up empty, and the counts of the steps before it.

    ``step`` is ``"enrollment"``, ``"filter"``, ``"messenger"`` or ``"address"``;
    the counts of the steps not reached are ``None``.
    """

    step: str
    where: str
    day: datetime.date
    coverage: Coverage
    students: int | None = None
    relationships: int | None = None
    contacts: int | None = None
    filter_size: int | None = None

    def message(self) -> str:
        """What a person reads: ``nobody is in scope: ...``."""
        if self.step == "enrollment":
            if not self.coverage.enrollments:
                return f"nobody is in scope: no enrollment is in {self.where}, on any day"
            return (
                f"nobody is in scope: no student is enrolled on {self.day} in {self.where}; "
                f"the {self.coverage.describe()}"
            )
        enrolled = f"{self.students or 0:,} student(s) enrolled on {self.day} in {self.where}"
        if self.step == "filter":
            return f"nobody is in scope: {enrolled}, but none of them is among the {self.filter_size:,} filter id(s)"
        if self.step == "messenger":
            if not self.relationships:
                return (
                    f"nobody is in scope: {enrolled}, but no relationship marks a messenger contact: "
                    "the data has no guardians for them"
                )
            return (
                f"nobody is in scope: {enrolled}, but none of their {self.relationships:,} relationship(s) "
                "has the Messenger flag"
            )
        people = enrolled if self.contacts is None else f"{enrolled} with {self.contacts:,} messenger contact(s)"
        return f"nobody is in scope: {people}, but none has a saved phone or e-mail (own or household)"


def diagnose(spec: BatchSpec, snapshot: Snapshot, where: str) -> EmptyScope | None:
    """Why ``spec`` reaches no saved phone or e-mail in ``snapshot`` (a whole district), or ``None``
    if it reaches one.  ``where`` names the school and calendar in the message.  Census/Staff is
    not diagnosed here: its skips name each filter id's failed rule already."""
    if spec.mode is Mode.CENSUS_STAFF:
        return None
    district = District(snapshot, spec.as_of)
    school, calendar = spec.school_id, spec.calendar_id
    covered = coverage(
        e
        for e in snapshot.enrollments
        if (school is None or e.school_id == school) and (calendar is None or e.calendar_id == calendar)
    )
    base = EmptyScope(step="enrollment", where=where, day=spec.as_of, coverage=covered)
    enrolled = students_in_scope(attrs.evolve(spec, filter_ids=None), district)
    if not enrolled:
        return base
    base = attrs.evolve(base, students=len(enrolled))
    students = students_in_scope(spec, district)
    if not students:
        size = 0 if spec.filter_ids is None else len(spec.filter_ids)
        return attrs.evolve(base, step="filter", filter_size=size)
    base = attrs.evolve(base, students=len(students))
    recipients: set[str] = students
    if spec.mode is Mode.STUDENT_MESSENGER_CONTACTS:
        links = sum(1 for link in snapshot.relationships if link.student_id in students)
        recipients = messenger_contacts_of(students, district)
        if not recipients:
            return attrs.evolve(base, step="messenger", relationships=links)
        base = attrs.evolve(base, contacts=len(recipients))
    _, unreached = points_of(recipients, district)
    if len(unreached) == len(recipients):
        return attrs.evolve(base, step="address")
    return None


def reaches_nobody(recipients: Sequence[str] | frozenset[str], unreachable: int) -> bool:
    """Whether a plan with these recipients, ``unreachable`` of them with no saved phone or e-mail,
    reaches no one: the cue to :func:`diagnose` it."""
    return len(recipients) == unreachable
