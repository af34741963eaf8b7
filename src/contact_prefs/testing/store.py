"""The store contract as tests: ``StoreContract``, a mixin for a backend's test module.

A backend proves it is a :class:`contact_prefs.Store` by subclassing the mixin
in a ``Test*`` class and overriding one fixture, ``new_store``::

    import itertools

    import pytest
    from contact_prefs import open_store
    from contact_prefs.testing.store import StoreContract

    class TestMyStore(StoreContract):
        @pytest.fixture
        def new_store(self, tmp_path):
            numbers = itertools.count()
            return lambda: open_store(f"mine:///{tmp_path}/{next(numbers)}.db")

``DISTRICT`` and ``SPEC`` (a small district and a batch that changes all
four of its saved points) are there for a backend's own tests too.

This module imports pytest and Hypothesis: only tests import it.
"""

from __future__ import annotations

import collections
import datetime
import logging
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..changes import Change, ChangeSet, count_changes
from ..enums import Method, Mode, Reason, Setting, Source
from ..errors import ConflictError, ContactPrefsError, UnknownBatchError
from ..planning import plan
from ..reasons import ReasonSet
from ..records import ContactPoint, DistrictAssignment, Enrollment, HouseholdMember, Person, Relationship
from ..rules import restore_within_consent
from ..snapshot import Snapshot, merge
from ..spec import BatchSpec
from ..store import BatchRecord, Receipt, Store
from . import strategies

__all__ = ["CROWDED_DISTRICTS", "DISTRICT", "SPEC", "SPECS", "StoreContract", "StoreFactory"]

StoreFactory = Callable[[], Store]
"""What the ``new_store`` fixture returns: each call opens a fresh, empty store."""

DAY = strategies.DAY

# Personal data the tests look for where it must never appear (errors, logs, reprs).
CELL = "+1 (555) 010-4242"
MAIL = "private.parent@example.org"
OTHER_MAIL = "second.guardian@example.org"
HOUSEHOLD_PHONE = "+1 (555) 010-7777"
ADDRESSES = (CELL, MAIL, OTHER_MAIL, HOUSEHOLD_PHONE)

# A little district: student s1 in north:2026, guardians g1 and g2 with the
# Messenger flag, g1 and s1 sharing household h1's phone.
G1_CELL = ContactPoint(
    owner_id="g1",
    method=Method.CELL_PHONE,
    address=CELL,
    enabled={Reason.EMERGENCY},
    text={Reason.EMERGENCY, Reason.PRIORITY},
    source=Source.PORTAL,
)
G1_MAIL = ContactPoint(owner_id="g1", method=Method.EMAIL, address=MAIL, source=Source.DEFAULT)
G2_MAIL = ContactPoint(
    owner_id="g2",
    method=Method.EMAIL,
    address=OTHER_MAIL,
    enabled={Reason.EMERGENCY, Reason.GENERAL},
    source=Source.STAFF,
)
H1_PHONE = ContactPoint(
    owner_id="h1", method=Method.HOUSEHOLD_PHONE, address=HOUSEHOLD_PHONE, text={Reason.EMERGENCY}, source=Source.IMPORT
)
NOTHING_SAVED = ContactPoint(owner_id="g2", method=Method.CELL_PHONE, address="", enabled={Reason.EMERGENCY})

DISTRICT = Snapshot(
    persons=[Person(id="s1", name="Student One"), Person(id="g1", name="Guardian One"), Person(id="g2")],
    household_members=[
        HouseholdMember(household_id="h1", person_id="s1"),
        HouseholdMember(household_id="h1", person_id="g1", start=DAY - datetime.timedelta(days=400)),
    ],
    enrollments=[Enrollment(student_id="s1", school_id="north", calendar_id="north:2026")],
    relationships=[Relationship(student_id="s1", contact_id="g1"), Relationship(student_id="s1", contact_id="g2")],
    contact_points=[G1_CELL, G1_MAIL, G2_MAIL, H1_PHONE, NOTHING_SAVED],
)

# Attendance on everywhere, General off at g2's e-mail: changes at all four saved points.
SPEC = BatchSpec(
    mode=Mode.STUDENT_MESSENGER_CONTACTS,
    settings={Reason.ATTENDANCE: Setting.ON, Reason.GENERAL: Setting.OFF},
    school_id="north",
    as_of=DAY,
)
# Only switches off: at g2's e-mail, General.
OFF_SPEC = BatchSpec(mode=Mode.STUDENT_MESSENGER_CONTACTS, settings={Reason.GENERAL: Setting.OFF}, as_of=DAY)
# Switches nothing.
IDLE_SPEC = BatchSpec(mode=Mode.STUDENTS, settings={}, as_of=DAY)

CROWDED_DISTRICTS = st.lists(strategies.districts(), min_size=3, max_size=6).map(merge)
"""Districts merged from a few: their records meet more often, so more specs plan changes."""

SPECS = strategies.specs().filter(lambda spec: bool(spec.reasons(Setting.ON) | spec.reasons(Setting.OFF)))
"""Specs that switch something (a spec of nothing but NO_CHANGE plans nothing)."""

EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    # Each example opens its own store through the new_store factory, so the
    # function-scoped fixture is safe; and one backend may run the contract in
    # several classes (in memory, in a file), which are different executors
    # of the same examples.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
)

