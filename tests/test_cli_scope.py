"""Why a batch reaches nobody: the core's diagnosis on small districts, and the command line's scope checks."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from contact_prefs import BatchSpec, Snapshot
from contact_prefs.enums import Method
from contact_prefs.records import ContactPoint, Enrollment, HouseholdMember, Person, Relationship
from contact_prefs.scope import closest_ids, diagnose, unknown_scope_ids

from .test_cli import SAMPLE, fails, ok, run

DAY = datetime.date(2026, 10, 1)
WHERE = "school north, all calendars"


def enrolled(*students: str, start: datetime.date | None = datetime.date(2026, 8, 20)) -> list[Enrollment]:
    return [
        Enrollment(student_id=s, school_id="north", calendar_id="north:2027", start=start, end=None) for s in students
    ]


def spec(mode: str = "student_messenger_contacts", **options: object) -> BatchSpec:
    return BatchSpec(mode=mode, settings={"general": "on"}, school_id="north", as_of=DAY, **options)  # type: ignore[arg-type]


def test_no_enrollment_on_the_day_names_the_days_the_enrollments_cover() -> None:
    district = Snapshot(
        enrollments=[
            Enrollment(student_id="s1", school_id="north", calendar_id="north:2021",
                       start=datetime.date(2020, 8, 20), end=datetime.date(2021, 6, 10)),
            Enrollment(student_id="s2", school_id="north", calendar_id="north:2021",
                       start=datetime.date(2020, 9, 1), end=datetime.date(2021, 5, 1)),
        ]
    )  # fmt: skip
    found = diagnose(spec(), district, WHERE)
    assert found is not None and found.step == "enrollment"
    assert found.message() == (
        "nobody is in scope: no student is enrolled on 2026-10-01 in school north, all calendars; "
        "the 2 enrollment(s) there cover 2020-08-20 to 2021-06-10"
    )
    elsewhere = diagnose(spec(calendar_id="north:2099"), district, "school north, calendar north:2099")
    assert elsewhere is not None
    assert elsewhere.message() == (
        "nobody is in scope: no enrollment is in school north, calendar north:2099, on any day"
    )


def test_students_without_relationships_mean_the_data_has_no_guardians() -> None:
    district = Snapshot(persons=[Person(id=s) for s in ("s1", "s2")], enrollments=enrolled("s1", "s2"))
    found = diagnose(spec(), district, WHERE)
    assert found is not None and (found.step, found.students, found.relationships) == ("messenger", 2, 0)
    assert found.message() == (
        "nobody is in scope: 2 student(s) enrolled on 2026-10-01 in school north, all calendars, "
        "but no relationship marks a messenger contact: the data has no guardians for them"
    )
    flagless = Snapshot(
        enrollments=enrolled("s1"), relationships=[Relationship(student_id="s1", contact_id="g1", messenger=False)]
    )
    message = diagnose(spec(), flagless, WHERE).message()  # type: ignore[union-attr]
    assert message.endswith("but none of their 1 relationship(s) has the Messenger flag")


def test_contacts_without_a_saved_address_are_the_step_that_came_up_empty() -> None:
    district = Snapshot(
        enrollments=enrolled("s1", "s2"),
        relationships=[Relationship(student_id="s1", contact_id="g1"), Relationship(student_id="s2", contact_id="g2")],
        contact_points=[ContactPoint(owner_id="g1", method=Method.CELL_PHONE, address="")],
    )
    found = diagnose(spec(), district, WHERE)
    assert found is not None and (found.step, found.students, found.contacts) == ("address", 2, 2)
    assert found.message() == (
        "nobody is in scope: 2 student(s) enrolled on 2026-10-01 in school north, all calendars with "
        "2 messenger contact(s), but none has a saved phone or e-mail (own or household)"
    )
    # A household phone reaches its members: then somebody is reached, and there is nothing to diagnose.
    reached = Snapshot(
        enrollments=enrolled("s1"),
        relationships=[Relationship(student_id="s1", contact_id="g1")],
        household_members=[HouseholdMember(household_id="h1", person_id="g1")],
        contact_points=[ContactPoint(owner_id="h1", method=Method.HOUSEHOLD_PHONE, address="(280) 555-0100")],
    )
    assert diagnose(spec(), reached, WHERE) is None


def test_a_student_filter_that_keeps_nobody_is_named() -> None:
    found = diagnose(spec("students", filter_ids=["x1", "x2"]), Snapshot(enrollments=enrolled("s1")), WHERE)
    assert found is not None and found.message() == (
        "nobody is in scope: 1 student(s) enrolled on 2026-10-01 in school north, all calendars, "
        "but none of them is among the 2 filter id(s)"
    )


def test_unknown_school_and_calendar_ids_come_with_the_closest_known() -> None:
    district = Snapshot(
        enrollments=[
            Enrollment(student_id="s1", school_id="central-high", calendar_id="central-high:2027"),
            Enrollment(student_id="s2", school_id="riverside-middle", calendar_id="riverside-middle:2027"),
        ]
    )
    assert closest_ids("centrl-high", ["central-high", "riverside-middle"]) == ("central-high",)
    assert closest_ids("CENTRAL-HIGH", ["central-high"]) == ("central-high",)
    assert closest_ids("Grand Bend High School", ["central-high"]) == ()
    typo = BatchSpec(mode="students", settings={}, school_id="centrl-high", calendar_id="central-high:2027")
    (unknown,) = unknown_scope_ids(typo, district)
    assert (unknown.option, unknown.value, unknown.closest) == ("--school", "centrl-high", ("central-high",))
    known = BatchSpec(mode="students", settings={}, school_id="central-high", calendar_id="riverside-middle:2027")
    assert unknown_scope_ids(known, district) == ()
    census = BatchSpec(mode="census_staff", settings={}, school_id="nowhere", filter_ids=["p1"])
    assert unknown_scope_ids(census, district) == ()


# -- the command line ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def roster(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose default store holds the OneRoster sample: students, teachers, no guardians."""
    folder = tmp_path_factory.mktemp("roster")
    ok(folder, "import", "oneroster", str(SAMPLE))
    return folder


