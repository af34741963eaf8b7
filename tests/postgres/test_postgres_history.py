"""What the PostgreSQL store's history records about whom each change affects, and its list of batches."""

from __future__ import annotations

import os

import pytest

from contact_prefs import (
    BatchSpec,
    BatchSummary,
    ContactPoint,
    Enrollment,
    HouseholdMember,
    Method,
    Mode,
    Person,
    Reason,
    Relationship,
    Snapshot,
    open_store,
    plan,
)
from contact_prefs.plain import spec_to_plain
from contact_prefs.testing.strategies import DAY

# A configured (or required) server needs the driver: then a missing one fails the run, never skips it.
_REQUIRED = os.environ.get("CONTACT_PREFS_REQUIRE_POSTGRES") not in (None, "", "0")
if os.environ.get("CONTACT_PREFS_TEST_POSTGRES") or _REQUIRED:
    import psycopg
else:
    psycopg = pytest.importorskip("psycopg")

from psycopg import sql  # noqa: E402  (after the skip: the driver is optional)
from psycopg.types.json import Jsonb  # noqa: E402

from contact_prefs_postgres import schema  # noqa: E402
from contact_prefs_postgres.store import PostgresStore  # noqa: E402

# A guardian with a cell phone of her own, sharing a household phone with her partner.
FAMILY = Snapshot(
    persons=[Person(id=p) for p in ("s1", "g1", "g2")],
    enrollments=[Enrollment(student_id="s1", school_id="north", calendar_id="north:2026")],
    relationships=[Relationship(student_id="s1", contact_id="g1")],
    household_members=[
        HouseholdMember(household_id="h1", person_id="g1"),
        HouseholdMember(household_id="h1", person_id="g2"),
    ],
    contact_points=[
        ContactPoint(owner_id="g1", method=Method.CELL_PHONE, address="555-0100"),
        ContactPoint(owner_id="h1", method=Method.HOUSEHOLD_PHONE, address="555-0101"),
    ],
)


def test_history_records_that_a_persons_own_point_affects_its_owner_alone(schema_url: str) -> None:
    spec = BatchSpec(mode=Mode.STUDENT_MESSENGER_CONTACTS, settings={Reason.GENERAL: "on"}, as_of=DAY)
    with open_store(schema_url) as store:
        store.load(FAMILY)
        receipt = store.commit(plan(spec, store.snapshot(spec)), actor="staff")
    with open_store(schema_url) as store:  # read back from the tables, not from what the commit kept
        (record,) = store.history()

    assert record.batch_id == receipt.batch_id
    assert {(c.owner_id, c.method): c.affects for c in record.changes} == {
        ("g1", Method.CELL_PHONE): frozenset({"g1"}),
        ("h1", Method.HOUSEHOLD_PHONE): frozenset({"g1", "g2"}),
    }


def test_batches_list_the_history_without_reading_its_points(schema_url: str) -> None:
    spec = BatchSpec(mode=Mode.STUDENT_MESSENGER_CONTACTS, settings={Reason.GENERAL: "on"}, as_of=DAY)
    with PostgresStore.open(schema_url) as store:
        store.load(FAMILY)
        receipt = store.commit(plan(spec, store.snapshot(spec)), actor="staff")
        store.connection.execute(sql.SQL("TRUNCATE {}.batch_points").format(sql.Identifier(store.url.schema)))
        (summary,) = store.batches()
    # The counts are the batch's own, kept with it: not counted again from its points.
    assert (summary.batch_id, dict(summary.counts), summary.applied) == (
        receipt.batch_id,
        dict(receipt.counts),
        receipt.applied,
    )
    assert summary.applied == 2


def test_a_version_1_store_counts_its_batches_from_their_points(
    schema_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = BatchSpec(mode=Mode.STUDENT_MESSENGER_CONTACTS, settings={Reason.GENERAL: "off"}, as_of=DAY)
    general, attendance = Reason.GENERAL.bit, Reason.ATTENDANCE.bit
    points = [  # g1's cell: General off and Attendance on; the household phone: General off
        ("b1", 0, "g1", "cell_phone", "default", general | Reason.EMERGENCY.bit, attendance | Reason.EMERGENCY.bit),
        ("b1", 1, "h1", "household_phone", "portal", general, 0),
    ]
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:1])
    with PostgresStore.open(schema_url) as old:
        on_old = sql.Identifier(old.url.schema)
        for batch_id, version, undoes in (("b1", 1, None), ("b2", 2, "b1")):  # b2 wrote nothing
            old.connection.execute(
                sql.SQL("INSERT INTO {}.batches VALUES (%s, %s, 'staff', now(), %s, %s, NULL)").format(on_old),
                [batch_id, version, Jsonb(spec_to_plain(spec)), undoes],
            )
        for row in points:
            old.connection.execute(
                sql.SQL("INSERT INTO {}.batch_points VALUES (%s, %s, %s, %s, %s, %s, %s, ARRAY[%s])").format(on_old),
                [*row, row[2]],
            )
    monkeypatch.undo()

    with open_store(schema_url) as store:
        history = store.history()
        assert store.batches() == tuple(BatchSummary.of(record) for record in history)
        newest, oldest = store.batches()
    assert (newest.batch_id, newest.applied, set(newest.counts.values())) == ("b2", 0, {0})
    assert (oldest.batch_id, oldest.applied) == ("b1", 3)
    assert {pair: n for pair, n in oldest.counts.items() if n} == {
        (Method.CELL_PHONE, Reason.GENERAL): 1,
        (Method.CELL_PHONE, Reason.ATTENDANCE): 1,
        (Method.HOUSEHOLD_PHONE, Reason.GENERAL): 1,
    }
