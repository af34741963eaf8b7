"""Batches with a start and an end: "Food Service off for the summer, back on 15 August".

A :class:`Schedule` wraps a :class:`~contact_prefs.spec.BatchSpec`.  On
``starts_on`` the batch is planned and applied against the district as it is
then (its spec's ``as_of`` is that day, :func:`spec_on`); on ``ends_on``, if
given, it is reverted: every point it wrote that is still as it left it goes
back, within consent, and the points changed since are left alone and counted
(:func:`contact_prefs.writes.revert_writes`).  Each run and revert is an
ordinary batch of the history that names its schedule.

Each rule is a pure function of the schedules (and a day or a time, passed
in: the core reads no clock).  Stores keep schedules and call these rules
inside the transaction that records a run, so that two daily jobs running at
once start a schedule only once; :mod:`contact_prefs.scheduling` drives them.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from .enums import Reason, _Vocabulary
from .errors import ContactPrefsError
from .identifiers import check_actor
from .spec import BatchSpec
from .validators import an_id, aware_time, optional_actor, optional_aware_time, optional_id

__all__ = [
    "Due",
    "Schedule",
    "ScheduleDoneError",
    "ScheduleError",
    "ScheduleState",
    "Step",
    "UnknownScheduleError",
    "cancelled_schedule",
    "check_cancel",
    "check_end",
    "check_start",
    "due",
    "ended_schedule",
    "new_schedule",
    "spec_on",
    "started_schedule",
]


class ScheduleError(ContactPrefsError):
    """A step a schedule's state does not allow; nothing was written."""


class ScheduleDoneError(ScheduleError):
    """The step was done already (by another run of the daily job, most often): nothing more to do."""


class UnknownScheduleError(ScheduleError, LookupError):
    """A schedule id that is not in the store."""


class ScheduleState(_Vocabulary):
    """Where a schedule stands: its start not run yet, started with its end to come, done, or cancelled."""

    PENDING = "pending"
    ACTIVE = "active"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class Step(_Vocabulary):
    """What a due day does to a schedule: apply its batch, or revert it."""

    START = "start"
    END = "end"


def left_alone_counts(value: Mapping[Any, int] | None = None) -> dict[Reason, int]:
    """Counts by reason, as a history record keeps them: only reasons counted, in ``Reason`` order."""
    given = {Reason(reason): n for reason, n in (value or {}).items()}
    for n in given.values():
        if type(n) is not int or n < 0:
            raise ValueError(f"a count of what a revert left alone is a whole number of zero or more, not {n!r}")
    return {reason: given[reason] for reason in Reason if given.get(reason)}


