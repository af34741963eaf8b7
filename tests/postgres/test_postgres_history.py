"""What the PostgreSQL store's history records about whom each change affects."""

from __future__ import annotations

from contact_prefs import (
    BatchSpec,
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
from contact_prefs.testing.strategies import DAY

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
