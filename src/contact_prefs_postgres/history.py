"""Batches as rows: the spec as JSON, and one row per contact point a batch wrote.

A point's row holds the point before and after (``enabled`` masks, ``source``),
the reasons switched there (a mask) and the people affected.  That is all a
change says, so the changes are rebuilt exactly from it: a batch of 100,000
changes is about 30,000 rows, not 100,000.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from typing import Any

from contact_prefs import BatchSpec, Change, PointUpdate, Reason, ReasonSet, Source

from .tables import METHODS, SOURCES

WriteRow = tuple[int, str, str, str, int, int, str, int, list[str]]
"""A point write: position, owner_id, method, source_before, enabled_before, enabled_after,
source_after, switched, affects (the columns of the ``point_writes`` table)."""

PointRow = tuple[str, str, str, int, int, int, list[str]]
"""A recorded point: owner_id, method, source_before, enabled_before, enabled_after, switched, affects."""

_REASON_BITS = [(reason, reason.bit) for reason in Reason]


def spec_to_json(spec: BatchSpec) -> dict[str, Any]:
    return {
        "mode": spec.mode.value,
        "settings": {reason.value: setting.value for reason, setting in spec.settings.items()},
        "school_id": spec.school_id,
        "calendar_id": spec.calendar_id,
        "filter_ids": None if spec.filter_ids is None else sorted(spec.filter_ids),
        "as_of": spec.as_of.isoformat(),
        "keep_portal": spec.keep_portal,
        "allow_emergency_off": spec.allow_emergency_off,
    }


def spec_from_json(data: dict[str, Any]) -> BatchSpec:
    return BatchSpec(
        mode=data["mode"],
        settings=data["settings"],
        school_id=data["school_id"],
        calendar_id=data["calendar_id"],
        filter_ids=data["filter_ids"],
        as_of=datetime.date.fromisoformat(data["as_of"]),
        keep_portal=data["keep_portal"],
        allow_emergency_off=data["allow_emergency_off"],
    )


def write_rows(updates: Iterable[PointUpdate], source_after: Callable[[PointUpdate], Source]) -> list[WriteRow]:
    """One row per point update, in order; ``source_after`` is what the point's source becomes."""
    rows: list[WriteRow] = []
    for position, update in enumerate(updates):
        switched = 0
        for change in update.changes:
            switched |= change.reason.bit
        rows.append(
            (
                position,
                update.owner_id,
                update.method.value,
                update.source_before.value,
                update.enabled_before.mask,
                update.enabled_after.mask,
                source_after(update).value,
                switched,
                sorted(update.changes[0].affects),
            )
        )
    return rows


def changes_from_rows(rows: Iterable[PointRow]) -> tuple[Change, ...]:
    """The changes recorded as point rows: per point, one change per switched reason, in reason order."""
    changes: list[Change] = []
    for owner_id, method, source_before, enabled_before, enabled_after, switched, affects in rows:
        point_method, source, before, people = (
            METHODS[method],
            SOURCES[source_before],
            ReasonSet.from_mask(enabled_before),
            frozenset(affects),
        )
        changes.extend(
            Change(
                owner_id=owner_id,
                method=point_method,
                reason=reason,
                before=bool(enabled_before & bit),
                after=bool(enabled_after & bit),
                source_before=source,
                enabled_before=before,
                affects=people,
            )
            for reason, bit in _REASON_BITS
            if switched & bit
        )
    return tuple(changes)
