"""Each rule of the batch, pinned by an example in the seed's own words."""

from __future__ import annotations

import datetime
from typing import Any

import attrs
import pytest

from contact_prefs import (
    BatchSpec,
    Change,
    ChangeSet,
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
    Skip,
    SkipReason,
    Snapshot,
    Source,
    plan,
)
from contact_prefs.rules import check_undoable, restore_within_consent

DAY = datetime.date(2026, 11, 30)
YESTERDAY = DAY - datetime.timedelta(days=1)
TOMORROW = DAY + datetime.timedelta(days=1)
ON, OFF = "on", "off"


def point(owner: str, method: Method, address: str = "saved", **fields: Any) -> ContactPoint:
    return ContactPoint(owner_id=owner, method=method, address=address, **fields)


def enrolled(student: str, school: str = "north", calendar: str = "north:2026", **dates: Any) -> Enrollment:
    return Enrollment(student_id=student, school_id=school, calendar_id=calendar, **dates)


def spec(mode: Mode = Mode.STUDENT_MESSENGER_CONTACTS, **fields: Any) -> BatchSpec:
    fields.setdefault("settings", {Reason.ATTENDANCE: ON})
    return BatchSpec(mode=mode, as_of=DAY, **fields)


def owners(changes: tuple[Change, ...]) -> set[str]:
    return {change.owner_id for change in changes}


# Rule 2: selection --------------------------------------------------------------------

SCHOOLS = Snapshot(
    enrollments=[
        enrolled("s1"),
        enrolled("s2", end=YESTERDAY),  # left the school
        enrolled("s3", start=TOMORROW),  # not yet enrolled
        enrolled("s4", school="south", calendar="south:2026"),
        enrolled("s5", calendar="north:2027"),
    ],
    relationships=[Relationship(student_id=s, contact_id=f"g{s[1]}") for s in ("s1", "s2", "s3", "s4", "s5")]
    + [Relationship(student_id="s1", contact_id="g9", messenger=False)],
    contact_points=[point(p, Method.EMAIL) for p in ("s1", "s2", "s3", "s4", "s5", "g1", "g2", "g3", "g4", "g5", "g9")],
)


def test_students_are_chosen_by_enrollments_active_in_the_selected_school_and_calendar() -> None:
    # Seed: "The tool looks for Enrollments in the selected school/calendar to determine the set ... updated."
    assert plan(spec(Mode.STUDENTS, school_id="north"), SCHOOLS).recipients == ("s1", "s5")
    assert plan(spec(Mode.STUDENTS, school_id="north", calendar_id="north:2026"), SCHOOLS).recipients == ("s1",)
    assert plan(spec(Mode.STUDENTS), SCHOOLS).recipients == ("s1", "s4", "s5")


def test_a_calendar_without_a_school_selects_that_calendar() -> None:
    assert plan(spec(Mode.STUDENTS, calendar_id="south:2026"), SCHOOLS).recipients == ("s4",)


def test_the_ad_hoc_student_filter_narrows_the_students() -> None:
    narrowed = plan(spec(Mode.STUDENTS, filter_ids={"s4", "s5", "s2"}), SCHOOLS)
    assert narrowed.recipients == ("s4", "s5")
    assert plan(spec(Mode.STUDENTS, filter_ids=set()), SCHOOLS).recipients == ()


def test_messenger_contacts_are_the_students_contacts_with_the_messenger_flag() -> None:
    result = plan(spec(Mode.STUDENT_MESSENGER_CONTACTS, school_id="north"), SCHOOLS)
    assert result.recipients == ("g1", "g5")  # g9's relationship has no Messenger flag
    assert owners(result.changes) == {"g1", "g5"}


CENSUS = Snapshot(
    persons=[Person(id="t1"), Person(id="t2"), Person(id="t3")],
    assignments=[
        DistrictAssignment(person_id="t1", start=YESTERDAY),
        DistrictAssignment(person_id="t2", end=YESTERDAY),  # assignment ended
    ],
    contact_points=[point(p, Method.WORK_PHONE) for p in ("t1", "t2", "t3", "t4")],
)


def test_census_staff_updates_only_people_with_a_district_assignment() -> None:
    # Seed: "When updating Census/Staff, staff members must have a district assignment."
    result = plan(spec(Mode.CENSUS_STAFF, filter_ids={"t1", "t2", "t3", "t4"}), CENSUS)
    assert result.recipients == ("t1",)
    assert owners(result.changes) == {"t1"}
    assert result.skips == (
        Skip(owner_id="t2", reason=SkipReason.NO_DISTRICT_ASSIGNMENT),
        Skip(owner_id="t3", reason=SkipReason.NO_DISTRICT_ASSIGNMENT),
        Skip(owner_id="t4", reason=SkipReason.UNKNOWN_PERSON),
    )


