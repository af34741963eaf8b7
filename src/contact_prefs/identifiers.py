"""The one rule for ids and actor names, which every store can keep alike.

An id (of a person, household, school, calendar, batch) and an actor name
are 1 to :data:`MAX_LENGTH` characters of text without control characters.
Control characters (NUL, tab, newline, DEL...) and line separators break the
history table and line-based CSV consumers, and PostgreSQL cannot store NUL
at all; lone surrogates cannot be stored as UTF-8 anywhere.  The length
bound keeps the widest key (an enrollment's three ids) within PostgreSQL's
index row limit of 2,704 bytes, at four bytes per character: so an id that
one store accepts, every store accepts.

Records, :class:`~contact_prefs.BatchSpec`, the stores' ``commit`` and
``undo`` (through :func:`contact_prefs.open_store`), the file formats and the
command line all check with :func:`id_problem`.
"""

from __future__ import annotations

import re

from .errors import ContactPrefsError
from .privacy import shown

MAX_LENGTH = 200
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


class IdError(ContactPrefsError, ValueError):
    """An id or actor name that breaks :mod:`contact_prefs.identifiers`' rule."""


def id_problem(value: object) -> str | None:
    """What is wrong with ``value`` as an id, or ``None`` if nothing is.

    The problem never repeats the value (it may be long, or hold a control
    character a terminal would obey); callers say where it was.

    >>> [id_problem(v) for v in ("stu-0001", "a\\nb", "", "x" * 201)]
    [None, 'holds a control character', 'is empty', 'is 201 characters long (at most 200)']
    """
    if not isinstance(value, str):
        return f"is not a string but {type(value).__name__}"
    if not value:
        return "is empty"
    if len(value) > MAX_LENGTH:
        return f"is {len(value):,} characters long (at most {MAX_LENGTH})"
    forbidden = _FORBIDDEN.search(value)
    if forbidden:
        return "holds a surrogate (not text)" if forbidden.group() >= "\ud800" else "holds a control character"
    return None


def check_id(value: object, what: str) -> str:
    """``value`` if it is a valid id, else :class:`IdError` naming ``what`` it was meant to be."""
    problem = id_problem(value)
    if problem:
        subject = f"{what} {shown(value)}" if isinstance(value, str) and value else what
        raise IdError(f"{subject} {problem}")
    return value  # type: ignore[return-value]  # id_problem checked it is a str


def check_actor(actor: object) -> str:
    """``actor`` if it is a valid actor name (the id rule, and not only spaces), else :class:`IdError`."""
    if isinstance(actor, str) and actor and not actor.strip():
        raise IdError("the actor is only spaces: name who does this")
    return check_id(actor, "the actor")
