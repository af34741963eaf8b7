"""Batches as rows: the spec as JSON, and one row per contact point a batch wrote.

A point's row is a :class:`~contact_prefs.PointUpdate`: the point before and
after (``enabled`` masks, ``source``) and the people affected.  The per-reason
changes follow from it, so a batch of 100,000 changes is about 30,000 rows.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from contact_prefs import BatchRecord, Method, PointUpdate, Reason, ReasonSet, Source
from contact_prefs.changes import count_changes
from contact_prefs.plain import METHOD_VALUES, METHODS, SOURCE_VALUES, SOURCES, spec_from_plain
from contact_prefs.proposals import Approval

WriteRow = tuple[int, str, str, str, int, int, str, list[str] | None, int]
"""A point write: position, owner_id, method, source_before, enabled_before, enabled_after,
source_after, affects, revoked_before (the columns of the ``point_writes`` table); affects is
``None`` when the update affects just its owner, as every update but a household phone's does."""

REASONS = {reason.value: reason for reason in Reason}

PointRow = tuple[str, str, str, int, int, list[str]]
"""A recorded point: owner_id, method, source_before, enabled_before, enabled_after, affects."""

BATCH_COLUMNS = (
    "batch_id, actor, at, spec, counts, undone_by, undoes, proposal_id, proposer, approver, schedule_id, left_alone"
)
POINT_COLUMNS = "owner_id, method, source_before, enabled_before, enabled_after, affects"


def write_rows(updates: Iterable[PointUpdate], source_after: Callable[[PointUpdate], Source]) -> list[WriteRow]:
    """One row per point update, in order; ``source_after`` is what the point's source becomes."""
    return [
        (
            position,
            update.owner_id,
            METHOD_VALUES[update.method],
            SOURCE_VALUES[update.source_before],
            update.enabled_before.mask,
            update.enabled_after.mask,
            SOURCE_VALUES[source_after(update)],
            None if update.affects_only_owner else sorted(update.affects),
            update.revoked_before.mask,
        )
        for position, update in enumerate(updates)
    ]


def updates_from_rows(rows: Iterable[PointRow]) -> tuple[PointUpdate, ...]:
    """The point updates recorded as rows."""
    return tuple(
        PointUpdate(
            owner_id=owner_id,
            method=METHODS[method],
            source_before=SOURCES[source_before],
            enabled_before=ReasonSet.from_mask(enabled_before),
            enabled_after=ReasonSet.from_mask(enabled_after),
            affects=frozenset(affects),
        )
        for owner_id, method, source_before, enabled_before, enabled_after, affects in rows
    )


def counts_plain(counts: Mapping[tuple[Method, Reason], int]) -> list[list[Any]]:
    """A batch's counts as its ``counts`` column holds them: ``[[method, reason, n], ...]``, the non-zero ones."""
    return [[method.value, reason.value, n] for (method, reason), n in counts.items() if n]


def counts_from_plain(plain: Iterable[list[Any]]) -> dict[tuple[Method, Reason], int]:
    """The counts of a ``counts`` column, every pair present."""
    counts = count_changes(())  # every pair, at zero
    for method, reason, n in plain:
        counts[METHODS[method], REASONS[reason]] = n
    return counts


def approval_from(proposal_id: str | None, proposer: str | None, approver: str | None) -> Approval | None:
    """A batch's approval as its ``proposal_id``, ``proposer`` and ``approver`` columns hold it."""
    if proposal_id is None:
        return None
    return Approval(proposal_id=proposal_id, proposer=proposer or "", approver=approver or "")


def left_alone_from_plain(plain: Iterable[list[Any]]) -> dict[Reason, int]:
    """What a revert left alone, from its ``left_alone`` column (``[[reason, n], ...]``)."""
    return {REASONS[reason]: n for reason, n in plain}


def record_from_row(row: tuple[Any, ...], points: Iterable[PointRow]) -> BatchRecord:
    """The history entry of a ``batches`` row (:data:`BATCH_COLUMNS`) and its ``batch_points`` rows, in order.

    The counts are the row's, as :meth:`~contact_prefs_postgres.store.PostgresStore.batches` lists
    them, not counted again from the points: what the store holds is what the chain checks.
    """
    batch_id, actor, at, spec, counts, undone_by, undoes, proposal_id, proposer, approver, schedule_id, left_alone = row
    updates = updates_from_rows(points)
    return BatchRecord(
        batch_id=batch_id,
        actor=actor,
        at=at.astimezone(datetime.UTC),
        spec=spec_from_plain(spec),
        counts=counts_from_plain(counts),
        changes=tuple(change for update in updates for change in update.changes),
        undone_by=undone_by,
        undoes=undoes,
        approval=approval_from(proposal_id, proposer, approver),
        schedule_id=schedule_id,
        left_alone=left_alone_from_plain(left_alone),
    )
