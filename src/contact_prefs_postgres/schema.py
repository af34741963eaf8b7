"""The store's tables, created on first use and migrated forward, never backward.

``MIGRATIONS[n]`` takes a schema from version ``n`` to ``n + 1``; the version
lives in the one-row ``meta`` table next to the data version, the counter that
every write transaction bumps.  A migration, once released, is never edited:
a change to the tables is a new entry at the end.  What SQL alone cannot do
(keying every point's address with ``phonenumbers``) is a Python step in
``FOLLOW_UPS``, run right after its SQL in the same transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import psycopg
from psycopg import sql

from contact_prefs import StoreError

from . import chain_rows, ledgers
from .url import PostgresUrl

# An open start or end is stored as -infinity or infinity, not NULL: key columns
# must be NOT NULL (unique indexes treat NULLs as distinct, and a start of None is
# a key value like any other), and "active on day D" becomes start <= D <= end.
# Reason sets are bit masks (ReasonSet.mask), enums their values.
VERSION_1 = """
CREATE TABLE meta (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    schema_version integer NOT NULL,
    data_version bigint NOT NULL
);
INSERT INTO meta (schema_version, data_version) VALUES (0, 0);

CREATE TABLE persons (
    id text PRIMARY KEY,
    name text NOT NULL
);
CREATE TABLE household_members (
    household_id text NOT NULL,
    person_id text NOT NULL,
    start_date date NOT NULL,
    end_date date NOT NULL,
    PRIMARY KEY (household_id, person_id, start_date)
);
CREATE INDEX household_members_by_person ON household_members (person_id);
CREATE TABLE enrollments (
    student_id text NOT NULL,
    school_id text NOT NULL,
    calendar_id text NOT NULL,
    start_date date NOT NULL,
    end_date date NOT NULL,
    PRIMARY KEY (student_id, school_id, calendar_id, start_date)
);
CREATE INDEX enrollments_by_calendar ON enrollments (school_id, calendar_id);
CREATE TABLE relationships (
    student_id text NOT NULL,
    contact_id text NOT NULL,
    messenger boolean NOT NULL,
    PRIMARY KEY (student_id, contact_id)
);
CREATE TABLE assignments (
    person_id text NOT NULL,
    start_date date NOT NULL,
    end_date date NOT NULL,
    PRIMARY KEY (person_id, start_date)
);
CREATE TABLE contact_points (
    owner_id text NOT NULL,
    method text NOT NULL,
    address text NOT NULL,
    enabled integer NOT NULL,
    text_enabled integer NOT NULL,
    source text NOT NULL,
    revoked boolean NOT NULL,
    PRIMARY KEY (owner_id, method)
);

-- History: a row per batch (commit or undo), a row per contact point it wrote.
-- "version" is the data version the batch was written at: the history's order.
CREATE TABLE batches (
    batch_id text PRIMARY KEY,
    version bigint NOT NULL UNIQUE,
    actor text NOT NULL,
    at timestamptz NOT NULL,
    spec jsonb NOT NULL,
    undoes text REFERENCES batches (batch_id),
    undone_by text REFERENCES batches (batch_id)
);
-- No foreign key from batch_points: its rows are written only with their batch,
-- in one statement, and checking 100,000 of them one by one would double a commit's
-- history-writing time.
CREATE TABLE batch_points (
    batch_id text NOT NULL,
    position integer NOT NULL,
    owner_id text NOT NULL,
    method text NOT NULL,
    source_before text NOT NULL,
    enabled_before integer NOT NULL,
    enabled_after integer NOT NULL,
    affects text[] NOT NULL,
    PRIMARY KEY (batch_id, position)
);
"""

# revoked: from a flag to the bit mask of the reasons consent is withdrawn for.
# The consent ledger (contact_prefs.ledger): events and policy changes are appended, never
# changed (triggers refuse it); times are timestamptz, reason sets masks, enums their values.
# Each point's address key lives in ledger_keys, indexed, so that "every point holding this
# address" is one indexed UPDATE; not in a column of contact_points, where its index would
# cost every commit an index entry per point written (a third of the commit's UPDATE).
# After this SQL, key_and_record_flags (below) keys every point and makes each revoked
# flag a REVOKE event, in Python (phonenumbers), in the same transaction.
VERSION_2 = f"""
ALTER TABLE contact_points ALTER COLUMN revoked TYPE integer
    USING CASE WHEN revoked THEN {(1 << 8) - 1} ELSE 0 END;

CREATE TABLE ledger_keys (
    owner_id text NOT NULL,
    method text NOT NULL,
    ledger_key text NOT NULL,
    PRIMARY KEY (owner_id, method)
);
CREATE INDEX ledger_keys_by_key ON ledger_keys (ledger_key);

