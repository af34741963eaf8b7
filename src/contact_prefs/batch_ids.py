"""Finding a batch of the history (or a review of the queue) by its id, or by a beginning of it that people can type.

A batch id is 32 hex digits.  ``find_batch`` takes the whole id or a prefix
of at least :data:`MIN_PREFIX` characters that exactly one batch has; an
empty id, a shorter prefix or a prefix that several batches share is a usage
error (a script whose id variable came out empty must not undo something).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from .errors import ContactPrefsError, UnknownBatchError
from .identifiers import id_problem
from .privacy import shown
from .store import BatchRecord

T = TypeVar("T")

MIN_PREFIX = 4
SHOWN_MATCHES = 5
"""How many of the batches a shared prefix matches an error lists."""


class BatchIdError(ContactPrefsError, ValueError):
    """A batch id that cannot name one batch: empty, too short a prefix, or one that several batches share."""


def batch_id_problem(text: str) -> str | None:
    """What is wrong with ``text`` as a batch id whatever the history holds, or ``None``."""
    if not text.strip():
        return "an empty batch id names no batch: give the id (contact-prefs history lists them)"
    problem = id_problem(text)
    return None if problem is None else f"the batch id {shown(text)} {problem}"


def find_batch(records: Sequence[BatchRecord], text: str, *, history_of: str = "the store") -> BatchRecord:
    """The record whose batch id is ``text``, or the only one whose id begins with ``text``.

    Raises :class:`BatchIdError` for an id that cannot name one batch and
    :class:`~contact_prefs.UnknownBatchError` when no batch has it;
    ``history_of`` names the store in that message.
    """
    problem = batch_id_problem(text)
    if problem:
        raise BatchIdError(problem)
    return find_by_prefix(
        records,
        text,
        id_of=lambda record: record.batch_id,
        kind="batch",
        ambiguous=BatchIdError,
        unknown=UnknownBatchError(
            f"no batch {shown(text)} in the history of {history_of} (contact-prefs history lists them)"
        ),
    )


def find_by_prefix(
    items: Sequence[T],
    text: str,
    *,
    id_of: Callable[[T], str],
    kind: str,
    ambiguous: type[ContactPrefsError],
    unknown: ContactPrefsError,
) -> T:
    """The item whose id is ``text``, or the only one whose id begins with ``text`` (at least
    :data:`MIN_PREFIX` characters); ``ambiguous`` for too short a prefix or one that several
    ids share, ``unknown`` when none has it.  ``kind`` names the ids in messages ("batch")."""
    for item in items:
        if id_of(item) == text:
            return item
    if len(text) < MIN_PREFIX:
        raise ambiguous(
            f"the {kind} id {shown(text)} is too short: give at least {MIN_PREFIX} characters of it, or all of it"
        )
    matches = [item for item in items if id_of(item).startswith(text)]
    if len(matches) > 1:
        listed = ", ".join(id_of(item) for item in matches[:SHOWN_MATCHES])
        more = ", ..." if len(matches) > SHOWN_MATCHES else ""
        raise ambiguous(
            f"the {kind} id {shown(text)} is the beginning of {len(matches)} {kind} ids ({listed}{more}): "
            "give more of it"
        )
    if matches:
        return matches[0]
    raise unknown
