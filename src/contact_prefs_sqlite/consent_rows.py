"""The consent tables' rows, both ways: ledger events, the review queue, the policy and its changes.

Times are stored as ISO text in UTC with its offset (``2026-12-04T16:00:00.000000+00:00``),
dates as ISO text, reason sets as bit masks, enums by value, a policy's
holidays as a JSON array of ISO dates.  Rows are read back through the
checked constructors: consent rows are few, and each is proof.
"""

from __future__ import annotations

import datetime
import json

from contact_prefs import ReasonSet
from contact_prefs.consent import ConsentEvent, ConsentPolicy, Review
from contact_prefs.ledger import PolicyChange

from .tables import Row

EVENT_COLUMNS = "address, action, reasons, channel, received_at, recorded_by, evidence, wording"
REVIEW_COLUMNS = "review_id, address, message, channel, received_at, due_on, resolved_by, resolved_at, revoked, note"
POLICY_COLUMNS = "region, scope, exempt, holidays"
CHANGE_COLUMNS = f"{POLICY_COLUMNS}, actor, at, why"

INSERT_EVENT = f"INSERT INTO consent_events ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
INSERT_REVIEW = f"INSERT INTO reviews ({REVIEW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
# Bound to a whole :func:`review_row`: the review found by its id gets the resolution's columns.
UPDATE_REVIEW = "UPDATE reviews SET resolved_by = ?7, resolved_at = ?8, revoked = ?9, note = ?10 WHERE review_id = ?1"
INSERT_CHANGE = f"INSERT INTO policy_changes ({CHANGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
UPDATE_POLICY = "UPDATE consent_policy SET region = ?, scope = ?, exempt = ?, holidays = ?"


def time_text(moment: datetime.datetime) -> str:
    """A timezone-aware time as fixed-width ISO text in UTC, so that text order is time order."""
    return moment.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def _time(text: str | None) -> datetime.datetime | None:
    return None if text is None else datetime.datetime.fromisoformat(text)


def event_row(event: ConsentEvent) -> Row:
    """A ``consent_events`` row (:data:`EVENT_COLUMNS`); its ``seq`` is the ledger order."""
    return (
        event.address,
        event.action.value,
        event.reasons.mask,
        event.channel.value,
        time_text(event.received_at),
        event.recorded_by,
        event.evidence,
        event.wording,
    )


def event_from_row(row: Row) -> ConsentEvent:
    address, action, reasons, channel, received_at, recorded_by, evidence, wording = row
    return ConsentEvent(
        address=address,
        action=action,
        reasons=ReasonSet.from_mask(reasons),
        channel=channel,
        received_at=datetime.datetime.fromisoformat(received_at),
        recorded_by=recorded_by,
        evidence=evidence,
        wording=wording,
    )


def review_row(review: Review) -> Row:
    """A ``reviews`` row (:data:`REVIEW_COLUMNS`); ``revoked`` is NULL while it waits."""
    return (
        review.review_id,
        review.address,
        review.message,
        review.channel.value,
        time_text(review.received_at),
        review.due_on.isoformat(),
        review.resolved_by,
        None if review.resolved_at is None else time_text(review.resolved_at),
        None if review.revoked is None else int(review.revoked),
        review.note,
    )


def review_from_row(row: Row) -> Review:
    review_id, address, message, channel, received_at, due_on, resolved_by, resolved_at, revoked, note = row
    return Review(
        review_id=review_id,
        address=address,
        message=message,
        channel=channel,
        received_at=datetime.datetime.fromisoformat(received_at),
        due_on=datetime.date.fromisoformat(due_on),
        resolved_by=resolved_by,
        resolved_at=_time(resolved_at),
        revoked=None if revoked is None else bool(revoked),
        note=note,
    )


def policy_row(policy: ConsentPolicy) -> Row:
    """The ``consent_policy`` row (:data:`POLICY_COLUMNS`)."""
    holidays = json.dumps(sorted(day.isoformat() for day in policy.holidays))
    return (policy.region, policy.scope.value, policy.exempt.mask, holidays)


def policy_from_row(row: Row) -> ConsentPolicy:
    region, scope, exempt, holidays = row
    return ConsentPolicy(
        region=region,
        scope=scope,
        exempt=ReasonSet.from_mask(exempt),
        holidays=map(datetime.date.fromisoformat, json.loads(holidays)),
    )


def change_row(change: PolicyChange) -> Row:
    """A ``policy_changes`` row (:data:`CHANGE_COLUMNS`)."""
    return (*policy_row(change.policy), change.actor, time_text(change.at), change.why)


def change_from_row(row: Row) -> PolicyChange:
    *policy, actor, at, why = row
    at_time = datetime.datetime.fromisoformat(at)
    return PolicyChange(policy=policy_from_row(tuple(policy)), actor=actor, at=at_time, why=why)

