"""Batch results and history as text, JSON and CSV: what the command line prints.

The field names here are a stable interface for scripts; ``docs/cli.md``
lists them.  Addresses never appear: a change names its point by owner id
and method.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from ..changes import Change
from ..enums import Method, Mode, Reason, Setting, SkipReason, Source
from ..proposals import Approval
from ..render import render_table, skip_summary
from ..spec import BatchSpec
from ..store import BatchRecord, BatchSummary, Counts

NO_CHANGE = Setting.NO_CHANGE

COUNT_COLUMNS = ("method", *(reason.value for reason in Reason), "total")
"""The CSV columns of a results table: one row per method, then a ``total`` row."""

CHANGE_COLUMNS = ("owner_id", "method", "reason", "before", "after", "source_before", "affects")
"""The CSV columns (and JSON keys) of one change."""

HISTORY_COLUMNS = ("batch_id", "at", "actor", "mode", "as_of", "updated", "undoes", "undone_by")
"""The CSV columns (and JSON keys) of one history entry."""


@attrs.frozen(kw_only=True)
class BatchResult:
    """One batch as the command line reports it: planned, applied, recorded or undone.

    What a source does not know is ``None``: a plan has no ``batch_id``; a
    history record keeps no ``recipients`` or ``skips``.
    """

    spec: BatchSpec
    counts: Counts = attrs.field(hash=False)
    changes: tuple[Change, ...]
    batch_id: str | None = None
    actor: str | None = None
    at: datetime.datetime | None = None
    undoes: str | None = None
    undone_by: str | None = None
    recipients: int | None = None
    skips: Mapping[SkipReason, int] | None = attrs.field(default=None, hash=False)
    approval: Approval | None = None
    schedule_id: str | None = None
    left_alone: Mapping[Reason, int] = attrs.field(factory=dict, hash=False)

    @classmethod
    def from_record(cls, record: BatchRecord) -> BatchResult:
        return cls(
            spec=record.spec,
            counts=record.counts,
            changes=record.changes,
            batch_id=record.batch_id,
            actor=record.actor,
            at=record.at,
            undoes=record.undoes,
            undone_by=record.undone_by,
            approval=record.approval,
            schedule_id=record.schedule_id,
            left_alone=record.left_alone,
        )

    @property
    def portal_overwrites(self) -> int:
        return sum(1 for change in self.changes if change.source_before is Source.PORTAL)

    def data(self, *, details: bool) -> dict[str, Any]:
        """The JSON object: every key always present, ``changes`` only with ``details``."""
        data: dict[str, Any] = {
            "batch_id": self.batch_id,
            "actor": self.actor,
            "at": None if self.at is None else self.at.isoformat(),
            "undoes": self.undoes,
            "undone_by": self.undone_by,
            "approval": approval_data(self.approval),
            "schedule_id": self.schedule_id,
            "left_alone": {reason.value: n for reason, n in self.left_alone.items() if n},
            "spec": spec_data(self.spec),
            "recipients": self.recipients,
            "updated": sum(self.counts.values()),
            "portal_overwrites": self.portal_overwrites,
            "skips": None if self.skips is None else {reason.value: n for reason, n in self.skips.items()},
            "counts": {
                method.value: {reason.value: self.counts.get((method, reason), 0) for reason in Reason}
                for method in Method
            },
        }
        if details:
            data["changes"] = [change_data(change) for change in self.changes]
        return data

    def text(self, *, details: bool) -> str:
        """The results table with what is known around it, as people read it."""
        if self.undoes:
            return self._undo_text(details=details)
        spec = self.spec
        lines = []
        if self.batch_id:
            lines.append(f"Batch {self.batch_id}" + (f" by {self.actor} at {utc(self.at)}" if self.at else ""))
            if self.undoes:
                lines.append(f"Undoes batch {self.undoes}")
            if self.undone_by:
                lines.append(f"Undone by batch {self.undone_by}")
            if self.approval:
                lines.append(f"Applied {approval_text(self.approval)}")
            if self.schedule_id:
                lines.append(f"Started schedule {self.schedule_id}")
        lines.append(f"Contact Preferences Batch: {spec.mode.label}, as of {spec.as_of.isoformat()}")
        lines.append(f"Scope: {describe_scope(spec)}")
        lines.append(f"Settings: {describe_settings(spec)}")
        lines += ["", render_table(self.counts), ""]
        if self.recipients is not None:
            lines.append(f"Recipients: {self.recipients:,}")
        lines.append(f"Updated preferences: {sum(self.counts.values()):,}")
        if self.skips is not None:
            lines.append(f"Skipped: {skip_summary(self.skips)}")
        lines.append(f"Portal overwrites: {self.portal_overwrites:,}")
        if details:
            lines += ["", changes_text(self.changes)]
        return "\n".join(lines)

    def _undo_text(self, *, details: bool) -> str:
        """An undo as what it did: the batch it reverted, what it wrote back, and its counts as switched
        back (not the reverted batch's settings, which it did the opposite of)."""
        spec = self.spec
        reverted = f"{spec.mode.label}, as of {spec.as_of.isoformat()}, {describe_scope(spec)}"
        lines = [f"Reverted batch {self.undoes}: {reverted}"]
        if self.batch_id:
            lines.append(f"Undo {self.batch_id}" + (f" by {self.actor} at {utc(self.at)}" if self.at else ""))
        lines.append(f"Wrote back: {written_back(self.changes)}")
        lines += ["", render_table(self.counts), ""]
        lines.append(f"Switched back: {sum(self.counts.values()):,} preferences")
        if self.schedule_id:
            lines.append(f"Ended schedule {self.schedule_id}")
            lines.append(f"Left alone (changed since): {left_alone_text(self.left_alone)}")
        if details:
            lines += ["", changes_text(self.changes)]
        return "\n".join(lines)

    def csv(self, *, details: bool) -> str:
        """The results table (or, with ``details``, every change) as CSV."""
        if details:
            return to_csv(CHANGE_COLUMNS, (_csv_change(change) for change in self.changes))
        return to_csv(COUNT_COLUMNS, counts_rows(self.counts))


def spec_data(spec: BatchSpec) -> dict[str, Any]:
    return {
        "mode": spec.mode.value,
        "school_id": spec.school_id,
        "calendar_id": spec.calendar_id,
        "filter_size": None if spec.filter_ids is None else len(spec.filter_ids),
        "as_of": spec.as_of.isoformat(),
        "settings": {reason.value: setting.value for reason, setting in spec.settings.items()},
        "keep_portal": spec.keep_portal,
        "allow_emergency_off": spec.allow_emergency_off,
    }


def describe_scope(spec: BatchSpec) -> str:
    if spec.filter_ids is not None and spec.mode is Mode.CENSUS_STAFF:
        return f"census filter of {len(spec.filter_ids):,} people"
    parts = [f"school {spec.school_id}" if spec.school_id else "all schools"]
    parts.append(f"calendar {spec.calendar_id}" if spec.calendar_id else "all calendars")
    if spec.filter_ids is not None:
        parts.append(f"student filter of {len(spec.filter_ids):,}")
    return ", ".join(parts)


def describe_settings(spec: BatchSpec) -> str:
    changed = [
        f"{reason.label} {setting.value}" for reason, setting in spec.settings.items() if setting is not NO_CHANGE
    ]
    flags = [
        flag
        for flag, on in (("keep portal", spec.keep_portal), ("emergency off allowed", spec.allow_emergency_off))
        if on
    ]
    return ", ".join(changed or ["no change"]) + "".join(f"; {flag}" for flag in flags)


def written_back(changes: Iterable[Change]) -> str:
    """What changes wrote, per reason and value: ``Behavior off 449, Food Service on 120``."""
    written: dict[tuple[Reason, bool], int] = {}
    for change in changes:
        written[change.reason, change.after] = written.get((change.reason, change.after), 0) + 1
    parts = [
        f"{reason.label} {_on(after)} {written[reason, after]:,}"
        for reason in Reason
        for after in (True, False)
        if (reason, after) in written
    ]
    return ", ".join(parts) or "nothing"


def change_data(change: Change) -> dict[str, Any]:
    return {
        "owner_id": change.owner_id,
        "method": change.method.value,
        "reason": change.reason.value,
        "before": change.before,
        "after": change.after,
        "source_before": change.source_before.value,
        "affects": sorted(change.affects),
    }


def _csv_change(change: Change) -> list[str]:
    data = change_data(change)
    data["affects"] = ";".join(data["affects"])
    return [_csv_cell(data[column]) for column in CHANGE_COLUMNS]


def _csv_cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def counts_rows(counts: Counts) -> list[list[str]]:
    rows = []
    for method in Method:
        cells = [counts.get((method, reason), 0) for reason in Reason]
        rows.append([method.value, *map(str, cells), str(sum(cells))])
    totals = [sum(counts.get((method, reason), 0) for method in Method) for reason in Reason]
    rows.append(["total", *map(str, totals), str(sum(totals))])
    return rows


def changes_text(changes: Sequence[Change]) -> str:
    """Every change, one aligned line each (owner, method, reason, before, after, source before)."""
    header = ("Owner", "Method", "Reason", "Before", "After", "Source before")
    rows = [header] + [
        (c.owner_id, c.method.value, c.reason.value, _on(c.before), _on(c.after), c.source_before.value)
        for c in changes
    ]
    return aligned(rows) if changes else "No changes."


def _on(value: bool) -> str:
    return "on" if value else "off"


def history_data(record: BatchSummary) -> dict[str, Any]:
    return {
        "batch_id": record.batch_id,
        "at": record.at.isoformat(),
        "actor": record.actor,
        "mode": record.spec.mode.value,
        "as_of": record.spec.as_of.isoformat(),
        "updated": record.applied,
        "undoes": record.undoes,
        "undone_by": record.undone_by,
        "approval": approval_data(record.approval),
        "schedule_id": record.schedule_id,
        "left_alone": {reason.value: n for reason, n in record.left_alone.items() if n},
    }


def left_alone_text(left_alone: Mapping[Reason, int]) -> str:
    """What a schedule's end left alone, by reason: ``Food Service 3, Teacher 1``, or ``nothing``."""
    return ", ".join(f"{reason.label} {n:,}" for reason, n in left_alone.items() if n) or "nothing"


def history_text(records: Sequence[BatchSummary]) -> str:
    if not records:
        return "No batches yet."
    rows: list[Sequence[str]] = [("Batch", "At (UTC)", "Actor", "Mode", "As of", "Updated", "Note")]
    for record in records:
        notes = [
            f"undoes {record.undoes}" if record.undoes else f"undone by {record.undone_by}" if record.undone_by else "",
            "" if record.approval is None else f"approved by {record.approval.approver}, "
            f"proposed by {record.approval.proposer}",
            "" if record.schedule_id is None else f"schedule {record.schedule_id}",
        ]
        note = "; ".join(filter(None, notes))
        rows.append(
            (
                record.batch_id,
                utc(record.at).removesuffix(" UTC"),
                record.actor,
                record.spec.mode.label,
                record.spec.as_of.isoformat(),
                f"{record.applied:,}",
                note,
            )
        )
    return aligned(rows)


def history_csv(records: Iterable[BatchSummary]) -> str:
    return to_csv(HISTORY_COLUMNS, ([_csv_cell(history_data(r)[c]) for c in HISTORY_COLUMNS] for r in records))


def approval_data(approval: Approval | None) -> dict[str, str] | None:
    """Who proposed and approved a batch, in a batch's JSON (``null`` for a batch applied without one)."""
    if approval is None:
        return None
    return {"proposal_id": approval.proposal_id, "proposer": approval.proposer, "approver": approval.approver}


def approval_text(approval: Approval) -> str:
    """``proposal X: proposed by A, approved by B``, as a batch's text names its approval."""
    return f"proposal {approval.proposal_id}: proposed by {approval.proposer}, approved by {approval.approver}"


def utc(moment: datetime.datetime) -> str:
    """A moment as people read it: ``2026-11-30 13:34:52 UTC``."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def aligned(rows: Sequence[Sequence[str]]) -> str:
    """Rows as left-aligned columns two spaces apart, the header underlined."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def to_csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """CSV as RFC 4180 writes it: CRLF line ends, which also quote a stray carriage return in an id."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().removesuffix("\r\n")


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
