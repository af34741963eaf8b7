"""The native CSV format: one file per record type, every field, nothing lost.

``persons.csv``, ``household_members.csv``, ``enrollments.csv``,
``relationships.csv``, ``assignments.csv`` and ``contact_points.csv``; the
header row is the record's field names; dates are ``YYYY-MM-DD`` (empty for
open-ended), booleans ``true``/``false``, reason sets their values joined by
``;`` (``attendance;general``), methods and sources their values
(``cell_phone``, ``portal``).  Writing a snapshot and reading it back gives
the same records (see ``docs/formats.md``).
"""

from __future__ import annotations

import csv
import datetime
import enum
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from ..enums import Method, Reason, Source
from ..privacy import shown
from ..private_files import open_staging
from ..reasons import ReasonSet
from ..snapshot import RECORD_FIELDS, RECORD_TYPES, Snapshot
from .errors import FormatError
from .table import Row, identifier, optional_date, parse_bool, read_table

FILES = {name: f"{name}.csv" for name in RECORD_FIELDS}
"""Collection name -> its file name."""

COLUMNS: dict[str, tuple[str, ...]] = {
    name: tuple(field.name for field in attrs.fields(kind)) for name, kind in RECORD_TYPES.items()
}
"""Collection name -> its columns: the record type's field names, in order."""

KEY_COLUMNS = {
    "persons": ("id",),
    "household_members": ("household_id", "person_id", "start"),
    "enrollments": ("student_id", "school_id", "calendar_id", "start"),
    "relationships": ("student_id", "contact_id"),
    "assignments": ("person_id", "start"),
    "contact_points": ("owner_id", "method"),
}
"""Collection name -> the columns of its store key: one row per key in a file."""


def write_csv(snapshot: Snapshot, directory: str | Path) -> dict[str, int]:
    """Write every record of ``snapshot`` to the six files in ``directory`` (created if missing).

    Returns the number of rows per file name.  Each file is written under a
    temporary name first; the six replace the old ones only once all are
    written, so a failure leaves the folder as it was.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    staged: list[tuple[Path, Path]] = []
    try:
        for name, records in snapshot.collections().items():
            target = folder / FILES[name]
            staging, stream = open_staging(target)  # owner-only, and never through a planted link
            staged.append((staging, target))
            with stream:
                writer = csv.writer(stream)  # "\r\n" line ends: a bare "\r" in a value gets quoted too
                columns = COLUMNS[name]
                writer.writerow(columns)
                writer.writerows([_cell(getattr(record, column), column) for column in columns] for record in records)
            written[target.name] = len(records)
        for staging, target in staged:
            os.replace(staging, target)
    finally:
        for staging, _ in staged:
            staging.unlink(missing_ok=True)
    return written


def _cell(value: Any, column: str = "") -> str:
    if column == "revoked":  # every reason or none, the usual cases, as older files wrote them
        return "true" if value == ReasonSet.all() else "false" if not value else _cell(value)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, ReasonSet):
        return ";".join(reason.value for reason in value)
    if isinstance(value, enum.Enum):
        return str(value.value)
    raise TypeError(f"no CSV form for {type(value).__name__}")


def read_csv(directory: str | Path) -> Snapshot:
    """The records in the native CSV files of ``directory``.

    A file that is absent holds no records, but at least one must be there.
    Every column of a file's record type is required; other columns are
    ignored.  Two rows with one store key in a file are an error, as is any
    cell that does not parse: a :class:`FormatError` names the file, line,
    column and value.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise FormatError("is not a folder", file=folder)
    present = [name for name in RECORD_FIELDS if (folder / FILES[name]).is_file()]
    if not present:
        raise FormatError(f"holds none of the native CSV files ({', '.join(FILES.values())})", file=folder)
    return Snapshot(**{name: _records(folder / FILES[name], name) for name in present})  # type: ignore[arg-type]


