"""The schedules table's rows, both ways, and the counts of what a revert left alone.

The spec is the JSON of :func:`~contact_prefs.plain.spec_to_plain`, days are
``date``, times ``timestamptz``, and the counts of what a revert left alone
``[[reason, n], ...]`` in ``Reason`` order (also in the ``batches`` table's
``left_alone`` column).  Rows are read back through the checked constructors:
schedules are few.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from contact_prefs import Reason
from contact_prefs.plain import spec_from_plain, spec_to_plain
from contact_prefs.schedules import Schedule

from .history import left_alone_from_plain

SCHEDULE_COLUMNS = (
    "schedule_id, spec, starts_on, ends_on, actor, created_at, cancelled_by, cancelled_at, "
    "start_batch, end_batch, left_alone"
)
INSERT_SCHEDULE = (
    f"INSERT INTO schedules ({SCHEDULE_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (schedule_id) DO NOTHING"
)
UPDATE_SCHEDULE = (
    "UPDATE schedules SET cancelled_by = %s, cancelled_at = %s, start_batch = %s, end_batch = %s, left_alone = %s "
    "WHERE schedule_id = %s"
)


def left_alone_plain(counts: Mapping[Reason, int]) -> list[list[Any]]:
    """What a revert left alone as its column holds it: ``[[reason, n], ...]``, the counted ones."""
    return [[reason.value, n] for reason, n in counts.items() if n]


def _utc(moment: datetime.datetime | None) -> datetime.datetime | None:
    return None if moment is None else moment.astimezone(datetime.UTC)


def schedule_row(schedule: Schedule) -> list[Any]:
    """The values of :data:`INSERT_SCHEDULE`."""
    return [
        schedule.schedule_id,
        Jsonb(spec_to_plain(schedule.spec)),
        schedule.starts_on,
        schedule.ends_on,
        schedule.actor,
        schedule.created_at,
        schedule.cancelled_by,
        schedule.cancelled_at,
        schedule.start_batch,
        schedule.end_batch,
        Jsonb(left_alone_plain(schedule.left_alone)),
    ]


def update_row(schedule: Schedule) -> list[Any]:
    """The values of :data:`UPDATE_SCHEDULE`: what may change once a schedule is saved."""
    return [
        schedule.cancelled_by,
        schedule.cancelled_at,
        schedule.start_batch,
        schedule.end_batch,
        Jsonb(left_alone_plain(schedule.left_alone)),
        schedule.schedule_id,
    ]


def schedule_from_row(row: Sequence[Any]) -> Schedule:
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
    created = _utc(created_at)
    assert created is not None  # NOT NULL
    return Schedule(
        schedule_id=schedule_id,
        spec=spec_from_plain(spec),
        starts_on=starts_on,
        ends_on=ends_on,
        actor=actor,
        created_at=created,
        cancelled_by=cancelled_by,
        cancelled_at=_utc(cancelled_at),
        start_batch=start_batch,
        end_batch=end_batch,
        left_alone=left_alone_from_plain(left_alone),
    )


def locked_schedule(cursor: psycopg.Cursor[Any], schedule_id: str) -> Schedule | None:
    """The schedule ``schedule_id`` as stored now, its row locked until the transaction ends: two
    daily jobs at once wait for each other here, and the second sees what the first recorded."""
    row = cursor.execute(
        f"SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE schedule_id = %s FOR UPDATE", [schedule_id]
    ).fetchone()
    return None if row is None else schedule_from_row(row)
