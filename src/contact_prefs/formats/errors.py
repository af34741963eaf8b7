"""FormatError: a file that cannot be read, and exactly where and why."""

from __future__ import annotations

from pathlib import Path

from ..errors import ContactPrefsError
from ..privacy import looks_personal, shown

PERSONAL_COLUMNS = frozenset({"address", "email", "sms", "phone"})
"""Columns that hold phone numbers or e-mail addresses: their values never appear in an error."""


class FormatError(ContactPrefsError, ValueError):
    """A file, row or value that does not follow its format; nothing was imported.

    ``file`` is the path, ``line`` the 1-based line the row starts on (the
    header is line 1), ``column`` the field name and ``value`` the offending
    value.  A value from a column of :data:`PERSONAL_COLUMNS` is neither kept
    nor shown: the message says "the value in column phone" instead.  Nor is
    a value anywhere that looks like a phone number or an e-mail address (a
    file whose columns are swapped puts addresses where nobody expects them),
    and a long value is cut (see :func:`contact_prefs.privacy.shown`).

    >>> problem = "is not a date (YYYY-MM-DD)"
    >>> error = FormatError(problem, file="users.csv", line=12, column="birthDate", value="2024-13-01")
    >>> str(error)
    "users.csv, line 12, column birthDate: '2024-13-01' is not a date (YYYY-MM-DD)"
    >>> error = FormatError("is not a number", file="users.csv", line=3, column="phone", value="555-0100")
    >>> str(error), error.value
    ('users.csv, line 3, column phone: the value in column phone is not a number', None)
    >>> error = FormatError("is not a method", file="points.csv", line=2, column="method", value="(280) 555-0143")
    >>> str(error), error.value
    ('points.csv, line 2, column method: a value that looks like a phone number is not a method', None)
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | Path,
        line: int | None = None,
        column: str | None = None,
        value: str | None = None,
    ) -> None:
        personal = column is not None and column.lower() in PERSONAL_COLUMNS
        withheld = personal or (value is not None and looks_personal(value))
        self.problem = problem
        self.file = str(file)
        self.line = line
        self.column = column
        self.value = None if withheld else value
        where = ", ".join(
            part
            for part in (self.file, line and f"line {line}", column and f"column {column}")
            if isinstance(part, str)
        )
        if personal and value is not None:
            subject = f"the value in column {column} "
        elif value is not None:
            subject = f"{shown(value)} "
        else:
            subject = ""
        super().__init__(f"{where}: {subject}{problem}")
