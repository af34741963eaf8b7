"""What the SQLite store does beyond the shared contract: narrowing in SQL, persistence, compact history."""

from __future__ import annotations

import datetime
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

from contact_prefs import (
    BatchRecord,
    BatchSpec,
    ChangeSet,
    ConflictError,
    ContactPoint,
    ContactPrefsError,
    DistrictAssignment,
    Enrollment,
    HouseholdMember,
    Method,
    Mode,
    Person,
    Reason,
    ReasonSet,
    Relationship,
    Setting,
    SkipReason,
    Snapshot,
    open_store,
    plan,
)
from contact_prefs.selection import Selection
from contact_prefs.testing.profiles import examples
from contact_prefs.testing.strategies import DAY, districts, specs
from contact_prefs_sqlite import history as history_rows
from contact_prefs_sqlite import schema
from contact_prefs_sqlite import store as sqlite_store
from contact_prefs_sqlite.connection import connect
from contact_prefs_sqlite.store import SQLiteStore
from contact_prefs_sqlite.tables import TABLES

LATER = DAY + datetime.timedelta(days=30)

# Two schools.  North: student n1 with guardian gn (messenger) and relative rn (not), sharing
# household hn with gn's partner pn.  South: student s1 with guardian gs.  Staff t1 and t2.
NORTH = Snapshot(
    persons=[Person(id=i) for i in ("n1", "gn", "rn", "pn")],
    enrollments=[Enrollment(student_id="n1", school_id="north", calendar_id="north:2026")],
    relationships=[
        Relationship(student_id="n1", contact_id="gn"),
        Relationship(student_id="n1", contact_id="rn", messenger=False),
    ],
    household_members=[
        HouseholdMember(household_id="hn", person_id="gn"),
        HouseholdMember(household_id="hn", person_id="pn"),
        HouseholdMember(household_id="hn", person_id="old", end=DAY - datetime.timedelta(days=1)),
        HouseholdMember(household_id="hx", person_id="gn"),  # no household phone saved
    ],
    contact_points=[
        ContactPoint(owner_id="gn", method=Method.CELL_PHONE, address="555-0101"),
        ContactPoint(owner_id="gn", method=Method.EMAIL, address=""),  # nothing saved
        ContactPoint(owner_id="rn", method=Method.CELL_PHONE, address="555-0102"),
        ContactPoint(owner_id="hn", method=Method.HOUSEHOLD_PHONE, address="555-0103"),
        ContactPoint(owner_id="n1", method=Method.EMAIL, address="n1@example.org"),
    ],
)
SOUTH = Snapshot(
    persons=[Person(id="s1"), Person(id="gs")],
    enrollments=[
        Enrollment(student_id="s1", school_id="south", calendar_id="south:2026"),
        Enrollment(student_id="s1", school_id="north", calendar_id="north:2026", start=LATER),  # not yet
    ],
    relationships=[Relationship(student_id="s1", contact_id="gs")],
    contact_points=[ContactPoint(owner_id="gs", method=Method.CELL_PHONE, address="555-0201")],
)
STAFF = Snapshot(
    persons=[Person(id="t1"), Person(id="t2")],
    assignments=[DistrictAssignment(person_id="t1"), DistrictAssignment(person_id="t2", start=LATER)],
    contact_points=[
        ContactPoint(owner_id="t1", method=Method.WORK_PHONE, address="555-0301"),
        ContactPoint(owner_id="t2", method=Method.WORK_PHONE, address="555-0302"),
    ],
)
DISTRICT = Snapshot(**{name: NORTH.collections()[name] + SOUTH.collections()[name] + STAFF.collections()[name]
                       for name in NORTH.collections()})  # fmt: skip

ATTENDANCE_ON = {Reason.ATTENDANCE: Setting.ON}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore.open(str(tmp_path / "district.db")) as store:
        store.load(DISTRICT)
        yield store


def keys(snapshot: Snapshot) -> dict[str, set[object]]:
    return {name: {record.key for record in records} for name, records in snapshot.collections().items()}


