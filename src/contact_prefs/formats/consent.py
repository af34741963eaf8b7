"""The consent ledger as the command line reports it: text for people, JSON and CSV for scripts.

Each result knows its ``text()``, ``data()`` (the JSON object) and ``csv()``;
the field names are a stable interface, listed in ``docs/consent.md``.  No
result holds an address, except :class:`Proof`, which exists to show the one
it was asked about and says so; a message's text is shown with anything in it
that looks like a phone number or an e-mail address withheld (:func:`masked`),
and so is a reviewer's note or the reason for a policy change, except in a proof.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ..consent import ConsentAction, ConsentEvent, ConsentPolicy, Review, RevocationScope
from ..enums import Method
from ..ledger import LoadReport, PolicyChange
from ..privacy import looks_personal
from ..reasons import ReasonSet
from .results import aligned, to_csv, utc

WITHHELD = "<withheld>"

EVENT_COLUMNS = ("received_at", "action", "reasons", "channel", "recorded_by", "evidence", "wording")
"""The CSV columns (and JSON keys) of a ledger event in a proof."""

RECORDED_COLUMNS = ("action", "reasons", "covers", "channel", "received_at", "recorded_by", "wording", "holders")
"""The CSV columns (and JSON keys) of ``consent record``."""

REPLIES_COLUMNS = ("file", "lines", "revocations", "reviews", "unmatched", "unmatched_lines")
"""The CSV columns (and JSON keys) of ``consent import``."""

INBOX_COLUMNS = ("review_id", "received_at", "due_on", "days_left", "overdue", "channel", "holders", "message")
"""The CSV columns (and JSON keys) of a waiting review in ``consent inbox``."""

REVIEW_COLUMNS = (
    "review_id",
    "received_at",
    "due_on",
    "channel",
    "resolved_by",
    "resolved_at",
    "revoked",
    "note",
    "message",
)
"""The JSON keys of a review in ``consent resolve`` and ``consent proof``."""

CHANGE_COLUMNS = ("at", "actor", "scope", "exempt", "region", "holidays", "why")
"""The CSV columns of a change of the consent policy."""

# Something in a message that may be an address: a word with an "@", or a run of digits and the
# punctuation numbers are written with.  Only runs that look personal are withheld (dates stay).
_CANDIDATE = re.compile(r"[^\s@]+@[^\s@]+|[+(]?\d[\d\s().\-/]*\d")


def masked(message: str) -> str:
    """``message`` with every part that looks like a phone number or an e-mail address withheld.

    >>> masked("Please stop texting 280-555-0143 or pat@example.org after 2026-12-04")
    'Please stop texting <withheld> or <withheld> after 2026-12-04'
    """
    return _CANDIDATE.sub(lambda run: WITHHELD if looks_personal(run.group()) else run.group(), message)


def reasons_text(reasons: ReasonSet) -> str:
    """``all``, ``none``, or the reasons' values joined by ``;`` (as the native CSV writes them)."""
    if reasons == ReasonSet.all():
        return "all"
    return ";".join(reason.value for reason in reasons) or "none"


def _reasons_data(reasons: ReasonSet) -> list[str]:
    return [reason.value for reason in reasons]


