"""OneRoster 1.1 CSV import: a district's roster export as one upsert.

The mapping (``docs/formats.md`` has it in full):

* schools are the orgs of type ``school``; a calendar is
  ``<school sourcedId>:<schoolYear>``, the school year taken from the term(s)
  of the enrolled class;
* each ``student`` row of ``enrollments.csv`` is an :class:`Enrollment` over
  the row's ``beginDate``/``endDate``, or its term's dates where those are
  blank; rows for one student, school, calendar and begin date merge into
  one, which keeps the latest end;
* users with role ``student`` are students; ``parent``, ``guardian`` and
  ``relative`` are contacts, linked to students through ``agentSourcedIds``
  (on either side) by relationships with the Messenger flag; ``teacher``,
  ``administrator`` and ``aide`` are staff with an open-ended District
  Assignment; users of any other role (``proctor``) are persons with no
  links;
* ``email`` is an EMAIL point, ``sms`` a CELL_PHONE point, ``phone`` a
  CELL_PHONE point or, when ``sms`` is given too, an OTHER_PHONE point.  New
  points have no reasons enabled and come from ``import``; a blank cell
  leaves the stored point alone;
* rows with ``status`` ``tobedeleted`` go to the ``remove`` snapshot.

The result is meant for one ``store.load(snapshot, remove=remove,
keep_preferences=True)``: an upsert that never resets the preferences of a
point that exists already.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import attrs

from ..enums import Method, Source
from ..identifiers import id_problem
from ..privacy import shown
from ..progress import NO_PROGRESS, Progress, reporting
from ..records import ContactPoint, DistrictAssignment, Enrollment, Person, Relationship
from ..snapshot import Snapshot
from .errors import FormatError
from .table import Row, data_lines, identifier, optional_date, read_table, required, tracked

STUDENT = "student"
CONTACT_ROLES = frozenset({"parent", "guardian", "relative"})
STAFF_ROLES = frozenset({"teacher", "administrator", "aide"})
LINKED_ROLES = frozenset({STUDENT, *CONTACT_ROLES, *STAFF_ROLES})
"""Roles that become students, contacts or staff; any other (``proctor``...) is a person with no links."""

DATA_FILES = ("orgs", "academicSessions", "classes", "users", "enrollments")
"""The files read besides ``manifest.csv``, without their ``.csv``."""

VERSION = "1.1"
PERSONAL_METHODS = (Method.CELL_PHONE, Method.WORK_PHONE, Method.OTHER_PHONE, Method.EMAIL, Method.SECONDARY_EMAIL)


@attrs.frozen
class RosterImport:
    """A OneRoster export read: what to upsert, what to remove, and counts of both.

    ``summary`` counts, in this order: ``students``, ``contacts``, ``staff``,
    ``other_users`` (roles without links, such as proctors), ``contact_points``,
    ``enrollments``, ``relationships``, ``assignments``, ``ignored_links``
    (``agentSourcedIds`` between users that are not a student and a contact),
    ``removed_users`` and ``removed_enrollments``.
    """

    snapshot: Snapshot
    remove: Snapshot
    summary: Mapping[str, int]


@attrs.frozen
class _Term:
    start: datetime.date | None
    end: datetime.date | None
    year: str


@attrs.frozen
class _User:
    id: str
    role: str
    deleted: bool
    row: Row


def read_oneroster(directory: str | Path, *, progress: Progress = NO_PROGRESS) -> RosterImport:
    """Read the OneRoster 1.1 CSV export in ``directory``; raises :class:`FormatError`.
    ``progress`` hears of the lines read, a chunk at a time."""
    folder = Path(directory)
    if not folder.is_dir():
        raise FormatError("is not a folder", file=folder)
    modes = _manifest(folder)
    read = [name for name in DATA_FILES if modes.get(name) != "absent"]
    lines = {name: data_lines(folder / f"{name}.csv") for name in read}

    def table(name: str, columns: Iterable[str]) -> Iterator[Row]:
        if name not in lines:
            return iter(())
        return tracked(read_table(folder / f"{name}.csv", ("sourcedId", *columns)), lines[name], progress)

    with reporting(progress, sum(lines.values()), f"Reading {folder}"):
        schools, orgs = _orgs(table("orgs", ["type"]))
        terms = _terms(table("academicSessions", ["startDate", "endDate", "schoolYear"]))
        classes = _classes(table("classes", ["schoolSourcedId", "termSourcedIds"]), schools, orgs, terms)
        users = _users(table("users", ["role"]))
        enrollment_rows = table("enrollments", ["classSourcedId", "schoolSourcedId", "userSourcedId", "role"])
        enrollments, ended = _enrollments(enrollment_rows, classes, schools, orgs, users)
    links, unlinked = _links(users)

    keep = [user for user in users.values() if not user.deleted]
    gone = [user for user in users.values() if user.deleted]
    deleted = {user.id for user in gone}
    points = [point for user in keep for point in _points(user)]
    assignments = [DistrictAssignment(person_id=user.id) for user in keep if user.role in STAFF_ROLES]
    relationships = [link for link in links if not {link.student_id, link.contact_id} & deleted]
    snapshot = Snapshot(
        persons=[Person(id=user.id, name=_name(user.row)) for user in keep],
        enrollments=enrollments,
        relationships=relationships,
        assignments=assignments,
        contact_points=points,
    )
    remove = Snapshot(
        persons=[Person(id=user.id) for user in gone],
        enrollments=ended,
        relationships=[link for link in links if {link.student_id, link.contact_id} & deleted],
        assignments=[DistrictAssignment(person_id=user.id) for user in gone if user.role in STAFF_ROLES],
        contact_points=[ContactPoint(owner_id=user.id, method=method) for user in gone for method in PERSONAL_METHODS],
    )
    roles = [user.role for user in keep]
    summary = {
        "students": roles.count(STUDENT),
        "contacts": sum(1 for role in roles if role in CONTACT_ROLES),
        "staff": len(assignments),
        "other_users": sum(1 for role in roles if role not in LINKED_ROLES),
        "contact_points": len(points),
        "enrollments": len(enrollments),
        "relationships": len(relationships),
        "assignments": len(assignments),
        "ignored_links": unlinked,
        "removed_users": len(gone),
        "removed_enrollments": len(ended),
    }
    return RosterImport(snapshot=snapshot, remove=remove, summary=summary)


def _manifest(folder: Path) -> dict[str, str]:
    """File name (without ``.csv``) -> ``bulk``, ``delta`` or ``absent``, after checking the version."""
    modes: dict[str, str] = {}
    version: Row | None = None
    for row in read_table(folder / "manifest.csv", ("propertyName", "value")):
        name, value = row["propertyName"].strip(), row["value"].strip()
        if name == "oneroster.version":
            version = row
            if value != VERSION:
                raise row.error("value", f"is not a supported OneRoster version (this import reads {VERSION})")
        elif name.startswith("file."):
            if value.lower() not in ("bulk", "delta", "absent"):
                raise row.error("value", "is not bulk, delta or absent")
            modes[name.removeprefix("file.")] = value.lower()
    if version is None:
        raise FormatError("does not name the oneroster.version (1.1)", file=folder / "manifest.csv")
    return modes


def _deleted(row: Row) -> bool:
    return row["status"].strip().lower() == "tobedeleted"


def _id(row: Row, column: str) -> str:
    return row.parse(column, lambda cell: identifier(cell.strip()))


def _ids(row: Row, column: str) -> list[str]:
    """A comma-separated list of ids (quoted in the file when it has several)."""
    return [part.strip() for part in row[column].split(",") if part.strip()]


def _orgs(rows: Iterable[Row]) -> tuple[set[str], dict[str, str]]:
    """The school ids, and every org's type by id."""
    types: dict[str, str] = {}
    lines: dict[str, int] = {}
    for row in rows:
        org = _id(row, "sourcedId")
        _unique(row, org, lines)
        types[org] = row["type"].strip().lower()
    return {org for org, kind in types.items() if kind == "school"}, types


