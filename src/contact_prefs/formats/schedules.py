"""Schedules and what a daily run did, as text and JSON: what ``schedules`` and ``run-due`` print.

The JSON field names are a stable interface for scripts; ``docs/cli.md`` lists them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..enums import Reason
from ..proposals import Proposal
from ..schedules import Schedule, Step
from ..scheduling import Ran
from .results import aligned, describe_settings, spec_data, utc

NOTHING_DUE = "Nothing is due."


def left_alone_text(counts: Mapping[Reason, int]) -> str:
    """``Food Service 26, General 3``, or ``-`` when a revert left nothing alone."""
    return ", ".join(f"{reason.label} {n:,}" for reason, n in counts.items()) or "-"


def _day(schedule: Schedule) -> str:
    return "-" if schedule.ends_on is None else schedule.ends_on.isoformat()


def schedule_data(schedule: Schedule) -> dict[str, Any]:
    return {
        "schedule_id": schedule.schedule_id,
        "state": schedule.state.value,
        "starts_on": schedule.starts_on.isoformat(),
        "ends_on": None if schedule.ends_on is None else schedule.ends_on.isoformat(),
        "spec": spec_data(schedule.spec),
        "actor": schedule.actor,
        "created_at": schedule.created_at.isoformat(),
        "cancelled_by": schedule.cancelled_by,
        "cancelled_at": None if schedule.cancelled_at is None else schedule.cancelled_at.isoformat(),
        "start_batch": schedule.start_batch,
        "end_batch": schedule.end_batch,
        "left_alone": {reason.value: n for reason, n in schedule.left_alone.items()},
    }


def schedules_text(schedules: Sequence[Schedule]) -> str:
    if not schedules:
        return "No schedules yet."
    rows: list[Sequence[str]] = [
        ("Schedule", "State", "Starts on", "Ends on", "Sets", "Start batch", "End batch", "Left alone")
    ]
    for schedule in schedules:
        rows.append(
            (
                schedule.schedule_id,
                schedule.state.value,
                schedule.starts_on.isoformat(),
                _day(schedule),
                describe_settings(schedule.spec),
                schedule.start_batch or "-",
                schedule.end_batch or "-",
                left_alone_text(schedule.left_alone) if schedule.end_batch else "-",
            )
        )
    return aligned(rows)


def scheduled_text(schedule: Schedule) -> str:
    """The line ``schedule`` prints once the schedule is saved."""
    end = "" if schedule.ends_on is None else f", reverted on {schedule.ends_on.isoformat()}"
    return (
        f"Scheduled {schedule.schedule_id} by {schedule.actor}: "
        f"applied on {schedule.starts_on.isoformat()}{end}, by run-due."
    )


def start_proposal_text(schedule: Schedule, proposal: Proposal) -> str:
    """The lines ``schedule`` adds when the schedule's start needs a second person's approval."""
    short = proposal.proposal_id[:8]
    return "\n".join(
        [
            f"Needs approval: {proposal.why}.",
            f"Proposed its start's batch as proposal {proposal.proposal_id} by {proposal.proposer}, "
            f"expires {utc(proposal.expires_at)}.",
            f"Next: a second person runs 'contact-prefs approve {short} --actor NAME' before "
            f"{schedule.starts_on.isoformat()}; until then run-due reports the start as waiting.",
        ]
    )


def ran_data(ran: Ran) -> dict[str, Any]:
    receipt = ran.receipt
    return {
        "schedule_id": ran.schedule_id,
        "step": ran.step.value,
        "day": ran.day.isoformat(),
        "batch_id": None if receipt is None else receipt.batch_id,
        "updated": None if receipt is None else receipt.applied,
        "left_alone": None if receipt is None else {reason.value: n for reason, n in receipt.left_alone.items()},
        "done_already": ran.done_already,
        "problem": ran.problem,
        "waiting": ran.waiting,
    }


def ran_text(runs: Sequence[Ran]) -> str:
    """One line per due step, in the order they ran."""
    if not runs:
        return NOTHING_DUE
    return "\n".join(map(_ran_line, runs))


def _ran_line(ran: Ran) -> str:
    what = "start" if ran.step is Step.START else "end"
    head = f"{ran.day.isoformat()} {what} of schedule {ran.schedule_id}"
    if ran.problem is not None:
        return f"{head}: failed, nothing was written: {ran.problem}"
    if ran.waiting is not None:
        return f"{head}: waits for approval, nothing was written: {ran.waiting}"
    if ran.receipt is None:
        return f"{head}: done already, by another run"
    receipt = ran.receipt
    if ran.step is Step.START:
        return f"{head}: batch {receipt.batch_id} applied {receipt.applied:,} changes"
    left = sum(receipt.left_alone.values())
    alone = f"; left alone {left:,} changed since ({left_alone_text(receipt.left_alone)})" if left else ""
    return f"{head}: batch {receipt.batch_id} reverted {receipt.applied:,} changes{alone}"
