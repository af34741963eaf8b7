"""The value types: enums, reason sets, records and snapshots."""

from __future__ import annotations

import datetime
import pickle

import attrs
import pytest

from contact_prefs import (
    ContactPoint,
    Enrollment,
    HouseholdMember,
    Method,
    Mode,
    Person,
    PointUpdate,
    Reason,
    ReasonSet,
    Setting,
    SkipReason,
    Snapshot,
    SnapshotError,
    Source,
)
from contact_prefs.reasons import BY_MASK

DAY = datetime.date(2026, 11, 30)


@pytest.mark.parametrize("kind", [Reason, Method, Mode, Setting, Source, SkipReason])
def test_enum_values_are_lower_case_member_names(kind: type) -> None:
    for member in kind:
        assert member.value == member.name.lower()
        assert kind(member.value) is member


def test_enum_order_is_the_display_order() -> None:
    assert [r.label for r in Reason] == [
        "Emergency",
        "Attendance",
        "Behavior",
        "Staff",
        "General",
        "Food Service",
        "Priority",
        "Teacher",
    ]
    assert [m.label for m in Method] == [
        "Household Phone",
        "Cell Phone",
        "Work Phone",
        "Other Phone",
        "Email",
        "Secondary Email",
    ]
    assert Mode.CENSUS_STAFF.label == "Census/Staff"


def test_enum_lookup_forgives_case_dashes_and_spaces() -> None:
    assert Reason("attendance") is Reason.ATTENDANCE
    assert Reason("Food-Service") is Reason.FOOD_SERVICE
    assert Reason("FOOD SERVICE") is Reason.FOOD_SERVICE
    assert Mode("student-messenger-contacts") is Mode.STUDENT_MESSENGER_CONTACTS
    with pytest.raises(ValueError):
        Reason("lunch")


def test_reason_set_is_an_immutable_set_in_reason_order() -> None:
    reasons = ReasonSet([Reason.TEACHER, "emergency", Reason.GENERAL])
    assert list(reasons) == [Reason.EMERGENCY, Reason.GENERAL, Reason.TEACHER]
    assert len(reasons) == 3
    assert Reason.GENERAL in reasons
    assert Reason.STAFF not in reasons
    assert "general" not in reasons  # members are reasons, not strings
    assert reasons == ReasonSet([Reason.GENERAL, Reason.TEACHER, Reason.EMERGENCY])
    assert reasons != ReasonSet([Reason.GENERAL])
    with pytest.raises(AttributeError):
        reasons.add(Reason.STAFF)  # type: ignore[attr-defined]


def test_reason_sets_are_interned_ints() -> None:
    reasons = ReasonSet([Reason.EMERGENCY, Reason.ATTENDANCE])
    assert reasons.mask == 0b11
    assert ReasonSet.from_mask(0b11) is reasons is BY_MASK[0b11]
    assert [r.mask for r in BY_MASK] == list(range(256))
    assert pickle.loads(pickle.dumps(reasons)) is reasons
    assert ReasonSet.all().mask == 0xFF and len(ReasonSet.all()) == len(Reason)
    for wrong in (256, -1, "3", 1.0, True):
        with pytest.raises(ValueError, match="not a reason mask"):
            ReasonSet.from_mask(wrong)  # type: ignore[arg-type]
    # An interned set is shared by every point that holds it: its mask can never change.
    with pytest.raises(AttributeError, match="immutable"):
        reasons.mask = 0
    with pytest.raises(AttributeError, match="immutable"):
        del reasons.mask
    assert reasons.mask == 0b11


def test_reason_set_operations_stay_reason_sets() -> None:
    a = ReasonSet([Reason.EMERGENCY, Reason.GENERAL])
    b = ReasonSet([Reason.GENERAL, Reason.TEACHER])
    assert a | b == ReasonSet([Reason.EMERGENCY, Reason.GENERAL, Reason.TEACHER])
    assert a & b == ReasonSet([Reason.GENERAL])
    assert a - b == ReasonSet([Reason.EMERGENCY])
    assert a ^ b == ReasonSet([Reason.EMERGENCY, Reason.TEACHER])
    assert ReasonSet([Reason.GENERAL]) <= a
    assert isinstance(a | [Reason.STAFF], ReasonSet)


