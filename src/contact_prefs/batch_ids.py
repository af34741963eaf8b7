"""Finding a batch of the history by its id, or by a beginning of it that people can type.

A batch id is 32 hex digits.  ``find_batch`` takes the whole id or a prefix
of at least :data:`MIN_PREFIX` characters that exactly one batch has; an
empty id, a shorter prefix or a prefix that several batches share is a usage
error (a script whose id variable came out empty must not undo something).
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import ContactPrefsError, UnknownBatchError
from .identifiers import id_problem
from .privacy import shown
from .store import BatchRecord

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
    for record in records:
        if record.batch_id == text:
            return record
    if len(text) < MIN_PREFIX:
        raise BatchIdError(
            f"the batch id {shown(text)} is too short: give at least {MIN_PREFIX} characters of it, or all of it"
        )
    matches = [record for record in records if record.batch_id.startswith(text)]
    if len(matches) > 1:
        listed = ", ".join(record.batch_id for record in matches[:SHOWN_MATCHES])
        more = ", ..." if len(matches) > SHOWN_MATCHES else ""
        raise BatchIdError(
            f"the batch id {shown(text)} is the beginning of {len(matches)} batch ids ({listed}{more}): give more of it"
        )
    if matches:
        return matches[0]
    raise UnknownBatchError(f"no batch {shown(text)} in the history of {history_of} (contact-prefs history lists them)")
