"""Whether an undo would write anything, decided before asking the store to undo.  Pure.

An undo writes back what a batch changed, except reasons the batch switched off
where consent is withdrawn now (:func:`~contact_prefs.writes.undo_writes`):
an undo of a batch that only switched reasons off, at points all revoked since,
has nothing to write, and is not recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .changes import Change, group_by_point
from .enums import Method
from .errors import ConflictError
from .records import ContactPoint
from .writes import StoredPoint, undo_writes


def may_write_nothing(changes: Sequence[Change]) -> bool:
    """Whether consent could hold back all of an undo of ``changes``: only when the batch switched
    nothing on (an undo always switches back off what a batch switched on)."""
    return not any(change.after for change in changes)


def undo_writes_nothing(changes: Sequence[Change], points: Mapping[tuple[str, Method], ContactPoint]) -> bool:
    """Whether undoing a batch of ``changes`` writes nothing, its points being ``points`` now, as
    :func:`~contact_prefs.writes.undo_writes` decides.

    ``False`` when a point is gone or no longer as the batch left it: the store's undo refuses
    then, as a conflict, and says so."""
    done = group_by_point(changes)
    try:
        return not undo_writes(done, [StoredPoint.of(points.get(update.key)) for update in done])
    except ConflictError:
        return False