def test_a_roster_without_guardians_says_so(roster: Path) -> None:
    args = ("plan", "--school", "255901001", "--as-of", "2021-03-01", "--set", "attendance=on", "--format", "json")
    students = json.loads(ok(roster, *args, "--mode", "students"))["recipients"]
    result = run(roster, *args, "--mode", "student-messenger-contacts")
    assert result.returncode == 0 and json.loads(result.stdout)["recipients"] == 0
    assert result.stderr == (
        f"contact-prefs: warning: nobody is in scope: {students} student(s) enrolled on 2021-03-01 in school "
        "255901001, all calendars, but no relationship marks a messenger contact: the data has no guardians for them\n"
    )


def test_a_day_the_enrollments_do_not_cover_says_which_they_cover(roster: Path) -> None:
    result = run(roster, "plan", "--mode", "students", "--school", "255901001", "--set", "attendance=on",
                 "--as-of", "2026-03-01")  # fmt: skip
    assert result.returncode == 0
    assert "warning: nobody is in scope: no student is enrolled on 2026-03-01 in school 255901001" in result.stderr
    assert "enrollment(s) there cover 20" in result.stderr


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_an_unknown_school_or_calendar_is_a_usage_error_with_the_closest_ids(roster: Path, command: str) -> None:
    extra = ("--actor", "ann", "--yes") if command == "apply" else ()
    base = (command, "--mode", "students", "--set", "attendance=on", "--as-of", "2021-03-01", *extra)
    error = fails(roster, *base, "--school", "2559O1001")  # a letter O for a zero
    assert "argument --school: '2559O1001' is not a school id in this store (did you mean '255901001'? " in error
    # A value that looks like a phone number is never repeated, not even inside a suggestion.
    error = fails(roster, *base, "--school", "25590100")
    assert "argument --school: a value that looks like a phone number is not a school id in this store" in error
    assert "25590100" not in error
    error = fails(roster, *base, "--school", "Grand Bend High School")
    assert "argument --school: 'Grand Bend High School' is not a school id in this store" in error
    assert "did you mean" not in error and "contact-prefs info lists the schools and calendars" in error
    error = fails(roster, *base, "--school", "255901001", "--calendar", "nowhere")
    assert "argument --calendar: 'nowhere' is not a calendar id in this store" in error
    assert json.loads(ok(roster, "history", "--format", "json")) == []
