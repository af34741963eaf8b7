"""``snapshot(spec)``: only the records a spec's plan reads, chosen in SQL and fetched in bulk.

The queries follow the rules of :mod:`contact_prefs.rules` step by step, one
query per collection whatever the district's size:

* recipients: the census filter's people; or the students enrolled in scope on
  the day, and in messenger-contact mode their messenger contacts;
* their persons and active district assignments (census checks, Staff reason);
* the active memberships of every household a recipient is an active member
  of (household phones, and whose messages a household phone change affects);
* the saved contact points of the recipients and of those households.
"""

from __future__ import annotations

from typing import Any

import psycopg

from contact_prefs import BatchSpec, Method, Mode, Snapshot

from .tables import ASSIGNMENTS, CONTACT_POINTS, ENROLLMENTS, HOUSEHOLD_MEMBERS, PERSONS, RELATIONSHIPS, Table

ACTIVE = "t.start_date <= %(day)s AND %(day)s <= t.end_date"


def scoped_snapshot(cursor: psycopg.Cursor[Any], spec: BatchSpec, version: str) -> Snapshot:
    params: dict[str, Any] = {"day": spec.as_of, "household_phone": Method.HOUSEHOLD_PHONE.value}

    def select(table: Table, where: str) -> list[Any]:
        return [table.from_row(row) for row in cursor.execute(table.select(f"WHERE {where}"), params).fetchall()]

    enrollments: list[Any] = []
    relationships: list[Any] = []
    if spec.mode is Mode.CENSUS_STAFF:
        recipients = set(spec.filter_ids or ())
    else:
        conditions = [ACTIVE]
        for column, value in (("school_id", spec.school_id), ("calendar_id", spec.calendar_id)):
            if value is not None:
                conditions.append(f"t.{column} = %({column})s")
                params[column] = value
        if spec.filter_ids is not None:
            conditions.append("t.student_id = ANY(%(filter_ids)s::text[])")
            params["filter_ids"] = sorted(spec.filter_ids)
        enrollments = select(ENROLLMENTS, " AND ".join(conditions))
        recipients = {enrollment.student_id for enrollment in enrollments}
        if spec.mode is Mode.STUDENT_MESSENGER_CONTACTS:
            params["students"] = sorted(recipients)
            relationships = select(RELATIONSHIPS, "t.messenger AND t.student_id = ANY(%(students)s::text[])")
            recipients = {link.contact_id for link in relationships}

    params["people"] = sorted(recipients)
    persons = select(PERSONS, "t.id = ANY(%(people)s::text[])")
    assignments = select(ASSIGNMENTS, f"t.person_id = ANY(%(people)s::text[]) AND {ACTIVE}")
    members = select(
        HOUSEHOLD_MEMBERS,
        f"{ACTIVE} AND t.household_id IN (SELECT t.household_id FROM household_members AS t "
        f"WHERE t.person_id = ANY(%(people)s::text[]) AND {ACTIVE})",
    )
    params["households"] = sorted({member.household_id for member in members})
    points = select(
        CONTACT_POINTS,
        "t.address <> '' AND ("
        "(t.method <> %(household_phone)s AND t.owner_id = ANY(%(people)s::text[])) "
        "OR (t.method = %(household_phone)s AND t.owner_id = ANY(%(households)s::text[])))",
    )
    return Snapshot(
        persons=persons,
        household_members=members,
        enrollments=enrollments,
        relationships=relationships,
        assignments=assignments,
        contact_points=points,
        version=version,
    )
