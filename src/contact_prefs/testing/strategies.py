"""Hypothesis strategies for districts, snapshots and batch specs.

Ids come from small pools so that generated records meet: students have
enrollments, contacts have points, households share phones.  Dates fall in a
few weeks around :data:`DAY`, the day generated specs plan for, so records are
active, ended and not yet started in about equal measure.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

import attrs
from hypothesis import strategies as st

from ..consent import ConsentPolicy
from ..enums import Method, Mode, Reason, Setting, Source
from ..ledger import consent_of_load, ledger_key
from ..reasons import ReasonSet
from ..records import ContactPoint, DistrictAssignment, Enrollment, HouseholdMember, Person, Relationship
from ..snapshot import Snapshot
from ..spec import BatchSpec

DAY = datetime.date(2026, 11, 30)

STUDENTS = [f"s{n}" for n in range(6)]
CONTACTS = [f"g{n}" for n in range(6)]
STAFF = [f"t{n}" for n in range(3)]
PEOPLE = STUDENTS + CONTACTS + STAFF
HOUSEHOLDS = [f"h{n}" for n in range(3)]
SCHOOLS = ["north", "south"]
CALENDARS = {"north": ["north:2026", "north:2027"], "south": ["south:2026"]}
ALL_CALENDARS = [calendar for calendars in CALENDARS.values() for calendar in calendars]

PERSONAL_METHODS = [method for method in Method if method is not Method.HOUSEHOLD_PHONE]

reason_sets = st.integers(min_value=0, max_value=ReasonSet.all().mask).map(ReasonSet.from_mask)


@st.composite
def periods(draw: st.DrawFn) -> dict[str, datetime.date | None]:
    """An optional start and end no earlier than it, within a few weeks of DAY."""
    offsets = st.none() | st.integers(min_value=-20, max_value=20)
    start, end = draw(offsets), draw(offsets)
    if start is not None and end is not None and end < start:
        start, end = end, start
    return {
        "start": None if start is None else DAY + datetime.timedelta(days=start),
        "end": None if end is None else DAY + datetime.timedelta(days=end),
    }


ADDRESSES = ["", "555-0100", "x@example.org", "X@Example.org ", "(280) 555-0143", "280.555.0143", "+1 280 555 0143"]
"""Few addresses, so points share them: one number written three ways, one e-mail address in two cases,
and one of each that cannot be normalized (a local number, an e-mail address saved on a phone)."""


@st.composite
def contact_points(draw: st.DrawFn, owner_id: str, method: Method) -> ContactPoint:
    return ContactPoint(
        owner_id=owner_id,
        method=method,
        address=draw(st.sampled_from(ADDRESSES)),
        enabled=draw(reason_sets),
        text=draw(reason_sets) if method.is_phone else ReasonSet(),
        source=draw(st.sampled_from(Source)),
        revoked=draw(st.booleans()),
    )


@st.composite
def districts(draw: st.DrawFn, version: str = "") -> Snapshot:
    """A small district whose records refer to each other (and sometimes to nobody)."""
    persons = [Person(id=p, name=p.upper()) for p in draw(st.sets(st.sampled_from(PEOPLE)))]
    members = {
        (h, p, frozenset(period.items())): HouseholdMember(household_id=h, person_id=p, **period)
        for h, p, period in draw(st.lists(st.tuples(st.sampled_from(HOUSEHOLDS), st.sampled_from(PEOPLE), periods())))
    }
    enrollments: list[Enrollment] = []
    for student, school, period in draw(
        st.lists(st.tuples(st.sampled_from([*STUDENTS, "ghost"]), st.sampled_from(SCHOOLS), periods()))
    ):
        calendar = draw(st.sampled_from(CALENDARS[school]))
        enrollments.append(Enrollment(student_id=student, school_id=school, calendar_id=calendar, **period))
    relationships = {
        (s, c): Relationship(student_id=s, contact_id=c, messenger=m)
        for s, c, m in draw(st.lists(st.tuples(st.sampled_from(STUDENTS), st.sampled_from(CONTACTS), st.booleans())))
    }
    assignments = [
        DistrictAssignment(person_id=p, **period)
        for p, period in draw(st.lists(st.tuples(st.sampled_from(STAFF + CONTACTS[:2]), periods()), max_size=6))
    ]
    point_keys = draw(
        st.sets(
            st.one_of(
                st.tuples(st.sampled_from(HOUSEHOLDS), st.just(Method.HOUSEHOLD_PHONE)),
                st.tuples(st.sampled_from(PEOPLE), st.sampled_from(PERSONAL_METHODS)),
            ),
            max_size=25,
        )
    )
    points = [draw(contact_points(owner, method)) for owner, method in sorted(point_keys, key=str)]
    return Snapshot(
        persons=persons,
        household_members=_unique_by_key(members.values()),
        enrollments=_unique_by_key(enrollments),
        relationships=relationships.values(),
        assignments=_unique_by_key(assignments),
        contact_points=_as_stored(points),
        version=version,
    )


def as_stored(district: Snapshot) -> Snapshot:
    """``district`` as a store with an empty ledger holds it once loaded (see :func:`_as_stored`)."""
    return attrs.evolve(district, contact_points=_as_stored(district.contact_points))


def _as_stored(points: Sequence[ContactPoint]) -> tuple[ContactPoint, ...]:
    """The points as a store with an empty ledger holds them once loaded: consent belongs to the
    address, so every point holding an address revoked at one of them is revoked too."""
    policy = ConsentPolicy()
    keys = [ledger_key(point.method, point.address, policy.region) for point in points]
    return consent_of_load(points, keys, {}, set(), policy, at=_LOADED_AT, actor="import").points


_LOADED_AT = datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC)


def _unique_by_key(records: Any) -> tuple[Any, ...]:
    """One record per store key (the last wins), as a store would hold them."""
    return tuple({record.key: record for record in records}.values())


settings_maps = st.dictionaries(st.sampled_from(Reason), st.sampled_from(Setting))


@st.composite
def specs(draw: st.DrawFn, mode: Mode | None = None) -> BatchSpec:
    """A valid batch spec over the pools :func:`districts` draws from, planned for DAY."""
    mode = draw(st.sampled_from(Mode)) if mode is None else mode
    settings = draw(settings_maps)
    allow_emergency_off = settings.get(Reason.EMERGENCY) is Setting.OFF or draw(st.booleans())
    school = draw(st.none() | st.sampled_from(SCHOOLS))
    calendar = draw(st.none() | st.sampled_from(CALENDARS[school] if school else ALL_CALENDARS))
    if mode is Mode.CENSUS_STAFF:
        filter_ids: frozenset[str] | None = draw(st.frozensets(st.sampled_from([*PEOPLE, "nobody"])))
    else:
        filter_ids = draw(st.none() | st.frozensets(st.sampled_from(STUDENTS)))
    return BatchSpec(
        mode=mode,
        settings=settings,
        school_id=school,
        calendar_id=calendar,
        filter_ids=filter_ids,
        as_of=DAY,
        keep_portal=draw(st.booleans()),
        allow_emergency_off=allow_emergency_off,
    )
