"""A synthetic district with the shape of a real one, for the demo, tests and benchmarks.

:func:`build_district` is deterministic for ``(students, seed, today)`` and
pure.  Every random draw is a plain ``random()``, whatever the date, so the
district's structure (who lives where, who is enrolled, which points exist)
depends on ``students`` and ``seed`` only; ``today`` moves the dates, and
what is active on ``today`` is the same whichever day it is.

The shape, per family: one to three students, one or two guardians linked by
relationships (most with the Messenger flag, so about 1.5 messenger contacts
per student), a household with a shared household phone, sometimes a second
household after a separation (the children belong to both, the parent who
left has an ended membership in the first), sometimes a relative linked
without the Messenger flag.  Staff come last, most with a District
Assignment.  About one point in ten was last set in the portal and one in a
hundred has its consent revoked.  Addresses are fictional on purpose:
555-01xx numbers and ``example.org`` e-mail addresses.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator

from .enums import Method, Mode, Reason, Setting, Source
from .reasons import ReasonSet
from .records import ContactPoint, DistrictAssignment, Enrollment, HouseholdMember, Person, Relationship
from .snapshot import Snapshot
from .spec import BatchSpec

SCHOOL_NAMES = (
    "lincoln-elementary",
    "riverside-middle",
    "central-high",
    "maple-elementary",
    "hillcrest-middle",
    "westview-high",
    "cedar-elementary",
    "harbor-academy",
)
FIRST_NAMES = (
    "Avery", "Blake", "Casey", "Dana", "Eli", "Frances", "Gray", "Harper", "Indira", "Jordan", "Kai", "Lee",
    "Morgan", "Noor", "Oakley", "Parker", "Quinn", "Riley", "Sam", "Taylor", "Uma", "Val", "Wren", "Yuki",
)  # fmt: skip
LAST_NAMES = (
    "Example", "Sample", "Placeholder", "Testing", "Fictional", "Specimen", "Model", "Mock", "Dummy", "Pattern",
    "Prototype", "Template", "Draft", "Sketch", "Outline", "Study",
)  # fmt: skip

# Typical preferences a district's defaults leave behind, as reason masks.
_E, _A, _B, _S, _G, _F, _P, _T = (reason.bit for reason in Reason)
PHONE_DEFAULT = _E | _A | _G | _P
EMAIL_DEFAULT = _E | _A | _B | _G | _F | _P | _T
STAFF_DEFAULT = _E | _S | _G | _P
_ALL = ReasonSet.all().mask
_SETS = [ReasonSet.from_mask(mask) for mask in range(_ALL + 1)]
# Who last set a point: one in ten the portal, a quarter staff, some an import, the rest untouched.
_SOURCES = (Source.PORTAL,) * 2 + (Source.STAFF,) * 5 + (Source.IMPORT,) * 3 + (Source.DEFAULT,) * 10


def build_district(students: int = 2000, *, seed: int = 0, today: datetime.date | None = None) -> Snapshot:
    """A whole synthetic district of ``students`` students, as one snapshot."""
    builder = _Builder(students, random.Random(seed), today or datetime.date.today())
    builder.families(students)
    builder.staff()
    return builder.part()


def iter_district(
    students: int = 2000, *, seed: int = 0, today: datetime.date | None = None, chunk: int = 50_000
) -> Iterator[Snapshot]:
    """The district of :func:`build_district` in parts of about ``chunk`` students.

    Each part holds whole families (the staff come in the last part), so parts
    can be loaded into a store one after the other without holding the whole
    district in memory.  Their union is :func:`build_district`'s snapshot.
    """
    builder = _Builder(students, random.Random(seed), today or datetime.date.today())
    while builder.students_made < students:
        builder.families(min(chunk, students - builder.students_made))
        yield builder.part()
    builder.staff()
    yield builder.part()


def sample_spec(today: datetime.date | None = None) -> BatchSpec:
    """The demo's batch: messenger contacts district-wide get Attendance, General and
    Teacher messages and stop Food Service messages."""
    return BatchSpec(
        mode=Mode.STUDENT_MESSENGER_CONTACTS,
        settings={
            Reason.ATTENDANCE: Setting.ON,
            Reason.GENERAL: Setting.ON,
            Reason.TEACHER: Setting.ON,
            Reason.FOOD_SERVICE: Setting.OFF,
        },
        as_of=today or datetime.date.today(),
    )


def school_ids(students: int) -> tuple[str, ...]:
    """The district's schools: one per 500 students, at least three."""
    count = max(3, round(students / 500))
    return tuple(
        SCHOOL_NAMES[n % len(SCHOOL_NAMES)] + ("" if n < len(SCHOOL_NAMES) else f"-{n // len(SCHOOL_NAMES) + 1}")
        for n in range(count)
    )


def school_year(today: datetime.date) -> int:
    """The school year ``today`` falls in, named by the year it ends (as OneRoster does)."""
    return today.year + 1 if today >= datetime.date(today.year, 8, 15) else today.year


