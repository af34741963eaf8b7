"""The consent ledger in SQL: read what the core's rules need, call them, write what they return.

Every function runs in the caller's transaction; none decides anything about
consent (:mod:`contact_prefs.ledger` does).  Each contact point row carries
its ``ledger_key`` (:func:`contact_prefs.ledger.ledger_key`, NULL when
nothing is saved), indexed, so "every point holding this address" is one
indexed UPDATE, and a point's ``revoked`` is what :func:`floors` says of its key.
"""

from __future__ import annotations

import datetime
import json
import sqlite3
from collections.abc import Collection, Iterable, Sequence
from collections.abc import Set as AbstractSet

from contact_prefs import ContactPoint, ReasonSet
from contact_prefs.consent import ConsentEvent, ConsentPolicy
from contact_prefs.ledger import (
    ConsentOfLoad,
    consent_of_load,
    floors,
    ledger_key,
    revocations_before_the_ledger,
    set_aside_loaded_consent,
)
from contact_prefs.plain import METHODS

from . import consent_rows
from .tables import reasons

_SET_FLOOR = "UPDATE contact_points SET revoked = ?1 WHERE ledger_key = ?2 AND revoked <> ?1"
_SET_KEY = "UPDATE contact_points SET ledger_key = ?1 WHERE owner_id = ?2 AND method = ?3 AND ledger_key IS NOT ?1"
_LEDGERS_OF = f"""SELECT {", ".join("e." + c for c in consent_rows.EVENT_COLUMNS.split(", "))}
    FROM json_each(?) AS k CROSS JOIN consent_events e ON e.address = k.value ORDER BY e.seq"""
_STORED = """SELECT p.owner_id, p.method FROM json_each(?) AS u
    JOIN contact_points p ON p.owner_id = u.value ->> 0 AND p.method = u.value ->> 1"""


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


# --- reading ---------------------------------------------------------------------


def policy(connection: sqlite3.Connection) -> ConsentPolicy:
    """The district's consent policy (its one row)."""
    row = connection.execute(f"SELECT {consent_rows.POLICY_COLUMNS} FROM consent_policy").fetchone()
    return consent_rows.policy_from_row(row)


def ledgers(connection: sqlite3.Connection, keys: Collection[str] | None = None) -> dict[str, list[ConsentEvent]]:
    """The ledgers of ``keys`` (of every address when ``None``), each in ledger order; one query for all.

    Whichever is fewer is read: the events of the keys (one index look-up
    per key), or every event (ledgers are small: a load of a whole district
    holds far more keys than the store holds events).
    """
    if keys is not None and not keys:
        return {}
    events = connection.execute("SELECT coalesce(max(seq), 0) FROM consent_events").fetchone()[0]  # append-only
    if keys is None or events <= len(keys):
        rows = connection.execute(f"SELECT {consent_rows.EVENT_COLUMNS} FROM consent_events ORDER BY seq")
        wanted = None if keys is None else keys if isinstance(keys, AbstractSet) else set(keys)
    else:
        rows = connection.execute(_LEDGERS_OF, (json.dumps(list(keys)),))
        wanted = None
    found: dict[str, list[ConsentEvent]] = {}
    for row in rows:
        if wanted is None or row[0] in wanted:
            event = consent_rows.event_from_row(row)
            found.setdefault(event.address, []).append(event)
    return found


def waiting(connection: sqlite3.Connection) -> set[str]:
    """The addresses with a message awaiting review (the queue is short: all of them)."""
    return {address for (address,) in connection.execute("SELECT address FROM reviews WHERE resolved_by IS NULL")}


# --- writing ---------------------------------------------------------------------


def append(connection: sqlite3.Connection, events: Iterable[ConsentEvent]) -> None:
    """Append ``events`` to their ledgers, in order."""
    connection.executemany(consent_rows.INSERT_EVENT, map(consent_rows.event_row, events))


def refresh(connection: sqlite3.Connection, keys: Collection[str]) -> None:
    """Give every point holding one of ``keys`` ``revoked`` as :func:`floors` says, from the ledgers as stored."""
    if not keys:
        return
    floor = floors(keys, ledgers(connection, keys), waiting(connection), policy(connection))
    _write_floors(connection, floor)


def refresh_all(connection: sqlite3.Connection) -> None:
    """Give every point with an address ``revoked`` as :func:`floors` says (after the policy changed)."""
    rows = connection.execute("SELECT DISTINCT ledger_key FROM contact_points WHERE ledger_key IS NOT NULL")
    keys = [key for (key,) in rows]
    _write_floors(connection, floors(keys, ledgers(connection), waiting(connection), policy(connection)))


def _write_floors(connection: sqlite3.Connection, floor: dict[str, ReasonSet]) -> None:
    # Only rows whose revoked differs are written: most keys' floors are what is stored already.
    connection.executemany(_SET_FLOOR, ((revoked.mask, key) for key, revoked in floor.items()))


def key_points(connection: sqlite3.Connection, region: str) -> None:
    """Give every point its ledger key in ``region`` (after the region changed, or when migrating)."""
    rows = connection.execute("SELECT owner_id, method, address FROM contact_points").fetchall()
    connection.executemany(
        _SET_KEY,
        ((ledger_key(METHODS[method], address, region), owner_id, method) for owner_id, method, address in rows),
    )


# --- loading ---------------------------------------------------------------------


def consent_of_loading(
    connection: sqlite3.Connection, points: Sequence[ContactPoint], *, keep_preferences: bool, actor: str
) -> tuple[ConsentOfLoad, list[str | None]]:
    """What :func:`consent_of_load` makes of loading ``points``, and their ledger keys.

    With ``keep_preferences`` a point already stored takes the new address and
    none of the loaded consent (the ledger of the new address decides): only
    a point loaded with reasons revoked can tell, so only those are looked up.
    """
    current = policy(connection)
    if keep_preferences:
        points = _merged(connection, points)
    keys = [ledger_key(point.method, point.address, current.region) for point in points]
    involved = {key for key in keys if key is not None}
    consent = consent_of_load(
        points, keys, ledgers(connection, involved), waiting(connection), current, at=now(), actor=actor
    )
    return consent, keys


def _merged(connection: sqlite3.Connection, points: Sequence[ContactPoint]) -> Sequence[ContactPoint]:
    revoked = [[point.owner_id, point.method.value] for point in points if point.revoked]
    if not revoked:
        return points
    stored = {(owner_id, METHODS[method]) for owner_id, method in connection.execute(_STORED, (json.dumps(revoked),))}
    return set_aside_loaded_consent(points, stored)


# --- migrating -------------------------------------------------------------------


def record_flags_as_revocations(connection: sqlite3.Connection) -> None:
    """Migrate a store that kept consent as a flag per point: key every point, record each point's
    revoked reasons as :func:`revocations_before_the_ledger` says, and give every point holding
    those addresses ``revoked`` as the ledger says.  Runs inside the migration's transaction."""
    key_points(connection, policy(connection).region)
    flagged = connection.execute(
        "SELECT ledger_key, revoked FROM contact_points WHERE ledger_key IS NOT NULL ORDER BY owner_id, method"
    )
    events = revocations_before_the_ledger(((key, reasons(mask)) for key, mask in flagged), at=now())
    append(connection, events)
    refresh(connection, {event.address for event in events})
