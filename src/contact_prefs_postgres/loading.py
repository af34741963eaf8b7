"""The consent side of a load: what :func:`contact_prefs.ledger.consent_of_load` makes of it.

Read under the ledger lock, before any point is locked or written: the
policy, the ledgers of every loaded address (one query for all), the
addresses awaiting review, and the stored points that hold an address the
load adds a revocation to (they are locked with the loaded ones, in one
key-ordered pass, and get the new floor with them).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import attrs
import psycopg

from contact_prefs import ContactPoint, ReasonSet
from contact_prefs.consent import ConsentEvent
from contact_prefs.ledger import LoadReport, consent_of_load, floors, ledger_key, set_aside_loaded_consent
from contact_prefs.plain import METHOD_VALUES, METHODS

from . import ledgers

Cursor = psycopg.Cursor[Any]

# The keys of the loaded points stored with the same address already.  A key was computed when its
# address was loaded, in the policy's region (a new region computes every key again): so a nightly
# import, which re-sends every point, parses only the numbers that changed (50 µs each).
_KEPT_KEYS = """
SELECT s.position, k.ledger_key
FROM unnest(%b::int[], %b::text[], %b::text[], %b::text[]) AS s(position, owner_id, method, address)
JOIN contact_points AS p USING (owner_id, method)
JOIN ledger_keys AS k USING (owner_id, method)
WHERE p.address = s.address
"""
_STORED = """
SELECT p.owner_id, p.method FROM contact_points AS p
JOIN unnest(%s::text[], %s::text[]) AS s(owner_id, method) USING (owner_id, method)
"""


@attrs.frozen(kw_only=True)
class PointsLoad:
    """What a load writes for consent: its points with ``revoked`` as their ledgers say (``keys``
    theirs), the events it appends, the floors of the addresses those events reach, and the keys
    ``(owner_id, method value)`` of the stored points holding those addresses."""

    points: tuple[ContactPoint, ...]
    keys: tuple[str | None, ...]
    events: tuple[ConsentEvent, ...]
    reached: dict[str, ReasonSet]
    holders: tuple[tuple[str, str], ...]
    report: LoadReport


def points_load(
    cursor: Cursor,
    points: Sequence[ContactPoint],
    removed: Collection[tuple[str, str]],
    *,
    keep_preferences: bool,
    actor: str,
) -> PointsLoad:
    """The consent of loading ``points`` after deleting the points keyed ``removed``.

    With ``keep_preferences`` a point already stored takes the new address and
    none of the loaded consent (the ledger of the new address decides): only
    a point loaded with reasons revoked can tell the difference, so only those
    are looked up.
    """
    policy = ledgers.policy(cursor)
    if keep_preferences:
        points = _merged(cursor, points, removed)
    keys = _keys(cursor, points, policy.region)
    found = ledgers.events_of(cursor, {key for key in keys if key is not None})
    pending = ledgers.waiting(cursor)
    consent = consent_of_load(points, keys, found, pending, policy, at=ledgers.now(cursor), actor=actor)
    extended: dict[str, list[ConsentEvent]] = {}
    for event in consent.events:
        extended.setdefault(event.address, list(found.get(event.address, ()))).append(event)
    return PointsLoad(
        points=consent.points,
        keys=tuple(keys),
        events=consent.events,
        reached=floors(extended, extended, pending, policy),
        holders=tuple(ledgers.holders(cursor, extended.keys())),
        report=consent.report,
    )


def _keys(cursor: Cursor, points: Sequence[ContactPoint], region: str) -> list[str | None]:
    """The ledger key of each point: as stored for an unchanged address, else computed."""
    # A NUL cannot reach the server; such a point is refused, by name, when it is written.
    sent = [(n, p) for n, p in enumerate(points) if "\x00" not in p.address]
    kept: dict[int, str] = {}
    if sent:
        columns = [[n for n, _ in sent], [p.owner_id for _, p in sent]]
        columns += [[METHOD_VALUES[p.method] for _, p in sent], [p.address for _, p in sent]]
        kept = dict(cursor.execute(_KEPT_KEYS, columns).fetchall())
    return [kept.get(n) or ledger_key(point.method, point.address, region) for n, point in enumerate(points)]


def _merged(
    cursor: Cursor, points: Sequence[ContactPoint], removed: Collection[tuple[str, str]]
) -> Sequence[ContactPoint]:
    revoked = [(point.owner_id, METHOD_VALUES[point.method]) for point in points if point.revoked]
    if not revoked:
        return points
    owner_ids, methods = [owner for owner, _ in revoked], [method for _, method in revoked]
    stored = {
        (owner_id, METHODS[method])
        for owner_id, method in cursor.execute(_STORED, [owner_ids, methods])
        if (owner_id, method) not in removed
    }
    return set_aside_loaded_consent(points, stored)
