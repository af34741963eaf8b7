"""``schedule``, ``schedules``, ``unschedule`` and ``run-due``: batches with a start and an end.

``schedule`` stores a batch to apply on a day and, optionally, to revert on a
later one; ``run-due``, run once a day (from cron), applies and reverts what
is due, catching up the days it missed.  The rules are the core's
(:mod:`contact_prefs.schedules`); the steps are :mod:`contact_prefs.scheduling`'s.
"""

from __future__ import annotations

import argparse
import datetime
from typing import Any

from .approval import approval_needed
from .cli import (
    EXIT_CONFLICT,
    EXIT_DONE,
    _batch_options,
    _check_scope,
    _date,
    _error,
    _finished,
    _open,
    _planned,
    _print,
    _progress,
    _spec,
    _warn_unknown_ids,
    one_line,
    planned_now,
)
from .cli_rights import governance
from .formats.governance import proposal_data
from .formats.results import to_json, utc
from .formats.schedules import (
    left_alone_text,
    ran_data,
    ran_text,
    schedule_data,
    scheduled_text,
    schedules_text,
    start_proposal_text,
)
from .interrupts import HeldStore, commit_point
from .planning import plan
from .privacy import shown
from .rights import Action
from .schedules import Step, spec_on
from .scheduling import propose_start, run_due, schedule, unschedule

_schedule_id = one_line(
    "an empty schedule id: give the id (contact-prefs schedules lists them)",
    lambda text, problem: f"the schedule id {shown(text)} {problem}",
)


def add_schedule_commands(commands: argparse._SubParsersAction[Any], store: argparse.ArgumentParser) -> None:
    """Add ``schedule``, ``schedules``, ``unschedule`` and ``run-due`` to the command line's ``commands``."""
    brief = argparse.ArgumentParser(add_help=False)
    brief.add_argument("--format", choices=("table", "json"), default="table", help="output format (default: table)")

    def command(name: str, run: Any, help: str, *parents: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = commands.add_parser(name, help=help, description=help, parents=[store, *parents])
        sub.set_defaults(run=run, parser=sub)
        return sub

    details = argparse.ArgumentParser(add_help=False)
    details.add_argument(
        "--details", action="store_true", help="also list every change (ids, method, reason, before, after)"
    )
    made = command(
        "schedule",
        _schedule,
        "store a batch to apply on a day and, with --ends-on, to revert on a later one (run-due runs them)",
        brief,
        details,
    )
    _batch_options(made)
    made.add_argument(
        "--starts-on", type=_date, required=True, metavar="YYYY-MM-DD", help="the day the batch is applied"
    )
    made.add_argument(
        "--ends-on",
        type=_date,
        metavar="YYYY-MM-DD",
        help="the day it is reverted: what it wrote and is still as it left it goes back (default: never)",
    )

    command("schedules", _schedules, "list the schedules: their state and the batches they made", brief)

    cancel = command("unschedule", _unschedule, "cancel a schedule; with --revert, also take back its batch", brief)
    cancel.add_argument(
        "schedule_id",
        type=_schedule_id,
        metavar="SCHEDULE_ID",
        help="a schedule id, or a beginning of it (4 characters or more) that only one schedule has",
    )
    cancel.add_argument(
        "--revert",
        action="store_true",
        help="a schedule that started: also revert its batch now, as its end day would (default: keep it)",
    )

    due = command(
        "run-due",
        _run_due,
        "apply and revert every schedule due by today, in date order (once a day, from cron)",
        brief,
    )
    due.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help="run as if today were this day (default: today)")