_YEAR = re.compile(r"\d{4}")


def _school_year(cell: str) -> str:
    if not _YEAR.fullmatch(cell.strip()):
        raise ValueError("is not a school year (YYYY)")
    return cell.strip()


def _terms(rows: Iterable[Row]) -> dict[str, _Term]:
    terms: dict[str, _Term] = {}
    lines: dict[str, int] = {}
    for row in rows:
        session = _id(row, "sourcedId")
        _unique(row, session, lines)
        start = row.parse("startDate", lambda cell: optional_date(cell.strip()))
        end = row.parse("endDate", lambda cell: optional_date(cell.strip()))
        if start is not None and end is not None and end < start:
            raise row.error("endDate", f"is before the startDate ({start})")
        terms[session] = _Term(start=start, end=end, year=row.parse("schoolYear", _school_year))
    return terms


def _school(row: Row, column: str, schools: set[str], orgs: dict[str, str]) -> str:
    school = _id(row, column)
    if school not in schools:
        kind = orgs.get(school)
        raise row.error(
            column, "names no org in orgs.csv" if kind is None else f"names an org of type {shown(kind)}, not a school"
        )
    return school


def _classes(
    rows: Iterable[Row], schools: set[str], orgs: dict[str, str], terms: dict[str, _Term]
) -> dict[str, tuple[_Term, ...]]:
    """Class id -> its terms."""
    classes: dict[str, tuple[_Term, ...]] = {}
    lines: dict[str, int] = {}
    for row in rows:
        class_id = _id(row, "sourcedId")
        _unique(row, class_id, lines)
        _school(row, "schoolSourcedId", schools, orgs)
        ids = _ids(row, "termSourcedIds")
        if not ids:
            raise row.error("termSourcedIds", "is empty, and a class needs its term(s) for the calendar")
        for term in ids:
            if term not in terms:
                raise row.error("termSourcedIds", "names no academic session in academicSessions.csv", value=term)
        classes[class_id] = tuple(terms[term] for term in ids)
    return classes


