"""The history entries of schedules, for the chain (:mod:`contact_prefs.chain`).

Scheduling a batch and cancelling a schedule are history entries of their
own, keyed by the schedule's id; the batches that apply and revert a schedule
are ordinary batch entries.
"""

from __future__ import annotations

from .chain import Entry, EntryKind, _canonical, _time
from .plain import spec_to_plain
from .schedules import Schedule

__all__ = ["cancellation_entry", "schedule_entries", "schedule_entry"]


def schedule_entry(schedule: Schedule) -> Entry:
    """The entry recording ``schedule`` as it was made: the spec, its days, who and when."""
    body = {
        "spec": spec_to_plain(schedule.spec),
        "starts_on": schedule.starts_on.isoformat(),
        "ends_on": None if schedule.ends_on is None else schedule.ends_on.isoformat(),
        "actor": schedule.actor,
        "at": _time(schedule.created_at),
    }
    return Entry(EntryKind.SCHEDULE, schedule.schedule_id, _canonical(body))


def cancellation_entry(schedule: Schedule) -> Entry:
    """The entry recording the cancellation of ``schedule``: who and when."""
    body = {"by": schedule.cancelled_by, "at": _time(schedule.cancelled_at)}
    return Entry(EntryKind.CANCELLATION, schedule.schedule_id, _canonical(body))


def schedule_entries(schedule: Schedule) -> list[Entry]:
    """Every entry a schedule has made so far, in the order they happen."""
    entries = [schedule_entry(schedule)]
    if schedule.cancelled_by is not None:
        entries.append(cancellation_entry(schedule))
    return entries
