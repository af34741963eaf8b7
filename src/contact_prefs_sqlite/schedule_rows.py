"""The schedules table's rows, both ways, and the counts of what a revert left alone.

Dates are ISO text, times ISO text in UTC (:func:`~.consent_rows.time_text`),
the spec the JSON of :func:`~contact_prefs.plain.spec_to_plain`, and the
counts of what a revert left alone ``[[reason, n], ...]`` in ``Reason``
order (also in the ``batches`` table's ``left_alone`` column).  Rows are read
back through the checked constructors: schedules are few.
"""

from __future__ import annotations

import datetime
import sqlite3

from contact_prefs.schedules import Schedule

from .consent_rows import time_text
from .history import left_alone_from_json, left_alone_json, spec_from_json, spec_json
from .tables import Row

SCHEDULE_COLUMNS = (
    "schedule_id, spec, starts_on, ends_on, actor, created_at, cancelled_by, cancelled_at, "
    "start_batch, end_batch, left_alone"
)
INSERT_SCHEDULE = f"INSERT INTO schedules ({SCHEDULE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
# Bound to a whole :func:`schedule_row`: the schedule found by its id gets what may change after it is saved.
UPDATE_SCHEDULE = (
    "UPDATE schedules SET cancelled_by = ?7, cancelled_at = ?8, start_batch = ?9, end_batch = ?10, left_alone = ?11 "
    "WHERE schedule_id = ?1"
)


def _day(day: datetime.date | None) -> str | None:
    return None if day is None else day.isoformat()


def schedule_row(schedule: Schedule) -> Row:
    """A ``schedules`` row (:data:`SCHEDULE_COLUMNS`); its ``seq`` is the order they were saved."""
    return (
        schedule.schedule_id,
        spec_json(schedule.spec),
        schedule.starts_on.isoformat(),
        _day(schedule.ends_on),
        schedule.actor,
        time_text(schedule.created_at),
        schedule.cancelled_by,
        None if schedule.cancelled_at is None else time_text(schedule.cancelled_at),
        schedule.start_batch,
        schedule.end_batch,
        left_alone_json(schedule.left_alone),
    )


def schedule_from_row(row: Row) -> Schedule:
    (
        schedule_id,
        spec,
        starts_on,
        ends_on,
        actor,
        created_at,
        cancelled_by,
        cancelled_at,
        start_batch,
        end_batch,
        left_alone,
    ) = row
    return Schedule(
        schedule_id=schedule_id,
        spec=spec_from_json(spec),
        starts_on=datetime.date.fromisoformat(starts_on),
        ends_on=None if ends_on is None else datetime.date.fromisoformat(ends_on),
        actor=actor,
        created_at=datetime.datetime.fromisoformat(created_at),
        cancelled_by=cancelled_by,
        cancelled_at=None if cancelled_at is None else datetime.datetime.fromisoformat(cancelled_at),
        start_batch=start_batch,
        end_batch=end_batch,
        left_alone=left_alone_from_json(left_alone),
    )


def read_schedule(connection: sqlite3.Connection, schedule_id: str) -> Schedule | None:
    """The schedule ``schedule_id`` as stored now (in the caller's transaction), or ``None``."""
    row = connection.execute(
        f"SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE schedule_id = ?", (schedule_id,)
    ).fetchone()
    return None if row is None else schedule_from_row(row)
