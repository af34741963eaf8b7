"""The history's rows, both ways: batches, their specs and counts, and the points they wrote.

A batch is stored as one ``batches`` row whose ``points`` column holds its
:class:`PointUpdate` s as one JSON document (:func:`points_json`), and whose
``affects`` column says whom the household phones among them affect
(:func:`affects_json`).  The changes at a point are the reasons whose bit
differs between ``enabled_before`` and ``enabled_after``
(``PointUpdate.changes``), so they need no entries of their own.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping

from contact_prefs import BatchRecord, BatchSpec, BatchSummary, Change, Method, PointUpdate, Reason
from contact_prefs.changes import count_changes
from contact_prefs.plain import METHOD_VALUES, METHODS, SOURCE_VALUES, SOURCES, spec_from_plain, spec_to_plain
from contact_prefs.proposals import Approval

from .tables import Row, reasons

Counts = Mapping[tuple[Method, Reason], int]

REASONS = {reason.value: reason for reason in Reason}

BATCH_COLUMNS = (
    "seq, batch_id, actor, at, spec, counts, applied, undoes, undone_by, proposal_id, proposer, approver, "
    "schedule_id, left_alone"
)


# --- specs and counts -------------------------------------------------------


def spec_json(spec: BatchSpec) -> str:
    return json.dumps(spec_to_plain(spec), ensure_ascii=False)


def spec_from_json(text: str) -> BatchSpec:
    return spec_from_plain(json.loads(text))


def counts_json(counts: Counts) -> str:
    """The non-zero counts as ``[[method, reason, n], ...]``."""
    return json.dumps([[method.value, reason.value, n] for (method, reason), n in counts.items() if n])


def counts_from_json(text: str) -> dict[tuple[Method, Reason], int]:
    counts = count_changes(())  # every pair, at zero
    for method, reason, n in json.loads(text):
        counts[METHODS[method], REASONS[reason]] = n
    return counts


def approval_row(approval: Approval | None) -> Row:
    """The ``proposal_id, proposer, approver`` columns of a batch: NULLs for one applied without a proposal."""
    return (None, None, None) if approval is None else (approval.proposal_id, approval.proposer, approval.approver)


def _approval(proposal_id: str | None, proposer: str | None, approver: str | None) -> Approval | None:
    if proposal_id is None or proposer is None or approver is None:  # the three are set together, or none
        return None
    return Approval(proposal_id=proposal_id, proposer=proposer, approver=approver)


def left_alone_json(counts: Mapping[Reason, int]) -> str:
    """What a revert left alone, as ``[[reason, n], ...]`` in ``Reason`` order."""
    return json.dumps([[reason.value, n] for reason, n in counts.items() if n])


def left_alone_from_json(text: str) -> dict[Reason, int]:
    return {REASONS[reason]: n for reason, n in json.loads(text)}


def batch_summary(row: Row) -> BatchSummary:
    """A ``batches`` row (:data:`BATCH_COLUMNS`) as an entry of a list of batches."""
    _seq, batch_id, actor, at, spec, counts, applied, undoes, undone_by, *approval, schedule_id, left_alone = row
    return BatchSummary(
        batch_id=batch_id,
        actor=actor,
        at=datetime.datetime.fromisoformat(at),
        spec=spec_from_json(spec),
        counts=counts_from_json(counts),
        applied=applied,
        undone_by=undone_by,
        undoes=undoes,
        approval=_approval(*approval),
        schedule_id=schedule_id,
        left_alone=left_alone_from_json(left_alone),
    )


def batch_record(row: Row, changes: tuple[Change, ...]) -> BatchRecord:
    """A ``batches`` row (:data:`BATCH_COLUMNS`) and its changes, as a record."""
    _seq, batch_id, actor, at, spec, counts, _applied, undoes, undone_by, *approval, schedule_id, left_alone = row
    return BatchRecord(
        batch_id=batch_id,
        actor=actor,
        at=datetime.datetime.fromisoformat(at),
        spec=spec_from_json(spec),
        counts=counts_from_json(counts),
        changes=changes,
        undone_by=undone_by,
        undoes=undoes,
        approval=_approval(*approval),
        schedule_id=schedule_id,
        left_alone=left_alone_from_json(left_alone),
    )


# --- points -----------------------------------------------------------------


def point_rows(updates: Iterable[PointUpdate]) -> list[Row]:
    """One row per update, in order:
    ``(owner_id, method, source_before, enabled_before, enabled_after, revoked_before)``.

    The same rows are the entries of the points document (:func:`points_json`)
    and the parameters of the compare-and-set (``?1`` to ``?6``).
    """
    return [
        (
            u.owner_id,
            METHOD_VALUES[u.method],
            SOURCE_VALUES[u.source_before],
            u.enabled_before.mask,
            u.enabled_after.mask,
            u.revoked_before.mask,
        )
        for u in updates
    ]


def points_json(rows: list[Row]) -> str:
    """The points document of a batch: its :func:`point_rows` as one JSON array (one C-level ``json.dumps``)."""
    return json.dumps(rows, separators=(",", ":"))


def affects_json(updates: Iterable[PointUpdate]) -> str:
    """The people each update affects, as ``{"position": [sorted ids]}``, for the updates that
    affect more than their owner (household phones); every other update affects just its owner."""
    return json.dumps(
        {position: sorted(u.affects) for position, u in enumerate(updates) if not u.affects_only_owner},
        separators=(",", ":"),
    )


def updates_from_json(points: str, affects: str) -> list[PointUpdate]:
    """The updates of a points document and its affects document, in order.

    Entries written before consent was compared have five elements: their consent as planned reads as none.
    """
    households = {int(position): frozenset(people) for position, people in json.loads(affects).items()}
    return [
        PointUpdate(
            owner_id=owner_id,
            method=METHODS[method],
            source_before=SOURCES[source],
            enabled_before=reasons(before),
            enabled_after=reasons(after),
            affects=households[position] if position in households else frozenset((owner_id,)),
            revoked_before=reasons(revoked[0] if revoked else 0),
        )
        for position, (owner_id, method, source, before, after, *revoked) in enumerate(json.loads(points))
    ]


def changes_from_json(points: str, affects: str) -> tuple[Change, ...]:
    """The changes of a points document and its affects document, in order."""
    return tuple(change for update in updates_from_json(points, affects) for change in update.changes)


POINTS = """(SELECT e.key AS position, e.value ->> 0 AS owner_id, e.value ->> 1 AS method,
        e.value ->> 2 AS source_before, e.value ->> 3 AS enabled_before, e.value ->> 4 AS enabled_after
    FROM json_each(:points) AS e)"""
"""The points document bound as ``:points``, as a table to join: ``position`` and the columns of
:func:`point_rows`."""
