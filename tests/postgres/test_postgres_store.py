"""What the PostgreSQL store does beyond the shared contract: narrowing, storage, failures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import pytest

from contact_prefs import (
    BatchSpec,
    ContactPoint,
    Enrollment,
    HouseholdMember,
    Method,
    Mode,
    Person,
    Reason,
    ReasonSet,
    Relationship,
    Snapshot,
    Source,
    StoreError,
    open_store,
    plan,
)
from contact_prefs._unchecked import record
from contact_prefs.testing.strategies import DAY

ADDRESS = "guardian.private@example.org"

TWO_SCHOOLS = Snapshot(
    persons=[Person(id=p) for p in ("n1", "s1", "gn", "gs", "gboth")],
    enrollments=[
        Enrollment(student_id="n1", school_id="north", calendar_id="north:2026"),
        Enrollment(student_id="s1", school_id="south", calendar_id="south:2026"),
    ],
    relationships=[
        Relationship(student_id="n1", contact_id="gn"),
        Relationship(student_id="s1", contact_id="gs"),
        Relationship(student_id="s1", contact_id="gboth", messenger=False),
    ],
    household_members=[
        HouseholdMember(household_id="hn", person_id="gn"),
        HouseholdMember(household_id="hn", person_id="gboth"),
        HouseholdMember(household_id="hs", person_id="gs"),
    ],
    contact_points=[
        ContactPoint(owner_id="gn", method=Method.EMAIL, address="gn@example.org"),
        ContactPoint(owner_id="gs", method=Method.EMAIL, address="gs@example.org"),
        ContactPoint(owner_id="gboth", method=Method.EMAIL, address="gboth@example.org"),
        ContactPoint(owner_id="hn", method=Method.HOUSEHOLD_PHONE, address="555-0100"),
        ContactPoint(owner_id="hs", method=Method.HOUSEHOLD_PHONE, address="555-0101"),
    ],
)


def test_a_snapshot_holds_only_the_records_of_the_spec_s_scope(schema_url: str) -> None:
    spec = BatchSpec(
        mode=Mode.STUDENT_MESSENGER_CONTACTS, settings={Reason.GENERAL: "on"}, school_id="north", as_of=DAY
    )
    with open_store(schema_url) as store:
        store.load(TWO_SCHOOLS)
        narrowed = store.snapshot(spec)
        assert plan(spec, narrowed) == plan(spec, store.dump())

    # The selection is made in SQL: the enrollments and relationships behind it stay in the database.
    assert narrowed.selection is not None and narrowed.selection.recipients == {"gn"}
    assert narrowed.enrollments == narrowed.relationships == narrowed.persons == ()
    # gboth shares the household phone of gn, so a change there affects gboth too.
    assert narrowed.selection.households == {"hn": {"gn", "gboth"}}
    assert narrowed.household_members == ()
    assert {p.key for p in narrowed.contact_points} == {("gn", Method.EMAIL), ("hn", Method.HOUSEHOLD_PHONE)}


def test_history_keeps_one_row_per_point_written(schema_url: str, connect: Callable[[], Any]) -> None:
    from psycopg import sql

    spec = BatchSpec(mode=Mode.STUDENT_MESSENGER_CONTACTS, settings={Reason.GENERAL: "on", "teacher": "on"}, as_of=DAY)
    with open_store(schema_url) as store:
        store.load(TWO_SCHOOLS)
        changeset = plan(spec, store.snapshot(spec))
        store.commit(changeset, actor="staff")
        schema = sql.Identifier(store.url.schema)
    rows = connect().execute(sql.SQL("SELECT count(*) FROM {}.batch_points").format(schema)).fetchone()
    assert len(changeset) == 2 * rows[0] == 2 * len(changeset.point_updates()) == 8


def test_a_nul_character_is_refused_naming_the_record_and_nothing_is_written(schema_url: str) -> None:
    # ContactPoint refuses a NUL itself; a record built around its checks meets the store's own refusal.
    with pytest.raises(ValueError, match="NUL"):
        ContactPoint(owner_id="g2", method=Method.EMAIL, address=ADDRESS + "\x00")
    none = ReasonSet()
    bad = record(ContactPoint)("g2", Method.EMAIL, ADDRESS + "\x00", none, none, Source.DEFAULT, none)
    with open_store(schema_url) as store:
        store.load(TWO_SCHOOLS)
        before = store.dump()
        with pytest.raises(StoreError, match=r"contact_points \(g2, email\): address contains a NUL") as raised:
            store.load(Snapshot(persons=[Person(id="new")], contact_points=[bad]))
        assert ADDRESS not in str(raised.value)
        assert store.dump() == before


def test_a_closed_store_says_so(schema_url: str) -> None:
    store = open_store(schema_url)
    store.close()
    store.close()
    with pytest.raises(StoreError, match="is closed"):
        store.dump()


def test_a_store_whose_connection_was_killed_fails_clearly(schema_url: str, connect: Callable[[], Any]) -> None:
    with open_store(schema_url) as store:
        store.load(TWO_SCHOOLS)
        pid = store.connection.info.backend_pid
        connect().execute("SELECT pg_terminate_backend(%s)", [pid])
        with pytest.raises(StoreError, match=r"the store at .* failed: .*terminat"):
            store.dump()
        with pytest.raises(StoreError):
            store.history()


def test_keep_preferences_creates_missing_points_whole(schema_url: str) -> None:
    new = ContactPoint(owner_id="gx", method=Method.EMAIL, address=ADDRESS, enabled={"general"}, source=Source.IMPORT)
    with open_store(schema_url) as store:
        store.load(TWO_SCHOOLS)
        existing = attrs.evolve(TWO_SCHOOLS.contact_points[0], address=ADDRESS, enabled={"teacher"}, revoked=True)
        store.load(Snapshot(contact_points=[existing, new]), keep_preferences=True)
        points = {p.key: p for p in store.dump().contact_points}
    assert points[new.key] == new
    assert points[existing.key] == attrs.evolve(TWO_SCHOOLS.contact_points[0], address=ADDRESS)


@pytest.mark.parametrize(
    ("column", "value", "says"),
    [
        ("method", "'fax'", "'fax'"),
        ("enabled", "-1", "-1"),
        ("text_enabled", "256", "256"),
        ("source", "'sis'", "'sis'"),
    ],
)
def test_a_row_another_program_wrote_wrong_is_refused_naming_table_and_key(
    schema_url: str, connect: Callable[[], Any], column: str, value: str, says: str
) -> None:
    # Other programs may write the tables (docs/postgres.md): what the store cannot read, it names.
    from psycopg import sql

    spec = BatchSpec(mode=Mode.STUDENT_MESSENGER_CONTACTS, settings={Reason.GENERAL: "on"}, as_of=DAY)
    with open_store(schema_url) as store:
        store.load(TWO_SCHOOLS)
        store.load(Snapshot(contact_points=[ContactPoint(owner_id="gn", method=Method.CELL_PHONE, address=ADDRESS)]))
        connect().execute(
            sql.SQL("UPDATE {}.contact_points SET {} = {} WHERE owner_id = 'gn' AND method = 'cell_phone'").format(
                sql.Identifier(store.url.schema), sql.Identifier(column), sql.SQL(value)
            )
        )
        for read in (store.dump, lambda: store.snapshot(spec)):
            with pytest.raises(StoreError, match=rf"contact_points \(gn, .*\) holds a value .*{says}") as raised:
                read()
            assert ADDRESS not in str(raised.value)
