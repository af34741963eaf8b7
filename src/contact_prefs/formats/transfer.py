"""What ``import`` and ``export`` report: text for people, JSON for scripts.

The JSON gives the same facts as the text: the folder, the store (its URL with
the password masked), the records per file and, for an import, what it did to
consent.  A point whose address could not be normalized is named by file and
line (or, when that is unknown, by its owner and method), never by its address.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from ..enums import Method
from ..ledger import LoadReport
from .consent import load_report_lines

Where = tuple[str, int]
"""A file name and a line number."""


@attrs.frozen(kw_only=True)
class Transferred:
    """The result of an import (``report`` set) or an export (``report`` None)."""

    directory: Path
    store: str
    """The store's URL, its password masked."""
    counts: Mapping[str, int]
    """Records per file (or, for a OneRoster import, per kind of record), in the order the text lists them."""
    report: LoadReport | None = None
    where: Mapping[tuple[str, Method], Where] = attrs.field(factory=dict)
    """The file and line of each unnormalized point, when known."""

    @property
    def records(self) -> int:
        return sum(self.counts.values())

    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "directory": str(self.directory),
            "store": self.store,
            "records": self.records,
            "counts": dict(self.counts),
        }
        if self.report is not None:
            data["consent"] = {
                "revocations_recorded": self.report.revocations,
                "kept_revoked": self.report.kept_revoked,
                "unnormalized": [self._point_data(key) for key in self.report.unnormalized],
            }
        return data

    def _point_data(self, key: tuple[str, Method]) -> dict[str, Any]:
        file, line = self.where.get(key, (None, None))
        return {"file": file, "line": line, "owner_id": key[0], "method": key[1].value}

    def text(self) -> str:
        width = max(len(name) for name in self.counts)
        listing = [f"  {name.ljust(width)}  {count:>9,}" for name, count in self.counts.items()]
        if self.report is None:
            return "\n".join([f"Exported {self.records:,} records to {self.directory}:", *listing])
        where = {key: f"{file} line {line}" for key, (file, line) in self.where.items()}
        consent = load_report_lines(self.report, where)
        return "\n".join([f"Imported {self.directory} into {self.store}:", *listing, *consent])