def test_the_snapshot_of_a_school_holds_only_that_school_and_plans_like_everything(store: SQLiteStore) -> None:
    spec = BatchSpec(mode=Mode.STUDENT_MESSENGER_CONTACTS, settings=ATTENDANCE_ON, school_id="north", as_of=DAY)
    snapshot = store.snapshot(spec)

    # Selected in SQL: n1 is enrolled in north, gn is its Messenger contact.  The enrollments and
    # relationships behind that stay in the database.
    # hn has a saved phone and gn is an active member: a change to it affects every active member.
    assert snapshot.selection == Selection.of(spec, {"gn"}, {"hn": {"gn", "pn"}})
    assert keys(snapshot) == {
        "persons": set(),
        "household_members": set(),
        "enrollments": set(),
        "relationships": set(),
        "assignments": set(),
        "contact_points": {("gn", Method.CELL_PHONE), ("hn", Method.HOUSEHOLD_PHONE)},  # saved ones
    }
    assert plan(spec, snapshot) == plan(spec, store.dump())


def test_the_snapshot_for_students_reads_the_students_points(store: SQLiteStore) -> None:
    spec = BatchSpec(mode=Mode.STUDENTS, settings=ATTENDANCE_ON, calendar_id="south:2026", as_of=DAY)
    snapshot = store.snapshot(spec)

    assert snapshot.selection == Selection.of(spec, {"s1"}, {})
    assert keys(snapshot)["enrollments"] == keys(snapshot)["relationships"] == set()
    assert keys(snapshot)["contact_points"] == set()  # s1 has no point: the plan skips it
    assert plan(spec, snapshot) == plan(spec, store.dump())


def test_the_snapshot_for_census_selects_and_skips_the_filters_people_in_sql(store: SQLiteStore) -> None:
    spec = BatchSpec(
        mode=Mode.CENSUS_STAFF, settings={Reason.STAFF: Setting.ON}, filter_ids={"t1", "t2", "x"}, as_of=DAY
    )
    snapshot = store.snapshot(spec)

    # t2's assignment starts later; nobody is called x.
    skipped = [("t2", SkipReason.NO_DISTRICT_ASSIGNMENT), ("x", SkipReason.UNKNOWN_PERSON)]
    assert snapshot.selection == Selection.of(spec, {"t1"}, {}, skipped)
    assert keys(snapshot)["persons"] == set()
    assert keys(snapshot)["assignments"] == {("t1", None)}
    assert keys(snapshot)["contact_points"] == {("t1", Method.WORK_PHONE)}
    assert keys(snapshot)["enrollments"] == set()
    assert plan(spec, snapshot) == plan(spec, store.dump())


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(district=districts(), spec=specs())
def test_any_snapshot_plans_exactly_like_the_whole_district(district: Snapshot, spec: BatchSpec) -> None:
    with SQLiteStore.open(":memory:") as store:
        store.load(district)
        snapshot = store.snapshot(spec)
        assert plan(spec, snapshot) == plan(spec, store.dump())
        assert snapshot.version == store.dump().version
        assert len(snapshot) <= len(district)


def test_the_selection_queries_use_indexes(store: SQLiteStore) -> None:
    def plan_of(query: str) -> str:
        return " | ".join(row[3] for row in store._connection.execute(f"EXPLAIN QUERY PLAN {query}"))

    by_school = plan_of("SELECT student_id FROM enrollments t WHERE t.school_id = 'north' AND t.start_on <= '2026'")
    assert "USING COVERING INDEX enrollments_by_school" in by_school
    by_calendar = plan_of("SELECT student_id FROM enrollments t WHERE t.calendar_id = 'c' AND t.school_id = 'north'")
    assert "USING COVERING INDEX enrollments_by_calendar" in by_calendar
    households = plan_of("SELECT household_id FROM household_members WHERE person_id = 'gn'")
    assert "INDEX household_members_by_person" in households


def test_each_narrowing_step_starts_from_its_id_table_and_finds_rows_by_key(store: SQLiteStore) -> None:
    # A step must cost what its batch holds, not what the district holds: never a scan of a record table.
    statements: list[str] = []
    store._connection.set_trace_callback(statements.append)
    try:
        store.snapshot(BatchSpec(mode=Mode.STUDENT_MESSENGER_CONTACTS, settings=ATTENDANCE_ON, as_of=DAY))
    finally:
        store._connection.set_trace_callback(None)
    steps = [statement for statement in statements if "CROSS JOIN" in statement]
    assert len(steps) == 4  # assignments, households, their members, and the points (own and household phones)
    for statement in steps:
        scans = [row[3] for row in store._connection.execute(f"EXPLAIN QUERY PLAN {statement}") if "SCAN" in row[3]]
        assert scans and all(scan in {"SCAN r", "SCAN h"} for scan in scans), (statement, scans)


