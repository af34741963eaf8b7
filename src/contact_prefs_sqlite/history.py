"""The history tables' rows, both ways: batches, their specs and counts, and the points they wrote.

A batch is stored as its :class:`PointUpdate` s, one ``batch_points`` row
each; the changes at a point are the reasons whose bit differs between
``enabled_before`` and ``enabled_after`` (``PointUpdate.changes``), so they
need no rows of their own.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Iterator, Mapping

from contact_prefs import BatchRecord, BatchSpec, Change, Method, PointUpdate, Reason
from contact_prefs.changes import count_changes
from contact_prefs.plain import spec_from_plain, spec_to_plain

from .tables import METHOD_VALUES, METHODS, SOURCE_VALUES, SOURCES, Row, reasons

Counts = Mapping[tuple[Method, Reason], int]

REASONS = {reason.value: reason for reason in Reason}

BATCH_COLUMNS = "seq, batch_id, actor, at, spec, counts, applied, undoes, undone_by"
POINT_COLUMNS = "owner_id, method, source_before, enabled_before, enabled_after, affects"


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


def batch_record(row: Row, changes: tuple[Change, ...]) -> BatchRecord:
    """A ``batches`` row (:data:`BATCH_COLUMNS`) and its changes, as a record."""
    _seq, batch_id, actor, at, spec, counts, _applied, undoes, undone_by = row
    return BatchRecord(
        batch_id=batch_id,
        actor=actor,
        at=datetime.datetime.fromisoformat(at),
        spec=spec_from_json(spec),
        counts=counts_from_json(counts),
        changes=changes,
        undone_by=undone_by,
        undoes=undoes,
    )


# --- points -----------------------------------------------------------------


INSERT_POINTS = (
    "INSERT INTO batch_points (batch_seq, position, owner_id, method, source_before, enabled_before, "
    "enabled_after, affects) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def point_rows(batch_seq: int, updates: Iterable[PointUpdate]) -> Iterator[Row]:
    """One row per update, in order: the parameters of :data:`INSERT_POINTS`.

    ``affects`` is stored as ``None`` when it is just the owner (every personal point).
    """
    # A generator: executemany streams it, so a million rows never sit in memory at once.
    return (
        (
            batch_seq,
            position,
            u.owner_id,
            METHOD_VALUES[u.method],
            SOURCE_VALUES[u.source_before],
            u.enabled_before.mask,
            u.enabled_after.mask,
            None if len(u.affects) == 1 and u.owner_id in u.affects else _ids_json(u.affects),
        )
        for position, u in enumerate(updates)
    )


def _ids_json(ids: frozenset[str]) -> str:
    return json.dumps(sorted(ids))  # default arguments: json's fast path, with a shared encoder


def updates_from_rows(rows: Iterable[Row]) -> list[PointUpdate]:
    """The updates of ``batch_points`` rows (:data:`POINT_COLUMNS`), in order."""
    return [
        PointUpdate(
            owner_id=owner_id,
            method=METHODS[method],
            source_before=SOURCES[source],
            enabled_before=reasons(before),
            enabled_after=reasons(after),
            affects=frozenset((owner_id,) if affects is None else json.loads(affects)),
        )
        for owner_id, method, source, before, after, affects in rows
    ]
