"""Consent as a record: the ledger of one address, and the rules that read it.

Consent belongs to a phone number or an e-mail address (its key, see
:mod:`contact_prefs.addresses`), never to one record: a revocation saved on
one guardian reaches every point, of every owner and household, holding the
same number.  The ledger of an address is its :class:`ConsentEvent` s, only
ever appended.  What follows from it is decided here, by pure functions:

* :func:`revoked_reasons`: an address is revoked for a reason when its latest
  event covering that reason is a REVOKE; the district's exempt reasons are
  never covered; while a message from it awaits review, every other reason
  is held (the safe reading).
* :func:`is_revocation_keyword`: "stop", "quit", "end", "revoke", "opt out",
  "cancel" or "unsubscribe", alone (trimmed, any case), revokes at once.
* :func:`review_due`: any other message is reviewed within 10 business days
  of its receipt (Monday to Friday, less the district's holidays).
* :func:`reading_of`: a message as an event now, or as an item to review.

The facts behind them are in ``docs/consent.md`` (47 CFR 64.1200(a)(10),
FCC 16-88).
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterable
from typing import Any

import attrs

from .enums import Reason
from .identifiers import check_actor
from .reasons import ReasonSet

__all__ = [
    "BUSINESS_DAYS_TO_HONOUR",
    "REVOCATION_KEYWORDS",
    "Channel",
    "ConsentAction",
    "ConsentEvent",
    "ConsentPolicy",
    "Review",
    "RevocationScope",
    "is_revocation_keyword",
    "reading_of",
    "review_due",
    "revoked_on",
    "revoked_reasons",
]

REVOCATION_KEYWORDS = frozenset({"stop", "quit", "end", "revoke", "opt out", "cancel", "unsubscribe"})
"""Replies that revoke consent by definition (47 CFR 64.1200(a)(10))."""

BUSINESS_DAYS_TO_HONOUR = 10
"""A revocation is honoured within this many business days of its receipt."""

_ALL = ReasonSet.all().mask


class ConsentAction(enum.Enum):
    GRANT = "grant"
    REVOKE = "revoke"


class Channel(enum.Enum):
    """How a consent event or a message reached the district."""

    KEYWORD_REPLY = "keyword_reply"
    KEY_PRESS = "key_press"
    PORTAL = "portal"
    WEB_FORM = "web_form"
    EMAIL_REPLY = "email_reply"
    FRONT_OFFICE = "front_office"
    PAPER_FORM = "paper_form"
    VENDOR_FEED = "vendor_feed"
    IMPORT = "import"


class RevocationScope(enum.Enum):
    """What a revocation covers: every reason (the FCC's "revoke all" reading), or only those it names."""

    ALL = "all"
    NAMED = "named"


def _aware(instance: Any, attribute: attrs.Attribute[Any], value: datetime.datetime) -> None:
    if not isinstance(value, datetime.datetime) or value.utcoffset() is None:
        raise ValueError(f"{attribute.name} must be a timezone-aware datetime, not {value!r}")


def _actor(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    check_actor(value)


def _address(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{type(instance).__name__}.{attribute.name} must be an address key, not empty")


def _reasons(value: Iterable[Reason | str] | ReasonSet) -> ReasonSet:
    return value if isinstance(value, ReasonSet) else ReasonSet(value)


def _non_empty_reasons(instance: Any, attribute: attrs.Attribute[Any], value: ReasonSet) -> None:
    if not value:
        raise ValueError(f"a consent event covers at least one reason ({attribute.name} is empty)")


@attrs.frozen(kw_only=True)
class ConsentEvent:
    """One entry of an address's ledger: consent given or withdrawn, who recorded it, and the proof.

    ``address`` is an address key (:func:`contact_prefs.addresses.address_key`);
    ``reasons`` the reasons it covers (all by default); ``evidence`` the
    message as received, or a form or message id; ``wording`` the version of
    the consent text a GRANT was given under.
    """

    address: str = attrs.field(validator=_address)
    action: ConsentAction = attrs.field(converter=ConsentAction)
    channel: Channel = attrs.field(converter=Channel)
    received_at: datetime.datetime = attrs.field(validator=_aware)
    recorded_by: str = attrs.field(validator=_actor)
    reasons: ReasonSet = attrs.field(factory=ReasonSet.all, converter=_reasons, validator=_non_empty_reasons)
    evidence: str = attrs.field(default="", validator=attrs.validators.instance_of(str))
    wording: str = attrs.field(default="", validator=attrs.validators.instance_of(str))

    def covers(self, policy: ConsentPolicy) -> ReasonSet:
        """The reasons this event decides, under the district's policy (exempt reasons never)."""
        named = self.reasons.mask
        mask = _ALL if self.action is ConsentAction.REVOKE and policy.scope is RevocationScope.ALL else named
        return ReasonSet.from_mask(mask & ~policy.exempt.mask)


def _holidays(value: Iterable[datetime.date]) -> frozenset[datetime.date]:
    return frozenset(value)


@attrs.frozen(kw_only=True)
class ConsentPolicy:
    """The district's consent settings, each its own decision: never assumed.

    ``region``: where a phone number without a country code is (``"US"``).
    ``scope``: whether a revocation covers every reason or only those it names.
    ``exempt``: reasons a revocation never covers (none by default: whether a
    revoked number still gets, say, emergency messages is the district's call,
    with legal advice).  ``holidays``: days the review clock does not count.
    """

    region: str = "US"
    scope: RevocationScope = attrs.field(default=RevocationScope.ALL, converter=RevocationScope)
    exempt: ReasonSet = attrs.field(factory=ReasonSet, converter=_reasons)
    holidays: frozenset[datetime.date] = attrs.field(factory=frozenset, converter=_holidays)


@attrs.frozen(kw_only=True)
class Review:
    """A message that may be a revocation, waiting for a person to read it.

    Resolved, it names the reviewer, when, whether it was read as a
    revocation (then recorded as a REVOKE at the original ``received_at``),
    and their note.
    """

    review_id: str
    address: str = attrs.field(validator=_address)
    message: str
    channel: Channel = attrs.field(converter=Channel)
    received_at: datetime.datetime = attrs.field(validator=_aware)
    due_on: datetime.date
    resolved_by: str | None = None
    resolved_at: datetime.datetime | None = None
    revoked: bool | None = None
    note: str = ""

    @property
    def waiting(self) -> bool:
        return self.resolved_by is None

    def overdue(self, today: datetime.date) -> bool:
        return self.waiting and today > self.due_on


def is_revocation_keyword(message: str) -> bool:
    """Whether a message revokes consent by definition: one of the keywords, alone, in any case.

    >>> [is_revocation_keyword(m) for m in (" STOP ", "Opt Out", "please stop", "opt-out")]
    [True, True, False, False]
    """
    return " ".join(message.split()).lower() in REVOCATION_KEYWORDS


def review_due(received_at: datetime.datetime, holidays: Iterable[datetime.date] = ()) -> datetime.date:
    """The day by which a message received at ``received_at`` must be honoured: 10 business
    days after the day of receipt, counting Monday to Friday less ``holidays``.

    >>> review_due(datetime.datetime(2026, 12, 4, 16, 0, tzinfo=datetime.UTC))  # a Friday
    datetime.date(2026, 12, 18)
    """
    closed = frozenset(holidays)
    day, counted = received_at.date(), 0
    while counted < BUSINESS_DAYS_TO_HONOUR:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5 and day not in closed:
            counted += 1
    return day


def reading_of(
    message: str, *, address: str, channel: Channel, received_at: datetime.datetime, recorded_by: str
) -> ConsentEvent | None:
    """A message from ``address`` as a REVOKE event, when it is a revocation keyword; ``None``
    when a person must read it (it then goes to the review queue)."""
    if not is_revocation_keyword(message):
        return None
    return ConsentEvent(
        address=address,
        action=ConsentAction.REVOKE,
        channel=channel,
        received_at=received_at,
        recorded_by=recorded_by,
        evidence=message,
    )


def revoked_reasons(
    events: Iterable[ConsentEvent], policy: ConsentPolicy, *, awaiting_review: bool = False
) -> ReasonSet:
    """The reasons an address is revoked for, from its ledger.

    For each reason, the latest event covering it decides (by ``received_at``;
    events received at the same moment count in ledger order).  Exempt
    reasons are never revoked.  While a message from the address awaits
    review, every other reason is held too: nothing is switched on there
    until a person has read it.
    """
    revoked = 0
    for event in sorted(events, key=lambda e: e.received_at):  # stable: ledger order breaks ties
        covered = event.covers(policy).mask
        revoked = revoked | covered if event.action is ConsentAction.REVOKE else revoked & ~covered
    if awaiting_review:
        revoked = _ALL
    return ReasonSet.from_mask(revoked & ~policy.exempt.mask)


def revoked_on(
    day: datetime.date, events: Iterable[ConsentEvent], reviews: Iterable[Review], policy: ConsentPolicy
) -> ReasonSet:
    """The reasons an address was revoked for at the end of ``day`` (UTC), as its ledger now tells:
    the events received by then, and the messages waiting for review then.  What a district shows
    when asked whether it had consent to call a number on a date."""
    def by_then(moment: datetime.datetime) -> bool:
        return moment.astimezone(datetime.UTC).date() <= day

    waiting = any(
        by_then(review.received_at) and (review.resolved_at is None or not by_then(review.resolved_at))
        for review in reviews
    )
    return revoked_reasons([e for e in events if by_then(e.received_at)], policy, awaiting_review=waiting)