_DAY = datetime.timedelta(days=1)
_LOWER = {name: name.lower() for name in FIRST_NAMES + LAST_NAMES}
# Fictional numbers only: 555-0100 to 555-0199 are reserved for fiction in every area code.
_AREA_CODES = tuple(f"({area}) " for area in range(201, 990))
_LINES = tuple(f"555-01{line:02d}" for line in range(100))
_PERSONAL_METHODS = tuple((method, method.is_phone) for method in Method if method is not Method.HOUSEHOLD_PHONE)


class _Builder:
    """Draws families and staff from one random stream; keeps the counters between parts."""

    def __init__(self, students: int, rng: random.Random, today: datetime.date) -> None:
        if students < 0:
            raise ValueError(f"students must be zero or more, not {students!r}")
        self.students = students
        self.random = rng.random
        self.today = today
        self.schools = school_ids(students)
        year = school_year(today)
        # The current calendar starts at least two weeks back, so that ended
        # (transfer) enrollments fit before today even on the first school day.
        self.year_start = min(datetime.date(year - 1, 8, 15), today - 14 * _DAY)
        self.last_year = (datetime.date(year - 2, 8, 15), datetime.date(year - 1, 6, 10))
        self.calendars = {school: (f"{school}:{year}", f"{school}:{year - 1}") for school in self.schools}
        self.width = max(4, len(str(students)))
        self.students_made = 0
        self.counters = {"gdn": 0, "rel": 0, "hh": 0}
        self._clear()

    def _clear(self) -> None:
        self.persons: list[Person] = []
        self.members: list[HouseholdMember] = []
        self.enrollments: list[Enrollment] = []
        self.relationships: list[Relationship] = []
        self.assignments: list[DistrictAssignment] = []
        self.points: list[ContactPoint] = []

    def part(self) -> Snapshot:
        """The records made since the last part."""
        part = Snapshot(
            persons=self.persons,
            household_members=self.members,
            enrollments=self.enrollments,
            relationships=self.relationships,
            assignments=self.assignments,
            contact_points=self.points,
        )
        self._clear()
        return part

    def _id(self, prefix: str, number: int) -> str:
        return prefix + "-" + str(number).zfill(self.width)  # format specs cost more than the rest of a record

    def _next(self, prefix: str) -> str:
        self.counters[prefix] += 1
        return self._id(prefix, self.counters[prefix])

    def _days_ago(self, most: int) -> datetime.date:
        """A day between 1 and ``most`` days before today."""
        return self.today - (1 + int(self.random() * most)) * _DAY

    # -- people and points -------------------------------------------------

    def _person(self, person_id: str, last_name: str) -> str:
        first = FIRST_NAMES[int(self.random() * len(FIRST_NAMES))]
        self.persons.append(Person(id=person_id, name=f"{first} {last_name}"))
        return first

    def _phone(self) -> str:
        random = self.random
        return _AREA_CODES[int(random() * len(_AREA_CODES))] + _LINES[int(random() * len(_LINES))]

    def _point(self, owner_id: str, method: Method, address: str, usual: int, is_phone: bool = True) -> None:
        random = self.random
        if random() < 0.03:  # the method exists but nothing is saved: it cannot be set
            self.points.append(ContactPoint(owner_id=owner_id, method=method))
            return
        enabled = usual if random() < 0.7 else int(random() * (_ALL + 1))
        text = (_E | (_A if random() < 0.3 else 0)) & enabled if is_phone and random() < 0.6 else 0
        self.points.append(
            ContactPoint(
                owner_id=owner_id,
                method=method,
                address=address,
                enabled=_SETS[enabled],
                text=_SETS[text],
                source=_SOURCES[int(random() * len(_SOURCES))],
                revoked=random() < 0.01,
            )
        )

    def _personal_points(self, person_id: str, first: str, last: str, domain: str, odds: tuple[float, ...]) -> None:
        """Points for the personal methods, each with its probability in ``odds``."""
        for (method, is_phone), odd in zip(_PERSONAL_METHODS, odds, strict=True):
            if self.random() < odd:
                if is_phone:
                    address, usual = self._phone(), PHONE_DEFAULT
                else:
                    tag = "." if method is Method.EMAIL else ".alt."
                    address = _LOWER[first] + "." + _LOWER[last] + tag + person_id + "@" + domain
                    usual = STAFF_DEFAULT if domain.startswith("staff") else EMAIL_DEFAULT
                self._point(person_id, method, address, usual, is_phone)

    def _household(self, people: list[str], start: datetime.date | None, phone_odds: float) -> str:
        household_id = self._next("hh")
        self.members.extend(HouseholdMember(household_id=household_id, person_id=p, start=start) for p in people)
        if self.random() < phone_odds:
            self._point(household_id, Method.HOUSEHOLD_PHONE, self._phone(), PHONE_DEFAULT)
        return household_id

    # -- families ----------------------------------------------------------

    def families(self, students: int) -> None:
        """Whole families until at least ``students`` more students exist.

        Parts end at a family's end, so the district does not depend on the part
        size; only the district's last family is cut to fit."""
        goal = self.students_made + students
        while self.students_made < goal:
            roll = self.random()
            size = 1 if roll < 0.55 else 2 if roll < 0.88 else 3
            self._family(min(size, self.students - self.students_made))

    def _family(self, size: int) -> None:
        last = LAST_NAMES[int(self.random() * len(LAST_NAMES))]
        kids = []
        for _ in range(size):
            self.students_made += 1
            kid = self._id("stu", self.students_made)
            first = self._person(kid, last)
            self._personal_points(kid, first, last, "students.example.org", (0.25, 0, 0, 0.6, 0))
            self._enroll(kid)
            kids.append(kid)

        guardians = []
        for _ in range(2 if self.random() < 0.65 else 1):
            guardian = self._next("gdn")
            first = self._person(guardian, last)
            self._personal_points(guardian, first, last, "example.org", (0.9, 0.3, 0.05, 0.85, 0.1))
            guardians.append(guardian)
            for kid in kids:
                self.relationships.append(
                    Relationship(student_id=kid, contact_id=guardian, messenger=self.random() < 0.92)
                )

        since = None if self.random() < 0.5 else self._days_ago(3000)
        if len(guardians) == 2 and self.random() < 0.2:
            self._split(kids, guardians, since)
        else:
            self._household(guardians + kids, since, 0.8)

        if self.random() < 0.15:  # a relative to call in an emergency, not a messenger contact
            relative = self._next("rel")
            first = self._person(relative, last)
            self._personal_points(relative, first, last, "example.org", (0.8, 0, 0, 0.3, 0))
            self.relationships.extend(Relationship(student_id=k, contact_id=relative, messenger=False) for k in kids)

    def _split(self, kids: list[str], guardians: list[str], since: datetime.date | None) -> None:
        """Separated parents: the children belong to both households; the parent who
        left has an ended membership in the first (or, when records lag, a live one)."""
        first = self._household([guardians[0], *kids], since, 0.8)
        moved = self._days_ago(700) if since is None else since + int(self.random() * (self.today - since).days) * _DAY
        lagging = self.random() < 0.25
        self.members.append(
            HouseholdMember(household_id=first, person_id=guardians[1], start=since, end=None if lagging else moved)
        )
        self._household([guardians[1], *kids], moved + _DAY, 0.7)

    def _enroll(self, kid: str) -> None:
        schools = self.schools
        school = schools[int(self.random() * len(schools))]
        current, previous = self.calendars[school]
        span = (self.today - self.year_start).days
        if self.random() < 0.5:  # enrolled here last year too
            start, end = self.last_year
            self.enrollments.append(
                Enrollment(student_id=kid, school_id=school, calendar_id=previous, start=start, end=end)
            )
        roll, offset = self.random(), int(self.random() * span)
        if roll < 0.02:  # withdrew this year: enrolled, then ended before today
            self.enrollments.append(
                Enrollment(
                    student_id=kid,
                    school_id=school,
                    calendar_id=current,
                    start=self.year_start,
                    end=self.year_start + offset * _DAY,
                )
            )
        elif roll < 0.06:  # transferred: ended at one school, active at another
            left = self.year_start + min(offset, span - 2) * _DAY
            self.enrollments.append(
                Enrollment(student_id=kid, school_id=school, calendar_id=current, start=self.year_start, end=left)
            )
            other = schools[(schools.index(school) + 1) % len(schools)]
            self.enrollments.append(
                Enrollment(student_id=kid, school_id=other, calendar_id=self.calendars[other][0], start=left + _DAY)
            )
        else:  # most: active since the school year began, or since a later arrival
            start = self.year_start if roll < 0.9 else self.year_start + offset * _DAY
            self.enrollments.append(Enrollment(student_id=kid, school_id=school, calendar_id=current, start=start))

    # -- staff -------------------------------------------------------------

    def staff(self) -> None:
        """One staff member per twelve students (at least five); most hold a District Assignment."""
        for number in range(1, max(5, self.students // 12) + 1):
            person = self._id("stf", number)
            last = LAST_NAMES[int(self.random() * len(LAST_NAMES))]
            first = self._person(person, last)
            self._personal_points(person, first, last, "staff.example.org", (0.6, 0.5, 0, 1, 0))
            roll, since = self.random(), self._days_ago(4000)
            if roll < 0.80:  # assigned now
                self.assignments.append(DistrictAssignment(person_id=person, start=since))
            elif roll < 0.85:  # assigned now, after an earlier assignment that ended
                self.assignments.append(
                    DistrictAssignment(person_id=person, start=since - 400 * _DAY, end=since - _DAY)
                )
                self.assignments.append(DistrictAssignment(person_id=person, start=since))
            elif roll < 0.90:  # left the district: the assignment ended
                self.assignments.append(DistrictAssignment(person_id=person, start=since - 400 * _DAY, end=since))
            # else: no District Assignment at all (substitutes, volunteers)