def test_census_staff_ignores_school_and_calendar() -> None:
    scoped = spec(Mode.CENSUS_STAFF, filter_ids={"t1"}, school_id="nowhere", calendar_id="never")
    assert plan(scoped, CENSUS).recipients == ("t1",)


# Rule 3: contact points ------------------------------------------------------------------


def test_only_methods_with_something_saved_can_be_set() -> None:
    # Seed: "The guardians must also have a phone number or email address saved in order for
    # the Contact Reason option(s) to be enabled."
    district = Snapshot(
        enrollments=[enrolled("s1"), enrolled("s2")],
        relationships=[Relationship(student_id="s1", contact_id="g1"), Relationship(student_id="s2", contact_id="g2")],
        contact_points=[
            point("g1", Method.CELL_PHONE),
            point("g1", Method.EMAIL, address=""),
            point("g2", Method.EMAIL, ""),
        ],
    )
    result = plan(spec(), district)
    assert [(c.owner_id, c.method) for c in result.changes] == [("g1", Method.CELL_PHONE)]
    assert result.skips == (Skip(owner_id="g2", reason=SkipReason.NO_CONTACT_METHOD),)


HOUSEHOLD = Snapshot(
    enrollments=[enrolled("s1"), enrolled("s2")],
    relationships=[Relationship(student_id="s1", contact_id="g1"), Relationship(student_id="s2", contact_id="g1")],
    household_members=[
        HouseholdMember(household_id="h1", person_id="g1"),
        HouseholdMember(household_id="h1", person_id="s1", start=YESTERDAY),
        HouseholdMember(household_id="h1", person_id="g8", end=YESTERDAY),  # moved out
        HouseholdMember(household_id="h1", person_id="g7"),  # a member outside the batch's scope
        HouseholdMember(household_id="h2", person_id="g1", end=YESTERDAY),  # a household g1 left
    ],
    contact_points=[
        point("h1", Method.HOUSEHOLD_PHONE),
        point("h2", Method.HOUSEHOLD_PHONE),
        point("g1", Method.CELL_PHONE),
    ],
)


def test_a_recipient_reaches_its_own_points_and_its_active_households_phone() -> None:
    result = plan(spec(), HOUSEHOLD)
    assert [(c.owner_id, c.method) for c in result.changes] == [
        ("g1", Method.CELL_PHONE),
        ("h1", Method.HOUSEHOLD_PHONE),
    ]


def test_a_point_reached_from_several_recipients_is_planned_once() -> None:
    # s1 and s2 are siblings: their guardian g1 and household phone are set once.
    result = plan(spec(Mode.STUDENTS), HOUSEHOLD)
    assert result.recipients == ("s1", "s2")
    assert [(c.owner_id, c.method) for c in result.changes] == [("h1", Method.HOUSEHOLD_PHONE)]
    assert result.skips == (Skip(owner_id="s2", reason=SkipReason.NO_CONTACT_METHOD),)


# Rule 4: reasons and settings --------------------------------------------------------------


def test_on_and_off_change_only_what_differs_and_no_change_leaves_the_setting() -> None:
    # Seed: "No Change. This option leaves the setting that is currently active."
    district = Snapshot(
        enrollments=[enrolled("s1")],
        contact_points=[point("s1", Method.EMAIL, enabled={Reason.GENERAL, Reason.TEACHER, Reason.PRIORITY})],
    )
    batch = spec(Mode.STUDENTS, settings={"attendance": ON, "general": OFF, "teacher": ON, "priority": "no_change"})
    result = plan(batch, district)
    assert [(c.reason, c.before, c.after) for c in result.changes] == [
        (Reason.ATTENDANCE, False, True),
        (Reason.GENERAL, True, False),
    ]
    change = result.changes[0]
    assert change.enabled_before == district.contact_points[0].enabled
    assert change.source_before is Source.DEFAULT


STAFF = Snapshot(
    persons=[Person(id="t1"), Person(id="g1")],
    enrollments=[enrolled("s1")],
    relationships=[Relationship(student_id="s1", contact_id="t1"), Relationship(student_id="s1", contact_id="g1")],
    assignments=[DistrictAssignment(person_id="t1")],
    household_members=[HouseholdMember(household_id="h1", person_id="t1")],
    contact_points=[
        point("t1", Method.WORK_PHONE),
        point("g1", Method.CELL_PHONE),
        point("h1", Method.HOUSEHOLD_PHONE),
    ],
)


