"""``snapshot(spec)``: only the records a spec's plan reads, chosen in SQL and fetched in bulk.

The queries follow the rules of :mod:`contact_prefs.rules` step by step, one
query per collection whatever the district's size:

* the selection (:class:`~contact_prefs.selection.Selection`): the census
  filter's people who exist and hold an active District Assignment (the others
  skipped, with the rule each failed); or the students enrolled in scope on the
  day, and in messenger-contact mode their messenger contacts.  The
  enrollments, relationships and people behind it are not fetched;
* the recipients' active district assignments (the Staff reason);
* every household with a saved phone that a recipient is an active member
  of, with all its active members (whose messages a change to its phone
  affects), into the selection;
* the saved contact points of the recipients and of those households.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import psycopg

from contact_prefs import BatchSpec, Method, Mode, SkipReason, Snapshot
from contact_prefs._unchecked import snapshot as unchecked_snapshot
from contact_prefs.selection import Selection

from .tables import ASSIGNMENTS, CONTACT_POINTS, Table

ACTIVE = "t.start_date <= %(day)s AND %(day)s <= t.end_date"


# The id lists sent back to the server (a district's recipients, their households) go in
# PostgreSQL's binary format: half the time of quoting 200,000 ids as an array literal.
def scoped_snapshot(cursor: psycopg.Cursor[Any], spec: BatchSpec, version: str) -> Snapshot:
    params: dict[str, Any] = {"day": spec.as_of, "household_phone": Method.HOUSEHOLD_PHONE.value}

    def select(table: Table, where: str) -> list[Any]:
        return table.records(cursor.execute(table.select(f"WHERE {where}"), params).fetchall())

    def ids(query: str) -> list[str]:
        return [person_id for (person_id,) in cursor.execute(query, params).fetchall()]

    skipped: list[tuple[str, SkipReason]] = []
    if spec.mode is Mode.CENSUS_STAFF:
        params["wanted"] = sorted(spec.filter_ids or ())
        wanted = "SELECT w.id FROM unnest(%(wanted)b::text[]) AS w(id)"
        known = "EXISTS (SELECT 1 FROM persons AS p WHERE p.id = w.id)"
        assigned = f"EXISTS (SELECT 1 FROM assignments AS t WHERE t.person_id = w.id AND {ACTIVE})"
        skipped += [(i, SkipReason.UNKNOWN_PERSON) for i in ids(f"{wanted} WHERE NOT {known}")]
        skipped += [(i, SkipReason.NO_DISTRICT_ASSIGNMENT) for i in ids(f"{wanted} WHERE {known} AND NOT {assigned}")]
        recipients = ids(f"{wanted} WHERE {known} AND {assigned}")
    else:
        conditions = [ACTIVE]
        for column, value in (("school_id", spec.school_id), ("calendar_id", spec.calendar_id)):
            if value is not None:
                conditions.append(f"t.{column} = %({column})s")
                params[column] = value
        if spec.filter_ids is not None:
            conditions.append("t.student_id = ANY(%(filter_ids)b::text[])")
            params["filter_ids"] = sorted(spec.filter_ids)
        enrolled = "SELECT t.student_id FROM enrollments AS t WHERE " + " AND ".join(conditions)
        if spec.mode is Mode.STUDENTS:
            recipients = ids(f"SELECT DISTINCT student_id FROM ({enrolled}) AS e")
        else:
            recipients = ids(
                "SELECT DISTINCT r.contact_id FROM relationships AS r "
                f"WHERE r.messenger AND r.student_id IN ({enrolled})"
            )

    params["people"] = recipients
    assignments = select(ASSIGNMENTS, f"t.person_id = ANY(%(people)b::text[]) AND {ACTIVE}")
    households: defaultdict[str, list[str]] = defaultdict(list)
    for household, person in cursor.execute(
        f"SELECT t.household_id, t.person_id FROM household_members AS t WHERE {ACTIVE} "
        "AND t.household_id IN (SELECT t.household_id FROM household_members AS t "
        f"WHERE t.person_id = ANY(%(people)b::text[]) AND {ACTIVE}) "
        # A household matters only for its phone: without a saved one it stays out of the selection.
        "AND EXISTS (SELECT FROM contact_points AS p WHERE p.owner_id = t.household_id "
        "AND p.method = %(household_phone)s AND p.address <> '')",
        params,
    ).fetchall():
        households[household].append(person)
    params["households"] = sorted(households)
    points = select(
        CONTACT_POINTS,
        "t.address <> '' AND ("
        "(t.method <> %(household_phone)s AND t.owner_id = ANY(%(people)b::text[])) "
        "OR (t.method = %(household_phone)s AND t.owner_id = ANY(%(households)b::text[])))",
    )
    return unchecked_snapshot(
        {"assignments": assignments, "contact_points": points},
        selection=Selection.of(spec, recipients, households, skipped),
        version=version,
    )
