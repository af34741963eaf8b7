"""What the consent ledger means for the stored points: the rules a store applies when it writes.

A store keeps, next to its points, the ledger of every address (consent
events), the review queue and the district's :class:`ConsentPolicy`.  A
point's ``revoked`` is what its address's ledger says
(:func:`contact_prefs.consent.revoked_reasons`), written by the store in the
same transaction as the events that changed it.  These functions decide; the
store reads what they need and writes what they return:

* :func:`ledger_key`: the address a point's consent is kept under.
* :func:`consent_of_load`: a load may add revocations (a point loaded as
  revoked), never clear one (a point loaded as not revoked whose address is
  revoked stays revoked, and is counted).
* :func:`floors`: the revoked reasons of each address, after events were
  recorded, a review was queued or resolved, or the policy changed.
* :func:`new_review` and :func:`resolve`: a message into the queue, and a
  reviewer's reading of it (a revocation is recorded at the message's receipt).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet

import attrs

from .addresses import address_key
from .consent import (
    Channel,
    ConsentAction,
    ConsentEvent,
    ConsentPolicy,
    Review,
    review_due,
    revoked_reasons,
)
from .enums import Method
from .errors import ContactPrefsError
from .identifiers import check_actor
from .reasons import ReasonSet
from .records import ContactPoint

__all__ = [
    "BEFORE_THE_LEDGER",
    "LOADED_AS_REVOKED",
    "MIGRATION_ACTOR",
    "ConsentOfLoad",
    "LoadReport",
    "PolicyChange",
    "consent_of_load",
    "floors",
    "ledger_key",
    "new_review",
    "resolve",
    "revocations_before_the_ledger",
    "set_aside_loaded_consent",
]

LOADED_AS_REVOKED = "loaded as revoked"
"""The evidence of a revocation recorded because a point was loaded (imported) as revoked."""

BEFORE_THE_LEDGER = "before the ledger"
"""The evidence of a revocation a store kept as a flag before it kept a ledger (migrated forward)."""


def ledger_key(method: Method, address: str, region: str) -> str | None:
    """The address a point's consent is kept under: its normalized form
    (:func:`~contact_prefs.addresses.address_key`), or the address as saved, trimmed,
    when it cannot be normalized; ``None`` for a point with nothing saved."""
    saved = address.strip()
    if not saved:
        return None
    return address_key(method, saved, region) or saved


def set_aside_loaded_consent(
    points: Sequence[ContactPoint], stored: AbstractSet[tuple[str, Method]]
) -> list[ContactPoint]:
    """The points of a load that keeps preferences, as :func:`consent_of_load` takes them: a point
    already stored (its key in ``stored``) takes the new address, and its consent is that address's
    ledger's, so the ``revoked`` it was loaded with is set aside.  Only points loaded with reasons
    revoked can differ: a store need look up only those among its points."""
    none = ReasonSet()
    return [attrs.evolve(p, revoked=none) if p.revoked and p.key in stored else p for p in points]


@attrs.frozen(kw_only=True)
class LoadReport:
    """What a load did to consent, for the person who ran the import."""

    revocations: int = 0
    """REVOKE events recorded because points were loaded as revoked."""
    kept_revoked: int = 0
    """Points loaded as not revoked (for some reason) whose address the ledger revokes: they stay revoked."""
    unnormalized: tuple[tuple[str, Method], ...] = ()
    """Points whose address is not a complete phone number or e-mail address: kept as saved."""


@attrs.frozen(kw_only=True)
class ConsentOfLoad:
    """What a store writes for a load: the events to append, and each point with ``revoked`` as its ledger says."""

    events: tuple[ConsentEvent, ...]
    points: tuple[ContactPoint, ...]
    report: LoadReport


def consent_of_load(
    points: Sequence[ContactPoint],
    keys: Sequence[str | None],
    ledgers: Mapping[str, Sequence[ConsentEvent]],
    waiting: AbstractSet[str],
    policy: ConsentPolicy,
    *,
    at: datetime.datetime,
    actor: str,
) -> ConsentOfLoad:
    """The consent side of loading ``points`` (their :func:`ledger_key` s are ``keys``), given the
    ledgers of those keys as stored and the keys with a message awaiting review.

    A point loaded with reasons revoked (other than exempt ones) that its
    address's ledger does not revoke yet adds one REVOKE event (channel import, evidence
    :data:`LOADED_AS_REVOKED`); every point then gets ``revoked`` as its
    ledger says.  A point with nothing saved keeps ``revoked`` as loaded.
    """
    check_actor(actor)
    extended = {key: list(events) for key, events in ledgers.items()}
    events: list[ConsentEvent] = []
    for point, key in zip(points, keys, strict=True):
        if key is None or not point.revoked:
            continue
        ledger = extended.setdefault(key, [])
        # Against what is recorded, not the hold of a waiting message (which a reviewer may lift), and
        # never the exempt reasons (no revocation covers them): else every re-import would add one.
        missing = point.revoked - policy.exempt - revoked_reasons(ledger, policy)
        if missing:
            event = ConsentEvent(
                address=key,
                action=ConsentAction.REVOKE,
                channel=Channel.IMPORT,
                received_at=at,
                recorded_by=actor,
                reasons=missing,
                evidence=LOADED_AS_REVOKED,
            )
            ledger.append(event)
            events.append(event)
    # Most addresses have no event and no review: nothing revoked, without reading an empty ledger.
    held = {key for key in keys if key is not None and (key in extended or key in waiting)}
    floor = floors(held, extended, waiting, policy)
    none = ReasonSet()
    loaded: list[ContactPoint] = []
    kept_revoked = 0
    for point, key in zip(points, keys, strict=True):
        revoked = point.revoked if key is None else floor.get(key, none)
        if revoked is not point.revoked:
            kept_revoked += bool(revoked - point.revoked)
            point = attrs.evolve(point, revoked=revoked)
        loaded.append(point)
    # A key that is the address as saved may not be normalized (a normalized one seldom is as saved).
    unnormalized = tuple(
        point.key
        for point, key in zip(points, keys, strict=True)
        if key is not None and key == point.address.strip() and address_key(point.method, key, policy.region) is None
    )
    report = LoadReport(revocations=len(events), kept_revoked=kept_revoked, unnormalized=unnormalized)
    return ConsentOfLoad(events=tuple(events), points=tuple(loaded), report=report)


def floors(
    keys: Iterable[str],
    ledgers: Mapping[str, Sequence[ConsentEvent]],
    waiting: AbstractSet[str],
    policy: ConsentPolicy,
) -> dict[str, ReasonSet]:
    """The reasons each address is revoked for: what every point holding it gets as ``revoked``."""
    return {key: revoked_reasons(ledgers.get(key, ()), policy, awaiting_review=key in waiting) for key in keys}


def new_review(
    review_id: str,
    *,
    address: str,
    message: str,
    channel: Channel,
    received_at: datetime.datetime,
    policy: ConsentPolicy,
) -> Review:
    """A message that is not a revocation keyword, queued for a person, due 10 business days after receipt."""
    return Review(
        review_id=review_id,
        address=address,
        message=message,
        channel=channel,
        received_at=received_at,
        due_on=review_due(received_at, policy.holidays),
    )


def resolve(
    review: Review, *, revoked: bool, actor: str, note: str, at: datetime.datetime
) -> tuple[Review, ConsentEvent | None]:
    """A reviewer's reading of a waiting message: the review resolved, and the REVOKE event it
    becomes when read as a revocation (dated at the message's receipt, with the message as evidence)."""
    check_actor(actor)
    if not review.waiting:
        raise ContactPrefsError(f"review {review.review_id} was resolved already, by {review.resolved_by}")
    resolved = attrs.evolve(review, resolved_by=actor, resolved_at=at, revoked=revoked, note=note)
    if not revoked:
        return resolved, None
    return resolved, ConsentEvent(
        address=review.address,
        action=ConsentAction.REVOKE,
        channel=review.channel,
        received_at=review.received_at,
        recorded_by=actor,
        evidence=review.message,
    )


MIGRATION_ACTOR = "migration"
"""Who recorded the revocations a store kept as flags before it kept a ledger."""


def revocations_before_the_ledger(
    flagged: Iterable[tuple[str, ReasonSet]], *, at: datetime.datetime
) -> list[ConsentEvent]:
    """The REVOKE events that carry a store's consent flags into its ledger, when it migrates:
    one per point that had reasons revoked (``flagged``: its ledger key and those reasons), channel
    import, evidence :data:`BEFORE_THE_LEDGER`, recorded by :data:`MIGRATION_ACTOR` at ``at``."""
    return [
        ConsentEvent(
            address=key,
            action=ConsentAction.REVOKE,
            channel=Channel.IMPORT,
            received_at=at,
            recorded_by=MIGRATION_ACTOR,
            reasons=revoked,
            evidence=BEFORE_THE_LEDGER,
        )
        for key, revoked in flagged
        if revoked
    ]


@attrs.frozen(kw_only=True)
class PolicyChange:
    """A change of the district's consent policy: recorded like an event, never assumed."""

    policy: ConsentPolicy
    actor: str = attrs.field(validator=lambda _i, _a, value: check_actor(value))
    at: datetime.datetime
    why: str