def _records(path: Path, name: str) -> list[Any]:
    kind = RECORD_TYPES[name]
    columns = COLUMNS[name]
    parsers = [(column, _PARSERS.get(column, _text)) for column in columns]
    checks = _CHECKS.get(name, ())
    records: list[Any] = []
    lines: dict[Any, int] = {}
    for row in read_table(path, columns):
        values = {column: row.parse(column, parser) for column, parser in parsers}
        for check in checks:
            check(row, values)
        record = kind(**values)
        if record.key in lines:
            raise FormatError(
                f"repeats the key ({', '.join(KEY_COLUMNS[name])}) of line {lines[record.key]}",
                file=path,
                line=row.line,
            )
        lines[record.key] = row.line
        records.append(record)
    return records


def _text(cell: str) -> str:
    return cell


def _member(kind: type[enum.Enum]) -> Callable[[str], Any]:
    what = kind.__name__.lower()

    def parse(cell: str) -> Any:
        try:
            return kind(cell)
        except ValueError:
            raise ValueError(f"is not a {what} ({', '.join(str(m.value) for m in kind)})") from None

    return parse


def _reasons(cell: str) -> ReasonSet:
    reasons = []
    values = [part.strip() for part in cell.split(";") if part.strip()]
    for value in values:
        try:
            reasons.append(Reason(value))
        except ValueError:
            # The error names the cell already: repeat the part only when it is not the whole cell.
            holds = "is not a reason" if value == cell.strip() else f"holds {shown(value)}, which is not a reason"
            raise ValueError(f"{holds} ({Reason.choices()})") from None
    return ReasonSet(reasons)


def _revoked(cell: str) -> ReasonSet:
    """The reasons consent is withdrawn for: ``true`` (every reason), ``false`` (none), or
    the reasons listed like ``enabled``."""
    if cell.strip().lower() in ("true", "false"):
        return ReasonSet.all() if parse_bool(cell.strip()) else ReasonSet()
    return _reasons(cell)


_PARSERS: Mapping[str, Callable[[str], Any]] = {
    "id": identifier,
    "household_id": identifier,
    "person_id": identifier,
    "student_id": identifier,
    "school_id": identifier,
    "calendar_id": identifier,
    "contact_id": identifier,
    "owner_id": identifier,
    "start": optional_date,
    "end": optional_date,
    "messenger": parse_bool,
    "revoked": _revoked,
    "method": _member(Method),
    "source": _member(Source),
    "enabled": _reasons,
    "text": _reasons,
}


def _ends_after_start(row: Row, values: dict[str, Any]) -> None:
    if values["start"] is not None and values["end"] is not None and values["end"] < values["start"]:
        raise row.error("end", f"is before the start ({values['start']})")


def _text_on_phones(row: Row, values: dict[str, Any]) -> None:
    if values["text"] and not values["method"].is_phone:
        raise row.error("text", f"is not empty, but {values['method'].value} cannot receive texts (phones only)")


_CHECKS: Mapping[str, tuple[Callable[[Row, dict[str, Any]], None], ...]] = {
    "household_members": (_ends_after_start,),
    "enrollments": (_ends_after_start,),
    "assignments": (_ends_after_start,),
    "contact_points": (_text_on_phones,),
}


def point_lines(directory: str | Path) -> dict[tuple[str, Method], int]:
    """The line of every contact point in ``contact_points.csv`` of ``directory``, by its key, for
    reports that must say where a point is without repeating its address.  Reads a file that
    :func:`read_csv` has read already: rows that do not parse are left out."""
    path = Path(directory) / FILES["contact_points"]
    if not path.is_file():
        return {}
    lines: dict[tuple[str, Method], int] = {}
    for row in read_table(path, KEY_COLUMNS["contact_points"]):
        try:
            lines.setdefault((row["owner_id"], Method(row["method"])), row.line)
        except ValueError:
            continue
    return lines
