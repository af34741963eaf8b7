"""The digest of a change set: what an approver approved, so that applying it later can prove it is the same.

The digest is the SHA-256, in lower-case hex, of this UTF-8 text: the line
``contact-prefs change set 1``, then one line per point update in change-set
order (owner, method, reason; :func:`~contact_prefs.plan` orders them so),
each of these fields separated by a tab and ended by a newline::

    owner_id  method  source_before  enabled_before  enabled_after  revoked_before  affects...

Enums are their values (``cell_phone``, ``portal``); reason sets are their
bit masks in decimal (bit *i* is the *i*-th reason of ``Reason``); ``affects``
is zero or more person ids, sorted by code point, each its own field.  Ids never hold a tab
or a newline (the id rule refuses control characters), so the text is
unambiguous.  Another program can compute the same digest from the same plan.

The consent a point was planned under (``revoked_before``) is part of it: a
revocation that arrives after approval changes the digest, as it should.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Iterator, Mapping

from .changes import ChangeSet, PointUpdate
from .enums import Method, Reason
from .plain import METHOD_VALUES, SOURCE_VALUES

HEADER = "contact-prefs change set 1\n"

_MASK_TEXTS = [str(mask) for mask in range(1 << len(Reason))]


def update_line(update: PointUpdate, *, with_consent: bool = True) -> str:
    """One update's line of the canonical text (without ``revoked_before`` when ``with_consent`` is false)."""
    fields = [
        update.owner_id,
        update.method.value,
        update.source_before.value,
        str(update.enabled_before.mask),
        str(update.enabled_after.mask),
    ]
    if with_consent:
        fields.append(str(update.revoked_before.mask))
    fields.extend(sorted(update.affects))
    return "\t".join(fields) + "\n"


def _lines(updates: Iterable[PointUpdate], with_consent: bool) -> Iterator[str]:
    """:func:`update_line` of each update, written out for speed: a district-wide commit hashes
    every point it writes (dict look-ups instead of ``Enum.value``, mask texts made once)."""
    methods, sources, masks = METHOD_VALUES, SOURCE_VALUES, _MASK_TEXTS
    for update in updates:
        affects = update.affects
        if len(affects) == 1:
            (only,) = affects
            tail = "\t" + only
        else:
            tail = "".join("\t" + person for person in sorted(affects))
        before, after = masks[update.enabled_before.mask], masks[update.enabled_after.mask]
        fields = f"{update.owner_id}\t{methods[update.method]}\t{sources[update.source_before]}\t{before}\t{after}"
        if with_consent:
            yield f"{fields}\t{masks[update.revoked_before.mask]}{tail}\n"
        else:
            yield f"{fields}{tail}\n"


def updates_digest(updates: Iterable[PointUpdate], *, with_consent: bool = True, header: str = HEADER) -> str:
    """The SHA-256 (hex) of ``header`` and one :func:`update_line` per update, in the order given."""
    sha = hashlib.sha256(header.encode())
    lines = _lines(updates, with_consent)
    # Hashing in chunks keeps memory flat for a district-wide batch.
    while chunk := "".join(itertools.islice(lines, 10_000)):
        sha.update(chunk.encode())
    return sha.hexdigest()


def changeset_digest(change_set: ChangeSet) -> str:
    """The digest of ``change_set``: see this module's documentation for the exact text hashed."""
    return updates_digest(change_set.updates)


def changes_between(approved: Mapping[tuple[Method, Reason], int], now: Mapping[tuple[Method, Reason], int]) -> int:
    """How many changes differ between two results tables: the sum, over (method, reason), of the differences."""
    keys = set(approved) | set(now)
    return sum(abs(approved.get(key, 0) - now.get(key, 0)) for key in keys)