# Text a store must keep exactly: quotes, SQL and LIKE metacharacters, unicode, long strings.
NASTY = st.sampled_from(
    [
        "'",
        '"',
        "''",
        "O'Brien",
        'say "hi"',
        "'); DROP TABLE contact_points; --",
        "1 OR 1=1",
        "%",
        "_",
        "\\",
        "\\x00",
        "NULL",
        "None",
        " ",
        " padded ",
        "\t\n\r",
        "ümlaut ✓ 漢字 😀",
        "\u200b",
        "x" * 5000,
    ]
)
TEXT = NASTY | st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=60)


def records(snapshot: Snapshot) -> Snapshot:
    """The snapshot's records in key order without its version: equal for equal contents."""
    return attrs.evolve(snapshot.sorted(), version="")


def changes_at(changeset: ChangeSet, *points: ContactPoint) -> list[Change]:
    keys = {point.key for point in points}
    return [change for change in changeset.changes if change.point_key in keys]


def point(snapshot: Snapshot, like: ContactPoint) -> ContactPoint:
    """The point of ``snapshot`` with the key of ``like``."""
    (found,) = [p for p in snapshot.contact_points if p.key == like.key]
    return found


def assert_utc(at: datetime.datetime) -> None:
    assert isinstance(at, datetime.datetime)
    assert at.tzinfo is not None and at.utcoffset() == datetime.timedelta(0), f"{at!r} is not in UTC"


def assert_batch_id(batch_id: str) -> None:
    parsed = uuid.UUID(hex=batch_id)
    assert parsed.hex == batch_id and parsed.version == 4, f"{batch_id!r} is not uuid.uuid4().hex"


def assert_unchanged(store: Store, before: Snapshot, history: tuple[BatchRecord, ...]) -> None:
    """Nothing was written: the same records, version and history as before."""
    after = store.dump()
    assert records(after) == records(before)
    assert after.version == before.version
    assert store.history() == history


def assert_private(text: str) -> None:
    for address in ADDRESSES:
        assert address not in text, "an address (personal data) appears in an error, a log or a repr"


def holding(*held: Any) -> Snapshot:
    """A snapshot of ``held``, each record in its collection."""

    def of(kind: type[Any]) -> list[Any]:
        return [record for record in held if isinstance(record, kind)]

    return Snapshot(
        persons=of(Person),
        household_members=of(HouseholdMember),
        enrollments=of(Enrollment),
        relationships=of(Relationship),
        assignments=of(DistrictAssignment),
        contact_points=of(ContactPoint),
    )


def key_variants(record: Any) -> list[tuple[str, Any]]:
    """One (field, value) per key field of ``record``: changing that field gives another key."""
    variants: list[tuple[str, Any]] = []
    for name in attrs.fields_dict(type(record)):
        if name == "start":
            variants.append((name, None if record.start else DAY))
        elif name == "method":
            variants.append(
                (name, Method.SECONDARY_EMAIL if record.method is not Method.SECONDARY_EMAIL else Method.EMAIL)
            )
        elif name == "id" or name.endswith("_id"):
            variants.append((name, getattr(record, name) + "2"))
    return variants


def touched(changeset: ChangeSet) -> set[tuple[str, Method]]:
    """The keys of the points ``changeset`` writes."""
    return {change.point_key for change in changeset.changes}


def undone(district: Snapshot, changeset: ChangeSet) -> tuple[Snapshot, tuple[Change, ...]]:
    """``district`` after committing ``changeset`` and undoing it, and the changes the undo writes.

    Each point goes back within consent (``restore_within_consent``): written
    points get their original source back; a point left with nothing to write
    stays as the batch left it.
    """
    revoked = {p.key: p.revoked for p in district.contact_points}
    done = changeset.apply_to(district)
    restored = {
        update.key: (update, undo)
        for update in changeset.point_updates()
        if (undo := restore_within_consent(update, revoked=revoked[update.key])) is not None
    }
    points = [
        attrs.evolve(p, enabled=restored[p.key][1].enabled_after, source=restored[p.key][0].source_before)
        if p.key in restored
        else p
        for p in done.contact_points
    ]
    changes = tuple(change for _, undo in restored.values() for change in undo.changes)
    return attrs.evolve(done, contact_points=points), changes


def edit_point(store: Store, stored: ContactPoint, edit: str) -> None:
    """Change one point the way the SIS or a parent in the portal would."""
    current = point(store.dump(), stored)
    if edit == "enabled changed":
        store.load(Snapshot(contact_points=[attrs.evolve(current, enabled=current.enabled ^ {Reason.TEACHER})]))
    elif edit == "source changed":
        other = Source.STAFF if current.source is Source.PORTAL else Source.PORTAL
        store.load(Snapshot(contact_points=[attrs.evolve(current, source=other)]))
    elif edit == "point gone":
        store.load(Snapshot(), remove=Snapshot(contact_points=[current]))
    elif edit == "newly revoked":
        store.load(Snapshot(contact_points=[attrs.evolve(current, revoked=True)]))
    else:
        raise ValueError(f"unknown edit {edit!r}")


