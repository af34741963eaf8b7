"""Whether an undo would write anything, decided before asking the store to undo.  Pure.

An undo writes back what a batch changed, except reasons the batch switched off
where consent is withdrawn now (:func:`~contact_prefs.rules.restore_within_consent`):
an undo of a batch that only switched reasons off, at points all revoked since,
has nothing to write, and is not recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .changes import Change, group_by_point
from .enums import Method
from .records import ContactPoint
from .rules import restore_within_consent


def may_write_nothing(changes: Sequence[Change]) -> bool:
    """Whether consent could hold back all of an undo of ``changes``: only when the batch switched
    nothing on (an undo always switches back off what a batch switched on)."""
    return not any(change.after for change in changes)


def undo_writes_nothing(changes: Sequence[Change], points: Mapping[tuple[str, Method], ContactPoint]) -> bool:
    """Whether undoing a batch of ``changes`` writes nothing, its points being ``points`` now.

    ``False`` when a point is gone or no longer as the batch left it: the store's undo decides
    then (it refuses, as a conflict)."""
    for update in group_by_point(changes):
        point = points.get(update.key)
        if point is None or point.enabled != update.enabled_after:
            return False
        if restore_within_consent(update, point.revoked) is not None:
            return False
    return True
