"""Plain-data forms of the core's values, for stores that keep them as JSON.

The core's types know nothing of storage; a backend that records a batch's
spec turns it into plain data here and back, so that every store writes the
same, documented shape (keys are the ``BatchSpec`` field names, enums their
values, dates ISO text, the filter a sorted list).
"""

from __future__ import annotations

import datetime
from typing import Any

from .enums import Method, Source
from .spec import BatchSpec

# Enums by stored value and back, as dicts: C-level look-ups for a store's million rows, where
# ``Method(value)`` and ``Enum.value`` run Python code.
METHODS = {method.value: method for method in Method}
SOURCES = {source.value: source for source in Source}
METHOD_VALUES = {method: method.value for method in Method}
SOURCE_VALUES = {source: source.value for source in Source}


def spec_to_plain(spec: BatchSpec) -> dict[str, Any]:
    """``spec`` as JSON-ready data."""
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


def spec_from_plain(data: dict[str, Any]) -> BatchSpec:
    """The spec :func:`spec_to_plain` made ``data`` from."""
    return BatchSpec(**{**data, "as_of": datetime.date.fromisoformat(data["as_of"])})
