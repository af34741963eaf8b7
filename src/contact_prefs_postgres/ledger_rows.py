"""The consent tables' rows, both ways: ledger events, the review queue, the policy and its changes.

Times are ``timestamptz`` (read back in UTC), dates ``date``, a policy's
holidays a ``date[]``, reason sets bit masks, enums their values.  Rows are
read back through the checked constructors: consent rows are few, and each
is proof.  Text holding a NUL character, which PostgreSQL cannot store, is
refused naming the record and the field, never the address.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from contact_prefs import ReasonSet, StoreError
from contact_prefs.consent import ConsentEvent, ConsentPolicy, Review
from contact_prefs.ledger import PolicyChange
from contact_prefs.privacy import shown

Row = tuple[Any, ...]

EVENT_COLUMNS = "address, action, reasons, channel, received_at, recorded_by, evidence, wording"
REVIEW_COLUMNS = "review_id, address, message, channel, received_at, due_on, resolved_by, resolved_at, revoked, note"
POLICY_COLUMNS = "region, scope, exempt, holidays"
CHANGE_COLUMNS = f"{POLICY_COLUMNS}, actor, at, why"

INSERT_EVENTS = (
    f"INSERT INTO consent_events ({EVENT_COLUMNS}) SELECT * FROM unnest("
    "%s::text[], %s::text[], %s::int[], %s::text[], %s::timestamptz[], %s::text[], %s::text[], %s::text[])"
)
INSERT_REVIEW = f"INSERT INTO reviews ({REVIEW_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
UPDATE_REVIEW = "UPDATE reviews SET resolved_by = %s, resolved_at = %s, revoked = %s, note = %s WHERE review_id = %s"
UPDATE_POLICY = "UPDATE consent_policy SET region = %s, scope = %s, exempt = %s, holidays = %s::date[]"
INSERT_CHANGE = f"INSERT INTO policy_changes ({CHANGE_COLUMNS}) VALUES (%s, %s, %s, %s::date[], %s, %s, %s)"


def _utc(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(datetime.UTC)


def _text(record: str, values: dict[str, str]) -> None:
    for field, value in values.items():
        if "\x00" in value:
            raise StoreError(
                f"{record}: {field} contains a NUL character, which PostgreSQL cannot store; nothing was written"
            )


def event_columns(events: Iterable[ConsentEvent]) -> list[list[Any]]:
    """The events as one list per column of :data:`INSERT_EVENTS`, in ledger order."""
    rows = []
    for event in events:
        what = f"the {event.action.value} event received at {event.received_at.isoformat()}"
        _text(what, {"address": event.address, "recorded_by": event.recorded_by})
        _text(what, {"evidence": event.evidence, "wording": event.wording})
        rows.append(
            (
                event.address,
                event.action.value,
                event.reasons.mask,
                event.channel.value,
                event.received_at,
                event.recorded_by,
                event.evidence,
                event.wording,
            )
        )
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(8)]


def event_from_row(row: Row) -> ConsentEvent:
    address, action, reasons, channel, received_at, recorded_by, evidence, wording = row
    return ConsentEvent(
        address=address,
        action=action,
        reasons=ReasonSet.from_mask(reasons),
        channel=channel,
        received_at=_utc(received_at),
        recorded_by=recorded_by,
        evidence=evidence,
        wording=wording,
    )


def review_row(review: Review) -> Row:
    """A ``reviews`` row (:data:`REVIEW_COLUMNS`)."""
    _text(f"review {shown(review.review_id)}", {"review_id": review.review_id, "address": review.address})
    _text(f"review {shown(review.review_id)}", {"message": review.message, "note": review.note})
    return (
        review.review_id,
        review.address,
        review.message,
        review.channel.value,
        review.received_at,
        review.due_on,
        review.resolved_by,
        review.resolved_at,
        review.revoked,
        review.note,
    )


def resolution_row(review: Review) -> Row:
    """The parameters of :data:`UPDATE_REVIEW` for a resolved ``review``."""
    _text(f"review {shown(review.review_id)}", {"resolved_by": review.resolved_by or "", "note": review.note})
    return (review.resolved_by, review.resolved_at, review.revoked, review.note, review.review_id)


def review_from_row(row: Row) -> Review:
    review_id, address, message, channel, received_at, due_on, resolved_by, resolved_at, revoked, note = row
    return Review(
        review_id=review_id,
        address=address,
        message=message,
        channel=channel,
        received_at=_utc(received_at),
        due_on=due_on,
        resolved_by=resolved_by,
        resolved_at=None if resolved_at is None else _utc(resolved_at),
        revoked=revoked,
        note=note,
    )


def policy_row(policy: ConsentPolicy) -> Row:
    """The ``consent_policy`` row (:data:`POLICY_COLUMNS`)."""
    _text("the consent policy", {"region": policy.region})
    return (policy.region, policy.scope.value, policy.exempt.mask, sorted(policy.holidays))


def policy_from_row(row: Row) -> ConsentPolicy:
    region, scope, exempt, holidays = row
    return ConsentPolicy(region=region, scope=scope, exempt=ReasonSet.from_mask(exempt), holidays=holidays)


def change_row(change: PolicyChange) -> Row:
    """A ``policy_changes`` row (:data:`CHANGE_COLUMNS`)."""
    _text("the consent policy change", {"actor": change.actor, "why": change.why})
    return (*policy_row(change.policy), change.actor, change.at, change.why)


def change_from_row(row: Row) -> PolicyChange:
    *policy, actor, at, why = row
    return PolicyChange(policy=policy_from_row(tuple(policy)), actor=actor, at=_utc(at), why=why)
