"""The consent ledger in SQL: read what the core's rules need, call them, write what they return.

Every function runs in the caller's write transaction; none decides anything
about consent (:mod:`contact_prefs.ledger` does).  Each point's address key
(:func:`contact_prefs.ledger.ledger_key` in the policy's region; no row when
nothing is saved) is kept in ``ledger_keys``, and a point's ``revoked`` is
what :func:`~contact_prefs.ledger.floors` says of its key.

Loads and consent writes queue behind one advisory lock
(:func:`~contact_prefs_postgres.writes.take_ledger_lock`), taken before
anything is read: the ledgers, the queue, the policy and the keys they read
cannot change until they commit.  Commits never take it: they meet consent
writes at the contact points, locked in key order by both, and
compare-and-set ``revoked``.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import psycopg

from contact_prefs import ContactPrefsError, ReasonSet, StoreError
from contact_prefs.consent import Channel, ConsentAction, ConsentEvent, ConsentPolicy, Review
from contact_prefs.ledger import BEFORE_THE_LEDGER, floors, ledger_key
from contact_prefs.plain import METHODS
from contact_prefs.privacy import shown

from . import ledger_rows

Cursor = psycopg.Cursor[Any]

MIGRATION_ACTOR = "migration"
"""Who recorded the revocations a store kept as flags before it kept a ledger."""

# The points whose revoked is not their key's floor, locked in key order like every write's
# points; then the same rows written.  "{join}" is JOIN for the listed keys only, LEFT JOIN
# for every keyed point (a key without a floor listed has none: nothing revoked).
_FLOORS = "unnest(%s::text[], %s::int[]) AS f(ledger_key, mask)"
_LOCK_FLOORS = f"""
SELECT count(*) FROM (
    SELECT FROM contact_points AS p JOIN ledger_keys AS k USING (owner_id, method)
    {{join}} {_FLOORS} USING (ledger_key)
    WHERE p.revoked <> coalesce(f.mask, 0)
    ORDER BY p.owner_id, p.method
    FOR UPDATE OF p
) AS locked
"""
_WRITE_FLOORS = f"""
UPDATE contact_points AS p SET revoked = coalesce(f.mask, 0)
FROM ledger_keys AS k {{join}} {_FLOORS} USING (ledger_key)
WHERE p.owner_id = k.owner_id AND p.method = k.method AND p.revoked <> coalesce(f.mask, 0)
"""

# Only the keys that changed are written: a nightly import re-sends every point, and most keep their address.
_SET_KEYS = """
INSERT INTO ledger_keys (owner_id, method, ledger_key)
SELECT s.owner_id, s.method, s.ledger_key
FROM unnest(%b::text[], %b::text[], %b::text[]) AS s(owner_id, method, ledger_key)
LEFT JOIN ledger_keys AS k USING (owner_id, method)
WHERE k.ledger_key IS DISTINCT FROM s.ledger_key
ON CONFLICT (owner_id, method) DO UPDATE SET ledger_key = excluded.ledger_key
"""
_DROP_KEYS = """
DELETE FROM ledger_keys AS t USING unnest(%b::text[], %b::text[]) AS s(owner_id, method)
WHERE t.owner_id = s.owner_id AND t.method = s.method
"""


def now(cursor: Cursor) -> datetime.datetime:
    """The server's time, in UTC (every client of a store shares one clock)."""
    row = cursor.execute("SELECT clock_timestamp()").fetchone()
    assert row is not None
    moment: datetime.datetime = row[0]
    return moment.astimezone(datetime.UTC)


# --- reading ---------------------------------------------------------------------


def policy(cursor: Cursor) -> ConsentPolicy:
    """The district's consent policy (its one row)."""
    row = cursor.execute(f"SELECT {ledger_rows.POLICY_COLUMNS} FROM consent_policy").fetchone()
    if row is None:
        raise StoreError("the store's consent_policy table has lost its row")
    return ledger_rows.policy_from_row(row)


