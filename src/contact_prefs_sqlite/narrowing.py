"""``snapshot(spec)`` in SQL: apply the selection rules, and read only what the plan needs after them.

The selection follows the rules in :mod:`contact_prefs.rules`, step by step,
each step filling a temporary id table the next one joins:

1. ``recipients``: the students with an enrollment active on ``as_of`` in the
   school and calendar (and the ad hoc filter), in Students mode; their
   Messenger contacts, in Student Messenger Contacts; or the census filter's
   people who exist and hold an active District Assignment (Census/Staff; the
   others are skipped, each for the first rule it fails).
2. ``households``: where a recipient is an active member and a household
   phone is saved (a household matters for nothing else), each with all its
   active members (a change to the phone affects them all).
3. The recipients' own saved points, the households' saved phones, and the
   recipients' active District Assignments (for the Staff reason).

Steps 1 and 2 become the snapshot's :class:`~contact_prefs.selection.Selection`;
the enrollments, relationships, people and household memberships they read
stay in the database, which is most of a district's rows.  A point with no address cannot be set
and is never read.  Everything runs in the caller's read transaction, so the
parts agree with each other and with the version.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from itertools import groupby
from operator import itemgetter
from typing import Any

from contact_prefs import BatchSpec, Method, Mode, SkipReason
from contact_prefs.progress import NO_PROGRESS, Progress
from contact_prefs.selection import Selection

from .tables import TABLES

HOUSEHOLD_PHONE = Method.HOUSEHOLD_PHONE.value
UNKNOWN_PERSON = SkipReason.UNKNOWN_PERSON
UNASSIGNED = SkipReason.NO_DISTRICT_ASSIGNMENT
HOUSEHOLD, PERSON = itemgetter(0), itemgetter(1)

TEMPORARY_TABLES = ("wanted", "recipients", "households")
"""Id tables private to the connection, emptied before each use."""

_ACTIVE = "{t}.start_on <= :day AND ({t}.end_on IS NULL OR {t}.end_on >= :day)"


def active(alias: str) -> str:
    """SQL: the dated record ``alias`` is active on ``:day`` (an open start is ``''``, before every day)."""
    return _ACTIVE.format(t=alias)


def create_temporary_tables(connection: sqlite3.Connection) -> None:
    for name in TEMPORARY_TABLES:
        connection.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} (id TEXT PRIMARY KEY) WITHOUT ROWID")


def narrowed(
    connection: sqlite3.Connection, spec: BatchSpec, progress: Progress = NO_PROGRESS
) -> tuple[dict[str, list[Any]], Selection]:
    """The record collections ``spec``'s plan reads, by snapshot field name, and whom it selects;
    ``progress`` advances by the rows of each table read."""
    for name in TEMPORARY_TABLES:
        connection.execute(f"DELETE FROM temp.{name}")
    parameters = {"day": spec.as_of.isoformat(), "school": spec.school_id, "calendar": spec.calendar_id}
    if spec.filter_ids is not None:
        connection.executemany("INSERT INTO temp.wanted (id) VALUES (?)", ((i,) for i in spec.filter_ids))

    skipped: list[tuple[str, SkipReason]] = []
    if spec.mode is Mode.CENSUS_STAFF:
        known = "EXISTS (SELECT 1 FROM persons p WHERE p.id = w.id)"
        assigned = f"EXISTS (SELECT 1 FROM assignments t WHERE t.person_id = w.id AND {active('t')})"
        skipped += _ids(connection, f"SELECT w.id FROM temp.wanted w WHERE NOT {known}", {}, UNKNOWN_PERSON)
        skipped += _ids(
            connection, f"SELECT w.id FROM temp.wanted w WHERE {known} AND NOT {assigned}", parameters, UNASSIGNED
        )
        connection.execute(
            f"INSERT INTO temp.recipients (id) SELECT w.id FROM temp.wanted w WHERE {known} AND {assigned}", parameters
        )
    else:
        # A student may have several enrollments in scope, a contact several students: OR IGNORE keeps one.
        enrolled = _enrolled_in_scope(spec)
        if spec.mode is Mode.STUDENTS:
            query = f"SELECT t.student_id FROM enrollments t WHERE {enrolled}"
        else:
            query = (
                "SELECT r.contact_id FROM enrollments t JOIN relationships r ON r.student_id = t.student_id "
                f"WHERE {enrolled} AND r.messenger = 1"
            )
        connection.execute(f"INSERT OR IGNORE INTO temp.recipients (id) {query}", parameters)
    recipients = [person_id for (person_id,) in connection.execute("SELECT id FROM temp.recipients")]
    progress.advance(len(recipients))

    found: dict[str, list[Any]] = {}
    found["assignments"] = _read(
        connection,
        "assignments",
        f"FROM temp.recipients r CROSS JOIN assignments t ON t.person_id = r.id WHERE {active('t')}",
        parameters,
    )
    progress.advance(len(found["assignments"]))
    connection.execute(
        "INSERT OR IGNORE INTO temp.households (id) SELECT t.household_id "
        f"FROM temp.recipients r CROSS JOIN household_members t ON t.person_id = r.id WHERE {active('t')} "
        "AND EXISTS (SELECT 1 FROM contact_points p "
        "WHERE p.owner_id = t.household_id AND p.method = :household AND p.address <> '')",
        {**parameters, "household": HOUSEHOLD_PHONE},
    )
    memberships = connection.execute(
        "SELECT t.household_id, t.person_id "
        f"FROM temp.households h CROSS JOIN household_members t ON t.household_id = h.id WHERE {active('t')} "
        "ORDER BY h.id",  # the order of the join: no sorting
        parameters,
    )
    households = {household: frozenset(map(PERSON, members)) for household, members in groupby(memberships, HOUSEHOLD)}
    progress.advance(sum(map(len, households.values())))
    points = TABLES["contact_points"].select("t")
    rows = connection.execute(
        f"SELECT {points} FROM temp.recipients r CROSS JOIN contact_points t ON t.owner_id = r.id "
        "WHERE t.method <> :household AND t.address <> '' "
        f"UNION ALL SELECT {points} FROM temp.households h CROSS JOIN contact_points t "
        "ON t.owner_id = h.id AND t.method = :household WHERE t.address <> ''",
        {"household": HOUSEHOLD_PHONE},
    )
    found["contact_points"] = TABLES["contact_points"].records(rows)
    progress.advance(len(found["contact_points"]))
    return found, Selection.of(spec, recipients, households, skipped)


def _enrolled_in_scope(spec: BatchSpec) -> str:
    """WHERE conditions on ``enrollments t`` for the enrollments that put a student in scope.

    Built from fixed fragments (values stay parameters) so that SQLite sees
    which columns are constrained and picks the matching index.
    """
    conditions = [active("t")]
    if spec.school_id is not None:
        conditions.append("t.school_id = :school")
    if spec.calendar_id is not None:
        conditions.append("t.calendar_id = :calendar")
    if spec.filter_ids is not None:
        conditions.append("t.student_id IN (SELECT id FROM temp.wanted)")
    return " AND ".join(conditions)


def _ids(
    connection: sqlite3.Connection, query: str, parameters: dict[str, Any], reason: SkipReason
) -> list[tuple[str, SkipReason]]:
    return [(person_id, reason) for (person_id,) in connection.execute(query, parameters)]


def _read(connection: sqlite3.Connection, collection: str, source: str, parameters: dict[str, Any]) -> list[Any]:
    """The records of ``collection`` from ``source`` (a FROM ... clause aliasing the table as ``t``)."""
    table = TABLES[collection]
    rows: Iterable[Any] = connection.execute(f"SELECT {table.select('t')} {source}", parameters)
    return table.records(rows)
