"""The ``contact-prefs consent ...`` commands: the consent ledger from the command line.

``record`` (a grant or a revocation received by any channel), ``import`` (a
messaging vendor's replies: keywords revoke at once, anything else goes to
the review queue), ``inbox`` (the queue, exit 1 when a message is overdue),
``resolve`` (a reviewer's reading), ``proof`` (an address's whole record) and
``policy`` (the district's settings and their history).  The rules are the
core's (:mod:`contact_prefs.consent`, :mod:`contact_prefs.ledger`); this
module turns options and files into their calls and their results into text,
JSON or CSV.  ``docs/consent.md`` is the reference.

Only ``proof`` prints an address, the one it was asked about.  An address
given to any other command is never repeated, in its output or its errors.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import attrs
import phonenumbers

from .addresses import typed_address_key
from .batch_ids import find_by_prefix
from .cli import EXIT_DONE, UsageError, _date, _finished, _open, _warn, one_line
from .consent import (
    ConsentAction,
    ConsentEvent,
    ConsentPolicy,
    Review,
    RevocationScope,
    reading_of,
    revoked_on,
    revoked_reasons,
)
from .enums import Reason
from .errors import UnknownReviewError
from .formats.consent import Inbox, PolicySet, PolicyShown, Proof, Recorded, RepliesRecorded, Resolved
from .formats.replies import CHANNELS, parse_channel, read_replies
from .formats.results import to_json
from .formats.table import parse_moment
from .interrupts import HeldStore, commit_point
from .ledger import new_review
from .privacy import shown
from .reasons import ReasonSet
from .rights import Action

EXIT_OVERDUE = 1
"""``consent inbox``: a message waits past its due date."""
NONE = "none"
"""The value that empties a list setting of the policy (``--exempt none``, ``--holiday none``)."""


class _Result(Protocol):
    def text(self) -> str: ...
    def data(self) -> Any: ...
    def csv(self) -> str: ...


def add_consent_commands(
    commands: argparse._SubParsersAction[Any],
    store: argparse.ArgumentParser,
    output: argparse.ArgumentParser,
) -> None:
    """Add ``consent`` and its subcommands to the command line's ``commands``; every one takes the
    ``store`` and ``output`` options."""
    group = commands.add_parser(
        "consent",
        help="the consent ledger: record, import replies, review, prove, set the policy",
        description="Consent as a record, per phone number and e-mail address (docs/consent.md).",
        parents=[store],
    )
    subcommands = group.add_subparsers(title="consent commands", metavar="COMMAND", required=True)

    def command(name: str, run: Any, help: str) -> argparse.ArgumentParser:
        parents = [store, output]
        sub: argparse.ArgumentParser = subcommands.add_parser(name, help=help, description=help, parents=parents)
        sub.set_defaults(run=run, parser=sub)
        return sub

    record = command("record", _record, "record consent given (--grant) or withdrawn (--revoke) for an address")
    record.add_argument("address", metavar="ADDRESS", help="a phone number or an e-mail address (never printed)")
    action = record.add_mutually_exclusive_group(required=True)
    action.add_argument(
        "--revoke", dest="action", action="store_const", const=ConsentAction.REVOKE, help="consent withdrawn"
    )
    action.add_argument("--grant", dest="action", action="store_const", const=ConsentAction.GRANT, help="consent given")
    record.add_argument("--channel", type=_channel, required=True, metavar="CHANNEL", help=f"how: {CHANNELS}")
    record.add_argument(
        "--reason",
        type=_reason,
        action="append",
        dest="reasons",
        metavar="REASON",
        help=f"a reason it covers; repeat for several (default: all; reasons: {Reason.choices()})",
    )
    record.add_argument("--evidence", default="", metavar="TEXT", help="the message as received, or a form id")
    record.add_argument("--wording", default="", metavar="VERSION", help="the consent text version of a grant")
    record.add_argument(
        "--received-at",
        type=_moment,
        metavar="ISO",
        help="when it was received, with its zone, such as 2026-12-04T16:05:00Z (default: now)",
    )

    replies = command("import", _import, "record the replies a messaging vendor reports, from a CSV file")
    replies.add_argument("file", type=Path, metavar="FILE", help="columns address,message,received_at[,channel]")

    inbox = command("inbox", _inbox, "list the messages waiting for review, overdue first; exit 1 if any is overdue")
    inbox.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help="the day to count from (default: today)")

    resolve = command("resolve", _resolve, "resolve a waiting message: a revocation (--revoke) or not (--keep)")
    resolve.add_argument(
        "review_id", type=_review_id, metavar="REVIEW", help="a review id, or a beginning of it (4 characters or more)"
    )
    reading = resolve.add_mutually_exclusive_group(required=True)
    reading.add_argument("--revoke", dest="revoked", action="store_const", const=True, help="it is a revocation")
    reading.add_argument("--keep", dest="revoked", action="store_const", const=False, help="it is not one")
    resolve.add_argument("--note", default="", metavar="TEXT", help="why, for the record")

    proof = command("proof", _proof, "show an address's whole consent record: this prints the address")
    proof.add_argument("address", metavar="ADDRESS", help="a phone number or an e-mail address")
    proof.add_argument(
        "--as-of", type=_date, metavar="DATE", help="also say what the ledger tells of that day (YYYY-MM-DD)"
    )

    policy = command("policy", _policy, "show the consent policy and its history, or set it (with --actor, --why)")
    policy.add_argument(
        "--exempt",
        type=_exempt,
        action="append",
        metavar="REASON",
        help="a reason no revocation covers; repeat for several; 'none' for none",
    )
    policy.add_argument(
        "--scope",
        type=_scope,
        metavar="{all,named}",
        help="whether a revocation covers every reason (all) or the reasons it names (named)",
    )
    policy.add_argument("--region", type=_region, metavar="CC", help="where numbers without a country code are")
    policy.add_argument(
        "--holiday",
        type=_holiday,
        action="append",
        dest="holidays",
        metavar="YYYY-MM-DD",
        help="a day the review clock does not count; repeat for several; 'none' for none",
    )
    policy.add_argument("--why", type=_why, metavar="TEXT", help="why the policy changes, for the record")


# -- option values ------------------------------------------------------------------


def _channel(text: str) -> Any:
    try:
        return parse_channel(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{shown(text)} {error}") from None


def _reason(text: str) -> Reason:
    try:
        return Reason(text)  # the core's one normalization of names (contact_prefs.enums.normal_name)
    except ValueError:
        raise argparse.ArgumentTypeError(f"unknown reason {shown(text)}; valid reasons: {Reason.choices()}") from None


def _exempt(text: str) -> Reason | None:
    return None if text.strip().lower() == NONE else _reason(text)


def _holiday(text: str) -> datetime.date | None:
    return None if text.strip().lower() == NONE else _date(text)


def _scope(text: str) -> RevocationScope:
    try:
        return RevocationScope(text.strip().lower())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a scope (all, named)") from None


def _region(text: str) -> str:
    region = text.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a region code (two letters, such as US or CA)")
    return region


def _moment(text: str) -> datetime.datetime:
    try:
        return parse_moment(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{shown(text)} {error}") from None


_why = one_line(
    "an empty reason: say why, for the record",
    lambda text, problem: f"the reason given {problem}: the record needs it on one line",
)
_review_id = one_line(
    "an empty review id names no review: give the id (contact-prefs consent inbox lists them)",
    lambda text, problem: f"the review id {shown(text)} {problem}",
)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _address_key(text: str, policy: ConsentPolicy) -> str:
    """The key of an address typed on the command line; the error does not repeat it."""
    key = typed_address_key(text, policy.region)
    if key is None:
        raise UsageError(
            "argument ADDRESS: the address given is not a complete phone number or e-mail address "
            f"(a number without a country code is read in the region {policy.region})"
        )
    return key


def _emit(result: _Result, args: argparse.Namespace) -> None:
    if args.format == "json":
        print(to_json(result.data()))
    elif args.format == "csv":
        print(result.csv())
    else:
        print(result.text())


# -- commands -------------------------------------------------------------------------


def _record(args: argparse.Namespace) -> int:
    received_at: datetime.datetime = args.received_at or _now()
    if received_at > _now():
        args.parser.error("argument --received-at: is in the future; the latest event decides, so it must be past")
    with _open(args, Action.CONSENT) as opened:
        policy = opened.consent_policy()
        event = ConsentEvent(
            address=_address_key(args.address, policy),
            action=args.action,
            channel=args.channel,
            received_at=received_at,
            recorded_by=args.actor,
            reasons=ReasonSet(args.reasons) if args.reasons else ReasonSet.all(),
            evidence=args.evidence,
            wording=args.wording,
        )
        with commit_point() as point:
            HeldStore(opened, point).record_consent([event], actor=args.actor)
            holders = len(opened.holders(event.address))
            _emit(Recorded(event=event, covers=event.covers(policy), holders=holders), args)
            _finished(point)
    return EXIT_DONE


def _import(args: argparse.Namespace) -> int:
    with _open(args, Action.CONSENT, {"file": str(args.file)}) as opened:
        policy = opened.consent_policy()
        replies = read_replies(args.file, region=policy.region, now=_now())
        events: list[ConsentEvent] = []
        reviews: list[Review] = []
        for reply in replies:
            event = reading_of(
                reply.message,
                address=reply.address,
                channel=reply.channel,
                received_at=reply.received_at,
                recorded_by=args.actor,
            )
            if event is not None:
                events.append(event)
            else:
                review = new_review(
                    uuid.uuid4().hex,
                    address=reply.address,
                    message=reply.message,
                    channel=reply.channel,
                    received_at=reply.received_at,
                    policy=policy,
                )
                reviews.append(review)
        held = {key: bool(opened.holders(key)) for key in {reply.address for reply in replies}}
        summary = RepliesRecorded(
            file=str(args.file),
            lines=len(replies),
            revocations=len(events),
            reviews=len(reviews),
            unmatched_lines=tuple(reply.line for reply in replies if not held[reply.address]),
        )
        with commit_point() as point:
            if events or reviews:  # all or nothing, in one transaction
                HeldStore(opened, point).record_consent(events, reviews=reviews, actor=args.actor)
            _emit(summary, args)
            _finished(point)
    return EXIT_DONE


def _inbox(args: argparse.Namespace) -> int:
    as_of: datetime.date = args.as_of or datetime.date.today()
    with _open(args, Action.PLAN) as store:
        reviews = store.reviews()
        holders = {key: len(store.holders(key)) for key in {review.address for review in reviews if review.waiting}}
    inbox = Inbox.of(reviews, as_of, holders)
    _emit(inbox, args)
    if inbox.overdue:
        sys.stdout.flush()  # after the list, also when both go to one pipe
        _warn(f"{inbox.overdue:,} message(s) waiting for review are overdue as of {as_of.isoformat()}")
        return EXIT_OVERDUE
    return EXIT_DONE


def _resolve(args: argparse.Namespace) -> int:
    with _open(args, Action.CONSENT, {"review_id": args.review_id}) as opened:
        review = find_review(opened.reviews(), args.review_id)
        with commit_point() as point:
            resolved = HeldStore(opened, point).resolve_review(
                review.review_id, revoked=args.revoked, actor=args.actor, note=args.note, at=_now()
            )
            _emit(Resolved(review=resolved, holders=len(opened.holders(resolved.address))), args)
            _finished(point)
    return EXIT_DONE


def _proof(args: argparse.Namespace) -> int:
    if not args.address.strip():
        args.parser.error("argument ADDRESS: an empty address: give a phone number or an e-mail address")
    with _open(args, Action.PLAN) as store:
        policy = store.consent_policy()
        # An address no rule can read is kept as saved (contact_prefs.ledger.ledger_key): look it up so.
        key = typed_address_key(args.address, policy.region) or args.address.strip()
        events = store.ledger(key)
        reviews = tuple(review for review in store.reviews() if review.address == key)
        holders = store.holders(key)
    waiting = any(review.waiting for review in reviews)
    proof = Proof(
        asked=args.address,
        key=key,
        events=events,
        reviews=reviews,
        holders=holders,
        revoked_now=revoked_reasons(events, policy, awaiting_review=waiting),
        policy=policy,
        as_of=args.as_of,
        revoked_then=None if args.as_of is None else revoked_on(args.as_of, events, reviews, policy),
    )
    _emit(proof, args)
    return EXIT_DONE


def _policy(args: argparse.Namespace) -> int:
    changes = _policy_changes(args)
    if not changes:
        if args.why:
            args.parser.error("--why goes with a change: --exempt, --scope, --region or --holiday")
        with _open(args, Action.PLAN) as store:
            shown_policy = PolicyShown(policy=store.consent_policy(), changes=store.policy_changes())
        _emit(shown_policy, args)
        return EXIT_DONE
    if not args.why:
        args.parser.error("a change of the consent policy needs --why TEXT, recorded with it and the actor")
    with _open(args, Action.ADMIN) as opened:
        current = opened.consent_policy()
        policy = attrs.evolve(current, **changes)
        if policy == current:
            print("The consent policy is so already: nothing was recorded.")
            return EXIT_DONE
        with commit_point() as point:
            change = HeldStore(opened, point).set_consent_policy(policy, actor=args.actor, why=args.why)
            _emit(PolicySet(change=change), args)
            _finished(point)
    return EXIT_DONE


def _policy_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The settings the options change, each replacing the one stored; ``none`` empties a list."""
    changes: dict[str, Any] = {}
    if args.exempt is not None:
        changes["exempt"] = ReasonSet(_listed(args, "--exempt", args.exempt))
    if args.holidays is not None:
        changes["holidays"] = frozenset(_listed(args, "--holiday", args.holidays))
    if args.scope is not None:
        changes["scope"] = args.scope
    if args.region is not None:
        changes["region"] = args.region
    return changes


def _listed(args: argparse.Namespace, option: str, values: Sequence[Any]) -> list[Any]:
    if None in values and len(values) > 1:
        args.parser.error(f"argument {option}: '{NONE}' empties the list, and cannot go with values")
    return [value for value in values if value is not None]


# -- review ids -----------------------------------------------------------------------


def find_review(reviews: Sequence[Review], text: str) -> Review:
    """The review whose id is ``text``, or the only one whose id begins with ``text``, as
    :func:`contact_prefs.batch_ids.find_batch` finds a batch."""
    return find_by_prefix(
        reviews,
        text,
        id_of=lambda review: review.review_id,
        kind="review",
        ambiguous=UsageError,
        unknown=UnknownReviewError(f"no review {shown(text)} in the queue (contact-prefs consent inbox lists them)"),
    )