def events_of(cursor: Cursor, keys: Collection[str] | None = None) -> dict[str, list[ConsentEvent]]:
    """The ledgers of ``keys`` (of every address when ``None``), each in ledger order; one query for all."""
    columns = ledger_rows.EVENT_COLUMNS
    if keys is None:
        rows = cursor.execute(f"SELECT {columns} FROM consent_events ORDER BY seq").fetchall()
    elif not keys:
        return {}
    else:
        query = f"SELECT {columns} FROM consent_events WHERE address = ANY(%b::text[]) ORDER BY seq"
        rows = cursor.execute(query, [_storable(keys)]).fetchall()
    found: dict[str, list[ConsentEvent]] = {}
    for row in rows:
        event = ledger_rows.event_from_row(row)
        found.setdefault(event.address, []).append(event)
    return found


def ledger_of(cursor: Cursor, address: str) -> tuple[ConsentEvent, ...]:
    """The ledger of one address key, in ledger order."""
    if "\x00" in address:  # no address holds one: PostgreSQL cannot store it
        return ()
    query = f"SELECT {ledger_rows.EVENT_COLUMNS} FROM consent_events WHERE address = %s ORDER BY seq"
    return tuple(map(ledger_rows.event_from_row, cursor.execute(query, [address]).fetchall()))


def waiting(cursor: Cursor) -> set[str]:
    """The addresses with a message awaiting review (the queue is short: all of them)."""
    return {address for (address,) in cursor.execute("SELECT address FROM reviews WHERE resolved_by IS NULL")}


def review(cursor: Cursor, review_id: str) -> Review | None:
    """The queued review ``review_id``, locked until the transaction ends; ``None`` if there is none."""
    if "\x00" in review_id:
        return None
    query = f"SELECT {ledger_rows.REVIEW_COLUMNS} FROM reviews WHERE review_id = %s FOR UPDATE"
    row = cursor.execute(query, [review_id]).fetchone()
    return None if row is None else ledger_rows.review_from_row(row)


def holders(cursor: Cursor, addresses: Collection[str]) -> list[tuple[str, str]]:
    """The keys ``(owner_id, method value)`` of the stored points holding any of ``addresses``."""
    if not addresses:
        return []
    query = (
        "SELECT k.owner_id, k.method FROM ledger_keys AS k JOIN contact_points USING (owner_id, method) "
        "WHERE k.ledger_key = ANY(%s::text[])"
    )
    return [(owner_id, method) for owner_id, method in cursor.execute(query, [_storable(addresses)])]


def _storable(addresses: Collection[str]) -> list[str]:
    """The ``addresses`` a store can hold: not those with a NUL character (the load refuses them, by name)."""
    return [address for address in addresses if "\x00" not in address]


# --- writing ---------------------------------------------------------------------


def append(cursor: Cursor, events: Sequence[ConsentEvent]) -> None:
    """Append ``events`` to their ledgers, in order, in one statement."""
    if events:
        cursor.execute(ledger_rows.INSERT_EVENTS, ledger_rows.event_columns(events))


def queue(cursor: Cursor, reviews: Sequence[Review]) -> None:
    """Queue ``reviews``, in order; their ids must be new and distinct (all are checked before any is written)."""
    rows = [ledger_rows.review_row(review) for review in reviews]
    ids = [review.review_id for review in reviews]
    taken = {taken for (taken,) in cursor.execute("SELECT review_id FROM reviews WHERE review_id = ANY(%s)", [ids])}
    if taken or len(set(ids)) != len(ids):
        named = ", ".join(shown(review_id) for review_id in ids if review_id in taken)
        raise ContactPrefsError(f"review ids must be new and distinct; taken: {named or 'none'}")
    cursor.executemany(ledger_rows.INSERT_REVIEW, rows)


def refresh(cursor: Cursor, keys: Collection[str]) -> None:
    """Give every point holding one of ``keys`` ``revoked`` as :func:`floors` says, from the stored ledgers."""
    if keys:
        write_floors(cursor, floors(keys, events_of(cursor, keys), waiting(cursor), policy(cursor)))