def _day(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None and attribute.name == "ends_on":
        return
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise ValueError(f"{attribute.name} must be a date, not {value!r}")


@attrs.frozen(kw_only=True)
class Schedule:
    """A batch to apply on ``starts_on`` and, with ``ends_on`` (after ``starts_on``), to revert then.

    ``actor`` scheduled it at ``created_at``.  ``start_batch`` and
    ``end_batch`` are the batches that applied and reverted it, once they
    ran; ``left_alone`` counts, by reason, the changes the revert left alone
    because their points had changed since.  ``cancelled_by`` and
    ``cancelled_at`` are set once it is cancelled.
    """

    schedule_id: str = attrs.field(validator=an_id)
    spec: BatchSpec
    starts_on: datetime.date = attrs.field(validator=_day)
    ends_on: datetime.date | None = attrs.field(default=None, validator=_day)
    actor: str = attrs.field(validator=lambda _i, _a, value: check_actor(value))
    created_at: datetime.datetime = attrs.field(validator=aware_time)
    cancelled_by: str | None = attrs.field(default=None, validator=optional_actor)
    cancelled_at: datetime.datetime | None = attrs.field(default=None, validator=optional_aware_time)
    start_batch: str | None = attrs.field(default=None, validator=optional_id)
    end_batch: str | None = attrs.field(default=None, validator=optional_id)
    left_alone: dict[Reason, int] = attrs.field(factory=dict, converter=left_alone_counts, hash=False)

    def __attrs_post_init__(self) -> None:
        if self.ends_on is not None and self.ends_on <= self.starts_on:
            raise ScheduleError(
                f"a schedule ends after it starts: it starts on {self.starts_on.isoformat()} "
                f"and cannot end on {self.ends_on.isoformat()}"
            )
        if (self.cancelled_by is None) is not (self.cancelled_at is None):
            raise ValueError("cancelled_by and cancelled_at are given together, or neither")
        if self.end_batch is not None and self.start_batch is None:
            raise ValueError("a schedule is reverted (end_batch) only after it started (start_batch)")

    @property
    def state(self) -> ScheduleState:
        """Cancelled is final; otherwise pending until the start ran, then active until the end ran
        (finished at once when there is no end)."""
        if self.cancelled_by is not None:
            return ScheduleState.CANCELLED
        if self.start_batch is None:
            return ScheduleState.PENDING
        if self.ends_on is not None and self.end_batch is None:
            return ScheduleState.ACTIVE
        return ScheduleState.FINISHED


def new_schedule(
    spec: BatchSpec,
    *,
    starts_on: datetime.date,
    ends_on: datetime.date | None = None,
    actor: str,
    at: datetime.datetime,
    schedule_id: str | None = None,
) -> Schedule:
    """A schedule of ``spec`` by ``actor`` at ``at`` (its spec's ``as_of`` set to ``starts_on``)."""
    return Schedule(
        schedule_id=schedule_id or uuid.uuid4().hex,
        spec=spec_on(spec, starts_on),
        starts_on=starts_on,
        ends_on=ends_on,
        actor=actor,
        created_at=at,
    )


def spec_on(spec: BatchSpec, day: datetime.date) -> BatchSpec:
    """The spec a run on ``day`` plans: enrollments, memberships and assignments as they are that day."""
    return spec if spec.as_of == day else attrs.evolve(spec, as_of=day)


@attrs.frozen
class Due:
    """A step of a schedule that is due: ``step`` on ``day``."""

    schedule: Schedule
    step: Step
    day: datetime.date


_STEP_ORDER = {Step.END: 0, Step.START: 1}


def due(schedules: Iterable[Schedule], today: datetime.date) -> list[Due]:
    """Every start and end due by ``today`` and not done, in date order: a day missed is caught up.

    A cancelled schedule has nothing due.  An end is due on its day once the
    schedule started, or in the same run as its start when both were missed.
    On one day ends come before starts (one season closes before the next
    opens), then schedules in the order they were made.
    """
    found: list[Due] = []
    for schedule in schedules:
        if schedule.cancelled_by is not None:
            continue
        if schedule.start_batch is None and schedule.starts_on <= today:
            found.append(Due(schedule, Step.START, schedule.starts_on))
        if schedule.ends_on is not None and schedule.end_batch is None and schedule.ends_on <= today:
            found.append(Due(schedule, Step.END, schedule.ends_on))
    return sorted(
        found,
        key=lambda d: (d.day, _STEP_ORDER[d.step], d.schedule.created_at, d.schedule.schedule_id),
    )


def check_start(schedule: Schedule) -> None:
    """A schedule is started once, and never once cancelled."""
    if schedule.start_batch is not None:
        raise ScheduleDoneError(f"schedule {schedule.schedule_id} was started already, by batch {schedule.start_batch}")
    if schedule.cancelled_by is not None:
        raise ScheduleError(
            f"schedule {schedule.schedule_id} was cancelled by {schedule.cancelled_by}: it never starts"
        )


def check_end(schedule: Schedule, batch_id: str) -> None:
    """A schedule is reverted once, after it started and by reverting the batch that started it.

    A cancelled schedule may still be reverted: cancelling after the start
    reverts only when asked.
    """
    if schedule.end_batch is not None:
        raise ScheduleDoneError(f"schedule {schedule.schedule_id} was reverted already, by batch {schedule.end_batch}")
    if schedule.start_batch is None:
        raise ScheduleError(f"schedule {schedule.schedule_id} has not started: there is nothing to revert")
    if schedule.start_batch != batch_id:
        raise ScheduleError(
            f"schedule {schedule.schedule_id} was started by batch {schedule.start_batch}, not {batch_id}"
        )


def check_cancel(schedule: Schedule) -> None:
    """Only a schedule still pending or active is cancelled."""
    state = schedule.state
    if state is ScheduleState.CANCELLED:
        raise ScheduleError(f"schedule {schedule.schedule_id} was cancelled already, by {schedule.cancelled_by}")
    if state is ScheduleState.FINISHED:
        raise ScheduleError(f"schedule {schedule.schedule_id} is finished: there is nothing left to cancel")


def cancelled_schedule(schedule: Schedule, *, actor: str, at: datetime.datetime) -> Schedule:
    """``schedule`` cancelled by ``actor`` at ``at``, if :func:`check_cancel` allows it."""
    check_actor(actor)
    check_cancel(schedule)
    return attrs.evolve(schedule, cancelled_by=actor, cancelled_at=at)


def started_schedule(schedule: Schedule, *, batch_id: str) -> Schedule:
    """``schedule`` once batch ``batch_id`` applied it, if :func:`check_start` allows it."""
    check_start(schedule)
    return attrs.evolve(schedule, start_batch=batch_id)


def ended_schedule(schedule: Schedule, *, reverted: str, batch_id: str, left_alone: Mapping[Reason, int]) -> Schedule:
    """``schedule`` once batch ``batch_id`` reverted its start batch ``reverted``, leaving ``left_alone``
    alone, if :func:`check_end` allows it."""
    check_end(schedule, reverted)
    return attrs.evolve(schedule, end_batch=batch_id, left_alone=left_alone)
