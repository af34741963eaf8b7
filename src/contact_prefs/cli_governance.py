"""The governance commands: two-person approval and the proof that the history was not rewritten.

``propose`` plans a batch and records it as a proposal; ``approve`` records a
second person's approval; ``withdraw`` takes a proposal back; ``proposals``
lists them; ``apply --proposal ID`` applies one, only as it was approved; and
``verify`` recomputes the hash chain of the history.  The rules are the
core's (:mod:`contact_prefs.proposals`, :mod:`contact_prefs.chain`, driven
through :mod:`contact_prefs.governance`); this module turns options into their
calls and their results into text or JSON.  ``docs/governance.md`` explains
the flow, ``docs/cli.md`` lists the options and outputs.
"""

from __future__ import annotations

import argparse
import datetime
import re
from typing import Any

import attrs

from .approval import ApprovalPolicy
from .batch import TRIES
from .cli import (
    EXIT_DONE,
    _applied,
    _batch_options,
    _check_scope,
    _confirm,
    _confirming,
    _finished,
    _open,
    _planned,
    _print,
    _progress,
    _require_terminal_or_yes,
    _spec,
    _steps,
    _warn,
    _warn_unknown_ids,
    one_line,
    planned_now,
)
from .cli_rights import governance
from .errors import ConflictError
from .formats.governance import chain_data, chain_text, proposal_data, proposal_text, proposals_text
from .formats.results import to_json, utc
from .governance import apply_proposal, find_proposal, verify_history
from .interrupts import HeldStore, commit_point
from .privacy import shown
from .proposals import Proposal, approval_of, check_application, new_proposal
from .rights import Action
from .scheduling import find_schedule, propose_start

EXIT_NOT_INTACT = 1
"""``verify``: the history is not what was chained (an entry changed, removed, inserted or moved)."""
NOTHING_PROPOSED = "nothing to change: no proposal was recorded"
PROPOSAL_HELP = "a proposal id, or a beginning of it (4 characters or more) that only one proposal has"
BATCH_OPTIONS = (
    ("--mode", "mode"),
    ("--set", "settings"),
    ("--school", "school"),
    ("--calendar", "calendar"),
    ("--filter-file", "filter_file"),
    ("--as-of", "as_of"),
    ("--keep-portal", "keep_portal"),
    ("--allow-emergency-off", "allow_emergency_off"),
)
"""The options that make up a batch, and where argparse puts them: what ``apply --proposal`` refuses."""
_HEAD = re.compile(r"[0-9a-f]{64}")