def refresh_all(cursor: Cursor) -> None:
    """Give every point with an address ``revoked`` as :func:`floors` says (after the policy changed)."""
    every = events_of(cursor)
    pending = waiting(cursor)
    write_floors(cursor, floors(every.keys() | pending, every, pending, policy(cursor)), everywhere=True)


def write_floors(cursor: Cursor, floor: Mapping[str, ReasonSet], *, everywhere: bool = False) -> None:
    """Give the points holding the keys of ``floor`` their key's floor as ``revoked``; with
    ``everywhere``, every other keyed point none.  Only points whose ``revoked`` differs are
    locked (in key order) and written."""
    if not floor and not everywhere:
        return
    join = "LEFT JOIN" if everywhere else "JOIN"
    arrays = [list(floor), [revoked.mask for revoked in floor.values()]]
    cursor.execute(_LOCK_FLOORS.format(join=join), arrays)
    cursor.execute(_WRITE_FLOORS.format(join=join), arrays)


def set_keys(cursor: Cursor, owner_ids: Sequence[str], methods: Sequence[str], keys: Sequence[str | None]) -> None:
    """Record the ledger key of each point (``None``: nothing saved, so no key)."""
    keyed = [(o, m, k) for o, m, k in zip(owner_ids, methods, keys, strict=True) if k is not None]
    unkeyed = [(o, m) for o, m, k in zip(owner_ids, methods, keys, strict=True) if k is None]
    if keyed:
        cursor.execute(_SET_KEYS, [list(column) for column in zip(*keyed, strict=True)])
    if unkeyed:
        drop_keys(cursor, [o for o, _ in unkeyed], [m for _, m in unkeyed])


def drop_keys(cursor: Cursor, owner_ids: Sequence[str], methods: Sequence[str]) -> None:
    """Forget the ledger keys of these points (deleted, or emptied)."""
    if owner_ids:
        cursor.execute(_DROP_KEYS, [list(owner_ids), list(methods)])


def key_every_point(cursor: Cursor, region: str) -> None:
    """Give every point its ledger key in ``region`` (when migrating, or after the region changed)."""
    rows = cursor.execute("SELECT owner_id, method, address FROM contact_points").fetchall()
    owner_ids, methods, addresses = ([list(c) for c in zip(*rows, strict=True)]) if rows else ([], [], [])
    keys = [ledger_key(METHODS[method], address, region) for method, address in zip(methods, addresses, strict=True)]
    set_keys(cursor, owner_ids, methods, keys)


# --- migrating -------------------------------------------------------------------


def key_and_record_flags(cursor: Cursor) -> None:
    """Migrate a store that kept consent as a flag per point: key every point, and make each point
    with reasons revoked one REVOKE event of its address (channel import, evidence
    :data:`~contact_prefs.ledger.BEFORE_THE_LEDGER`, recorded by :data:`MIGRATION_ACTOR` now);
    then every point holding such an address gets ``revoked`` as the ledger says."""
    key_every_point(cursor, policy(cursor).region)
    at = now(cursor)
    rows = cursor.execute(
        "SELECT k.ledger_key, p.revoked, p.owner_id, p.method FROM contact_points AS p "
        "JOIN ledger_keys AS k USING (owner_id, method) WHERE p.revoked <> 0"
    ).fetchall()
    rows.sort(key=lambda row: (row[2], row[3]))  # in point order, whatever the server's collation
    append(cursor, list(_flag_events(((key, revoked) for key, revoked, _, _ in rows), at)))
    refresh(cursor, {key for key, *_ in rows})


def _flag_events(flags: Iterable[tuple[str, int]], at: datetime.datetime) -> Iterable[ConsentEvent]:
    for key, revoked in flags:
        yield ConsentEvent(
            address=key,
            action=ConsentAction.REVOKE,
            channel=Channel.IMPORT,
            received_at=at,
            recorded_by=MIGRATION_ACTOR,
            reasons=ReasonSet.from_mask(revoked),
            evidence=BEFORE_THE_LEDGER,
        )