def _moment(moment: datetime.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(datetime.UTC).isoformat()


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(map(str, value))
    return "" if value is None else str(value)


def _csv(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    return to_csv(columns, ([_cell(row[column]) for column in columns] for row in rows))


def _spaced(text: str) -> str:
    """An enum value as people read it: ``front_office`` -> ``front office``."""
    return text.replace("_", " ")


# -- consent record --------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Recorded:
    """An event ``consent record`` recorded, with the reasons it decides under the policy and how
    many contact points hold its address."""

    event: ConsentEvent
    covers: ReasonSet
    holders: int

    def data(self) -> dict[str, Any]:
        event = self.event
        return {
            "action": event.action.value,
            "reasons": _reasons_data(event.reasons),
            "covers": _reasons_data(self.covers),
            "channel": event.channel.value,
            "received_at": _moment(event.received_at),
            "recorded_by": event.recorded_by,
            "wording": event.wording,
            "holders": self.holders,
        }

    def text(self) -> str:
        event = self.event
        what = "revocation" if event.action is ConsentAction.REVOKE else "grant of consent"
        lines = [
            f"Recorded a {what} by {_spaced(event.channel.value)}, received {utc(event.received_at)}, "
            f"recorded by {event.recorded_by}.",
            f"Reasons named: {reasons_text(event.reasons)}; covered under the policy: {reasons_text(self.covers)}.",
        ]
        if event.wording:
            lines.append(f"Wording: {event.wording}")
        lines.append(f"Contact points holding the address: {self.holders:,}")
        return "\n".join(lines)

    def csv(self) -> str:
        return _csv(RECORDED_COLUMNS, [self.data()])


# -- consent import --------------------------------------------------------------


@attrs.frozen(kw_only=True)
class RepliesRecorded:
    """What ``consent import`` recorded from a reply file."""

    file: str
    lines: int
    revocations: int
    reviews: int
    unmatched_lines: tuple[int, ...]

    def data(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "lines": self.lines,
            "revocations": self.revocations,
            "reviews": self.reviews,
            "unmatched": len(self.unmatched_lines),
            "unmatched_lines": list(self.unmatched_lines),
        }

    def text(self) -> str:
        lines = [
            f"Read {self.lines:,} message(s) from {self.file}:",
            f"  revocations recorded  {self.revocations:>9,}",
            f"  queued for review     {self.reviews:>9,}",
            f"  unmatched             {len(self.unmatched_lines):>9,}",
        ]
        if self.unmatched_lines:
            lines.append(
                f"Unmatched messages come from addresses no contact point holds ({line_list(self.unmatched_lines)}); "
                "they are recorded too, and apply to any point that holds the address later."
            )
        if self.reviews:
            lines.append("Queued messages wait in 'contact-prefs consent inbox'.")
        return "\n".join(lines)

    def csv(self) -> str:
        return _csv(REPLIES_COLUMNS, [self.data()])


SHOWN_LINES = 5
"""How many line numbers a summary lists."""


def line_list(lines: Sequence[int]) -> str:
    """``line 7`` or ``lines 7, 12, ...``: where, without what."""
    listed = ", ".join(map(str, lines[:SHOWN_LINES])) + (", ..." if len(lines) > SHOWN_LINES else "")
    return f"{'line' if len(lines) == 1 else 'lines'} {listed}"


# -- consent inbox ---------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Inbox:
    """The waiting reviews as of a day, overdue first then by due date, each with how many
    contact points hold its address (``holders``, by address key)."""

    as_of: datetime.date
    reviews: tuple[Review, ...]
    holders: Mapping[str, int] = attrs.field(hash=False)

    @classmethod
    def of(cls, reviews: Sequence[Review], as_of: datetime.date, holders: Mapping[str, int]) -> Inbox:
        waiting = sorted((r for r in reviews if r.waiting), key=lambda r: (r.due_on, r.received_at, r.review_id))
        return cls(as_of=as_of, reviews=tuple(waiting), holders=holders)

    @property
    def overdue(self) -> int:
        return sum(1 for review in self.reviews if review.overdue(self.as_of))

    def _item(self, review: Review) -> dict[str, Any]:
        return {
            "review_id": review.review_id,
            "received_at": _moment(review.received_at),
            "due_on": review.due_on.isoformat(),
            "days_left": (review.due_on - self.as_of).days,
            "overdue": review.overdue(self.as_of),
            "channel": review.channel.value,
            "holders": self.holders.get(review.address, 0),
            "message": masked(review.message),
        }

    def data(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "waiting": len(self.reviews),
            "overdue": self.overdue,
            "reviews": [self._item(review) for review in self.reviews],
        }

    def text(self) -> str:
        if not self.reviews:
            return f"No message waits for review (as of {self.as_of.isoformat()})."
        rows: list[Sequence[str]] = [("Review", "Received (UTC)", "Due", "Left", "Channel", "Points", "Message")]
        for review in self.reviews:
            item = self._item(review)
            rows.append(
                (
                    review.review_id,
                    utc(review.received_at).removesuffix(" UTC"),
                    item["due_on"],
                    _days_left(item["days_left"]),
                    _spaced(item["channel"]),
                    f"{item['holders']:,}",
                    " ".join(item["message"].split()),
                )
            )
        return "\n".join(
            [
                f"{len(self.reviews):,} message(s) wait for review as of {self.as_of.isoformat()}, "
                f"{self.overdue:,} overdue:",
                "",
                aligned(rows),
                "",
                "While a message waits, no reason is switched on at the contact points holding its address.",
                "Resolve one with: contact-prefs consent resolve REVIEW (--revoke | --keep) --actor NAME",
            ]
        )

    def csv(self) -> str:
        return _csv(INBOX_COLUMNS, [self._item(review) for review in self.reviews])


def _days_left(days: int) -> str:
    if days > 0:
        return f"{days} day{'s' if days != 1 else ''}"
    if days == 0:
        return "due today"
    return f"{-days} day{'s' if days != -1 else ''} overdue"


# -- consent resolve -------------------------------------------------------------


def review_data(review: Review, *, message: str) -> dict[str, Any]:
    return {
        "review_id": review.review_id,
        "received_at": _moment(review.received_at),
        "due_on": review.due_on.isoformat(),
        "channel": review.channel.value,
        "resolved_by": review.resolved_by,
        "resolved_at": _moment(review.resolved_at),
        "revoked": review.revoked,
        "note": review.note,
        "message": message,
    }


def _status(review: Review) -> str:
    if review.waiting:
        return "waiting"
    return "a revocation" if review.revoked else "not a revocation"


@attrs.frozen(kw_only=True)
class Resolved:
    """A review ``consent resolve`` resolved, and how many contact points hold its address."""

    review: Review
    holders: int

    def data(self) -> dict[str, Any]:
        data = review_data(self.review, message=masked(self.review.message))
        return {**data, "note": masked(self.review.note), "holders": self.holders}

    def text(self) -> str:
        review = self.review
        assert review.resolved_at is not None
        lines = [
            f"Review {review.review_id} resolved by {review.resolved_by} at {utc(review.resolved_at)}: "
            f"{_status(review)}.",
        ]
        if review.revoked:
            lines.append(
                f"Recorded a revocation received {utc(review.received_at)} by {_spaced(review.channel.value)}."
            )
        if review.note:
            lines.append(f"Note: {masked(review.note)}")
        lines.append(f"Contact points holding the address: {self.holders:,}")
        return "\n".join(lines)

    def csv(self) -> str:
        return _csv((*REVIEW_COLUMNS, "holders"), [self.data()])


# -- consent proof ---------------------------------------------------------------


def event_data(event: ConsentEvent) -> dict[str, Any]:
    return {
        "received_at": _moment(event.received_at),
        "action": event.action.value,
        "reasons": _reasons_data(event.reasons),
        "channel": event.channel.value,
        "recorded_by": event.recorded_by,
        "evidence": event.evidence,
        "wording": event.wording,
    }


@attrs.frozen(kw_only=True)
class Proof:
    """Everything the store knows of one address's consent, for a lawyer or an auditor.

    It shows the address it was asked about (``asked``) and its key: the only
    result that holds an address.
    """

    asked: str
    key: str
    events: tuple[ConsentEvent, ...]
    reviews: tuple[Review, ...]
    holders: tuple[tuple[str, Method], ...]
    revoked_now: ReasonSet
    policy: ConsentPolicy
    as_of: datetime.date | None = None
    revoked_then: ReasonSet | None = None
    """What the ledger tells of ``as_of`` (``contact_prefs.consent.revoked_on``), when asked."""

    def data(self) -> dict[str, Any]:
        then = {} if self.as_of is None or self.revoked_then is None else {
            "as_of": self.as_of.isoformat(),
            "revoked_on_that_day": _reasons_data(self.revoked_then),
        }
        return {
            "address": self.asked,
            "key": self.key,
            "revoked_now": _reasons_data(self.revoked_now),
            **then,
            "policy": policy_data(self.policy),
            "events": [event_data(event) for event in self.events],
            "reviews": [review_data(review, message=review.message) for review in self.reviews],
            "holders": [{"owner_id": owner, "method": method.value} for owner, method in self.holders],
        }

    def text(self) -> str:
        lines = [
            f"Proof of consent for {self.asked} (key {self.key})",
            "This output shows the address asked about: it is personal data.",
            f"Revoked now for: {reasons_text(self.revoked_now)} ({describe_policy(self.policy)})",
            *(
                []
                if self.as_of is None or self.revoked_then is None
                else [f"Revoked on {self.as_of.isoformat()} (end of day, UTC) for: {reasons_text(self.revoked_then)}"]
            ),
            "",
            f"Ledger, in the order recorded ({len(self.events):,} event(s)):",
        ]
        if self.events:
            header = ("#", "Received (UTC)", "Action", "Reasons", "Channel", "Recorded by", "Evidence", "Wording")
            rows: list[Sequence[str]] = [header]
            for number, event in enumerate(self.events, start=1):
                rows.append(
                    (
                        str(number),
                        utc(event.received_at).removesuffix(" UTC"),
                        event.action.value,
                        reasons_text(event.reasons),
                        _spaced(event.channel.value),
                        event.recorded_by,
                        " ".join(event.evidence.split()),
                        event.wording,
                    )
                )
            lines.append(aligned(rows))
        lines += ["", f"Reviews of its messages ({len(self.reviews):,}):"]
        if self.reviews:
            rows = [("Review", "Received (UTC)", "Due", "Status", "Resolved by", "Note", "Message")]
            for review in self.reviews:
                rows.append(
                    (
                        review.review_id,
                        utc(review.received_at).removesuffix(" UTC"),
                        review.due_on.isoformat(),
                        _status(review),
                        review.resolved_by or "",
                        " ".join(review.note.split()),
                        " ".join(review.message.split()),
                    )
                )
            lines.append(aligned(rows))
        lines += ["", f"Saved at ({len(self.holders):,} contact point(s)):"]
        if self.holders:
            lines.append(aligned([("Owner", "Method"), *((owner, method.value) for owner, method in self.holders)]))
        return "\n".join(lines)

    def csv(self) -> str:
        """The ledger alone, a row per event (``text`` and ``data`` also hold the reviews and holders)."""
        return _csv(EVENT_COLUMNS, [event_data(event) for event in self.events])


# -- consent policy ---------------------------------------------------------------


def policy_data(policy: ConsentPolicy) -> dict[str, Any]:
    return {
        "scope": policy.scope.value,
        "exempt": _reasons_data(policy.exempt),
        "region": policy.region,
        "holidays": sorted(day.isoformat() for day in policy.holidays),
    }


def describe_policy(policy: ConsentPolicy) -> str:
    scope = (
        "a revocation covers every reason"
        if policy.scope is RevocationScope.ALL
        else "a revocation covers the reasons it names"
    )
    exempt = ", ".join(reason.value for reason in policy.exempt) or "none"
    return f"{scope}; exempt: {exempt}"


def change_data(change: PolicyChange) -> dict[str, Any]:
    why = masked(change.why)
    return {"at": _moment(change.at), "actor": change.actor, "why": why, "policy": policy_data(change.policy)}


def _change_row(change: PolicyChange) -> dict[str, Any]:
    return {"at": _moment(change.at), "actor": change.actor, "why": masked(change.why), **policy_data(change.policy)}


@attrs.frozen(kw_only=True)
class PolicyShown:
    """The district's consent policy now, and every change of it, oldest first."""

    policy: ConsentPolicy
    changes: tuple[PolicyChange, ...]

    def data(self) -> dict[str, Any]:
        return {"policy": policy_data(self.policy), "changes": [change_data(change) for change in self.changes]}

    def text(self) -> str:
        policy = policy_data(self.policy)
        lines = [
            "Consent policy:",
            f"  scope     {policy['scope']} ({describe_policy(self.policy).partition(';')[0]})",
            f"  exempt    {', '.join(policy['exempt']) or 'none'}",
            f"  region    {policy['region']}",
            f"  holidays  {', '.join(policy['holidays']) or 'none'}",
            "",
        ]
        if not self.changes:
            lines.append("Changes: none (these are the defaults).")
            return "\n".join(lines)
        rows: list[Sequence[str]] = [("At (UTC)", "By", "Scope", "Exempt", "Region", "Holidays", "Why")]
        for change in self.changes:
            row = _change_row(change)
            rows.append(
                (
                    utc(change.at).removesuffix(" UTC"),
                    change.actor,
                    row["scope"],
                    ", ".join(row["exempt"]) or "none",
                    row["region"],
                    ", ".join(row["holidays"]) or "none",
                    " ".join(row["why"].split()),
                )
            )
        return "\n".join([*lines, "Changes, oldest first:", aligned(rows)])

    def csv(self) -> str:
        return _csv(CHANGE_COLUMNS, [_change_row(change) for change in self.changes])


@attrs.frozen(kw_only=True)
class PolicySet:
    """A change of the consent policy, as ``consent policy`` recorded it."""

    change: PolicyChange

    def data(self) -> dict[str, Any]:
        return change_data(self.change)

    def text(self) -> str:
        change = self.change
        shown = PolicyShown(policy=change.policy, changes=()).text().split("\n")[1:5]
        return "\n".join(
            [f"Consent policy set by {change.actor} at {utc(change.at)}:", *shown, f"Why: {masked(change.why)}"]
        )

    def csv(self) -> str:
        return _csv(CHANGE_COLUMNS, [_change_row(self.change)])


# -- import -----------------------------------------------------------------------


def load_report_lines(report: LoadReport, where: Mapping[tuple[str, Method], str]) -> list[str]:
    """What an import did to consent, in sentences; nothing when it did nothing.

    ``where`` names the file and line of a point, when known (``contact_points.csv line 7``);
    a point it does not know is named by its owner and method.  Never an address.
    """
    lines = []
    if report.revocations:
        lines.append(
            f"Consent: recorded {report.revocations:,} revocation(s) of contact points the files mark revoked."
        )
    if report.kept_revoked:
        lines.append(
            f"Consent: {report.kept_revoked:,} contact point(s) stay revoked though the files say otherwise: "
            "their address's consent was withdrawn, and only a grant lifts that (contact-prefs consent proof)."
        )
    if report.unnormalized:
        named = [where.get(key, f"{key[0]} {key[1].value}") for key in report.unnormalized]
        listed = "; ".join(named[:SHOWN_LINES]) + ("; ..." if len(named) > SHOWN_LINES else "")
        lines.append(
            f"Consent: {len(named):,} address(es) are not complete phone numbers or e-mail addresses, and are "
            f"kept as saved: {listed}."
        )
    return lines