def test_staff_messages_go_only_to_own_points_of_people_with_a_district_assignment() -> None:
    # Seed: "Staff ... This is applicable only to those individuals who have a District Assignments record."
    result = plan(spec(settings={"staff": ON}), STAFF)
    assert [(c.owner_id, c.method, c.reason) for c in result.changes] == [("t1", Method.WORK_PHONE, Reason.STAFF)]
    assert result.skips == ()  # ignored silently elsewhere: never a household phone, never g1


def test_staff_off_is_ignored_where_staff_does_not_apply() -> None:
    district = Snapshot(
        enrollments=[enrolled("s1")],
        relationships=[Relationship(student_id="s1", contact_id="g1")],
        contact_points=[point("g1", Method.CELL_PHONE, enabled={Reason.STAFF})],
    )
    assert len(plan(spec(settings={"staff": OFF}), district)) == 0


def test_text_preferences_are_never_read_or_changed() -> None:
    district = Snapshot(
        enrollments=[enrolled("s1")],
        contact_points=[point("s1", Method.CELL_PHONE, text={Reason.ATTENDANCE}, enabled={Reason.GENERAL})],
    )
    result = plan(spec(Mode.STUDENTS, settings={"attendance": ON, "general": OFF}), district)
    assert [(c.reason, c.after) for c in result.changes] == [(Reason.ATTENDANCE, True), (Reason.GENERAL, False)]
    assert result.apply_to(district).contact_points[0].text == ReasonSet([Reason.ATTENDANCE])


# Rule 5: the portal and revoked consent ------------------------------------------------------

PORTAL = Snapshot(
    enrollments=[enrolled("s1")],
    contact_points=[
        point("s1", Method.CELL_PHONE, source=Source.PORTAL),
        point("s1", Method.EMAIL, source=Source.PORTAL, enabled={Reason.ATTENDANCE}),  # already as wanted
        point("s1", Method.WORK_PHONE, source=Source.STAFF),
    ],
)


def test_a_batch_may_overwrite_what_parents_set_in_the_portal() -> None:
    # Seed: "If parents have set preferences through the Campus Portal, this wizard may overwrite those settings."
    result = plan(spec(Mode.STUDENTS), PORTAL)
    assert [c.method for c in result.changes] == [Method.CELL_PHONE, Method.WORK_PHONE]
    assert result.portal_overwrites == 1


def test_keep_portal_leaves_a_portal_point_whole_with_one_skip() -> None:
    result = plan(spec(Mode.STUDENTS, keep_portal=True, settings={"attendance": ON, "general": ON}), PORTAL)
    assert [c.method for c in result.changes] == [Method.WORK_PHONE, Method.WORK_PHONE]
    assert result.skips == (
        Skip(owner_id="s1", reason=SkipReason.PORTAL_PROTECTED, method=Method.CELL_PHONE),
        Skip(owner_id="s1", reason=SkipReason.PORTAL_PROTECTED, method=Method.EMAIL),
    )
    assert result.portal_overwrites == 0


def test_keep_portal_does_not_skip_a_portal_point_that_needs_nothing() -> None:
    result = plan(spec(Mode.STUDENTS, keep_portal=True), PORTAL)
    assert Skip(owner_id="s1", reason=SkipReason.PORTAL_PROTECTED, method=Method.EMAIL) not in result.skips


def test_revoked_consent_is_never_switched_back_on_but_off_still_happens() -> None:
    district = Snapshot(
        enrollments=[enrolled("s1")],
        contact_points=[
            point("s1", Method.CELL_PHONE, revoked=True, enabled={Reason.GENERAL}),
            point("s1", Method.EMAIL, revoked=True, enabled={Reason.GENERAL, Reason.ATTENDANCE}),
        ],
    )
    result = plan(spec(Mode.STUDENTS, settings={"attendance": ON, "general": OFF}), district)
    assert [(c.method, c.reason, c.after) for c in result.changes] == [
        (Method.CELL_PHONE, Reason.GENERAL, False),
        (Method.EMAIL, Reason.GENERAL, False),
    ]
    # Only the cell phone had an ON dropped; the e-mail already had attendance.
    assert result.skips == (Skip(owner_id="s1", reason=SkipReason.CONSENT_REVOKED, method=Method.CELL_PHONE),)