def test_a_snapshot_is_consistent_while_another_connection_writes(store: SQLiteStore) -> None:
    spec = BatchSpec(mode=Mode.STUDENT_MESSENGER_CONTACTS, settings=ATTENDANCE_ON, as_of=DAY)
    before = store.snapshot(spec)
    other = SQLiteStore.open(store.path)
    moved = ContactPoint(owner_id="gs", method=Method.CELL_PHONE, address="555-0299", enabled={Reason.TEACHER})

    def write_midway(statement: str) -> None:
        # Halfway through the snapshot's reads, another connection changes a point the snapshot reads later.
        if statement.startswith("INSERT OR IGNORE INTO temp.households"):
            other.load(Snapshot(contact_points=[moved]))

    store._connection.set_trace_callback(write_midway)
    try:
        during = store.snapshot(spec)
    finally:
        store._connection.set_trace_callback(None)
        other.close()

    assert during == before, "the snapshot mixed two states of the store"
    after = store.snapshot(spec)
    assert after.version != before.version
    assert moved in after.contact_points


def test_the_store_keeps_everything_across_reopening(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/district.db"
    spec = BatchSpec(mode=Mode.STUDENT_MESSENGER_CONTACTS, settings=ATTENDANCE_ON, as_of=DAY)
    with open_store(url) as store:
        store.load(DISTRICT)
        receipt = store.commit(plan(spec, store.snapshot(spec)), actor="office")
        store.undo(receipt.batch_id, actor="office")
        dumped, history = store.dump(), store.history()
    with open_store(url) as store:
        assert store.dump() == dumped
        assert store.history() == history


def test_the_demo_mark_outlives_the_connection_and_a_version_3_store_migrates_unmarked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/demo.db"
    with open_store(url) as store:
        store.load(DISTRICT, demo=True)
    with open_store(url) as reopened:
        assert reopened.holds_demo() is True
    with sqlite3.connect(tmp_path / "demo.db") as connection:
        assert connection.execute("SELECT demo FROM state").fetchone() == (1,)
    older = tmp_path / "older.db"
    connect(str(older), migrations=schema.MIGRATIONS[:3]).close()  # version 3 has no mark
    with SQLiteStore.open(str(older)) as migrated:
        assert migrated.holds_demo() is False
        migrated.load(DISTRICT, demo=True)
        assert migrated.holds_demo() is True


ATTENDANCE_AND_TEACHER_ON = BatchSpec(
    mode=Mode.STUDENT_MESSENGER_CONTACTS,
    settings={Reason.ATTENDANCE: Setting.ON, Reason.TEACHER: Setting.ON},
    as_of=DAY,
)


def test_history_holds_one_entry_per_point_and_the_household_once(store: SQLiteStore) -> None:
    changeset = plan(ATTENDANCE_AND_TEACHER_ON, store.snapshot(ATTENDANCE_AND_TEACHER_ON))
    assert len(changeset) == 6  # two reasons at gn's cell, hn's phone and gs's cell
    store.commit(changeset, actor="office")

    points, affects = store._connection.execute("SELECT points, affects FROM batches").fetchone()
    before, after = ReasonSet().mask, ReasonSet({Reason.ATTENDANCE, Reason.TEACHER}).mask
    assert json.loads(points) == [
        ["gn", "cell_phone", "default", before, after, 0],  # the last: consent withdrawn as planned
        ["gs", "cell_phone", "default", before, after, 0],
        ["hn", "household_phone", "default", before, after, 0],
    ]
    assert json.loads(affects) == {"2": ["gn", "pn"]}  # the others affect just their owner
    (record,) = store.history()
    assert record.changes == changeset.changes


def test_a_relative_url_is_relative_to_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_store("sqlite:///data.db") as store:
        store.load(STAFF)
    monkeypatch.chdir("/")
    assert (tmp_path / "data.db").exists()
    with open_store(f"sqlite:///{tmp_path}/data.db") as store:
        assert keys(store.dump()) == keys(STAFF)


def test_in_memory_stores_are_private(tmp_path: Path) -> None:
    with open_store("sqlite://") as first, open_store("sqlite://") as second:
        first.load(STAFF)
        assert len(second.dump()) == 0
    assert list(tmp_path.iterdir()) == []


def test_commits_and_undos_are_logged_by_id_never_by_address(
    store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    spec = BatchSpec(mode=Mode.STUDENT_MESSENGER_CONTACTS, settings=ATTENDANCE_ON, as_of=DAY)
    with caplog.at_level("INFO", logger="contact_prefs_sqlite"):
        receipt = store.commit(plan(spec, store.snapshot(spec)), actor="office")
        undo = store.undo(receipt.batch_id, actor="office")
    logged = caplog.text
    assert receipt.batch_id in logged and undo.batch_id in logged
    for point in DISTRICT.contact_points:
        if point.address:
            assert point.address not in logged
    assert "555" not in repr(store)


def test_keep_preferences_moves_the_address_and_its_consent_follows_the_new_address(store: SQLiteStore) -> None:
    (cell,) = [p for p in store.dump().contact_points if p.key == ("gn", Method.CELL_PHONE)]
    edited = attrs.evolve(cell, enabled={Reason.TEACHER}, source="portal", revoked=True)
    store.load(Snapshot(contact_points=[edited]))
    store.load(Snapshot(contact_points=[attrs.evolve(cell, address="555-0999")]), keep_preferences=True)
    (kept,) = [p for p in store.dump().contact_points if p.key == cell.key]
    assert kept == attrs.evolve(edited, address="555-0999", revoked=False)  # nothing revokes 555-0999
    store.load(Snapshot(contact_points=[cell]), keep_preferences=True)  # back: the old number's ledger revokes it
    (back,) = [p for p in store.dump().contact_points if p.key == cell.key]
    assert back == edited


def test_a_point_gone_since_planning_conflicts_and_nothing_is_written(store: SQLiteStore) -> None:
    spec = BatchSpec(mode=Mode.STUDENT_MESSENGER_CONTACTS, settings=ATTENDANCE_ON, as_of=DAY)
    changeset = plan(spec, store.snapshot(spec))
    (gone,) = [p for p in store.dump().contact_points if p.key == ("gs", Method.CELL_PHONE)]
    store.load(Snapshot(), remove=Snapshot(contact_points=[gone]))
    before = store.dump()

    with pytest.raises(ConflictError) as raised:
        store.commit(changeset, actor="office")
    assert {c.point_key for c in raised.value.conflicts} == {gone.key}
    assert store.dump() == before
    assert store.history() == ()


def test_the_version_is_a_counter_that_moves_with_every_write(tmp_path: Path) -> None:
    with SQLiteStore.open(str(tmp_path / "district.db")) as store:
        versions = [store.dump().version]
        store.load(Snapshot())
        versions.append(store.dump().version)
        spec = BatchSpec(mode=Mode.STUDENTS, settings={}, as_of=DAY)
        store.commit(plan(spec, store.snapshot(spec)), actor="office")  # an empty batch is still a write
        versions.append(store.dump().version)
    assert len(set(versions)) == 3
    with sqlite3.connect(tmp_path / "district.db") as connection:
        assert connection.execute("SELECT version FROM state").fetchone() == (int(versions[-1]),)
    connection.close()


# --- history as one document per batch ------------------------------------------------------------


def test_reading_a_points_document_finds_each_point_by_primary_key(store: SQLiteStore) -> None:
    # Never a scan of contact_points once per element: that would be quadratic.
    sql = sqlite_store._POINTS_NOW
    steps = [row[3] for row in store._connection.execute(f"EXPLAIN QUERY PLAN {sql}", {"points": "[]"})]
    assert steps == ["SCAN e VIRTUAL TABLE INDEX 1:", "SEARCH p USING PRIMARY KEY (owner_id=? AND method=?) LEFT-JOIN"]


@pytest.mark.parametrize("statement", ["_COMMIT_POINT", "_RESTORE_POINT"])
def test_every_write_finds_its_point_by_primary_key(store: SQLiteStore, statement: str) -> None:
    sql = getattr(sqlite_store, statement)
    steps = [row[3] for row in store._connection.execute(f"EXPLAIN QUERY PLAN {sql}", [""] * sql.count("?"))]
    assert steps == ["SEARCH contact_points USING PRIMARY KEY (owner_id=? AND method=?)"]


def test_a_conflict_lists_the_changes_of_exactly_the_conflicting_points_in_plan_order(store: SQLiteStore) -> None:
    changeset = plan(ATTENDANCE_AND_TEACHER_ON, store.snapshot(ATTENDANCE_AND_TEACHER_ON))
    assert [u.key for u in changeset.point_updates()] == [CELL_GN, CELL_GS, PHONE_HN]
    points = {p.key: p for p in store.dump().contact_points}
    store.load(
        Snapshot(contact_points=[attrs.evolve(points[PHONE_HN], enabled={Reason.GENERAL})]),  # changed
        remove=Snapshot(contact_points=[points[CELL_GN]]),  # gone
    )
    before = store.dump()

    with pytest.raises(ConflictError) as raised:
        store.commit(changeset, actor="office")
    assert raised.value.conflicts == tuple(c for c in changeset.changes if c.point_key in {CELL_GN, PHONE_HN})
    assert store.dump() == before
    assert store.history() == ()


CELL_GN, CELL_GS, PHONE_HN = ("gn", Method.CELL_PHONE), ("gs", Method.CELL_PHONE), ("hn", Method.HOUSEHOLD_PHONE)
AT = datetime.datetime(2026, 11, 30, 8, 0, tzinfo=datetime.UTC)


def write_version_1_batch(
    connection: sqlite3.Connection, batch_id: str, at: datetime.datetime, changeset: ChangeSet, **links: str
) -> None:
    """Record ``changeset`` as schema version 1 did: a ``batches`` row, then one ``batch_points`` row per point."""
    cursor = connection.execute(
        "INSERT INTO batches (batch_id, actor, at, spec, counts, applied, undoes, undone_by) "
        "VALUES (?, 'office', ?, ?, ?, ?, ?, ?)",
        (
            batch_id,
            at.isoformat(),
            history_rows.spec_json(changeset.spec),
            history_rows.counts_json(changeset.counts()),
            len(changeset),
            links.get("undoes"),
            links.get("undone_by"),
        ),
    )
    connection.executemany(
        "INSERT INTO batch_points VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                cursor.lastrowid,
                position,
                u.owner_id,
                u.method.value,
                u.source_before.value,
                u.enabled_before.mask,
                u.enabled_after.mask,
                None if u.affects == {u.owner_id} else json.dumps(sorted(u.affects)),
            )
            for position, u in enumerate(changeset.point_updates())
        ],
    )


