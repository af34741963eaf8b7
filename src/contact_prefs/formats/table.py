"""Reading one CSV file as rows that know where they came from, and parsing their cells.

Every format reads through :func:`read_table`, so every format tolerates the
same things real files contain (a byte-order mark, extra columns, a row with
one extra empty trailing field, no final newline, blank lines) and reports
the same problems the same way (file, line, column, value).
"""

from __future__ import annotations

import csv
import datetime
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import attrs

from ..identifiers import id_problem
from ..privacy import shown
from ..progress import CHUNK, Progress
from .errors import FormatError

T = TypeVar("T")


@attrs.frozen
class Row:
    """One data row: its cells by column name, and the line it starts on."""

    file: Path
    line: int
    cells: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.cells.get(column, "")

    def error(self, column: str, problem: str, value: str | None = None) -> FormatError:
        """A :class:`FormatError` about this row's ``column`` (its value, unless another is given)."""
        return FormatError(
            problem, file=self.file, line=self.line, column=column, value=self[column] if value is None else value
        )

    def parse(self, column: str, parser: Callable[[str], T]) -> T:
        """``parser(cell)``, its ``ValueError`` turned into an error naming this cell."""
        try:
            return parser(self[column])
        except ValueError as error:
            raise self.error(column, str(error)) from None


def read_table(path: Path, required: Iterable[str]) -> Iterator[Row]:
    """The data rows of the CSV file at ``path``, whose header must name every ``required`` column."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            yield from _rows(path, csv.reader(stream, strict=True), tuple(required))
    except FileNotFoundError:
        raise FormatError("is missing", file=path) from None
    except IsADirectoryError:
        raise FormatError("is a folder, not a CSV file", file=path) from None


def _rows(path: Path, reader: Iterator[list[str]], required: Sequence[str]) -> Iterator[Row]:
    line = 1  # where the next record starts
    try:
        header = [name.strip() for name in next(reader, [])]
        duplicated = sorted({name for name in header if header.count(name) > 1})
        if duplicated:
            names = ", ".join(name if shown(name) == repr(name) else shown(name) for name in duplicated)
            raise FormatError(f"the header names {names} more than once", file=path, line=1)
        missing = [name for name in required if name not in header]
        if missing:
            raise FormatError(
                f"the header lacks the column(s) {', '.join(missing)} (it must name {', '.join(required)})",
                file=path,
                line=1,
            )
        width = len(header)
        line = reader.line_num + 1  # type: ignore[attr-defined]
        for fields in reader:
            if fields:  # a blank line is no row
                if len(fields) != width and (len(fields) < width or any(fields[width:])):
                    raise FormatError(f"has {len(fields)} fields where the header has {width}", file=path, line=line)
                yield Row(path, line, dict(zip(header, fields, strict=False)))
            line = reader.line_num + 1  # type: ignore[attr-defined]
    except UnicodeDecodeError:
        raise FormatError("is not UTF-8 text", file=path, line=_undecodable_line(path)) from None
    except csv.Error as error:
        raise FormatError(f"is not valid CSV ({error})", file=path, line=line) from None


def data_lines(path: Path) -> int:
    """The lines of the file at ``path`` after its header (0 when it cannot be read): the size of
    reading it, for progress.  Counted in blocks, without decoding."""
    lines, last = 0, b"\n"
    try:
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                lines, last = lines + block.count(b"\n"), block[-1:]
    except OSError:
        return 0
    return max(lines + (last != b"\n") - 1, 0)


def tracked(rows: Iterable[Row], lines: int, progress: Progress) -> Iterator[Row]:
    """``rows`` as they come, advancing ``progress`` by the lines read every :data:`CHUNK` rows,
    and by what is left of ``lines`` (blank lines, cells over several lines) at the end."""
    done, due = 0, CHUNK
    for count, row in enumerate(rows, start=1):
        yield row
        if count == due:
            step = min(row.line - 1, lines) - done  # the lines after the header, up to this row's first
            progress.advance(step)
            done, due = done + step, due + CHUNK
    progress.advance(lines - done)


def _undecodable_line(path: Path) -> int:
    """The line of the first byte that is not UTF-8 (the text stream decodes ahead of the rows)."""
    data = path.read_bytes()
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return data.count(b"\n", 0, error.start) + 1
    return 1


# -- cells -------------------------------------------------------------------

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(text: str) -> datetime.date:
    """A ``YYYY-MM-DD`` date, and nothing else ISO 8601 allows."""
    if _DATE.fullmatch(text):
        try:
            return datetime.date.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError("is not a date (YYYY-MM-DD)")


def parse_moment(text: str) -> datetime.datetime:
    """A moment in ISO 8601 with its time zone (``2026-12-04T16:05:00Z``, ``...-05:00``), in UTC.

    A moment without a zone is refused rather than guessed at: a revocation's
    receipt starts a legal clock, and a guess could move it by a day.
    """
    try:
        moment = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError("is not a moment in ISO 8601 (such as 2026-12-04T16:05:00Z)") from None
    if moment.utcoffset() is None:
        raise ValueError("has no time zone: end it with Z (UTC) or an offset such as -05:00") from None
    return moment.astimezone(datetime.UTC)


def optional_date(text: str) -> datetime.date | None:
    """A date, or ``None`` (open-ended) for an empty cell."""
    return parse_date(text) if text else None


def parse_bool(text: str) -> bool:
    """``true`` or ``false``, in any case (spreadsheets write ``TRUE``)."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ValueError("is not true or false")


def required(text: str) -> str:
    """A non-empty cell."""
    if not text:
        raise ValueError("is empty, and a value is required")
    return text


def identifier(text: str) -> str:
    """An id: a non-empty cell that follows the rule of :mod:`contact_prefs.identifiers`."""
    problem = id_problem(required(text))
    if problem:
        raise ValueError(f"{problem}, and is not an id")
    return text