def test_consent_withdrawn_for_some_reasons_holds_back_only_those() -> None:
    district = Snapshot(
        enrollments=[enrolled("s1")],
        contact_points=[point("s1", Method.CELL_PHONE, revoked={Reason.GENERAL}, enabled={Reason.BEHAVIOR})],
    )
    result = plan(spec(Mode.STUDENTS, settings={"attendance": ON, "general": ON, "behavior": OFF}), district)
    assert [(c.reason, c.after) for c in result.changes] == [(Reason.ATTENDANCE, True), (Reason.BEHAVIOR, False)]
    assert result.skips == (Skip(owner_id="s1", reason=SkipReason.CONSENT_REVOKED, method=Method.CELL_PHONE),)
    assert result.updates[0].revoked_before == ReasonSet({Reason.GENERAL})


# Rule 6: who is affected -----------------------------------------------------------------------


def test_household_phone_changes_affect_every_active_member_regardless_of_mode() -> None:
    # Seed: "changes to the Household Phone affect all members of the household, regardless of the mode selected."
    for mode in (Mode.STUDENTS, Mode.STUDENT_MESSENGER_CONTACTS):
        household_changes = [c for c in plan(spec(mode), HOUSEHOLD).changes if c.method is Method.HOUSEHOLD_PHONE]
        assert [c.affects for c in household_changes] == [frozenset({"g1", "s1", "g7"})]
    personal = plan(spec(), HOUSEHOLD).changes[0]
    assert personal.affects == {"g1"}


def test_census_staff_reaches_the_household_phone_too() -> None:
    district = Snapshot(
        persons=[Person(id="t1")],
        assignments=[DistrictAssignment(person_id="t1")],
        household_members=[HouseholdMember(household_id="h9", person_id="t1")],
        contact_points=[point("h9", Method.HOUSEHOLD_PHONE)],
    )
    result = plan(spec(Mode.CENSUS_STAFF, filter_ids={"t1"}), district)
    assert [(c.owner_id, c.affects) for c in result.changes] == [("h9", frozenset({"t1"}))]


# Rule 7: order, basis, and the results ---------------------------------------------------------


def test_changes_and_skips_have_a_stable_order_and_the_basis_is_the_snapshot_version() -> None:
    district = Snapshot(
        enrollments=[enrolled(s) for s in ("s2", "s1", "s3")],
        contact_points=[
            point("s2", Method.EMAIL),
            point("s1", Method.EMAIL),
            point("s1", Method.CELL_PHONE, revoked=True),
            point("s3", Method.WORK_PHONE, source=Source.PORTAL),
        ],
        version="v42",
    )
    result = plan(spec(Mode.STUDENTS, settings={"teacher": ON, "attendance": ON}, keep_portal=True), district)
    assert result.basis == "v42"
    assert [(c.owner_id, c.method, c.reason) for c in result.changes] == [
        ("s1", Method.EMAIL, Reason.ATTENDANCE),
        ("s1", Method.EMAIL, Reason.TEACHER),
        ("s2", Method.EMAIL, Reason.ATTENDANCE),
        ("s2", Method.EMAIL, Reason.TEACHER),
    ]
    assert [(s.owner_id, s.reason) for s in result.skips] == [
        ("s1", SkipReason.CONSENT_REVOKED),
        ("s3", SkipReason.PORTAL_PROTECTED),
    ]


def test_counts_are_the_results_table_and_render_shows_it() -> None:
    # Seed: "In a table, contact methods list on the left and each message type is across the top."
    result = plan(spec(Mode.STUDENTS, settings={"attendance": ON}), HOUSEHOLD)
    counts = result.counts()
    assert len(counts) == len(Method) * len(Reason)
    assert counts[Method.HOUSEHOLD_PHONE, Reason.ATTENDANCE] == 1
    assert sum(counts.values()) == len(result) == 1
    text = result.render()
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("Contact Method"))
    assert header.split()[2:5] == ["Emergency", "Attendance", "Behavior"]
    household = next(line for line in lines if line.startswith("Household Phone"))
    assert household.split()[2:] == ["0", "1", "0", "0", "0", "0", "0", "0", "1"]
    assert "Recipients: 2" in text and "Skipped: No contact method 1" in text and "Portal overwrites: 0" in text