def v1_record(batch_id: str, at: datetime.datetime, changeset: ChangeSet, **links: str) -> BatchRecord:
    """What version 1's history gave for a batch written by :func:`write_version_1_batch`."""
    return BatchRecord(
        batch_id=batch_id,
        actor="office",
        at=at,
        spec=changeset.spec,
        counts=changeset.counts(),
        changes=changeset.changes,
        **links,
    )


def test_a_version_1_history_reads_and_undoes_exactly_as_before_after_migrating(tmp_path: Path) -> None:
    # A district where a batch was committed, a second one committed and undone, all under version 1.
    first_spec = BatchSpec(mode=Mode.STUDENT_MESSENGER_CONTACTS, settings=ATTENDANCE_ON, as_of=DAY)
    first = plan(first_spec, DISTRICT)
    second_spec = attrs.evolve(first_spec, settings={Reason.TEACHER: Setting.ON, Reason.GENERAL: Setting.ON})
    second = plan(second_spec, first.apply_to(DISTRICT))
    undo = second.inverse()  # nothing is revoked: the undo writes the whole inverse
    assert PHONE_HN in {u.key for u in first.point_updates()}  # a household phone: affects more than its owner
    path = tmp_path / "district.db"
    connection = connect(str(path), migrations=schema.MIGRATIONS[:1])
    with connection:
        for name, records in first.apply_to(DISTRICT).collections().items():
            connection.executemany(TABLES[name].upsert(), map(TABLES[name].to_row, records))
        write_version_1_batch(connection, "b1", AT, first)
        write_version_1_batch(connection, "b2", AT + datetime.timedelta(hours=1), second, undone_by="u2")
        write_version_1_batch(connection, "u2", AT + datetime.timedelta(hours=2), undo, undoes="b2")
    connection.close()
    # What version 1 gave: every record with its changes rebuilt exactly, newest first.
    expected = (
        v1_record("u2", AT + datetime.timedelta(hours=2), undo, undoes="b2"),
        v1_record("b2", AT + datetime.timedelta(hours=1), second, undone_by="u2"),
        v1_record("b1", AT, first),
    )

    with SQLiteStore.open(str(path)) as store:
        assert schema.user_version(store._connection) == len(schema.MIGRATIONS)
        assert store.history() == expected
        with pytest.raises(ContactPrefsError, match="already undone"):
            store.undo("b2", actor="office")
        receipt = store.undo("b1", actor="office")
        assert (receipt.undoes, receipt.applied, dict(receipt.counts)) == ("b1", len(first), first.inverse().counts())
        assert set(store.dump().contact_points) == set(DISTRICT.contact_points)
        newest, *older = store.history()
        assert (newest.batch_id, newest.undoes, newest.changes) == (receipt.batch_id, "b1", first.inverse().changes)
        assert older == [expected[0], expected[1], attrs.evolve(expected[2], undone_by=receipt.batch_id)]
