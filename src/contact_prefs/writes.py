"""What a commit and an undo may write: the rules every store applies, in one place.

A store is an executor.  It reads the points a commit or an undo involves as
they are now (:class:`StoredPoint`), hands them to :func:`check_commit` or
:func:`undo_writes`, and writes what they return, each point with a
compare-and-set against the state it read, inside one transaction.  No store
decides a conflict, a consent question or an undo by itself.

A store may first try the cheap way: write every update with a
compare-and-set against the state the plan saw (``enabled_before``,
``source_before`` and ``revoked_before``).  When every point matches, the
points are exactly as planned and :func:`check_commit` would let every update
through unchanged (``plan`` never switches a reason on at a revoked point, and
a :class:`PointUpdate` cannot).  Only when some point differs must the store
read the points and ask.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from .changes import PointUpdate
from .enums import Reason, Source
from .errors import ConflictError
from .reasons import ReasonSet, revoked_set
from .records import ContactPoint
from .rules import restore_within_consent

__all__ = [
    "PointWrite",
    "StoredPoint",
    "check_commit",
    "conflicts_at_commit",
    "conflicts_at_undo",
    "revert_writes",
    "undo_writes",
]


@attrs.frozen
class StoredPoint:
    """A contact point as a store reads it when it writes: what a compare-and-set compares."""

    enabled: ReasonSet
    source: Source
    revoked: ReasonSet = attrs.field(converter=revoked_set)

    @classmethod
    def of(cls, point: ContactPoint | None) -> StoredPoint | None:
        """The state of a stored record; ``None`` for a point that is gone."""
        return None if point is None else cls(point.enabled, point.source, point.revoked)


@attrs.frozen
class PointWrite:
    """One compare-and-set: if the point still has ``update``'s before-state, give it
    ``update.enabled_after`` and ``source``."""

    update: PointUpdate
    source: Source


def conflicts_at_commit(update: PointUpdate, now: StoredPoint | None) -> bool:
    """Whether a commit must refuse this point: it is gone, its reasons or source changed
    since planning, or consent was withdrawn since for a reason the update switches on.

    Consent withdrawn for other reasons, or where the update only switches
    reasons off, is no conflict: the batch goes ahead there.
    """
    return (
        now is None
        or now.enabled != update.enabled_before
        or now.source is not update.source_before
        or bool(now.revoked & update.switched_on)
    )


def check_commit(updates: Sequence[PointUpdate], now: Sequence[StoredPoint | None]) -> tuple[PointUpdate, ...]:
    """The updates a commit writes, given each point as it is now (``now[i]`` for ``updates[i]``).

    Raises :class:`ConflictError` listing every change at every point that
    :func:`conflicts_at_commit`; nothing may then be written.  Otherwise each
    update comes back compared with the point as read (its ``revoked_before``
    is the consent read now), for the store's compare-and-set.
    """
    conflicting = [update for update, point in zip(updates, now, strict=True) if conflicts_at_commit(update, point)]
    if conflicting:
        raise ConflictError([change for update in conflicting for change in update.changes])
    return tuple(
        update if point.revoked == update.revoked_before else attrs.evolve(update, revoked_before=point.revoked)
        for update, point in zip(updates, now, strict=True)
        if point is not None
    )


def conflicts_at_undo(done: PointUpdate, now: StoredPoint | None) -> bool:
    """Whether an undo must refuse this point of the batch: it is gone or no longer as the
    batch left it (anything but the batch's reasons with source BATCH).

    A revocation since is no conflict: it only holds back what the undo would
    switch on (:func:`~contact_prefs.rules.restore_within_consent`).
    """
    return now is None or now.enabled != done.enabled_after or now.source is not Source.BATCH


def undo_writes(done: Sequence[PointUpdate], now: Sequence[StoredPoint | None]) -> tuple[PointWrite, ...]:
    """What undoing a batch writes, given the updates it ``done`` and each point as it is now.

    Raises :class:`ConflictError` with the inverse changes of every point that
    :func:`conflicts_at_undo`.  Otherwise each point gets back its reasons and
    source from before the batch, within consent (``restore_within_consent``:
    no reason revoked now is switched back on); a point left with nothing to
    write is not written.
    """
    stale = [update.inverse() for update, point in zip(done, now, strict=True) if conflicts_at_undo(update, point)]
    if stale:
        raise ConflictError([change for update in stale for change in update.changes])
    writes = []
    for update, point in zip(done, now, strict=True):
        assert point is not None  # conflicts_at_undo refused every missing point
        undo = restore_within_consent(update, revoked=point.revoked)
        if undo is not None:
            writes.append(PointWrite(attrs.evolve(undo, revoked_before=point.revoked), update.source_before))
    return tuple(writes)


def revert_writes(
    done: Sequence[PointUpdate], now: Sequence[StoredPoint | None]
) -> tuple[tuple[PointWrite, ...], dict[Reason, int]]:
    """What reverting a batch writes (a scheduled batch, on its end day), and what it leaves alone.

    A partial undo: every point still as the batch left it gets back its
    reasons and source from before the batch, within consent, as
    :func:`undo_writes` gives them; a point that :func:`conflicts_at_undo` (a
    parent or another batch changed it since, or it is gone) is left alone
    instead of refusing the whole revert, and each reason the batch switched
    there is counted.  The counts hold only reasons left alone, in ``Reason`` order.
    """
    writes: list[PointWrite] = []
    left_alone = dict.fromkeys(Reason, 0)
    for update, point in zip(done, now, strict=True):
        if point is None or conflicts_at_undo(update, point):
            for change in update.changes:
                left_alone[change.reason] += 1
            continue
        undo = restore_within_consent(update, revoked=point.revoked)
        if undo is not None:
            writes.append(PointWrite(attrs.evolve(undo, revoked_before=point.revoked), update.source_before))
    return tuple(writes), {reason: n for reason, n in left_alone.items() if n}
