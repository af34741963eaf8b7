"""The results table: contact methods down the side, reasons across the top."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .enums import Method, Reason, SkipReason

if TYPE_CHECKING:
    from .changes import ChangeSet


def render_table(counts: Mapping[tuple[Method, Reason], int]) -> str:
    """Counts per (method, reason) as a plain-text table with totals."""
    header = ["Contact Method", *(reason.label for reason in Reason), "Total"]
    rows = [header]
    for method in Method:
        cells = [counts.get((method, reason), 0) for reason in Reason]
        rows.append([method.label, *(f"{n:,}" for n in cells), f"{sum(cells):,}"])
    totals = [sum(counts.get((method, reason), 0) for method in Method) for reason in Reason]
    rows.append(["Total", *(f"{n:,}" for n in totals), f"{sum(totals):,}"])
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = []
    for index, row in enumerate(rows):
        first = row[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True))
        lines.append("  ".join([first, *rest]).rstrip())
        if index == 0 or index == len(rows) - 2:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def render_change_set(change_set: ChangeSet) -> str:
    """The table, then who was in scope, what was skipped and what a parent had set."""
    spec = change_set.spec
    return "\n".join(
        [
            f"Contact Preferences Batch: {spec.mode.label}, as of {spec.as_of.isoformat()}",
            "",
            render_table(change_set.counts()),
            "",
            f"Recipients: {len(change_set.recipients):,}",
            f"Updated preferences: {len(change_set):,}",
            f"Skipped: {skip_summary(change_set.skip_counts())}",
            f"Portal overwrites: {change_set.portal_overwrites:,}",
        ]
    )


def skip_summary(skips: Mapping[SkipReason, int]) -> str:
    """Skips by reason, as "Portal protected 3, Consent revoked 1" (or "none")."""
    return ", ".join(f"{reason.label} {count:,}" for reason, count in skips.items() if count) or "none"
