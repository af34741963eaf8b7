"""The database schema, as a list of forward migrations counted by ``PRAGMA user_version``.

A database at version *n* has had the first *n* steps of :data:`MIGRATIONS`
applied.  Opening one applies the missing steps in one transaction (see
:func:`contact_prefs_sqlite.connection.connect`); a version newer than this
code knows is refused before anything is touched.

Conventions of every version:

* Enums are stored by value (``'cell_phone'``), reason sets as the integer
  bit mask of :attr:`ReasonSet.mask`, dates as ISO text.
* A missing ``start_on`` is stored as ``''``, because ``start`` is part of a
  key and a unique index would treat NULLs as all different; ``''`` sorts
  before every date, so ``start_on <= day`` holds for it.  A missing
  ``end_on`` is NULL.
* History is compact: one ``batches`` row per commit or undo, whose
  ``points`` column holds every contact point it wrote as one JSON document,
  and whose ``affects`` column says whom its household phones affect (see
  :mod:`contact_prefs_sqlite.history`).  The changes at a point are the
  reasons whose bit differs between ``enabled_before`` and ``enabled_after``,
  so they need no entries of their own.  (Version 1 kept one ``batch_points``
  row per point instead.)
* The consent ledger (version 3): ``consent_events`` and ``policy_changes``
  are append-only (triggers refuse an UPDATE or DELETE); each contact point
  row carries its address key in ``ledger_key`` (see
  :mod:`contact_prefs_sqlite.ledgers`).
* Governance (version 4): ``chain`` holds one link per history entry
  (:mod:`contact_prefs.chain`), appended in the transaction that records the
  entry and append-only like the ledger; ``proposals`` holds every field of
  each proposal, its state columns filled as it is approved, withdrawn or
  applied (:mod:`contact_prefs_sqlite.proposal_rows`); a batch applied
  through a proposal names it, its proposer and its approver in
  ``batches.proposal_id``, ``proposer`` and ``approver`` (NULL otherwise).
  A store migrated to version 4 has its history chained as it stood, each
  kind oldest first: every batch in ``seq`` order, then every consent event,
  then every policy change (:func:`contact_prefs_sqlite.chain_rows.chain_existing_history`);
  proposals did not exist before.  Verifying checks each kind's order, not
  how kinds interleave, so a migrated chain verifies intact.
* Schedules (version 4 too): one ``schedules`` row per schedule, and each
  batch row names the schedule it applied or reverted (see
  :mod:`contact_prefs_sqlite.schedule_rows`).
* Demo data (version 4 too): ``state.demo`` is 1 once a load of the demo
  district marked the store (``Store.holds_demo``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

from . import chain_rows, ledgers

APPLICATION_ID = 0x43505246
"""``PRAGMA application_id`` of a contact-prefs database ("CPRF"): tells our files from others."""

_VERSION_1 = (
    # One row whose counter every write transaction bumps: the store's version.
    "CREATE TABLE state (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)",
    "INSERT INTO state (id, version) VALUES (1, 0)",
    "CREATE TABLE persons (id TEXT PRIMARY KEY, name TEXT NOT NULL) WITHOUT ROWID",
    """CREATE TABLE household_members (
        household_id TEXT NOT NULL,
        person_id TEXT NOT NULL,
        start_on TEXT NOT NULL,
        end_on TEXT,
        PRIMARY KEY (household_id, person_id, start_on)
    ) WITHOUT ROWID""",
    # Finds the households of the recipients.
    "CREATE INDEX household_members_by_person ON household_members (person_id, end_on)",
    """CREATE TABLE enrollments (
        student_id TEXT NOT NULL,
        school_id TEXT NOT NULL,
        calendar_id TEXT NOT NULL,
        start_on TEXT NOT NULL,
        end_on TEXT,
        PRIMARY KEY (student_id, school_id, calendar_id, start_on)
    ) WITHOUT ROWID""",
    # Select the students of a calendar or of a school without reading the others.
    "CREATE INDEX enrollments_by_calendar ON enrollments (calendar_id, school_id, end_on)",
    "CREATE INDEX enrollments_by_school ON enrollments (school_id, end_on)",
    """CREATE TABLE relationships (
        student_id TEXT NOT NULL,
        contact_id TEXT NOT NULL,
        messenger INTEGER NOT NULL,
        PRIMARY KEY (student_id, contact_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE assignments (
        person_id TEXT NOT NULL,
        start_on TEXT NOT NULL,
        end_on TEXT,
        PRIMARY KEY (person_id, start_on)
    ) WITHOUT ROWID""",
    """CREATE TABLE contact_points (
        owner_id TEXT NOT NULL,
        method TEXT NOT NULL,
        address TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        text INTEGER NOT NULL,
        source TEXT NOT NULL,
        revoked INTEGER NOT NULL,
        PRIMARY KEY (owner_id, method)
    ) WITHOUT ROWID""",
    """CREATE TABLE batches (
        seq INTEGER PRIMARY KEY,
        batch_id TEXT NOT NULL UNIQUE,
        actor TEXT NOT NULL,
        at TEXT NOT NULL,
        spec TEXT NOT NULL,
        counts TEXT NOT NULL,
        applied INTEGER NOT NULL,
        undoes TEXT,
        undone_by TEXT
    )""",
    # One row per PointUpdate.  affects: a JSON array of person ids, NULL when it is just the owner.
    """CREATE TABLE batch_points (
        batch_seq INTEGER NOT NULL,
        position INTEGER NOT NULL,
        owner_id TEXT NOT NULL,
        method TEXT NOT NULL,
        source_before TEXT NOT NULL,
        enabled_before INTEGER NOT NULL,
        enabled_after INTEGER NOT NULL,
        affects TEXT,
        PRIMARY KEY (batch_seq, position)
    ) WITHOUT ROWID""",
)

_VERSION_2 = (
    # A batch's point updates as one JSON array in its own row, in position order: each
    # [owner_id, method, source_before, enabled_before, enabled_after].  affects: whom the
    # updates that affect more than their owner (household phones) affect, as
    # {"position": [sorted person ids]}; every other update affects just its owner.
    "ALTER TABLE batches ADD COLUMN points TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE batches ADD COLUMN affects TEXT NOT NULL DEFAULT '{}'",
    # SQLite 3.40 has no ORDER BY inside an aggregate; the ordered subquery feeds it in position order.
    """UPDATE batches SET
        points = (
            SELECT json_group_array(json_array(owner_id, method, source_before, enabled_before, enabled_after))
            FROM (SELECT * FROM batch_points WHERE batch_seq = batches.seq ORDER BY position)),
        affects = (
            SELECT json_group_object(CAST(position AS TEXT), json(affects))
            FROM batch_points WHERE batch_seq = batches.seq AND affects IS NOT NULL)""",
    "DROP TABLE batch_points",
)

_APPEND_ONLY = """CREATE TRIGGER {table}_append_only_{action} BEFORE {action} ON {table}
    BEGIN SELECT RAISE(ABORT, '{table} are appended, never changed or deleted'); END"""

_VERSION_3 = (
    # revoked: from a flag (1: consent withdrawn) to the bit mask of the reasons it is withdrawn for.
    f"UPDATE contact_points SET revoked = {(1 << 8) - 1} WHERE revoked <> 0",
    # The history's point entries gain a sixth element, revoked_before (the mask as planned);
    # entries of five elements, written before, read as an empty mask.
    #
    # The consent ledger.  Each point's address key (NULL when nothing is saved), set by the
    # store in Python (phonenumbers), indexed: every point holding an address is one UPDATE.
    "ALTER TABLE contact_points ADD COLUMN ledger_key TEXT",
    "CREATE INDEX contact_points_by_ledger_key ON contact_points (ledger_key)",
    # Events in ledger order (seq); times are ISO text in UTC, reasons a mask, enums by value.
    """CREATE TABLE consent_events (
        seq INTEGER PRIMARY KEY,
        address TEXT NOT NULL,
        action TEXT NOT NULL,
        reasons INTEGER NOT NULL,
        channel TEXT NOT NULL,
        received_at TEXT NOT NULL,
        recorded_by TEXT NOT NULL,
        evidence TEXT NOT NULL,
        wording TEXT NOT NULL
    )""",
    "CREATE INDEX consent_events_by_address ON consent_events (address, seq)",
    _APPEND_ONLY.format(table="consent_events", action="UPDATE"),
    _APPEND_ONLY.format(table="consent_events", action="DELETE"),
    # The review queue in queue order (seq); revoked is NULL while a message waits.
    """CREATE TABLE reviews (
        seq INTEGER PRIMARY KEY,
        review_id TEXT NOT NULL UNIQUE,
        address TEXT NOT NULL,
        message TEXT NOT NULL,
        channel TEXT NOT NULL,
        received_at TEXT NOT NULL,
        due_on TEXT NOT NULL,
        resolved_by TEXT,
        resolved_at TEXT,
        revoked INTEGER,
        note TEXT NOT NULL
    )""",
    "CREATE INDEX reviews_waiting ON reviews (address) WHERE resolved_by IS NULL",
    # The district's consent policy (one row: ConsentPolicy()'s defaults until one is set),
    # and every change of it, in order.  holidays: a JSON array of ISO dates.
    """CREATE TABLE consent_policy (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        region TEXT NOT NULL,
        scope TEXT NOT NULL,
        exempt INTEGER NOT NULL,
        holidays TEXT NOT NULL
    )""",
    "INSERT INTO consent_policy (id, region, scope, exempt, holidays) VALUES (1, 'US', 'all', 0, '[]')",
    """CREATE TABLE policy_changes (
        seq INTEGER PRIMARY KEY,
        region TEXT NOT NULL,
        scope TEXT NOT NULL,
        exempt INTEGER NOT NULL,
        holidays TEXT NOT NULL,
        actor TEXT NOT NULL,
        at TEXT NOT NULL,
        why TEXT NOT NULL
    )""",
    _APPEND_ONLY.format(table="policy_changes", action="UPDATE"),
    _APPEND_ONLY.format(table="policy_changes", action="DELETE"),
    # Key every point, and make each revoked flag a REVOKE event "before the ledger".
    ledgers.record_flags_as_revocations,
)

_VERSION_4 = (
    # The hash chain (see contact_prefs.chain): one link per history entry, in chain order (seq, from 1);
    # kind is an EntryKind value, digest, prev and hash lower-case hex SHA-256.  Appended in the
    # transaction that records the entry, never changed.
    """CREATE TABLE chain (
        seq INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        digest TEXT NOT NULL,
        prev TEXT NOT NULL,
        hash TEXT NOT NULL
    )""",
    _APPEND_ONLY.format(table="chain", action="UPDATE"),
    _APPEND_ONLY.format(table="chain", action="DELETE"),
    # Proposals in the order proposed (seq), every field of Proposal; the state columns (approver
    # to applied_at, NULL until then) change as a proposal is approved, withdrawn or applied.
    """CREATE TABLE proposals (
        seq INTEGER PRIMARY KEY,
        proposal_id TEXT NOT NULL UNIQUE,
        spec TEXT NOT NULL,
        digest TEXT NOT NULL,
        counts TEXT NOT NULL,
        proposer TEXT NOT NULL,
        at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        why TEXT NOT NULL,
        approver TEXT,
        approved_at TEXT,
        withdrawn_by TEXT,
        withdrawn_at TEXT,
        batch_id TEXT,
        applied_by TEXT,
        applied_at TEXT
    )""",
    # Who proposed and approved a batch applied through a proposal; NULL for every other batch.
    "ALTER TABLE batches ADD COLUMN proposal_id TEXT",
    "ALTER TABLE batches ADD COLUMN proposer TEXT",
    "ALTER TABLE batches ADD COLUMN approver TEXT",
    # Which schedule a batch applied or reverted, and what a revert left alone by reason
    # ([[reason, n], ...] in Reason order; '[]' for every other batch).
    "ALTER TABLE batches ADD COLUMN schedule_id TEXT",
    "ALTER TABLE batches ADD COLUMN left_alone TEXT NOT NULL DEFAULT '[]'",
    # Schedules in the order they were saved (seq).  spec: the JSON of spec_to_plain; days ISO
    # text; times ISO text in UTC; start_batch and end_batch the batches that applied and
    # reverted it; left_alone as in batches.
    """CREATE TABLE schedules (
        seq INTEGER PRIMARY KEY,
        schedule_id TEXT NOT NULL UNIQUE,
        spec TEXT NOT NULL,
        starts_on TEXT NOT NULL,
        ends_on TEXT,
        actor TEXT NOT NULL,
        created_at TEXT NOT NULL,
        cancelled_by TEXT,
        cancelled_at TEXT,
        start_batch TEXT,
        end_batch TEXT,
        left_alone TEXT NOT NULL DEFAULT '[]'
    )""",
    # Whether the store holds the demo district (1 once a load marked it: Store.holds_demo).
    "ALTER TABLE state ADD COLUMN demo INTEGER NOT NULL DEFAULT 0",
    # Chain the history as it stands: batches, then consent events, then policy changes.
    chain_rows.chain_existing_history,
)

APPEND_ONLY_TRIGGERS: dict[str, str] = {
    f"{table}_append_only_{action}": _APPEND_ONLY.format(table=table, action=action)
    for table in ("consent_events", "policy_changes", "chain")
    for action in ("UPDATE", "DELETE")
}
"""The triggers that keep the consent ledger, the policy's changes and the chain append-only, by name, with the
statement that creates each: only a store replaced as a whole (``receive(replace=True)``) lifts
them, and it puts them back in the same transaction."""

Step = str | Callable[[sqlite3.Connection], None]
"""A statement, or a function that migrates what SQL alone cannot (it runs in the same transaction)."""


MIGRATIONS: list[Sequence[Step]] = [_VERSION_1, _VERSION_2, _VERSION_3, _VERSION_4]
"""Step *i* takes a database from version *i* to *i + 1*.  Append; never edit a released step."""


def user_version(connection: sqlite3.Connection) -> int:
    version: int = connection.execute("PRAGMA user_version").fetchone()[0]
    return version


def application_id(connection: sqlite3.Connection) -> int:
    identifier: int = connection.execute("PRAGMA application_id").fetchone()[0]
    return identifier


def has_tables(connection: sqlite3.Connection) -> bool:
    return connection.execute("SELECT 1 FROM sqlite_schema WHERE type = 'table' LIMIT 1").fetchone() is not None


def migrate(connection: sqlite3.Connection, start: int, migrations: Sequence[Sequence[Step]]) -> None:
    """Take a database at version ``start`` to the newest of ``migrations``, in the caller's transaction."""
    for step in migrations[start:]:
        for statement in step:
            if isinstance(statement, str):
                connection.execute(statement)
            else:
                statement(connection)
    if start < len(migrations):
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        connection.execute(f"PRAGMA user_version = {len(migrations)}")  # PRAGMA takes no parameters
