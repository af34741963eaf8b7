"""The district's records as table rows: columns, conversions, and the SQL that moves them in bulk.

One :class:`Table` per snapshot collection, named like it.  Loads send each
column as one array and ``unnest`` it, so a whole collection is one statement
whatever its size.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

from contact_prefs import (
    ContactPoint,
    DistrictAssignment,
    Enrollment,
    HouseholdMember,
    Person,
    Relationship,
    StoreError,
)
from contact_prefs._unchecked import record
from contact_prefs.plain import METHOD_VALUES, METHODS, SOURCE_VALUES, SOURCES
from contact_prefs.reasons import BY_MASK

Row = tuple[Any, ...]

OPEN_START = "-infinity"
OPEN_END = "infinity"


@attrs.frozen
class Column:
    """A table column; ``open`` is the value standing for ``None`` in a NOT NULL date column."""

    name: str
    type: str
    open: str | None = None

    def stored(self, source: str) -> str:
        """The SQL for this column's stored value, from the same-named column of ``source``."""
        value = f"{source}.{self.name}"
        return value if self.open is None else f"coalesce({value}, '{self.open}'::date)"

    def loaded(self) -> str:
        """The SQL reading this column of ``t`` back as the record's value."""
        value = f"t.{self.name}"
        return value if self.open is None else f"nullif({value}, '{self.open}'::date)"


@attrs.frozen
class Table:
    """How one record type is stored: its columns (key first), and its rows both ways."""

    name: str
    columns: tuple[Column, ...]
    key_size: int
    to_row: Callable[[Any], Row]
    from_row: Callable[..., Any]
    """Builds a record from a row's columns, given as arguments, without checking it."""

    @property
    def keys(self) -> tuple[Column, ...]:
        return self.columns[: self.key_size]

    def select(self, where: str = "") -> str:
        """Read records of ``t``; ``where`` narrows them."""
        return f"SELECT {', '.join(c.loaded() for c in self.columns)} FROM {self.name} AS t {where}"

    def records(self, rows: Sequence[Row]) -> list[Any]:
        """The records of ``rows`` (of :meth:`select`'s columns), in one pass.

        A row another program wrote with a value this library does not store
        (an unknown method or source, a mask beyond the reasons) is refused
        with its table and key, and nothing is read.
        """
        try:
            return list(itertools.starmap(self.from_row, rows))
        except (KeyError, IndexError, TypeError):
            for row in rows:
                try:
                    self.from_row(*row)
                except (KeyError, IndexError, TypeError) as error:
                    key = ", ".join(str(value) for value in row[: self.key_size])
                    raise StoreError(
                        f"{self.name} ({key}) holds a value this library does not store ({error}); "
                        "see docs/postgres.md for the stored forms; nothing was read"
                    ) from None
            raise

    def upsert(self, updated: Sequence[str] | None = None) -> str:
        """Insert one record per array element, replacing by key the ``updated`` columns (default: all)."""
        names = ", ".join(c.name for c in self.columns)
        updated = [c.name for c in self.columns[self.key_size :]] if updated is None else updated
        return (
            f"INSERT INTO {self.name} ({names}) SELECT {', '.join(c.stored('s') for c in self.columns)} "
            f"FROM unnest({_arrays(self.columns)}) AS s({names}) "
            f"ON CONFLICT ({', '.join(c.name for c in self.keys)}) "
            f"DO UPDATE SET {', '.join(f'{name} = excluded.{name}' for name in updated)}"
        )

    def delete(self) -> str:
        """Delete the records whose keys are given, one array per key column."""
        names = ", ".join(c.name for c in self.keys)
        matches = " AND ".join(f"t.{c.name} = {c.stored('s')}" for c in self.keys)
        return f"DELETE FROM {self.name} AS t USING unnest({_arrays(self.keys)}) AS s({names}) WHERE {matches}"

    def arrays(self, records: Iterable[Any], *, keys_only: bool = False) -> list[list[Any]]:
        """The records' rows as one list per column (the statements' parameters), one record per key.

        A later record replaces an earlier one with the same key, as an upsert would.
        """
        unique = {record.key: record for record in records}.values()
        rows = [self.to_row(record) for record in unique]
        width = self.key_size if keys_only else len(self.columns)
        arrays = [[row[index] for row in rows] for index in range(width)]
        for column, values in zip(self.columns, arrays, strict=False):
            if column.type == "text" and any("\x00" in value for value in values):
                self._refuse_nul(column, rows, values)
        return arrays

    def _refuse_nul(self, column: Column, rows: list[Row], values: list[str]) -> None:
        row = next(row for row, value in zip(rows, values, strict=True) if "\x00" in value)
        key = ", ".join(str(value) for value in row[: self.key_size])
        raise StoreError(
            f"{self.name} ({key}): {column.name} contains a NUL character, which PostgreSQL cannot store; "
            "nothing was written"
        )