class StoreContract:
    """The whole store contract, as tests to mix into a backend's ``Test*`` class.

    Override one fixture:

    ``new_store``
        Return a factory: a callable with no arguments that opens a fresh,
        empty, open store each time it is called (for example a new file in
        ``tmp_path`` per call).  The kit closes every store it opens.  A
        factory rather than a store because Hypothesis tests run many examples
        in one test function, and each example needs its own empty store.

    The kit provides ``store``: one store from ``new_store``, closed after the
    test.  Hypothesis tests run 30 examples each, without a deadline.
    """

    @pytest.fixture
    def new_store(self) -> StoreFactory:
        raise NotImplementedError(
            f"{type(self).__name__} must override the new_store fixture: return a callable "
            "that opens a fresh, empty, open store each time it is called"
        )

    @pytest.fixture
    def store(self, new_store: StoreFactory) -> Iterator[Store]:
        with new_store() as store:
            yield store

    # -- the protocol -------------------------------------------------------

    def test_is_a_store(self, store: Store) -> None:
        assert isinstance(store, Store)

    def test_a_new_store_is_empty(self, store: Store) -> None:
        snapshot = store.dump()
        assert len(snapshot) == 0
        assert isinstance(snapshot.version, str)
        assert store.history() == ()

    def test_stores_from_one_factory_are_independent(self, new_store: StoreFactory) -> None:
        with new_store() as first, new_store() as second:
            first.load(DISTRICT)
            assert len(second.dump()) == 0

    def test_is_a_context_manager_that_closes(self, new_store: StoreFactory) -> None:
        store = new_store()
        with store as entered:
            assert entered is store
            entered.load(DISTRICT)
            assert records(entered.dump()) == records(DISTRICT)
        store.close()  # closing a closed store is harmless
        store.close()

    def test_close_is_idempotent(self, new_store: StoreFactory) -> None:
        store = new_store()
        store.close()
        store.close()

    def test_context_manager_does_not_swallow_errors(self, new_store: StoreFactory) -> None:
        store = new_store()
        with pytest.raises(KeyError), store:
            raise KeyError("inside the block")
        store.close()

    # -- load: upsert by key ------------------------------------------------

    def test_load_then_dump_gives_the_records_back(self, store: Store) -> None:
        store.load(DISTRICT)
        assert records(store.dump()) == records(DISTRICT)

    @EXAMPLES
    @given(district=strategies.districts())
    def test_any_district_round_trips(self, new_store: StoreFactory, district: Snapshot) -> None:
        with new_store() as store:
            store.load(district)
            assert records(store.dump()) == records(district)

    @pytest.mark.parametrize(
        ("old", "new"),
        [
            (Person(id="p", name="Old"), Person(id="p", name="New")),
            (
                HouseholdMember(household_id="h", person_id="p", start=DAY),
                HouseholdMember(household_id="h", person_id="p", start=DAY, end=DAY),
            ),
            (
                Enrollment(student_id="s", school_id="a", calendar_id="c", start=DAY),
                Enrollment(student_id="s", school_id="a", calendar_id="c", start=DAY, end=DAY),
            ),
            (
                Relationship(student_id="s", contact_id="g", messenger=True),
                Relationship(student_id="s", contact_id="g", messenger=False),
            ),
            (DistrictAssignment(person_id="t", start=DAY), DistrictAssignment(person_id="t", start=DAY, end=DAY)),
            (
                ContactPoint(owner_id="g", method=Method.CELL_PHONE, address=CELL),
                ContactPoint(
                    owner_id="g",
                    method=Method.CELL_PHONE,
                    address="555-0199",
                    enabled={Reason.TEACHER},
                    text={Reason.BEHAVIOR},
                    source=Source.PORTAL,
                    revoked=True,
                ),
            ),
        ],
        ids=lambda record: type(record).__name__,
    )
    def test_load_replaces_the_record_with_the_same_key(self, store: Store, old: Any, new: Any) -> None:
        bystander = attrs.evolve(old, **dict(key_variants(old)[-1:]))
        store.load(holding(old, bystander))
        store.load(holding(new))
        assert records(store.dump()) == records(holding(new, bystander))

    @pytest.mark.parametrize(
        "dated",
        [
            HouseholdMember(household_id="h", person_id="p", start=DAY),
            Enrollment(student_id="s", school_id="a", calendar_id="c", start=DAY),
            DistrictAssignment(person_id="t", start=DAY),
        ],
        ids=lambda record: type(record).__name__,
    )
    def test_a_start_of_none_is_a_key_value_of_its_own(self, store: Store, dated: Any) -> None:
        """SQL unique indexes treat NULLs as distinct: a backend must not, or upserts duplicate."""
        open_ended = attrs.evolve(dated, start=None)
        store.load(holding(dated, open_ended))
        assert len(store.dump()) == 2

        ended = attrs.evolve(open_ended, end=DAY + datetime.timedelta(days=3))
        store.load(holding(ended))
        store.load(holding(ended))
        assert records(store.dump()) == records(holding(dated, ended))

        store.load(Snapshot(), remove=holding(open_ended))
        assert records(store.dump()) == records(holding(dated))

    def test_a_student_can_enroll_twice_in_one_calendar(self, store: Store) -> None:
        first = Enrollment(student_id="s", school_id="a", calendar_id="c", start=DAY, end=DAY)
        again = Enrollment(student_id="s", school_id="a", calendar_id="c", start=DAY + datetime.timedelta(days=9))
        store.load(Snapshot(enrollments=[first]))
        store.load(Snapshot(enrollments=[again]))
        assert records(store.dump()) == records(Snapshot(enrollments=[first, again]))

    @pytest.mark.parametrize(
        "record",
        [
            HouseholdMember(household_id="h", person_id="p", start=DAY),
            Enrollment(student_id="s", school_id="a", calendar_id="c", start=DAY),
            Relationship(student_id="s", contact_id="g"),
            DistrictAssignment(person_id="t", start=DAY),
            ContactPoint(owner_id="g", method=Method.EMAIL, address=MAIL),
        ],
        ids=lambda record: type(record).__name__,
    )
    def test_records_differing_in_any_key_field_are_distinct(self, store: Store, record: Any) -> None:
        variants = [record, *(attrs.evolve(record, **{name: value}) for name, value in key_variants(record))]
        store.load(holding(*variants))
        assert records(store.dump()) == records(holding(*variants))

    def test_the_last_of_two_records_with_one_key_in_a_load_wins(self, store: Store) -> None:
        """A load upserts its records in order, like one load per record."""
        first = Enrollment(student_id="s", school_id="a", calendar_id="c", start=None)
        last = attrs.evolve(first, end=DAY)
        store.load(Snapshot(enrollments=[first, last], persons=[Person(id="p", name="A"), Person(id="p", name="B")]))
        assert records(store.dump()) == records(Snapshot(enrollments=[last], persons=[Person(id="p", name="B")]))

    def test_records_may_name_ids_that_are_not_stored(self, store: Store) -> None:
        orphans = Snapshot(
            household_members=[HouseholdMember(household_id="nowhere", person_id="nobody")],
            enrollments=[Enrollment(student_id="nobody", school_id="nowhere", calendar_id="never")],
            relationships=[Relationship(student_id="nobody", contact_id="no-one")],
            assignments=[DistrictAssignment(person_id="nobody")],
            contact_points=[ContactPoint(owner_id="nobody", method=Method.WORK_PHONE, address=CELL)],
        )
        store.load(orphans)
        assert records(store.dump()) == records(orphans)

    def test_an_empty_address_loads(self, store: Store) -> None:
        store.load(Snapshot(contact_points=[NOTHING_SAVED]))
        assert store.dump().contact_points == (NOTHING_SAVED,)

    def test_remove_deletes_by_key_and_ignores_absent_keys(self, store: Store) -> None:
        store.load(DISTRICT)
        remove = Snapshot(
            persons=[Person(id="g2", name="any name: only the key counts")],
            household_members=[HouseholdMember(household_id="h1", person_id="s1", end=DAY)],
            enrollments=[Enrollment(student_id="s1", school_id="north", calendar_id="north:2027")],  # absent
            relationships=[Relationship(student_id="s1", contact_id="g2", messenger=False)],
            assignments=[DistrictAssignment(person_id="nobody")],  # absent
            contact_points=[attrs.evolve(G1_CELL, address="", enabled=(), source=Source.BATCH)],
        )
        store.load(Snapshot(), remove=remove)
        expected = Snapshot(
            persons=[p for p in DISTRICT.persons if p.id != "g2"],
            household_members=DISTRICT.household_members[1:],
            enrollments=DISTRICT.enrollments,
            relationships=DISTRICT.relationships[:1],
            contact_points=[G1_MAIL, G2_MAIL, H1_PHONE, NOTHING_SAVED],
        )
        assert records(store.dump()) == records(expected)

    def test_remove_then_upsert_in_one_load(self, store: Store) -> None:
        store.load(DISTRICT)
        moved = HouseholdMember(household_id="h2", person_id="g1")
        readded = attrs.evolve(G1_MAIL, address="new@example.org", enabled={Reason.TEACHER})
        store.load(
            Snapshot(household_members=[moved], contact_points=[readded]),
            remove=Snapshot(household_members=DISTRICT.household_members[1:], contact_points=[G1_MAIL, G2_MAIL]),
            keep_preferences=True,  # a point removed first is new again: it takes the loaded preferences
        )
        expected = attrs.evolve(
            DISTRICT,
            household_members=[DISTRICT.household_members[0], moved],
            contact_points=[G1_CELL, readded, H1_PHONE, NOTHING_SAVED],
        )
        assert records(store.dump()) == records(expected)

    def test_keep_preferences_changes_only_the_address_of_existing_points(self, store: Store) -> None:
        store.load(DISTRICT)
        roster = Snapshot(
            persons=[Person(id="g1", name="Renamed")],
            contact_points=[
                ContactPoint(owner_id="g1", method=Method.CELL_PHONE, address="555-0123", source=Source.IMPORT),
                attrs.evolve(G2_MAIL, address="moved@example.org", enabled=(), revoked=True, source=Source.IMPORT),
                ContactPoint(owner_id="g3", method=Method.EMAIL, address="g3@example.org", source=Source.IMPORT),
            ],
        )
        store.load(roster, keep_preferences=True)
        expected = attrs.evolve(
            DISTRICT,
            persons=[Person(id="g1", name="Renamed"), *(p for p in DISTRICT.persons if p.id != "g1")],
            contact_points=[
                attrs.evolve(G1_CELL, address="555-0123"),
                G1_MAIL,
                attrs.evolve(G2_MAIL, address="moved@example.org"),
                H1_PHONE,
                NOTHING_SAVED,
                roster.contact_points[2],
            ],
        )
        assert records(store.dump()) == records(expected)

    @EXAMPLES
    @given(
        first=strategies.districts(),
        second=strategies.districts(),
        remove=strategies.districts(),
        keep_preferences=st.booleans(),
    )
    def test_any_load_removes_then_upserts(
        self, new_store: StoreFactory, first: Snapshot, second: Snapshot, remove: Snapshot, keep_preferences: bool
    ) -> None:
        expected: dict[str, dict[Any, Any]] = {name: {r.key: r for r in rs} for name, rs in first.collections().items()}
        for name, rs in remove.collections().items():
            for r in rs:
                expected[name].pop(r.key, None)
        for name, rs in second.collections().items():
            for r in rs:
                old = expected[name].get(r.key)
                if keep_preferences and name == "contact_points" and old is not None:
                    r = attrs.evolve(old, address=r.address)
                expected[name][r.key] = r
        with new_store() as store:
            store.load(first)
            store.load(second, remove=remove, keep_preferences=keep_preferences)
            assert records(store.dump()) == records(holding(*(r for rs in expected.values() for r in rs.values())))

    # -- snapshot and version -----------------------------------------------

    @EXAMPLES
    @given(district=CROWDED_DISTRICTS, spec=SPECS)
    def test_planning_a_snapshot_equals_planning_everything(
        self, new_store: StoreFactory, district: Snapshot, spec: BatchSpec
    ) -> None:
        with new_store() as store:
            store.load(district)
            everything = store.dump()
            narrowed = store.snapshot(spec)
            assert narrowed.version == everything.version
            assert plan(spec, narrowed) == plan(spec, everything)
            for name, held in narrowed.collections().items():
                assert set(held) <= set(everything.collections()[name]), f"snapshot invented {name}"

    def test_version_is_stable_between_writes(self, store: Store) -> None:
        store.load(DISTRICT)
        version = store.dump().version
        store.history()
        assert store.snapshot(SPEC).version == version
        assert store.snapshot(OFF_SPEC).version == version
        assert store.dump().version == version

    def test_version_changes_on_every_write(self, store: Store) -> None:
        versions = [store.dump().version]

        def wrote() -> None:
            version = store.dump().version
            assert version != versions[-1]
            assert store.snapshot(SPEC).version == version
            versions.append(version)

        store.load(DISTRICT)
        wrote()
        receipt = store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff")
        wrote()
        store.load(Snapshot(persons=[Person(id="g3")]))
        wrote()
        store.undo(receipt.batch_id, actor="staff")
        wrote()
        store.load(Snapshot(), remove=Snapshot(persons=[Person(id="g3")]))
        wrote()

    def test_a_change_set_is_based_on_the_version(self, store: Store) -> None:
        store.load(DISTRICT)
        assert plan(SPEC, store.snapshot(SPEC)).basis == store.dump().version

    # -- commit -------------------------------------------------------------

    def test_commit_writes_every_change_with_source_batch(self, store: Store) -> None:
        store.load(DISTRICT)
        changeset = plan(SPEC, store.snapshot(SPEC))
        assert touched(changeset) == {G1_CELL.key, G1_MAIL.key, G2_MAIL.key, H1_PHONE.key}
        store.commit(changeset, actor="staff")
        after = store.dump()
        assert records(after) == records(changeset.apply_to(DISTRICT))
        for before in (G1_CELL, G1_MAIL, G2_MAIL, H1_PHONE):
            written = point(after, before)
            assert written.source is Source.BATCH
            assert (written.text, written.address, written.revoked) == (before.text, before.address, before.revoked)
        assert point(after, G2_MAIL).enabled == ReasonSet({Reason.EMERGENCY, Reason.ATTENDANCE})
        assert point(after, NOTHING_SAVED) == NOTHING_SAVED

    @EXAMPLES
    @given(district=CROWDED_DISTRICTS, spec=SPECS)
    def test_any_commit_writes_the_plan_and_undo_restores(
        self, new_store: StoreFactory, district: Snapshot, spec: BatchSpec
    ) -> None:
        with new_store() as store:
            store.load(district)
            changeset = plan(spec, store.snapshot(spec))
            receipt = store.commit(changeset, actor="staff")
            assert records(store.dump()) == records(changeset.apply_to(district))
            assert receipt.applied == len(changeset)
            assert dict(receipt.counts) == changeset.counts()
            # An undo takes every point back, but leaves off what it switched off where consent is revoked.
            undo = store.undo(receipt.batch_id, actor="staff")
            expected, restored = undone(district, changeset)
            assert records(store.dump()) == records(expected)
            assert undo.applied == len(restored) <= len(changeset)
            assert dict(undo.counts) == count_changes(restored)
            assert store.history()[0].changes == restored

    def test_receipt(self, store: Store) -> None:
        store.load(DISTRICT)
        changeset = plan(SPEC, store.snapshot(SPEC))
        earliest = datetime.datetime.now(datetime.UTC)
        receipt = store.commit(changeset, actor="Ms. Staff")
        latest = datetime.datetime.now(datetime.UTC)
        assert isinstance(receipt, Receipt)
        assert_batch_id(receipt.batch_id)
        assert receipt.actor == "Ms. Staff"
        assert_utc(receipt.at)
        assert earliest <= receipt.at <= latest
        assert set(receipt.counts) == {(method, reason) for method in Method for reason in Reason}
        assert dict(receipt.counts) == changeset.counts()
        assert receipt.counts[Method.EMAIL, Reason.ATTENDANCE] == 2
        assert receipt.applied == len(changeset.changes) == 5
        assert receipt.undoes is None

    def test_every_commit_gets_a_new_batch_id(self, store: Store) -> None:
        store.load(DISTRICT)
        ids = {store.commit(plan(IDLE_SPEC, store.snapshot(IDLE_SPEC)), actor="staff").batch_id for _ in range(3)}
        assert len(ids) == 3
        for batch_id in ids:
            assert_batch_id(batch_id)

    def test_an_empty_commit_is_recorded(self, store: Store) -> None:
        store.load(DISTRICT)
        changeset = plan(IDLE_SPEC, store.snapshot(IDLE_SPEC))
        assert len(changeset) == 0
        receipt = store.commit(changeset, actor="staff")
        assert receipt.applied == 0
        assert dict(receipt.counts) == changeset.counts()
        assert set(receipt.counts.values()) == {0}
        assert records(store.dump()) == records(DISTRICT)
        (record,) = store.history()
        assert (record.batch_id, record.changes, record.spec) == (receipt.batch_id, (), IDLE_SPEC)

    def test_history_is_newest_first_with_exact_records(self, store: Store) -> None:
        store.load(DISTRICT)
        first = plan(OFF_SPEC, store.snapshot(OFF_SPEC))
        first_receipt = store.commit(first, actor="alice")
        second = plan(SPEC, store.snapshot(SPEC))
        second_receipt = store.commit(second, actor="bob")
        assert store.history() == (
            BatchRecord(
                batch_id=second_receipt.batch_id,
                actor="bob",
                at=second_receipt.at,
                spec=SPEC,
                counts=second.counts(),
                changes=second.changes,
            ),
            BatchRecord(
                batch_id=first_receipt.batch_id,
                actor="alice",
                at=first_receipt.at,
                spec=OFF_SPEC,
                counts=first.counts(),
                changes=first.changes,
            ),
        )
        for record, changeset in zip(store.history(), (second, first), strict=True):
            assert dict(record.counts) == changeset.counts()
            assert_utc(record.at)
        assert first_receipt.at <= second_receipt.at

    # -- conflicts ----------------------------------------------------------

    @pytest.mark.parametrize(
        "edit",
        [
            "enabled changed",
            "source changed",
            "point gone",
            "newly revoked",
        ],
    )
    def test_a_point_that_changed_since_planning_conflicts(self, store: Store, edit: str) -> None:
        store.load(DISTRICT)
        changeset = plan(SPEC, store.snapshot(SPEC))
        edit_point(store, G2_MAIL, edit)
        before, history = store.dump(), store.history()
        with pytest.raises(ConflictError) as raised:
            store.commit(changeset, actor="staff")
        assert collections.Counter(raised.value.conflicts) == collections.Counter(changes_at(changeset, G2_MAIL))
        assert_private(str(raised.value))
        assert_unchanged(store, before, history)

    def test_every_conflicting_point_is_listed(self, store: Store) -> None:
        store.load(DISTRICT)
        changeset = plan(SPEC, store.snapshot(SPEC))
        edit_point(store, G1_CELL, "enabled changed")
        edit_point(store, H1_PHONE, "point gone")
        before, history = store.dump(), store.history()
        with pytest.raises(ConflictError) as raised:
            store.commit(changeset, actor="staff")
        expected = changes_at(changeset, G1_CELL, H1_PHONE)
        assert collections.Counter(raised.value.conflicts) == collections.Counter(expected)
        assert_unchanged(store, before, history)

    def test_a_revoked_point_can_still_be_switched_off(self, store: Store) -> None:
        store.load(DISTRICT)
        changeset = plan(OFF_SPEC, store.snapshot(OFF_SPEC))
        assert touched(changeset) == {G2_MAIL.key}
        edit_point(store, G2_MAIL, "newly revoked")
        store.commit(changeset, actor="staff")
        written = point(store.dump(), G2_MAIL)
        assert (written.enabled, written.revoked) == (ReasonSet({Reason.EMERGENCY}), True)

    def test_a_new_address_does_not_conflict(self, store: Store) -> None:
        store.load(DISTRICT)
        changeset = plan(SPEC, store.snapshot(SPEC))
        moved = attrs.evolve(G1_CELL, address="555-0188")
        store.load(Snapshot(contact_points=[moved]), keep_preferences=True)
        store.commit(changeset, actor="staff")
        assert point(store.dump(), G1_CELL).address == "555-0188"

    def test_a_stale_change_set_conflicts_after_a_commit(self, store: Store) -> None:
        store.load(DISTRICT)
        changeset = plan(SPEC, store.snapshot(SPEC))
        store.commit(changeset, actor="staff")
        before, history = store.dump(), store.history()
        with pytest.raises(ConflictError) as raised:
            store.commit(changeset, actor="staff")
        assert collections.Counter(raised.value.conflicts) == collections.Counter(changeset.changes)
        assert_unchanged(store, before, history)

    # -- undo ---------------------------------------------------------------

    def test_undo_restores_enabled_and_source(self, store: Store) -> None:
        store.load(DISTRICT)
        changeset = plan(SPEC, store.snapshot(SPEC))
        done = store.commit(changeset, actor="alice")
        undone = store.undo(done.batch_id, actor="bob")
        assert records(store.dump()) == records(DISTRICT)

        inverse = changeset.inverse()
        assert_batch_id(undone.batch_id)
        assert undone.batch_id != done.batch_id
        assert (undone.actor, undone.undoes, undone.applied) == ("bob", done.batch_id, len(changeset))
        assert dict(undone.counts) == inverse.counts()
        assert_utc(undone.at)
        assert store.history() == (
            BatchRecord(
                batch_id=undone.batch_id,
                actor="bob",
                at=undone.at,
                spec=SPEC,
                counts=inverse.counts(),
                changes=inverse.changes,
                undoes=done.batch_id,
            ),
            BatchRecord(
                batch_id=done.batch_id,
                actor="alice",
                at=done.at,
                spec=SPEC,
                counts=changeset.counts(),
                changes=changeset.changes,
                undone_by=undone.batch_id,
            ),
        )
        assert dict(store.history()[0].counts) == inverse.counts()

    def test_undo_keeps_a_new_address(self, store: Store) -> None:
        store.load(DISTRICT)
        done = store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff")
        store.load(Snapshot(contact_points=[attrs.evolve(G2_MAIL, address="555-0177")]), keep_preferences=True)
        store.undo(done.batch_id, actor="staff")
        assert point(store.dump(), G2_MAIL) == attrs.evolve(G2_MAIL, address="555-0177")

    @pytest.mark.parametrize("edit", ["enabled changed", "source changed", "point gone"])
    def test_undo_of_a_point_changed_since_conflicts(self, store: Store, edit: str) -> None:
        store.load(DISTRICT)
        changeset = plan(SPEC, store.snapshot(SPEC))
        done = store.commit(changeset, actor="staff")
        edit_point(store, G1_MAIL, edit)
        before, history = store.dump(), store.history()
        with pytest.raises(ConflictError) as raised:
            store.undo(done.batch_id, actor="staff")
        expected = changes_at(changeset.inverse(), G1_MAIL)
        assert collections.Counter(raised.value.conflicts) == collections.Counter(expected)
        assert_private(str(raised.value))
        assert_unchanged(store, before, history)
        assert store.history()[0].undone_by is None

    def test_undo_conflicts_with_a_later_batch_at_the_same_point(self, store: Store) -> None:
        store.load(DISTRICT)
        done = store.commit(plan(OFF_SPEC, store.snapshot(OFF_SPEC)), actor="staff")
        later = BatchSpec(mode=Mode.STUDENT_MESSENGER_CONTACTS, settings={Reason.TEACHER: Setting.ON}, as_of=DAY)
        store.commit(plan(later, store.snapshot(later)), actor="staff")
        before, history = store.dump(), store.history()
        with pytest.raises(ConflictError) as raised:
            store.undo(done.batch_id, actor="staff")
        assert {change.point_key for change in raised.value.conflicts} == {G2_MAIL.key}
        assert_unchanged(store, before, history)

    def test_undo_leaves_off_what_it_switched_off_at_a_point_revoked_since(self, store: Store) -> None:
        store.load(DISTRICT)
        changeset = plan(SPEC, store.snapshot(SPEC))
        done = store.commit(changeset, actor="alice")
        written = point(store.dump(), G2_MAIL)
        assert written.enabled == ReasonSet({Reason.EMERGENCY, Reason.ATTENDANCE})  # and General switched off
        store.load(Snapshot(contact_points=[attrs.evolve(written, revoked=True)]))
        undone = store.undo(done.batch_id, actor="bob")

        # At g2's e-mail Attendance goes off again and General stays off; the rest is as before.
        held = attrs.evolve(G2_MAIL, enabled={Reason.EMERGENCY}, revoked=True)
        assert records(store.dump()) == records(
            attrs.evolve(DISTRICT, contact_points=[G1_CELL, G1_MAIL, held, H1_PHONE, NOTHING_SAVED])
        )
        general_back_on = [c for c in changes_at(changeset.inverse(), G2_MAIL) if c.reason is Reason.GENERAL]
        assert len(general_back_on) == 1
        written_changes = tuple(c for c in changeset.inverse().changes if c not in general_back_on)
        assert (undone.undoes, undone.applied) == (done.batch_id, len(changeset) - 1)
        assert dict(undone.counts) == count_changes(written_changes)
        assert undone.counts[Method.EMAIL, Reason.GENERAL] == 0
        assert store.history() == (
            BatchRecord(
                batch_id=undone.batch_id,
                actor="bob",
                at=undone.at,
                spec=SPEC,
                counts=count_changes(written_changes),
                changes=written_changes,
                undoes=done.batch_id,
            ),
            BatchRecord(
                batch_id=done.batch_id,
                actor="alice",
                at=done.at,
                spec=SPEC,
                counts=changeset.counts(),
                changes=changeset.changes,
                undone_by=undone.batch_id,
            ),
        )

    def test_undo_with_nothing_left_to_write_at_a_revoked_point(self, store: Store) -> None:
        store.load(DISTRICT)
        changeset = plan(OFF_SPEC, store.snapshot(OFF_SPEC))
        assert touched(changeset) == {G2_MAIL.key}
        done = store.commit(changeset, actor="staff")
        written = attrs.evolve(point(store.dump(), G2_MAIL), revoked=True)
        store.load(Snapshot(contact_points=[written]))
        version = store.dump().version
        undone = store.undo(done.batch_id, actor="staff")

        # General stays off, so the point is not written: its source stays BATCH.
        assert point(store.dump(), G2_MAIL) == written
        assert written.source is Source.BATCH and written.enabled == ReasonSet({Reason.EMERGENCY})
        assert store.dump().version != version  # the history was written
        assert (undone.undoes, undone.applied, set(undone.counts.values())) == (done.batch_id, 0, {0})
        record, original = store.history()
        assert (record.batch_id, record.changes, record.undoes) == (undone.batch_id, (), done.batch_id)
        assert set(record.counts.values()) == {0}
        assert original.undone_by == undone.batch_id
        with pytest.raises(ContactPrefsError, match="already undone"):
            store.undo(done.batch_id, actor="staff")

    def test_undo_may_switch_off_at_a_revoked_point(self, store: Store) -> None:
        store.load(DISTRICT)
        done = store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff")
        written = point(store.dump(), G1_CELL)
        store.load(Snapshot(contact_points=[attrs.evolve(written, revoked=True)]))
        store.undo(done.batch_id, actor="staff")
        assert point(store.dump(), G1_CELL) == attrs.evolve(G1_CELL, revoked=True)

    def test_undo_twice_fails_naming_the_undo(self, store: Store) -> None:
        store.load(DISTRICT)
        done = store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff")
        undone = store.undo(done.batch_id, actor="staff")
        before, history = store.dump(), store.history()
        with pytest.raises(ContactPrefsError, match=undone.batch_id) as raised:
            store.undo(done.batch_id, actor="staff")
        assert not isinstance(raised.value, ConflictError | UnknownBatchError)
        assert "already undone" in str(raised.value)
        assert_unchanged(store, before, history)

    def test_an_undo_cannot_be_undone(self, store: Store) -> None:
        store.load(DISTRICT)
        done = store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff")
        undone = store.undo(done.batch_id, actor="staff")
        before, history = store.dump(), store.history()
        with pytest.raises(ContactPrefsError, match=undone.batch_id) as raised:
            store.undo(undone.batch_id, actor="staff")
        assert not isinstance(raised.value, ConflictError | UnknownBatchError)
        assert_unchanged(store, before, history)

    def test_undo_of_an_unknown_batch(self, store: Store) -> None:
        store.load(DISTRICT)
        store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff")
        before, history = store.dump(), store.history()
        unknown = uuid.uuid4().hex
        with pytest.raises(UnknownBatchError, match=unknown) as raised:
            store.undo(unknown, actor="staff")
        assert isinstance(raised.value, LookupError)
        assert_unchanged(store, before, history)

    def test_undo_of_one_batch_leaves_another(self, store: Store) -> None:
        store.load(DISTRICT)
        only_students = BatchSpec(mode=Mode.STUDENTS, settings={Reason.TEACHER: Setting.ON}, as_of=DAY)
        first = store.commit(plan(OFF_SPEC, store.snapshot(OFF_SPEC)), actor="staff")
        second_changes = plan(only_students, store.snapshot(only_students))
        assert touched(second_changes) == {H1_PHONE.key}
        store.commit(second_changes, actor="staff")
        store.undo(first.batch_id, actor="staff")
        assert records(store.dump()) == records(second_changes.apply_to(DISTRICT))

    # -- exact strings, private addresses -----------------------------------

    @EXAMPLES
    @given(
        person=TEXT,
        contact=TEXT,
        household=TEXT,
        school=TEXT,
        calendar=TEXT,
        name=st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00")) | NASTY,
        address=TEXT,
        household_address=TEXT,
        actor=TEXT,
    )
    def test_text_round_trips_exactly(
        self,
        new_store: StoreFactory,
        person: str,
        contact: str,
        household: str,
        school: str,
        calendar: str,
        name: str,
        address: str,
        household_address: str,
        actor: str,
    ) -> None:
        district = Snapshot(
            persons=[Person(id=person, name=name)],
            household_members=[HouseholdMember(household_id=household, person_id=person)],
            enrollments=[Enrollment(student_id=person, school_id=school, calendar_id=calendar)],
            relationships=[Relationship(student_id=person, contact_id=contact)],
            assignments=[DistrictAssignment(person_id=person)],
            contact_points=[
                ContactPoint(owner_id=person, method=Method.EMAIL, address=address),
                ContactPoint(owner_id=household, method=Method.HOUSEHOLD_PHONE, address=household_address),
            ],
        )
        spec = BatchSpec(
            mode=Mode.CENSUS_STAFF,
            settings={Reason.TEACHER: Setting.ON},
            filter_ids={person, contact},
            school_id=school,
            calendar_id=calendar,
            as_of=DAY,
        )
        with new_store() as store:
            store.load(district)
            assert records(store.dump()) == records(district)
            changeset = plan(spec, store.snapshot(spec))
            assert touched(changeset) == {(person, Method.EMAIL), (household, Method.HOUSEHOLD_PHONE)}
            receipt = store.commit(changeset, actor=actor)
            assert receipt.actor == actor
            (record,) = store.history()
            assert (record.actor, record.spec, record.changes) == (actor, spec, changeset.changes)
            store.undo(receipt.batch_id, actor=actor)
            assert records(store.dump()) == records(district)

    def test_no_address_in_errors_logs_or_reprs(self, store: Store, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.DEBUG)
        store.load(DISTRICT)
        stale = plan(SPEC, store.snapshot(SPEC))
        done = store.commit(stale, actor="staff")
        for stored in (G1_CELL, G1_MAIL, G2_MAIL, H1_PHONE):
            edit_point(store, stored, "enabled changed")
        attempts: list[Callable[[], Receipt]] = [
            lambda: store.commit(stale, actor="staff"),
            lambda: store.undo(done.batch_id, actor="staff"),
            lambda: store.undo(uuid.uuid4().hex, actor="staff"),
        ]
        errors: list[BaseException] = []
        for attempt in attempts:
            with pytest.raises(ContactPrefsError) as raised:
                attempt()
            errors.append(raised.value)
        for error in errors:
            assert_private(str(error))
            assert_private(repr(error))
            assert_private(repr(getattr(error, "conflicts", ())))
        assert_private(repr(store))
        assert_private(repr(store.dump()))
        assert_private(repr(store.history()))
        assert_private(caplog.text)