def _users(rows: Iterable[Row]) -> dict[str, _User]:
    users: dict[str, _User] = {}
    lines: dict[str, int] = {}
    for row in rows:
        user = _id(row, "sourcedId")
        _unique(row, user, lines)
        role = row.parse("role", lambda cell: required(cell.strip().lower()))
        users[user] = _User(id=user, role=role, deleted=_deleted(row), row=row)
    return users


def _unique(row: Row, value: str, lines: dict[str, int]) -> None:
    if value in lines:
        raise row.error("sourcedId", f"is on line {lines[value]} already", value=value)
    lines[value] = row.line


def _enrollments(
    rows: Iterable[Row],
    classes: dict[str, tuple[_Term, ...]],
    schools: set[str],
    orgs: dict[str, str],
    users: dict[str, _User],
) -> tuple[list[Enrollment], list[Enrollment]]:
    """The students' enrollments to upsert (merged) and those to remove."""
    merged: dict[tuple[str, str, str, datetime.date | None], datetime.date | None] = {}
    removed: dict[tuple[str, str, str, datetime.date | None], None] = {}
    lines: dict[str, int] = {}
    for row in rows:
        _unique(row, _id(row, "sourcedId"), lines)
        class_id = _id(row, "classSourcedId")
        if class_id not in classes:
            raise row.error("classSourcedId", "names no class in classes.csv")
        school = _school(row, "schoolSourcedId", schools, orgs)
        student = _id(row, "userSourcedId")
        if student not in users:
            raise row.error("userSourcedId", "names no user in users.csv")
        if row["role"].strip().lower() != STUDENT:
            continue
        begin = row.parse("beginDate", lambda cell: optional_date(cell.strip()))
        end = row.parse("endDate", lambda cell: optional_date(cell.strip()))
        year, first, last = _calendar(classes[class_id], begin)
        begin = first if begin is None else begin
        end = last if end is None else end
        if begin is not None and end is not None and end < begin:
            raise row.error("endDate", f"is before the enrollment's begin ({begin})", value=str(end))
        calendar = f"{school}:{year}"
        problem = id_problem(calendar)
        if problem:
            raise row.error("schoolSourcedId", f"makes a calendar id (<school>:<year>) that {problem}")
        key = (student, school, calendar, begin)
        if _deleted(row):
            removed[key] = None
        else:
            merged[key] = _later(merged[key], end) if key in merged else end
    upsert = [
        Enrollment(student_id=s, school_id=c, calendar_id=k, start=b, end=e) for (s, c, k, b), e in merged.items()
    ]
    remove = [Enrollment(student_id=s, school_id=c, calendar_id=k, start=b) for s, c, k, b in removed]
    return upsert, remove


