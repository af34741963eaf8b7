"""``LoadingContract``: loads upsert and remove by key; snapshots plan like everything; versions move on writes.

This module imports pytest and Hypothesis: only tests import it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ..enums import Method, Reason, Source
from ..planning import plan
from ..reasons import ReasonSet
from ..records import ContactPoint, DistrictAssignment, Enrollment, HouseholdMember, Person, Relationship
from ..snapshot import Snapshot
from ..spec import BatchSpec
from . import strategies
from .base import EXAMPLES, ContractBase
from .checks import CheckedStore, RawPoint
from .district import (
    CELL,
    CROWDED_DISTRICTS,
    DAY,
    DISTRICT,
    G1_CELL,
    G1_MAIL,
    G2_MAIL,
    H1_PHONE,
    HOUSEHOLD_PHONE,
    MAIL,
    NOTHING_SAVED,
    OFF_SPEC,
    OTHER_MAIL,
    SPEC,
    SPECS,
)
from .expected import LedgerOfLoads, holding, key_variants, records

__all__ = ["LoadingContract"]

CheckedFactory = Callable[[], CheckedStore]


class LoadingContract(ContractBase):
    """``load`` (upsert by key, remove, ``keep_preferences``), ``dump``, ``snapshot`` and the version."""

    # -- load: upsert by key ------------------------------------------------

    def test_load_then_dump_gives_the_records_back(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        assert records(store.dump()) == records(DISTRICT)

    def test_the_stored_columns_mean_what_the_records_say(self, store: CheckedStore) -> None:
        """The rows hold the documented forms: a bit per reason in ``Reason`` order, the source's value."""
        store.load(DISTRICT)
        assert store.stored(G1_CELL) == RawPoint(address=CELL, enabled=1, text=1 | 64, source="portal", revoked=0)
        assert store.stored(G1_MAIL) == RawPoint(address=MAIL, enabled=0, text=0, source="default", revoked=0)
        assert store.stored(G2_MAIL) == RawPoint(
            address=OTHER_MAIL, enabled=1 | 16, text=0, source="staff", revoked=0
        )
        assert store.stored(H1_PHONE) == RawPoint(
            address=HOUSEHOLD_PHONE, enabled=0, text=1, source="import", revoked=0
        )
        assert store.stored(NOTHING_SAVED) == RawPoint(address="", enabled=1, text=0, source="default", revoked=0)
        every = ContactPoint(
            owner_id="t1",
            method=Method.WORK_PHONE,
            address=CELL,
            enabled=set(Reason),
            text={Reason.TEACHER, Reason.FOOD_SERVICE, Reason.BEHAVIOR},
            source=Source.BATCH,
            revoked=True,
        )
        store.load(Snapshot(contact_points=[every]))
        assert store.stored(every) == RawPoint(
            address=CELL, enabled=255, text=128 | 32 | 4, source="batch", revoked=255
        )
        assert store.stored(ContactPoint(owner_id="t1", method=Method.EMAIL)) is None  # no row: none invented

    @EXAMPLES
    @given(district=strategies.districts())
    def test_any_district_round_trips(self, new_checked_store: CheckedFactory, district: Snapshot) -> None:
        with new_checked_store() as store:
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
    def test_load_replaces_the_record_with_the_same_key(self, store: CheckedStore, old: Any, new: Any) -> None:
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
    def test_a_start_of_none_is_a_key_value_of_its_own(self, store: CheckedStore, dated: Any) -> None:
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

    def test_a_student_can_enroll_twice_in_one_calendar(self, store: CheckedStore) -> None:
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
    def test_records_differing_in_any_key_field_are_distinct(self, store: CheckedStore, record: Any) -> None:
        variants = [record, *(attrs.evolve(record, **{name: value}) for name, value in key_variants(record))]
        store.load(holding(*variants))
        assert records(store.dump()) == records(holding(*variants))

    def test_the_last_of_two_records_with_one_key_in_a_load_wins(self, store: CheckedStore) -> None:
        """A load upserts its records in order, like one load per record."""
        first = Enrollment(student_id="s", school_id="a", calendar_id="c", start=None)
        last = attrs.evolve(first, end=DAY)
        store.load(Snapshot(enrollments=[first, last], persons=[Person(id="p", name="A"), Person(id="p", name="B")]))
        assert records(store.dump()) == records(Snapshot(enrollments=[last], persons=[Person(id="p", name="B")]))

    def test_records_may_name_ids_that_are_not_stored(self, store: CheckedStore) -> None:
        orphans = Snapshot(
            household_members=[HouseholdMember(household_id="nowhere", person_id="nobody")],
            enrollments=[Enrollment(student_id="nobody", school_id="nowhere", calendar_id="never")],
            relationships=[Relationship(student_id="nobody", contact_id="no-one")],
            assignments=[DistrictAssignment(person_id="nobody")],
            contact_points=[ContactPoint(owner_id="nobody", method=Method.WORK_PHONE, address=CELL)],
        )
        store.load(orphans)
        assert records(store.dump()) == records(orphans)

    def test_an_empty_address_loads(self, store: CheckedStore) -> None:
        store.load(Snapshot(contact_points=[NOTHING_SAVED]))
        assert store.dump().contact_points == (NOTHING_SAVED,)

    def test_remove_deletes_by_key_and_ignores_absent_keys(self, store: CheckedStore) -> None:
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
        assert store.stored(G1_CELL) is None  # the row is gone, not just hidden from dump()

    def test_remove_then_upsert_in_one_load(self, store: CheckedStore) -> None:
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
        assert store.stored(G2_MAIL) is None

    def test_keep_preferences_changes_only_the_address_of_existing_points(self, store: CheckedStore) -> None:
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
        self,
        new_checked_store: CheckedFactory,
        first: Snapshot,
        second: Snapshot,
        remove: Snapshot,
        keep_preferences: bool,
    ) -> None:
        expected: dict[str, dict[Any, Any]] = {name: {r.key: r for r in rs} for name, rs in first.collections().items()}
        ledgers = LedgerOfLoads()
        ledgers.load(first.contact_points)
        for name, rs in remove.collections().items():
            for r in rs:
                expected[name].pop(r.key, None)
        loaded = []
        for name, rs in second.collections().items():
            for r in rs:
                old = expected[name].get(r.key)
                if keep_preferences and name == "contact_points" and old is not None:
                    r = attrs.evolve(old, address=r.address, revoked=ReasonSet())  # the new address's ledger decides
                expected[name][r.key] = r
                if name == "contact_points":
                    loaded.append(r)
        ledgers.load(loaded)
        expected["contact_points"] = {p.key: ledgers.as_stored(p) for p in expected["contact_points"].values()}
        with new_checked_store() as store:
            store.load(first)
            store.load(second, remove=remove, keep_preferences=keep_preferences)
            assert records(store.dump()) == records(holding(*(r for rs in expected.values() for r in rs.values())))
            for gone in first.contact_points:
                if gone.key not in expected["contact_points"]:
                    assert store.stored(gone) is None

    # -- snapshot and version -----------------------------------------------

    @EXAMPLES
    @given(district=CROWDED_DISTRICTS, spec=SPECS)
    def test_planning_a_snapshot_equals_planning_everything(
        self, new_checked_store: CheckedFactory, district: Snapshot, spec: BatchSpec
    ) -> None:
        with new_checked_store() as store:
            store.load(district)
            everything = store.dump()
            narrowed = store.snapshot(spec)
            assert narrowed.version == everything.version
            assert plan(spec, narrowed) == plan(spec, everything)
            for name, held in narrowed.collections().items():
                assert set(held) <= set(everything.collections()[name]), f"snapshot invented {name}"

    def test_version_is_stable_between_writes(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        version = store.dump().version
        store.history()
        assert store.snapshot(SPEC).version == version
        assert store.snapshot(OFF_SPEC).version == version
        assert store.dump().version == version

    def test_version_changes_on_every_write(self, store: CheckedStore) -> None:
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

    def test_a_change_set_is_based_on_the_version(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        assert plan(SPEC, store.snapshot(SPEC)).basis == store.dump().version