def test_contact_point_accepts_strings_and_iterables() -> None:
    point = ContactPoint(owner_id="g1", method="cell_phone", enabled={"attendance"}, text=[Reason.EMERGENCY])
    assert point.method is Method.CELL_PHONE
    assert point.enabled == ReasonSet([Reason.ATTENDANCE])
    assert point.text == ReasonSet([Reason.EMERGENCY])
    assert point.source is Source.DEFAULT and not point.revoked and point.address == ""
    assert point.key == ("g1", Method.CELL_PHONE)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        point.address = "x"  # type: ignore[misc]


def test_only_phones_carry_text_preferences() -> None:
    with pytest.raises(ValueError, match=r"only phones send texts"):
        ContactPoint(owner_id="g1", method=Method.EMAIL, text=[Reason.GENERAL])


def test_contact_point_repr_never_shows_the_address() -> None:
    point = ContactPoint(owner_id="g1", method=Method.EMAIL, address="parent@example.org")
    assert "parent@example.org" not in repr(point)
    assert "redacted" in repr(point)


def test_dated_records_are_active_between_start_and_end_inclusive() -> None:
    member = HouseholdMember(household_id="h", person_id="p", start=DAY, end=DAY + datetime.timedelta(days=2))
    assert not member.is_active(DAY - datetime.timedelta(days=1))
    assert member.is_active(DAY)
    assert member.is_active(DAY + datetime.timedelta(days=2))
    assert not member.is_active(DAY + datetime.timedelta(days=3))
    assert HouseholdMember(household_id="h", person_id="p").is_active(datetime.date.min)


def test_records_reject_bad_values_naming_the_field() -> None:
    with pytest.raises(ValueError, match=r"Person.id"):
        Person(id="")
    with pytest.raises(ValueError, match=r"ends .* before it starts"):
        Enrollment(student_id="s", school_id="a", calendar_id="c", start=DAY, end=DAY - datetime.timedelta(days=1))
    with pytest.raises(ValueError, match=r"Enrollment.start must be a date"):
        Enrollment(student_id="s", school_id="a", calendar_id="c", start=datetime.datetime(2026, 1, 1))  # type: ignore[arg-type]


def test_snapshot_stores_any_iterables_as_tuples() -> None:
    snapshot = Snapshot(persons=(Person(id=p) for p in "ab"), contact_points=[], version="7")
    assert snapshot.persons == (Person(id="a"), Person(id="b"))
    assert snapshot.contact_points == ()
    assert len(snapshot) == 2


def test_snapshot_rejects_two_points_with_one_key_naming_the_key() -> None:
    points = [
        ContactPoint(owner_id="g1", method=Method.EMAIL, address="one@example.org"),
        ContactPoint(owner_id="g1", method=Method.EMAIL, address="two@example.org"),
    ]
    with pytest.raises(SnapshotError, match=r"owner_id='g1', method='email'") as error:
        Snapshot(contact_points=points)
    assert "example.org" not in str(error.value)


def test_sorted_snapshots_of_one_state_are_equal() -> None:
    a = ContactPoint(owner_id="a", method=Method.EMAIL)
    b = ContactPoint(owner_id="a", method=Method.CELL_PHONE)
    undated = HouseholdMember(household_id="h", person_id="p")
    dated = HouseholdMember(household_id="h", person_id="p", start=DAY)
    one = Snapshot(contact_points=[a, b], household_members=[dated, undated])
    two = Snapshot(contact_points=[b, a], household_members=[undated, dated])
    assert one != two
    assert one.sorted() == two.sorted()
    assert one.sorted().contact_points == (b, a)


@pytest.mark.parametrize(
    ("method", "affects", "only_owner"),
    [
        (Method.EMAIL, {"g1"}, True),
        (Method.HOUSEHOLD_PHONE, {"g1", "g2"}, False),
        (Method.HOUSEHOLD_PHONE, {"g2"}, False),  # a household id is never its own member
        (Method.HOUSEHOLD_PHONE, set(), False),  # a household with no active member left
    ],
)
def test_an_update_knows_whether_it_affects_only_its_owner(method: Method, affects: set[str], only_owner: bool) -> None:
    update = PointUpdate(
        owner_id="g1",
        method=method,
        source_before=Source.DEFAULT,
        enabled_before=ReasonSet(),
        enabled_after=ReasonSet({Reason.GENERAL}),
        affects=frozenset(affects),
    )
    assert update.affects_only_owner is only_owner
