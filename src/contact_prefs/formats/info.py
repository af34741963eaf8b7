"""``contact-prefs info`` as text, JSON and CSV.

The JSON keys are a stable interface for scripts (``docs/cli.md`` lists them);
the CSV is the same data flattened to ``item,value`` rows, a nested key's
parts joined by ``.`` and a list's items by ``;``.  Nothing here holds an
address: only counts and ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs

from ..demo_data import DEMO_LOADER
from ..enums import Method
from ..inventory import Inventory
from .results import aligned, to_csv


@attrs.frozen(kw_only=True)
class StoreInfo:
    """What ``info`` reports: the store (its URL with the password masked, backend and schema
    version when known), the inventory of its records, and the counts only the store knows."""

    url: str
    backend: str
    schema_version: int | None
    inventory: Inventory
    batches: int
    reviews_waiting: int
    demo: bool
    """The store's own mark (``Store.holds_demo``): the demo district was loaded into it."""

    def data(self) -> dict[str, Any]:
        inventory = self.inventory
        return {
            "store": self.url,
            "backend": self.backend,
            "schema_version": self.schema_version,
            "as_of": inventory.day.isoformat(),
            "counts": {
                "persons": inventory.persons,
                "students": inventory.students,
                "guardians": inventory.guardians,
                "staff": inventory.staff,
                "households": inventory.households,
                "batches": self.batches,
                "reviews_waiting": self.reviews_waiting,
                "revoked_points": inventory.revoked_points,
                "unsaved_points": inventory.unsaved_points,
            },
            "contact_points": {method.value: inventory.points[method] for method in Method},
            "schools": {
                school.school_id: {
                    "calendars": list(school.calendars),
                    "first_day": None if school.coverage.first is None else school.coverage.first.isoformat(),
                    "last_day": None if school.coverage.last is None else school.coverage.last.isoformat(),
                    "enrollments": school.coverage.enrollments,
                    "enrolled": school.enrolled,
                }
                for school in inventory.schools
            },
            "demo_data": self.demo,
            "addresses_look_like_demo": inventory.looks_like_demo,
            "addresses_why": inventory.demo_why,
        }

    def csv(self) -> str:
        return to_csv(("item", "value"), _flat(self.data()))

    def text(self) -> str:
        inventory = self.inventory
        version = "" if self.schema_version is None else f", schema version {self.schema_version}"
        counts = self.data()["counts"]
        lines = [f"Store: {self.url} ({self.backend}{version})", ""]
        rows = [(name.replace("_", " ").capitalize(), f"{count:,}") for name, count in counts.items()]
        rows += [(f"{method.label} (saved)", f"{inventory.points[method]:,}") for method in Method]
        width = max(len(name) for name, _ in rows)
        lines += [f"  {name.ljust(width)}  {count:>9}" for name, count in rows]
        lines.append("")
        if inventory.schools:
            header = ("School", "Calendars", "Enrollments cover", f"Enrolled on {inventory.day.isoformat()}")
            table: list[tuple[str, ...]] = [header]
            for school in inventory.schools:
                covered = school.coverage
                span = (
                    f"{covered.first.isoformat() if covered.first else 'open'} to "
                    f"{covered.last.isoformat() if covered.last else 'open'}"
                )
                table.append((school.school_id, ", ".join(school.calendars), span, f"{school.enrolled:,}"))
            lines += [aligned(table), ""]
        else:
            lines += ["No enrollments: no school is known.", ""]
        lines.append(f"Demo data: {self.demo_verdict()}")
        return "\n".join(lines)

    def demo_verdict(self) -> str:
        """Whether the store holds demo data, as it remembers it; the addresses are a hint when they
        disagree: demo data loaded before stores kept the mark, or real records imported into the demo."""
        inventory = self.inventory
        if self.demo:
            if inventory.looks_like_demo or not any(inventory.points.values()):
                return f"yes, loaded by {DEMO_LOADER}"
            return f"yes, loaded by {DEMO_LOADER}, but {inventory.demo_why}"
        if inventory.looks_like_demo:
            return f"no, but its addresses look like demo data: {inventory.demo_why}"
        return "no"


def _flat(data: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _flat(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(data, list):
        yield prefix, ";".join(map(str, data))
    elif isinstance(data, bool):
        yield prefix, "true" if data else "false"
    else:
        yield prefix, "" if data is None else str(data)