def _schedule(args: argparse.Namespace) -> int:
    spec, lines = _spec(args)  # planned for --as-of (default today): the plan shown is the plan of today
    today = spec.as_of
    if args.starts_on < today:
        args.parser.error(
            f"argument --starts-on: {args.starts_on.isoformat()} is before today ({today.isoformat()}); "
            "a schedule starts today or later"
        )
    policy = governance(args).approval
    with _open(args, Action.APPLY, {"spec": spec}) as opened:  # scheduling is an apply, on the days it names
        _warn_unknown_ids(opened, spec, args.filter_file, lines)
        _check_scope(opened, planned_now(opened, spec), args)
        start = spec_on(spec, args.starts_on)
        # Approved once, before it first runs: the batch its start day runs, as the district is now.
        why = approval_needed(policy, plan(start, opened.snapshot(start)))
        with commit_point() as point:
            store = HeldStore(opened, point)
            now = datetime.datetime.now(datetime.UTC)
            made, preview = schedule(
                store, spec, starts_on=args.starts_on, ends_on=args.ends_on, actor=args.actor, at=now
            )
            proposal = None
            if why is not None:
                proposal, _ = propose_start(store, made.schedule_id, actor=args.actor, at=now, policy=policy)
            if args.format == "json":
                data = schedule_data(made)
                data["plan"] = _planned(preview).data(details=args.details)
                data["proposal"] = None if proposal is None else proposal_data(proposal, now=now)
                print(to_json(data))
            else:
                print(f"The batch as it would be applied today, {today.isoformat()}:")
                print()
                _print(_planned(preview), args)
                print()
                print(scheduled_text(made))
                if proposal is not None:
                    print(start_proposal_text(made, proposal))
            _finished(point)
    return EXIT_DONE


def _schedules(args: argparse.Namespace) -> int:
    with _open(args, Action.PLAN) as store:
        found = store.schedules()
    if args.format == "json":
        print(to_json([schedule_data(each) for each in found]))
    else:
        print(schedules_text(found))
    return EXIT_DONE


def _unschedule(args: argparse.Namespace) -> int:
    with _open(args, Action.APPLY, {"schedule_id": args.schedule_id}) as opened, commit_point() as point:
        store = HeldStore(opened, point)
        cancelled, receipt = unschedule(
            store, args.schedule_id, actor=args.actor, at=datetime.datetime.now(datetime.UTC), revert=args.revert
        )
        if args.format == "json":
            data = schedule_data(cancelled)
            data["revert"] = None if receipt is None else {"batch_id": receipt.batch_id, "updated": receipt.applied}
            print(to_json(data))
        else:
            assert cancelled.cancelled_at is not None
            when = utc(cancelled.cancelled_at)
            print(f"Cancelled schedule {cancelled.schedule_id} by {cancelled.cancelled_by} at {when}.")
            if receipt is not None:
                alone = sum(receipt.left_alone.values())
                print(
                    f"Reverted its batch {receipt.undoes} as batch {receipt.batch_id}: {receipt.applied:,} changes"
                    + (f"; left alone {alone:,} changed since ({left_alone_text(receipt.left_alone)})" if alone else "")
                    + "."
                )
            elif cancelled.start_batch is not None:
                print(
                    f"Its batch {cancelled.start_batch} stays applied: unschedule --revert, "
                    "or undo the batch, takes it back."
                )
            else:
                print("It had not started: nothing was applied.")
        _finished(point)
    return EXIT_DONE


def _run_due(args: argparse.Namespace) -> int:
    today = args.as_of or datetime.date.today()
    approval = governance(args).approval
    with _open(args, Action.APPLY) as opened, commit_point() as point:
        _progress(f"Running what is due by {today.isoformat()}")
        runs = run_due(
            HeldStore(opened, point),
            today=today,
            actor=args.actor,
            approval=approval,
            at=datetime.datetime.now(datetime.UTC),
        )
        print(to_json([ran_data(ran) for ran in runs]) if args.format == "json" else ran_text(runs))
        _finished(point)
    failed = sum(1 for ran in runs if ran.failed)
    if failed:
        _error(f"{failed} due step(s) failed; nothing was written for them, and the next run tries again")
    # A wait is an alert too: someone has to approve before the next run can apply it.
    waiting = sorted({ran.schedule_id for ran in runs if ran.waits and ran.step is Step.START})
    if waiting:
        _error(
            f"{len(waiting)} schedule(s) wait for a second person's approval; nothing was written for them: "
            "'contact-prefs propose --schedule ID' proposes a schedule's batch as it is now, "
            "'contact-prefs approve PROPOSAL_ID' approves it, and the next run applies it"
        )
    return EXIT_CONFLICT if failed or waiting else EXIT_DONE