def _arrays(columns: Iterable[Column]) -> str:
    return ", ".join(f"%s::{column.type}[]" for column in columns)


_TEXT = "text"
_START = Column("start_date", "date", OPEN_START)
_END = Column("end_date", "date", OPEN_END)


# Each takes a row's columns as arguments (``Table.records`` feeds them with ``itertools.starmap``)
# and builds the record unchecked: rows are read back as this library's loads wrote them.
_person = record(Person)
_member = record(HouseholdMember)
_enrollment = record(Enrollment)
_relationship = record(Relationship)
_assignment = record(DistrictAssignment)
# Other programs may write these tables: a dict refuses a mask out of range, where an index would wrap.
_MASKS = dict(enumerate(BY_MASK))
_point = record(
    ContactPoint,
    method=METHODS.__getitem__,
    enabled=_MASKS.__getitem__,
    text=_MASKS.__getitem__,
    source=SOURCES.__getitem__,
    revoked=_MASKS.__getitem__,
)


def _point_row(p: ContactPoint) -> Row:
    method, source = METHOD_VALUES[p.method], SOURCE_VALUES[p.source]
    return (p.owner_id, method, p.address, p.enabled.mask, p.text.mask, source, p.revoked.mask)


PERSONS = Table(
    "persons",
    (Column("id", _TEXT), Column("name", _TEXT)),
    1,
    lambda p: (p.id, p.name),
    _person,
)
HOUSEHOLD_MEMBERS = Table(
    "household_members",
    (Column("household_id", _TEXT), Column("person_id", _TEXT), _START, _END),
    3,
    lambda m: (m.household_id, m.person_id, m.start, m.end),
    _member,
)
ENROLLMENTS = Table(
    "enrollments",
    (Column("student_id", _TEXT), Column("school_id", _TEXT), Column("calendar_id", _TEXT), _START, _END),
    4,
    lambda e: (e.student_id, e.school_id, e.calendar_id, e.start, e.end),
    _enrollment,
)
RELATIONSHIPS = Table(
    "relationships",
    (Column("student_id", _TEXT), Column("contact_id", _TEXT), Column("messenger", "boolean")),
    2,
    lambda r: (r.student_id, r.contact_id, r.messenger),
    _relationship,
)
ASSIGNMENTS = Table(
    "assignments",
    (Column("person_id", _TEXT), _START, _END),
    2,
    lambda a: (a.person_id, a.start, a.end),
    _assignment,
)
CONTACT_POINTS = Table(
    "contact_points",
    (
        Column("owner_id", _TEXT),
        Column("method", _TEXT),
        Column("address", _TEXT),
        Column("enabled", "integer"),
        Column("text_enabled", "integer"),
        Column("source", _TEXT),
        Column("revoked", "integer"),
    ),
    2,
    _point_row,
    _point,
)

TABLES = (PERSONS, HOUSEHOLD_MEMBERS, ENROLLMENTS, RELATIONSHIPS, ASSIGNMENTS, CONTACT_POINTS)
"""Every record table, in the order of ``RECORD_FIELDS`` (each named after its collection)."""

ADDRESS_AND_CONSENT = ("address", "revoked")
"""What a load with ``keep_preferences`` replaces in an existing contact point: its address, and
``revoked`` as the new address's ledger says."""