def add_governance_commands(
    commands: argparse._SubParsersAction[Any],
    store: argparse.ArgumentParser,
    summary: argparse.ArgumentParser,
    details: argparse.ArgumentParser,
) -> None:
    """Add ``propose``, ``approve``, ``withdraw``, ``proposals`` and ``verify`` to the command line's
    ``commands``; ``summary`` is the ``--format table|json`` option."""

    def command(name: str, run: Any, help: str, *parents: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = commands.add_parser(
            name, help=help, description=help, parents=[store, summary, *parents]
        )
        sub.set_defaults(run=run, parser=sub)
        return sub

    propose = command("propose", _propose, "plan a batch and record it as a proposal for a second person", details)
    _batch_options(propose, required=False)
    propose.add_argument(
        "--schedule",
        type=_schedule_id,
        metavar="SCHEDULE_ID",
        help="propose the batch a pending schedule's start runs, planned now for its start day "
        "(instead of the batch options)",
    )

    for name, run, help in (
        ("approve", _approve, "approve a proposal: the second person, not its proposer"),
        ("withdraw", _withdraw, "withdraw a proposal not yet applied"),
    ):
        sub = command(name, run, help)
        sub.add_argument("proposal", type=_proposal_id, metavar="PROPOSAL_ID", help=PROPOSAL_HELP)

    command("proposals", _proposals, "list the proposals, each with its state now")

    verify = command("verify", _verify, "check that the history is as it was recorded (exit 1 if not)")
    verify.add_argument(
        "--expect-head",
        type=_head,
        metavar="HASH",
        help="a head printed by an earlier verify: it must still be in the chain",
    )


def add_apply_options(apply: argparse.ArgumentParser) -> None:
    """``apply``'s option beyond a batch's: ``--proposal ID`` instead of the batch options."""
    apply.add_argument(
        "--proposal", type=_proposal_id, metavar="PROPOSAL_ID", help=f"apply an approved proposal: {PROPOSAL_HELP}"
    )


_schedule_id = one_line(
    "an empty schedule id: give the id (contact-prefs schedules lists them)",
    lambda text, problem: f"the schedule id {shown(text)} {problem}",
)
_proposal_id = one_line(
    "an empty proposal id names no proposal: give the id (contact-prefs proposals lists them)",
    lambda text, problem: f"{shown(text)} {problem}, and is not a proposal id",
)


def _head(text: str) -> str:
    head = text.strip().lower()
    if not _HEAD.fullmatch(head):
        raise argparse.ArgumentTypeError("a head is 64 hexadecimal digits, as verify prints it")
    return head


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


# -- the policy -----------------------------------------------------------------------


def _approval_policy(args: argparse.Namespace) -> ApprovalPolicy:
    """When a batch needs a second person, as the district's policy file says (``--policy``)."""
    return governance(args).approval


# -- commands -------------------------------------------------------------------------


def _propose(args: argparse.Namespace) -> int:
    given = [option for option, dest in BATCH_OPTIONS if getattr(args, dest, None) not in (None, False)]
    if args.schedule is not None:
        if given:
            args.parser.error(
                f"argument --schedule: {', '.join(given)} cannot go with --schedule, whose batch is the schedule's"
            )
        return _propose_schedule(args)
    missing = [option for option, dest in BATCH_OPTIONS[:2] if getattr(args, dest) is None]
    if missing:
        args.parser.error(f"the following arguments are required: {', '.join(missing)} (or --schedule SCHEDULE_ID)")
    spec, lines = _spec(args)
    policy = _approval_policy(args)
    # Proposing is the first half of an apply: the proposer is named on the batch it becomes.
    with _open(args, Action.APPLY, {"spec": spec}) as opened:
        _warn_unknown_ids(opened, spec, args.filter_file, lines)
        change_set = planned_now(opened, spec)
        _check_scope(opened, change_set, args)  # a usage error must come before anything is written
        result = _planned(change_set)
        if not change_set:
            _print(result, args)
            _warn(NOTHING_PROPOSED)
            return EXIT_DONE
        # Planned once for the checks and the proposal alike (governance.propose would plan again).
        proposal = new_proposal(change_set, proposer=args.actor, at=_now(), policy=policy)
        with commit_point() as point:
            HeldStore(opened, point).propose(proposal)
            if args.format == "json":
                print(to_json(proposal_data(proposal, now=proposal.at) | {"plan": result.data(details=args.details)}))
            else:
                print(_proposed_text(proposal))
                print()
                print(result.text(details=args.details))
            _finished(point)
    return EXIT_DONE


def _propose_schedule(args: argparse.Namespace) -> int:
    """``propose --schedule ID``: a proposal of exactly the batch the schedule's start runs, to approve
    before it (again, when the district moved since an earlier approval)."""
    policy = _approval_policy(args)
    with _open(args, Action.APPLY, {"schedule_id": args.schedule}) as opened:
        _progress("Planning")
        with commit_point() as point:
            schedule_id = find_schedule(opened, args.schedule).schedule_id
            proposal, change_set = propose_start(
                HeldStore(opened, point), schedule_id, actor=args.actor, at=_now(), policy=policy
            )
            result = _planned(change_set)
            if args.format == "json":
                data = proposal_data(proposal, now=proposal.at) | {"schedule_id": schedule_id}
                print(to_json(data | {"plan": result.data(details=args.details)}))
            else:
                print(f"The start of schedule {schedule_id}, planned now for its start day:")
                print(_proposed_text(proposal, applied_by=f"the start of schedule {schedule_id}"))
                print()
                print(result.text(details=args.details))
            _finished(point)
    return EXIT_DONE


def _proposed_text(proposal: Proposal, *, applied_by: str | None = None) -> str:
    short = proposal.proposal_id[:8]
    lines = [f"Proposal {proposal.proposal_id} by {proposal.proposer} at {utc(proposal.at)}"]
    lines.append(f"Needs approval: {proposal.why}" if proposal.why else "Needs approval: not under the policy")
    lines.append(f"Expires: {utc(proposal.expires_at)}")
    lines.append(f"Digest: {proposal.digest}")
    then = (
        f"then 'contact-prefs apply --proposal {short} --actor NAME' applies it"
        if applied_by is None
        else f"then run-due applies it as {applied_by}"
    )
    lines.append(f"Next: a second person runs 'contact-prefs approve {short} --actor NAME', {then}")
    return "\n".join(lines)


def _approve(args: argparse.Namespace) -> int:
    with _open(args, Action.APPROVE, {"proposal_id": args.proposal}) as opened:
        proposal = find_proposal(opened, args.proposal)
        with commit_point() as point:
            approved = HeldStore(opened, point).approve(proposal.proposal_id, actor=args.actor, at=_now())
            _print_proposal(approved, args)
            if args.format == "table":
                print(
                    f"\nNext: 'contact-prefs apply --proposal {approved.proposal_id[:8]} --actor NAME' applies it, "
                    f"before {utc(approved.expires_at)}"
                )
            _finished(point)
    return EXIT_DONE


def _withdraw(args: argparse.Namespace) -> int:
    # Taking a batch back is for those who may make batches happen.
    with _open(args, Action.APPLY, {"proposal_id": args.proposal}) as opened:
        proposal = find_proposal(opened, args.proposal)
        with commit_point() as point:
            withdrawn = HeldStore(opened, point).withdraw(proposal.proposal_id, actor=args.actor, at=_now())
            _print_proposal(withdrawn, args)
            _finished(point)
    return EXIT_DONE


def _print_proposal(proposal: Proposal, args: argparse.Namespace) -> None:
    now = _now()
    if args.format == "json":
        print(to_json(proposal_data(proposal, now=now)))
    else:
        print(proposal_text(proposal, now=now))


def _proposals(args: argparse.Namespace) -> int:
    with _open(args, Action.PLAN) as store:
        proposals = store.proposals()
    now = _now()
    if args.format == "json":
        print(to_json([proposal_data(proposal, now=now) for proposal in proposals]))
    else:
        print(proposals_text(proposals, now=now))
    return EXIT_DONE


def apply_proposal_command(args: argparse.Namespace) -> int:
    """``apply --proposal ID``: plan the proposal's batch again and commit it, only as approved."""
    given = [option for option, dest in BATCH_OPTIONS if getattr(args, dest, None) not in (None, False)]
    if given:
        args.parser.error(
            f"argument --proposal: {', '.join(given)} cannot go with --proposal, whose batch is the one approved"
        )
    _require_terminal_or_yes(args, "apply")
    with _open(args, Action.APPLY, {"proposal_id": args.proposal}) as opened:
        proposal = find_proposal(opened, args.proposal)
        if not args.yes:
            preview = planned_now(opened, proposal.spec)
            check_application(proposal, preview, at=_now())  # refused before anyone is asked
            _confirming(_planned(preview))
            question = (
                f"Apply these {len(preview):,} changes, proposed by {proposal.proposer} "
                f"and approved by {proposal.approver}?"
            )
            if not _confirm(question):
                print("Nothing was applied.")
                return EXIT_DONE
        with commit_point() as point:
            store = HeldStore(opened, point)
            try:
                change_set, receipt = apply_proposal(
                    store, proposal.proposal_id, actor=args.actor, at=_now(), progress=_steps()
                )
            except ConflictError as error:
                raise ConflictError(error.conflicts, f"planned {TRIES} times, and {error}") from None
            _print(attrs.evolve(_applied(change_set, receipt), approval=approval_of(proposal)), args)
            _finished(point)
    return EXIT_DONE


def require_batch_or_proposal(args: argparse.Namespace) -> None:
    """Plain ``apply`` needs the batch options ``--proposal`` stands for."""
    missing = [option for option, dest in BATCH_OPTIONS[:2] if getattr(args, dest) is None]
    if missing:
        args.parser.error(f"the following arguments are required: {', '.join(missing)} (or --proposal PROPOSAL_ID)")


def _verify(args: argparse.Namespace) -> int:
    with _open(args, Action.PLAN) as store:
        _progress("Verifying the history")
        report = verify_history(store, expect_head=args.expect_head)
    if args.format == "json":
        print(to_json(chain_data(report, expect_head=args.expect_head)))
    else:
        print(chain_text(report, expect_head=args.expect_head))
    return EXIT_DONE if report.intact else EXIT_NOT_INTACT