def _later(one: datetime.date | None, other: datetime.date | None) -> datetime.date | None:
    """The later of two ends, ``None`` (open-ended) being the latest."""
    return None if one is None or other is None else max(one, other)


def _calendar(
    terms: tuple[_Term, ...], begin: datetime.date | None
) -> tuple[str, datetime.date | None, datetime.date | None]:
    """The school year of a class's terms (the one holding ``begin`` when they span
    several), with the earliest start and latest end of its terms in that year."""
    year = terms[0].year
    if begin is not None and any(term.year != year for term in terms):
        year = next((t.year for t in terms if t.start and t.end and t.start <= begin <= t.end), year)
    in_year = [term for term in terms if term.year == year]
    starts = [term.start for term in in_year]
    ends = [term.end for term in in_year]
    first = None if None in starts else min(s for s in starts if s is not None)
    last = None if None in ends else max(e for e in ends if e is not None)
    return year, first, last


def _links(users: dict[str, _User]) -> tuple[list[Relationship], int]:
    """Relationships from ``agentSourcedIds``, written on the student's side, the
    contact's, or both; and how many links joined users of other roles."""
    links: dict[tuple[str, str], Relationship] = {}
    ignored: set[frozenset[str]] = set()
    for user in users.values():
        for agent_id in _ids(user.row, "agentSourcedIds"):
            agent = users.get(agent_id)
            if agent is None:
                raise user.row.error("agentSourcedIds", "names no user in users.csv", value=agent_id)
            if user.role == STUDENT and agent.role in CONTACT_ROLES:
                student, contact = user.id, agent.id
            elif agent.role == STUDENT and user.role in CONTACT_ROLES:
                student, contact = agent.id, user.id
            else:
                ignored.add(frozenset((user.id, agent.id)))
                continue
            links.setdefault((student, contact), Relationship(student_id=student, contact_id=contact, messenger=True))
    return list(links.values()), len(ignored)


def _points(user: _User) -> list[ContactPoint]:
    """The user's e-mail and phones as new points: nothing enabled, from the import."""
    row = user.row
    email, sms, phone = row["email"].strip(), row["sms"].strip(), row["phone"].strip()
    addresses = {Method.EMAIL: email, Method.CELL_PHONE: sms or phone, Method.OTHER_PHONE: phone if sms else ""}
    return [
        ContactPoint(owner_id=user.id, method=method, address=address, source=Source.IMPORT)
        for method, address in addresses.items()
        if address
    ]


def _name(row: Row) -> str:
    # Not the username: it is often an e-mail address, which is personal data.
    return " ".join(part for part in (row["givenName"].strip(), row["familyName"].strip()) if part)


def user_lines(directory: str | Path) -> dict[str, int]:
    """The line of every user in ``users.csv`` of ``directory``, by ``sourcedId``: where the contact
    points of a user come from, for reports that must not repeat an address."""
    path = Path(directory) / "users.csv"
    if not path.is_file():
        return {}
    lines: dict[str, int] = {}
    for row in read_table(path, ("sourcedId",)):
        lines.setdefault(row["sourcedId"].strip(), row.line)
    return lines