def test_inverse_swaps_before_and_after_against_the_state_the_batch_leaves() -> None:
    result = plan(spec(settings={"attendance": ON}), PORTAL_HOUSE)
    undo = result.inverse()
    assert [(c.before, c.after, c.source_before) for c in undo.changes] == [(True, False, Source.BATCH)]
    assert undo.changes[0].enabled_before == ReasonSet([Reason.ATTENDANCE, Reason.GENERAL])
    assert undo.inverse().changes[0].after is True


PORTAL_HOUSE = Snapshot(
    enrollments=[enrolled("s1")],
    relationships=[Relationship(student_id="s1", contact_id="g1")],
    contact_points=[point("g1", Method.CELL_PHONE, enabled={Reason.GENERAL}, source=Source.PORTAL)],
)


def test_a_change_set_refuses_changes_that_contradict_their_point() -> None:
    good = plan(spec(settings={"attendance": ON}), PORTAL_HOUSE).changes[0]
    for bad in (
        attrs.evolve(good, before=True),  # switches nothing
        attrs.evolve(good, before=True, after=False),  # attendance was off at this point
    ):
        with pytest.raises(ValueError, match=r"inconsistent change at 'g1' cell_phone for attendance"):
            ChangeSet(spec=spec(), basis="", changes=[good, bad] if bad.after else [bad])
    with pytest.raises(ValueError, match=r"inconsistent change"):
        ChangeSet(spec=spec(), basis="", changes=[good, good])


def test_undo_restores_a_point_but_never_switches_on_where_consent_is_revoked() -> None:
    # The batch switched General off and Attendance on at g1's cell phone.
    batch = plan(spec(settings={"attendance": ON, "general": OFF}), PORTAL_HOUSE)
    (update,) = batch.updates
    assert restore_within_consent(update, revoked=ReasonSet()) == update.inverse()
    assert restore_within_consent(update, revoked=ReasonSet({Reason.TEACHER})) == update.inverse()  # not General
    held = restore_within_consent(update, revoked=ReasonSet.all())
    assert held is not None
    assert (held.enabled_before, held.enabled_after) == (update.enabled_after, ReasonSet())  # General stays off
    assert held.source_before is Source.BATCH
    only_off = plan(spec(settings={"general": OFF}), PORTAL_HOUSE).updates[0]
    assert restore_within_consent(only_off, revoked=ReasonSet.all()) is None  # nothing left to write
    just_general = restore_within_consent(update, revoked=ReasonSet({Reason.GENERAL}))
    assert just_general is not None and just_general.enabled_after == ReasonSet()  # per reason


def test_a_batch_is_undone_once_and_an_undo_never() -> None:
    check_undoable("b1", undoes=None, undone_by=None)
    with pytest.raises(ContactPrefsError, match=r"batch b1 was already undone by batch u1"):
        check_undoable("b1", undoes=None, undone_by="u1")
    with pytest.raises(ContactPrefsError, match=r"batch u1 is the undo of batch b1 and cannot be undone"):
        check_undoable("u1", undoes="b1", undone_by=None)


# Household and person ids, empty household phones ------------------------------------------


@pytest.mark.parametrize(("saved", "setting"), [(ReasonSet(), ON), (ReasonSet({Reason.STAFF}), OFF)])
def test_a_household_named_like_an_assigned_person_never_gets_the_staff_reason(saved: ReasonSet, setting: str) -> None:
    # Household and person ids are separate namespaces: person 1001 holds the District
    # Assignment; household 1001's phone is a household phone, which Staff never reaches.
    district = Snapshot(
        persons=[Person(id="1001")],
        assignments=[DistrictAssignment(person_id="1001")],
        household_members=[HouseholdMember(household_id="1001", person_id="1001")],
        contact_points=[
            point("1001", Method.WORK_PHONE, enabled=saved),
            point("1001", Method.HOUSEHOLD_PHONE, enabled=saved),
        ],
    )
    result = plan(spec(Mode.CENSUS_STAFF, filter_ids={"1001"}, settings={"staff": setting}), district)
    assert [(c.owner_id, c.method, c.reason) for c in result.changes] == [("1001", Method.WORK_PHONE, Reason.STAFF)]


def test_a_household_phone_with_no_number_saved_is_never_changed() -> None:
    district = Snapshot(
        enrollments=[enrolled("s1")],
        household_members=[HouseholdMember(household_id="h1", person_id="s1")],
        contact_points=[point("h1", Method.HOUSEHOLD_PHONE, address="")],
    )
    result = plan(spec(Mode.STUDENTS), district)
    assert result.changes == ()
    assert result.skips == (Skip(owner_id="s1", reason=SkipReason.NO_CONTACT_METHOD),)
