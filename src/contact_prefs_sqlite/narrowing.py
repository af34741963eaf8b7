"""``snapshot(spec)`` in SQL: read only the records a spec's plan can look at.

The selection follows the rules in :mod:`contact_prefs.rules`, step by step,
each step filling a temporary id table the next one joins:

1. ``scope``: students with an enrollment active on ``as_of`` in the school
   and calendar (and the ad hoc filter); their enrollments are read.
2. ``recipients``: those students (Students mode), their Messenger contacts
   (Student Messenger Contacts; those relationships are read), or the census
   filter's people who exist and hold an active District Assignment (Census/
   Staff; the filter's persons and assignments are read so that the plan can
   tell unknown people from unassigned ones).
3. ``households``: where a recipient is an active member and a household
   phone is saved (a household matters for nothing else); every active
   membership of those households is read (a change to the phone affects
   them all).
4. The recipients' own saved points, the households' saved phones, and the
   recipients' active District Assignments (for the Staff reason).

A point with no address cannot be set and is never read.  Everything runs in
the caller's read transaction, so the parts agree with each other and with
the version.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from contact_prefs import BatchSpec, Method, Mode

from .tables import TABLES

HOUSEHOLD_PHONE = Method.HOUSEHOLD_PHONE.value

TEMPORARY_TABLES = ("wanted", "scope", "recipients", "households")
"""Id tables private to the connection, emptied before each use."""

_ACTIVE = "{t}.start_on <= :day AND ({t}.end_on IS NULL OR {t}.end_on >= :day)"


def active(alias: str) -> str:
    """SQL: the dated record ``alias`` is active on ``:day`` (an open start is ``''``, before every day)."""
    return _ACTIVE.format(t=alias)


def create_temporary_tables(connection: sqlite3.Connection) -> None:
    for name in TEMPORARY_TABLES:
        connection.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} (id TEXT PRIMARY KEY) WITHOUT ROWID")


def narrowed(connection: sqlite3.Connection, spec: BatchSpec) -> dict[str, list[Any]]:
    """The record collections ``spec`` needs, by snapshot field name."""
    for name in TEMPORARY_TABLES:
        connection.execute(f"DELETE FROM temp.{name}")
    parameters = {"day": spec.as_of.isoformat(), "school": spec.school_id, "calendar": spec.calendar_id}
    if spec.filter_ids is not None:
        connection.executemany("INSERT INTO temp.wanted (id) VALUES (?)", ((i,) for i in spec.filter_ids))

    found: dict[str, list[Any]] = {}
    if spec.mode is Mode.CENSUS_STAFF:
        found["persons"] = _read(connection, "persons", "FROM temp.wanted w JOIN persons t ON t.id = w.id", {})
        found["assignments"] = _read(
            connection,
            "assignments",
            f"FROM temp.wanted w JOIN assignments t ON t.person_id = w.id WHERE {active('t')}",
            parameters,
        )
        connection.execute(
            "INSERT INTO temp.recipients (id) SELECT w.id FROM temp.wanted w "
            "WHERE EXISTS (SELECT 1 FROM persons p WHERE p.id = w.id) "
            f"AND EXISTS (SELECT 1 FROM assignments t WHERE t.person_id = w.id AND {active('t')})",
            parameters,
        )
    else:
        enrolled = _enrolled_in_scope(spec)
        connection.execute(f"INSERT OR IGNORE INTO temp.scope (id) SELECT t.student_id {enrolled}", parameters)
        found["enrollments"] = _read(connection, "enrollments", enrolled, parameters)
        if spec.mode is Mode.STUDENTS:
            connection.execute("INSERT INTO temp.recipients (id) SELECT id FROM temp.scope")
        else:
            links = "FROM temp.scope s JOIN relationships t ON t.student_id = s.id WHERE t.messenger = 1"
            found["relationships"] = _read(connection, "relationships", links, {})
            connection.execute(f"INSERT OR IGNORE INTO temp.recipients (id) SELECT t.contact_id {links}")
        found["assignments"] = _read(
            connection,
            "assignments",
            f"FROM temp.recipients r JOIN assignments t ON t.person_id = r.id WHERE {active('t')}",
            parameters,
        )

    connection.execute(
        "INSERT OR IGNORE INTO temp.households (id) SELECT t.household_id "
        f"FROM temp.recipients r JOIN household_members t ON t.person_id = r.id WHERE {active('t')} "
        "AND EXISTS (SELECT 1 FROM contact_points p "
        "WHERE p.owner_id = t.household_id AND p.method = :household AND p.address <> '')",
        {**parameters, "household": HOUSEHOLD_PHONE},
    )
    found["household_members"] = _read(
        connection,
        "household_members",
        f"FROM temp.households h JOIN household_members t ON t.household_id = h.id WHERE {active('t')}",
        parameters,
    )
    points = TABLES["contact_points"].select("t")
    rows = connection.execute(
        f"SELECT {points} FROM temp.recipients r JOIN contact_points t ON t.owner_id = r.id "
        "WHERE t.method <> :household AND t.address <> '' "
        f"UNION ALL SELECT {points} FROM temp.households h JOIN contact_points t "
        "ON t.owner_id = h.id AND t.method = :household WHERE t.address <> ''",
        {"household": HOUSEHOLD_PHONE},
    )
    found["contact_points"] = TABLES["contact_points"].records(rows)
    return found


def _enrolled_in_scope(spec: BatchSpec) -> str:
    """FROM ... WHERE for the enrollments that put a student in scope.

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
    return "FROM enrollments t WHERE " + " AND ".join(conditions)


def _read(connection: sqlite3.Connection, collection: str, source: str, parameters: dict[str, Any]) -> list[Any]:
    """The records of ``collection`` from ``source`` (a FROM ... clause aliasing the table as ``t``)."""
    table = TABLES[collection]
    rows: Iterable[Any] = connection.execute(f"SELECT {table.select('t')} {source}", parameters)
    return table.records(rows)
