"""The record tables: each record type's columns, and its rows both ways.

Rows come back from our own database, where every record was validated
when it was loaded, so a row becomes a record through the core's unchecked
constructor (``contact_prefs._unchecked``, private to the bundled backends), with enums, interned
reason sets and cached dates looked up.
"""

from __future__ import annotations

import datetime
import functools
import itertools
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from contact_prefs import (
    ContactPoint,
    DistrictAssignment,
    Enrollment,
    HouseholdMember,
    Person,
    Relationship,
)
from contact_prefs._unchecked import record
from contact_prefs.plain import METHOD_VALUES, METHODS, SOURCE_VALUES, SOURCES
from contact_prefs.reasons import BY_MASK

Row = tuple[Any, ...]

OPEN_START = ""
"""``start_on`` of a record without a start: a key column cannot hold NULL (NULLs never collide)."""

reasons = BY_MASK.__getitem__  # a C-level look-up, per row


@functools.lru_cache(maxsize=4096)
def day(text: str | None) -> datetime.date | None:
    """A stored date: ``None`` for ``''`` or NULL (open-ended), else the ISO date.  Districts share few dates."""
    return datetime.date.fromisoformat(text) if text else None


def start_text(start: datetime.date | None) -> str:
    return OPEN_START if start is None else start.isoformat()


def end_text(end: datetime.date | None) -> str | None:
    return None if end is None else end.isoformat()


# Each takes a row's columns as arguments (``itertools.starmap`` feeds them without indexing)
# and converts the stored forms in the same call: enum values and masks by C-level look-ups.
person_from_row = record(Person)
member_from_row = record(HouseholdMember, start=day, end=day)
enrollment_from_row = record(Enrollment, start=day, end=day)
relationship_from_row = record(Relationship, messenger=bool)
assignment_from_row = record(DistrictAssignment, start=day, end=day)
point_from_row = record(
    ContactPoint,
    method=METHODS.__getitem__,
    enabled=reasons,
    text=reasons,
    source=SOURCES.__getitem__,
    revoked=reasons,
)


@attrs.frozen
class Table:
    """One record type's table.  The key columns come first, so a row's prefix is its key."""

    name: str
    columns: tuple[str, ...]
    key_size: int
    to_row: Callable[[Any], Row]
    from_row: Callable[..., Any]

    @property
    def key(self) -> tuple[str, ...]:
        return self.columns[: self.key_size]

    def select(self, alias: str = "") -> str:
        """The columns in order, qualified with ``alias`` when given."""
        prefix = f"{alias}." if alias else ""
        return ", ".join(prefix + column for column in self.columns)

    def records(self, rows: Iterable[Row]) -> list[Any]:
        """The records of ``rows`` (of :meth:`select`'s columns)."""
        return list(itertools.starmap(self.from_row, rows))

    def upsert(self, keep: tuple[str, ...] = (), extra: tuple[str, ...] = ()) -> str:
        """Insert a row or replace the stored row's columns, except ``keep``, by key.

        ``extra`` columns, which are not the record's, follow its columns in each row.
        """
        columns = self.columns + extra
        values = ", ".join("?" for _ in columns)
        replaced = [column for column in columns[self.key_size :] if column not in keep]
        action = "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in replaced) if replaced else "DO NOTHING"
        return (
            f"INSERT INTO {self.name} ({', '.join(columns)}) VALUES ({values}) "
            f"ON CONFLICT ({', '.join(self.key)}) {action}"
        )

    def delete(self) -> str:
        return f"DELETE FROM {self.name} WHERE " + " AND ".join(f"{column} = ?" for column in self.key)

    def key_row(self, record: Any) -> Row:
        return self.to_row(record)[: self.key_size]


TABLES: dict[str, Table] = {
    "persons": Table("persons", ("id", "name"), 1, lambda r: (r.id, r.name), person_from_row),
    "household_members": Table(
        "household_members",
        ("household_id", "person_id", "start_on", "end_on"),
        3,
        lambda r: (r.household_id, r.person_id, start_text(r.start), end_text(r.end)),
        member_from_row,
    ),
    "enrollments": Table(
        "enrollments",
        ("student_id", "school_id", "calendar_id", "start_on", "end_on"),
        4,
        lambda r: (r.student_id, r.school_id, r.calendar_id, start_text(r.start), end_text(r.end)),
        enrollment_from_row,
    ),
    "relationships": Table(
        "relationships",
        ("student_id", "contact_id", "messenger"),
        2,
        lambda r: (r.student_id, r.contact_id, int(r.messenger)),
        relationship_from_row,
    ),
    "assignments": Table(
        "assignments",
        ("person_id", "start_on", "end_on"),
        2,
        lambda r: (r.person_id, start_text(r.start), end_text(r.end)),
        assignment_from_row,
    ),
    "contact_points": Table(
        "contact_points",
        ("owner_id", "method", "address", "enabled", "text", "source", "revoked"),
        2,
        lambda r: (
            r.owner_id,
            METHOD_VALUES[r.method],
            r.address,
            r.enabled.mask,
            r.text.mask,
            SOURCE_VALUES[r.source],
            r.revoked.mask,
        ),
        point_from_row,
    ),
}
"""Snapshot collection name -> its table, in ``RECORD_FIELDS`` order."""

PREFERENCES = ("enabled", "text", "source")
"""What a roster import (``keep_preferences``) leaves alone at an existing point.  Not ``revoked``:
consent belongs to the address, so the new address's ledger decides it."""

LEDGER_KEY = ("ledger_key",)
"""The column a contact point row has beyond its record's: its address key (see :mod:`.ledgers`)."""