CREATE TABLE consent_events (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- the ledger order
    address text NOT NULL,
    action text NOT NULL,
    reasons integer NOT NULL,
    channel text NOT NULL,
    received_at timestamptz NOT NULL,
    recorded_by text NOT NULL,
    evidence text NOT NULL,
    wording text NOT NULL
);
CREATE INDEX consent_events_by_address ON consent_events (address, seq);

-- The review queue, in queue order; revoked is NULL while a message waits.
CREATE TABLE reviews (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    review_id text NOT NULL UNIQUE,
    address text NOT NULL,
    message text NOT NULL,
    channel text NOT NULL,
    received_at timestamptz NOT NULL,
    due_on date NOT NULL,
    resolved_by text,
    resolved_at timestamptz,
    revoked boolean,
    note text NOT NULL
);
CREATE INDEX reviews_waiting ON reviews (address) WHERE resolved_by IS NULL;

-- The district's consent policy (one row, ConsentPolicy()'s defaults until one is set),
-- and every change of it, in order.
CREATE TABLE consent_policy (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    region text NOT NULL,
    scope text NOT NULL,
    exempt integer NOT NULL,
    holidays date[] NOT NULL
);
INSERT INTO consent_policy (region, scope, exempt, holidays) VALUES ('US', 'all', 0, '{{}}');
CREATE TABLE policy_changes (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region text NOT NULL,
    scope text NOT NULL,
    exempt integer NOT NULL,
    holidays date[] NOT NULL,
    actor text NOT NULL,
    at timestamptz NOT NULL,
    why text NOT NULL
);

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are appended, never changed or deleted', TG_TABLE_NAME;
END
$$;
CREATE TRIGGER consent_events_append_only BEFORE UPDATE OR DELETE ON consent_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER consent_events_never_truncated BEFORE TRUNCATE ON consent_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER policy_changes_append_only BEFORE UPDATE OR DELETE ON policy_changes
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER policy_changes_never_truncated BEFORE TRUNCATE ON policy_changes
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Each batch's counts, [[method, reason, n], ...] for the non-zero ones, so that listing batches
-- reads no batch_points.  Those of the batches recorded so far come from their points: a reason
-- changed at a point where its bit (1 << i for the i-th reason) differs before and after.
ALTER TABLE batches ADD COLUMN counts jsonb NOT NULL DEFAULT '[]';
UPDATE batches SET counts = counted.counts FROM (
    SELECT batch_id, jsonb_agg(jsonb_build_array(method, reason, n) ORDER BY method, i) AS counts
    FROM (
        SELECT p.batch_id, p.method, r.reason, r.i, count(*) AS n
        FROM batch_points AS p
        JOIN unnest(ARRAY['emergency', 'attendance', 'behavior', 'staff', 'general', 'food_service',
                          'priority', 'teacher']) WITH ORDINALITY AS r (reason, i)
            ON (p.enabled_before # p.enabled_after) & (1 << (r.i::integer - 1)) <> 0
        GROUP BY p.batch_id, p.method, r.reason, r.i
    ) AS changed
    GROUP BY batch_id
) AS counted
WHERE batches.batch_id = counted.batch_id;
ALTER TABLE batches ALTER COLUMN counts DROP DEFAULT;
"""

# Governance (contact_prefs.proposals, contact_prefs.chain).  A proposal is a row holding every field
# of a Proposal; the state columns (approver..applied_at) are filled as it is approved, withdrawn or
# applied.  counts is [[method, reason, n], ...] for every pair the proposal holds.  A batch applying
# a proposal names it, its proposer and its approver.  The chain is a link per history entry,
# appended in the transaction that records the entry, never changed (triggers refuse it): seq from
# 1, the entry's kind and key, the SHA-256 of its canonical body, the hash before and its own.
# After this SQL, chain_existing_history (chain_rows) chains what the store holds: every batch by
# its version, then every consent event by its seq, then every policy change by its seq; positions
# of consent events and policy changes are their ordinals in that order, from 1.
#
# Schedules: which schedule a batch applied or reverted, what a revert left alone by reason
# ([[reason, n], ...] in Reason order), and the schedules in the order they were saved (seq).
#
# Demo data: meta.demo is true once a load of the demo district marked the store (Store.holds_demo).
VERSION_3 = """
ALTER TABLE meta ADD COLUMN demo boolean NOT NULL DEFAULT false;
ALTER TABLE batches ADD COLUMN schedule_id text;
ALTER TABLE batches ADD COLUMN left_alone jsonb NOT NULL DEFAULT '[]';
CREATE TABLE schedules (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    schedule_id text NOT NULL UNIQUE,
    spec jsonb NOT NULL,
    starts_on date NOT NULL,
    ends_on date,
    actor text NOT NULL,
    created_at timestamptz NOT NULL,
    cancelled_by text,
    cancelled_at timestamptz,
    start_batch text REFERENCES batches (batch_id),
    end_batch text REFERENCES batches (batch_id),
    left_alone jsonb NOT NULL DEFAULT '[]'
);
CREATE TABLE proposals (
    seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,  -- the order proposed
    proposal_id text PRIMARY KEY,
    spec jsonb NOT NULL,
    digest text NOT NULL,
    counts jsonb NOT NULL,
    proposer text NOT NULL,
    at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    why text NOT NULL,
    approver text,
    approved_at timestamptz,
    withdrawn_by text,
    withdrawn_at timestamptz,
    batch_id text REFERENCES batches (batch_id),
    applied_by text,
    applied_at timestamptz
);

ALTER TABLE batches
    ADD COLUMN proposal_id text REFERENCES proposals (proposal_id),
    ADD COLUMN proposer text,
    ADD COLUMN approver text;

CREATE TABLE chain (
    seq bigint PRIMARY KEY,  -- from 1, no gaps: a second writer of one seq fails instead of forking the chain
    kind text NOT NULL,
    key text NOT NULL,
    digest text NOT NULL,
    prev text NOT NULL,
    hash text NOT NULL
);
CREATE TRIGGER chain_append_only BEFORE UPDATE OR DELETE ON chain
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER chain_never_truncated BEFORE TRUNCATE ON chain
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
"""

MIGRATIONS: Sequence[str] = (VERSION_1, VERSION_2, VERSION_3)

FOLLOW_UPS: Mapping[int, Callable[[psycopg.Cursor[Any]], None]] = {
    2: ledgers.key_and_record_flags,
    3: chain_rows.chain_existing_history,
}
"""What SQL alone cannot migrate, done in Python right after the SQL that reaches the version it is
keyed on, in the same transaction."""


def latest() -> int:
    """The schema version this code writes."""
    return len(MIGRATIONS)


def advisory_key(purpose: str, schema: str) -> int:
    """A 64-bit advisory lock key for ``purpose`` in ``schema`` (a collision only serializes more)."""
    digest = hashlib.blake2b(f"contact_prefs {purpose} {schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def use_schema(cursor: psycopg.Cursor[Any], schema: str) -> None:
    """Resolve the store's table names in ``schema`` for the rest of the transaction.

    Set per transaction, not per session, so that a transaction-pooling proxy cannot lose it.
    """
    cursor.execute("SELECT set_config('search_path', %s, true)", [sql.Identifier(schema).as_string(cursor)])


def prepare(connection: psycopg.Connection[Any], url: PostgresUrl) -> None:
    """Create the schema on first use, migrate an older one forward, refuse a newer one."""
    with connection.cursor() as cursor:
        with connection.transaction():
            use_schema(cursor, url.schema)
            installed = _installed(cursor)
        if installed == latest():
            return
        _refuse_newer(installed, url)
        # Two processes opening a new store at once: the second waits, then finds it migrated.
        # A session lock around a transaction of its own, so that this transaction sees the
        # tables the other one created (a transaction notices new schemas only when it starts).
        key = advisory_key("migrate", url.schema)
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
        try:
            with connection.transaction():
                use_schema(cursor, url.schema)
                _migrate(cursor, url)
        finally:
            if not connection.broken:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _migrate(cursor: psycopg.Cursor[Any], url: PostgresUrl) -> None:
    installed = _installed(cursor)
    _refuse_newer(installed, url)
    if installed is None:
        # CREATE SCHEMA IF NOT EXISTS would need the right to create schemas even when it exists.
        if not cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [url.schema]).fetchone():
            cursor.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(url.schema)))
        installed = 0
    for version in range(installed, latest()):
        cursor.execute(MIGRATIONS[version])
        follow_up = FOLLOW_UPS.get(version + 1)
        if follow_up is not None:
            follow_up(cursor)
        cursor.execute("UPDATE meta SET schema_version = %s", [version + 1])


def _installed(cursor: psycopg.Cursor[Any]) -> int | None:
    row = cursor.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return None
    row = cursor.execute("SELECT schema_version FROM meta").fetchone()
    return int(row[0]) if row else 0


def _refuse_newer(installed: int | None, url: PostgresUrl) -> None:
    if installed is not None and installed > latest():
        raise StoreError(
            f"the store at {url} has schema version {installed}, newer than this version of contact-prefs "
            f"understands ({latest()}); upgrade contact-prefs to open it"
        )
