"""What a store holds, counted: the ``contact-prefs info`` numbers, and whether it looks like demo data.  Pure.

Students are the people with an enrollment, guardians the contacts of a
relationship, staff the people with a District Assignment (on any day).
A store remembers that it holds the demo district (``Store.holds_demo``, see
:mod:`contact_prefs.demo_data`); its addresses are a second hint: the demo
district (:mod:`contact_prefs.demo`) saves only fictional 555-01xx numbers and
``example.org`` addresses, which a real district never has all of.  The hint
tells demo data loaded before stores kept the mark (or copied through CSV
files, which do not carry it), and real records imported into the demo.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable

import attrs

from .enums import Method
from .records import ContactPoint, Enrollment
from .scope import Coverage, coverage
from .snapshot import Snapshot

DEMO_DOMAIN = "example.org"
FICTIONAL_LINE = "55501"
"""The first five of a number's last seven digits when it is one of 555-0100 to 555-0199, kept for fiction."""


@attrs.frozen(kw_only=True)
class School:
    """A school as its enrollments show it: its calendars, the days they cover, who is enrolled on the day."""

    school_id: str
    calendars: tuple[str, ...]
    coverage: Coverage
    enrolled: int


@attrs.frozen(kw_only=True)
class Inventory:
    """The counts of :func:`take_inventory`; ``points`` counts the saved addresses by method."""

    day: datetime.date
    persons: int
    students: int
    guardians: int
    staff: int
    households: int
    points: dict[Method, int]
    unsaved_points: int
    revoked_points: int
    schools: tuple[School, ...]
    looks_like_demo: bool
    demo_why: str


def is_fictional(point: ContactPoint) -> bool:
    """Whether a saved address is one the demo would save: a 555-01xx number, an ``example.org`` address."""
    if point.method.is_phone:
        digits = "".join(character for character in point.address if character.isdigit())
        return len(digits) >= 7 and digits[-7:].startswith(FICTIONAL_LINE)
    domain = point.address.rpartition("@")[2].strip().lower()
    return domain == DEMO_DOMAIN or domain.endswith("." + DEMO_DOMAIN)


def demo_verdict(points: Iterable[ContactPoint]) -> tuple[bool, str]:
    """Whether the saved addresses look like demo data, and why (counts only, never an address)."""
    saved = real = 0
    for point in points:
        if point.address:
            saved += 1
            real += not is_fictional(point)
    if not saved:
        return False, "it holds no saved phone or e-mail address"
    if real:
        return False, (
            f"{real:,} of its {saved:,} saved addresses are not fictional 555-01xx numbers or {DEMO_DOMAIN} addresses"
        )
    return True, f"all {saved:,} of its saved addresses are fictional 555-01xx numbers or {DEMO_DOMAIN} addresses"


def take_inventory(snapshot: Snapshot, day: datetime.date) -> Inventory:
    """The counts of everything ``snapshot`` (a whole district) holds, its schools as of ``day``."""
    by_school: dict[str, list[Enrollment]] = {}
    calendars: dict[str, set[str]] = {}
    enrolled: dict[str, set[str]] = {}
    for enrollment in snapshot.enrollments:
        school = enrollment.school_id
        by_school.setdefault(school, []).append(enrollment)
        calendars.setdefault(school, set()).add(enrollment.calendar_id)
        if enrollment.is_active(day):
            enrolled.setdefault(school, set()).add(enrollment.student_id)
    schools = tuple(
        School(
            school_id=school,
            calendars=tuple(sorted(calendars[school])),
            coverage=coverage(by_school[school]),
            enrolled=len(enrolled.get(school, ())),
        )
        for school in sorted(by_school)
    )
    saved = Counter(point.method for point in snapshot.contact_points if point.address)
    households = {m.household_id for m in snapshot.household_members} | {
        p.owner_id for p in snapshot.contact_points if p.is_household
    }
    demo, why = demo_verdict(snapshot.contact_points)
    return Inventory(
        day=day,
        persons=len(snapshot.persons),
        students=len({e.student_id for e in snapshot.enrollments}),
        guardians=len({link.contact_id for link in snapshot.relationships}),
        staff=len({a.person_id for a in snapshot.assignments}),
        households=len(households),
        points={method: saved.get(method, 0) for method in Method},
        unsaved_points=sum(1 for point in snapshot.contact_points if not point.address),
        revoked_points=sum(1 for point in snapshot.contact_points if point.revoked),
        schools=schools,
        looks_like_demo=demo,
        demo_why=why,
    )
