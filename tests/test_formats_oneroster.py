"""OneRoster 1.1 import: the real sample export, hand-made files with guardians, every error."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import pytest

from contact_prefs import (
    BatchSpec,
    ContactPoint,
    DistrictAssignment,
    Enrollment,
    Method,
    Mode,
    Person,
    Reason,
    ReasonSet,
    Relationship,
    Source,
    open_store,
    plan,
)
from contact_prefs.formats import FormatError, read_oneroster

SAMPLE = Path("/work/shared/data/oneroster-sample/LMS-Toolkit")
if not SAMPLE.is_dir():  # the project's copy of the shared data, when run from a clone
    SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "oneroster-sample" / "LMS-Toolkit"

SCHOOL = "255901001"
CALENDAR = "255901001:2021"


# -- the real export ---------------------------------------------------------------


def test_the_sample_export_gives_students_staff_points_and_merged_enrollments() -> None:
    roster = read_oneroster(SAMPLE)
    assert dict(roster.summary) == {
        "students": 8,
        "contacts": 0,
        "staff": 2,
        "other_users": 0,
        "contact_points": 18,
        "enrollments": 16,
        "relationships": 0,
        "assignments": 2,
        "ignored_links": 0,
        "removed_users": 0,
        "removed_enrollments": 0,
    }
    snapshot = roster.snapshot
    assert Person(id="604918", name="Peter Nash") in snapshot.persons
    # Two class rows per term, one enrollment per term: fall and spring of the 2020-2021 calendar.
    assert [e for e in snapshot.enrollments if e.student_id == "604863"] == [
        Enrollment(
            student_id="604863",
            school_id=SCHOOL,
            calendar_id=CALENDAR,
            start=datetime.date(2020, 8, 17),
            end=datetime.date(2020, 12, 18),
        ),
        Enrollment(
            student_id="604863",
            school_id=SCHOOL,
            calendar_id=CALENDAR,
            start=datetime.date(2021, 1, 4),
            end=datetime.date(2021, 5, 28),
        ),
    ]
    assert set(snapshot.assignments) == {DistrictAssignment(person_id="207268"), DistrictAssignment(person_id="207270")}
    points = {point.key: point for point in snapshot.contact_points}
    cell = points["604863", Method.CELL_PHONE]
    assert cell.address == "(950) 336 6601"  # kept as written
    assert (cell.enabled, cell.source) == (ReasonSet(), Source.IMPORT) and not cell.revoked
    assert points["604863", Method.EMAIL].address == "Mary.Archer@studentgps.org"
    assert {method for owner, method in points if owner == "207270"} == {Method.EMAIL}
    assert len(roster.remove) == 0


def test_the_sample_loads_and_a_batch_reaches_its_students() -> None:
    roster = read_oneroster(SAMPLE)
    with open_store("memory://") as store:
        store.load(roster.snapshot, remove=roster.remove, keep_preferences=True)
        spec = BatchSpec(
            mode=Mode.STUDENTS, settings={"attendance": "on"}, school_id=SCHOOL, as_of=datetime.date(2020, 10, 1)
        )
        change_set = plan(spec, store.snapshot(spec))
        assert len(change_set.recipients) == 8
        assert len(change_set) == 16  # an e-mail and a cell phone each


# -- hand-made files with guardians -------------------------------------------------

USERS_HEADER = (
    "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,"
    "givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password"
)
ROSTER = {
    "manifest.csv": "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n"
    "file.orgs,bulk\nfile.academicSessions,bulk\nfile.classes,bulk\nfile.users,bulk\n"
    "file.enrollments,bulk\nfile.courses,absent\n",
    "orgs.csv": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId,metadata.city\n"
    "d1,,,Example District,district,,,\nnorth,,,North School,school,,d1,\n",
    "academicSessions.csv": "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,"
    "schoolYear\n"
    "y26,,,2025-2026,schoolYear,2025-08-15,2026-06-10,,2026\n"
    "fall,,,Fall,semester,2025-08-15,2025-12-19,y26,2026\n"
    "spring,,,Spring,semester,2026-01-05,2026-06-10,y26,2026\n",
    "classes.csv": "sourcedId,status,dateLastModified,title,schoolSourcedId,termSourcedIds\n"
    'math,,,Math,north,"fall,spring"\nart,,,Art,north,fall\n',
    "users.csv": USERS_HEADER + "\n"
    "s1,,,true,north,student,ada,,Ada,Lovelace,,,ada@example.org,,,p1,05,\n"
    "s2,,,true,north,student,ben,,Ben,Lovelace,,,,,,,05,\n"
    'p1,,,true,north,parent,pat,,Pat,Lovelace,,,pat@example.org,555-0102,(201) 555-0103,"s1, s2",,\n'
    "g1,,,true,north,guardian,gale,,Gale,Smith,,,,,555-0104,s2,,\n"
    "r1,,,true,north,relative,ruth,,Ruth,Lovelace,,,,,,s1,,\n"
    "t1,,,true,north,teacher,tom,,Tom,Teach,,,tom@example.org,,,,,,\n"
    "a1,active,,true,north,Administrator,amy,,Amy,Admin,,,,,,,,\n"
    "x1,,,true,north,proctor,xavi,,Xavi,Proctor,,,,,,s1,,\n"
    "old,tobedeleted,,true,north,guardian,old,,Olga,Gone,,,,,,s1,,",  # no final newline
    "enrollments.csv": "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,"
    "primary,beginDate,endDate\n"
    "e1,,,math,north,s1,student,false,2025-08-15,2025-12-19\n"
    "e2,,,art,north,s1,student,false,2025-08-15,2025-11-01\n"
    "e3,,,math,north,s2,student,false,,\n"
    "e4,,,math,north,t1,teacher,true,,\n"
    "e5,tobedeleted,,art,north,s2,student,false,2025-09-01,\n",
}


def write_roster(folder: Path, changes: dict[str, tuple[str, str]] | None = None) -> Path:
    """The hand-made roster in ``folder``, each file's text with ``old`` replaced by ``new``."""
    folder.mkdir(exist_ok=True)
    for name, text in ROSTER.items():
        old, new = (changes or {}).get(name, ("", ""))
        if old:
            assert old in text, f"{old!r} is not in {name}"
            text = text.replace(old, new)
        (folder / name).write_text(text, encoding="utf-8", newline="")
    return folder


def test_guardians_link_to_students_from_either_side(tmp_path: Path) -> None:
    roster = read_oneroster(write_roster(tmp_path))
    assert sorted(roster.snapshot.relationships, key=lambda link: link.key) == [
        Relationship(student_id="s1", contact_id="p1"),
        Relationship(student_id="s1", contact_id="r1"),
        Relationship(student_id="s2", contact_id="g1"),
        Relationship(student_id="s2", contact_id="p1"),
    ]
    assert all(link.messenger for link in roster.snapshot.relationships)
    assert roster.summary["ignored_links"] == 1  # the proctor's
    assert roster.summary["contacts"] == 3 and roster.summary["other_users"] == 1


def test_sms_is_the_cell_phone_and_phone_then_another_phone(tmp_path: Path) -> None:
    points = {p.key: p.address for p in read_oneroster(write_roster(tmp_path)).snapshot.contact_points}
    assert points == {
        ("s1", Method.EMAIL): "ada@example.org",
        ("p1", Method.EMAIL): "pat@example.org",
        ("p1", Method.CELL_PHONE): "555-0102",
        ("p1", Method.OTHER_PHONE): "(201) 555-0103",
        ("g1", Method.CELL_PHONE): "555-0104",
        ("t1", Method.EMAIL): "tom@example.org",
    }


def test_enrollments_merge_fall_back_to_term_dates_and_get_removed(tmp_path: Path) -> None:
    roster = read_oneroster(write_roster(tmp_path))
    day = datetime.date
    north = {"school_id": "north", "calendar_id": "north:2026"}
    assert roster.snapshot.enrollments == (
        Enrollment(student_id="s1", **north, start=day(2025, 8, 15), end=day(2025, 12, 19)),  # the later end
        Enrollment(student_id="s2", **north, start=day(2025, 8, 15), end=day(2026, 6, 10)),  # the terms' dates
    )
    assert roster.remove.enrollments == (Enrollment(student_id="s2", **north, start=day(2025, 9, 1)),)


def test_staff_get_open_assignments_and_deleted_users_go(tmp_path: Path) -> None:
    roster = read_oneroster(write_roster(tmp_path))
    assert roster.snapshot.assignments == (DistrictAssignment(person_id="t1"), DistrictAssignment(person_id="a1"))
    assert [p.id for p in roster.snapshot.persons] == ["s1", "s2", "p1", "g1", "r1", "t1", "a1", "x1"]
    assert roster.remove.persons == (Person(id="old"),)
    assert roster.remove.relationships == (Relationship(student_id="s1", contact_id="old"),)
    assert {p.key for p in roster.remove.contact_points} == {
        ("old", method) for method in Method if method is not Method.HOUSEHOLD_PHONE
    }
    assert roster.summary["removed_users"] == 1 and roster.summary["removed_enrollments"] == 1


def test_an_import_keeps_preferences_updates_addresses_and_removes(tmp_path: Path) -> None:
    with open_store("memory://") as store:
        store.load(
            read_oneroster(write_roster(tmp_path / "first")).snapshot,
        )
        store.load(
            type(store.dump())(
                persons=[Person(id="old")],
                relationships=[Relationship(student_id="s1", contact_id="old")],
                contact_points=[
                    ContactPoint(owner_id="p1", method=Method.EMAIL, address="pat@example.org",
                                 enabled={Reason.GENERAL}, source=Source.PORTAL),
                    ContactPoint(owner_id="old", method=Method.EMAIL, address="olga@example.org"),
                ],
            )
        )  # fmt: skip
        again = read_oneroster(
            write_roster(tmp_path / "second", {"users.csv": ("pat@example.org", "pat.new@example.org")})
        )
        store.load(again.snapshot, remove=again.remove, keep_preferences=True)
        stored = store.dump()
        point = next(p for p in stored.contact_points if p.key == ("p1", Method.EMAIL))
        assert (point.address, point.enabled, point.source) == (
            "pat.new@example.org",
            ReasonSet({Reason.GENERAL}),
            Source.PORTAL,
        )
        assert "old" not in {p.id for p in stored.persons}
        assert all("old" not in (p.owner_id, getattr(p, "contact_id", "")) for p in stored.contact_points)
        assert Relationship(student_id="s1", contact_id="old") not in stored.relationships


def test_real_export_quirks_are_tolerated(tmp_path: Path) -> None:
    folder = write_roster(
        tmp_path,
        {
            # an extra empty trailing field, CRLF line ends, a byte-order mark, blank status and dates
            "users.csv": ("tom@example.org,,,,,,\n", "tom@example.org,,,,,,,\r\n"),
            "orgs.csv": ("\n", "\r\n"),
            "classes.csv": ("sourcedId", "\ufeffsourcedId"),
        },
    )  # fmt: skip
    assert read_oneroster(folder).summary["staff"] == 2


def test_users_of_other_roles_are_persons_without_links(tmp_path: Path) -> None:
    roster = read_oneroster(
        write_roster(tmp_path, {"users.csv": ("r1,,,true,north,relative", "r1,,,true,north,Mentor")})
    )
    assert Person(id="r1", name="Ruth Lovelace") in roster.snapshot.persons
    assert all("r1" not in (link.student_id, link.contact_id) for link in roster.snapshot.relationships)
    assert roster.summary["other_users"] == 2 and roster.summary["ignored_links"] == 2


def test_a_file_the_manifest_marks_absent_is_not_needed(tmp_path: Path) -> None:
    folder = write_roster(tmp_path, {"manifest.csv": ("file.enrollments,bulk", "file.enrollments,absent")})
    (folder / "enrollments.csv").unlink()
    roster = read_oneroster(folder)
    assert roster.snapshot.enrollments == () and roster.summary["students"] == 2


@pytest.mark.parametrize(
    ("file", "old", "new", "line", "column", "message"),
    [
        ("manifest.csv", "oneroster.version,1.1", "oneroster.version,1.0", 3, "value", "'1.0' is not a supported"),
        ("manifest.csv", "oneroster.version,1.1\n", "", None, None, "does not name the oneroster.version"),
        ("manifest.csv", "file.users,bulk", "file.users,full", 7, "value", "'full' is not bulk, delta or absent"),
        ("users.csv", ",role,", ",kind,", 1, None, "lacks the column(s) role"),
        (
            "users.csv",
            "s2,,,true,north,student",
            "s2,,,true,north, ",
            3,
            "role",
            "' ' is empty, and a value is required",
        ),
        ("users.csv", "s2,,,true", "s1,,,true", 3, "sourcedId", "'s1' is on line 2 already"),
        ("users.csv", "s2,,,true", ",,,true", 3, "sourcedId", "'' is empty, and a value is required"),
        ("users.csv", ',"s1, s2",,', ',"s1, s9",,', 4, "agentSourcedIds", "'s9' names no user in users.csv"),
        ("users.csv", "ben,,Ben,Lovelace,,,,,,,05,", "ben,,Ben,Lovelace,,,,,,,05,,x", 3, None, "has 19 fields"),
        ("users.csv", "ben,,Ben,Lovelace,,,,,,,05,", "ben,,Ben", 3, None, "has 9 fields where the header has 18"),
        (
            "enrollments.csv",
            "2025-08-15,2025-11-01",
            "2025-08-15,2025-13-01",
            3,
            "endDate",
            "'2025-13-01' is not a date",
        ),
        ("enrollments.csv", "2025-08-15,2025-11-01", "2025-08-15,2025-08-01", 3, "endDate", "is before the enrollment"),
        ("enrollments.csv", "e3,,,math", "e3,,,gym", 4, "classSourcedId", "'gym' names no class in classes.csv"),
        ("enrollments.csv", "math,north,s2", "math,north,s9", 4, "userSourcedId", "'s9' names no user"),
        (
            "enrollments.csv",
            "math,north,s2",
            "math,d1,s2",
            4,
            "schoolSourcedId",
            "'d1' names an org of type 'district'",
        ),
        ("enrollments.csv", "math,north,s2", "math,south,s2", 4, "schoolSourcedId", "'south' names no org"),
        ("classes.csv", "art,,,Art,north,fall", "art,,,Art,north,winter", 3, "termSourcedIds", "'winter' names no"),
        ("classes.csv", "art,,,Art,north,fall", "art,,,Art,north,", 3, "termSourcedIds", "a class needs its term"),
        ("academicSessions.csv", "2025-12-19,y26,2026", "2025-12-19,y26,25/26", 3, "schoolYear", "not a school year"),
        ("academicSessions.csv", "Fall,semester,2025-08-15", "Fall,semester,Aug 15", 3, "startDate", "not a date"),
        (
            "academicSessions.csv",
            "2025-08-15,2025-12-19",
            "2025-08-15,2025-01-19",
            3,
            "endDate",
            "before the startDate",
        ),
    ],
)
def test_bad_files_are_refused_naming_file_line_and_column(
    tmp_path: Path, file: str, old: str, new: str, line: int | None, column: str | None, message: str
) -> None:
    folder = write_roster(tmp_path, {file: (old, new)})
    with pytest.raises(FormatError) as caught:
        read_oneroster(folder)
    error = caught.value
    assert (error.file, error.line, error.column) == (str(folder / file), line, column)
    assert message in str(error)


def test_a_missing_file_or_folder_is_refused(tmp_path: Path) -> None:
    folder = write_roster(tmp_path)
    (folder / "users.csv").unlink()
    with pytest.raises(FormatError, match=r"users\.csv: is missing"):
        read_oneroster(folder)
    with pytest.raises(FormatError, match="is not a folder"):
        read_oneroster(tmp_path / "nowhere")


def test_personal_values_never_appear_in_errors(tmp_path: Path) -> None:
    folder = write_roster(tmp_path, {"users.csv": ("pat@example.org,555-0102", "pat@example.org,555-0102,x")})
    with pytest.raises(FormatError) as caught:
        read_oneroster(folder)
    assert "555-0102" not in str(caught.value) and "pat@" not in str(caught.value)


def test_the_sample_is_read_where_it_lies_and_copies_read_the_same(tmp_path: Path) -> None:
    copy = Path(shutil.copytree(SAMPLE, tmp_path / "copy"))
    assert read_oneroster(copy) == read_oneroster(SAMPLE)


def test_an_address_where_an_id_belongs_is_withheld_from_the_error(tmp_path: Path) -> None:
    # A guardian's agentSourcedIds holding an e-mail address instead of a student's id.
    folder = write_roster(tmp_path, {"users.csv": ("555-0104,s2,,", "555-0104,pat@example.org,,")})
    with pytest.raises(FormatError) as caught:
        read_oneroster(folder)
    error = caught.value
    assert (error.file, error.line, error.column) == (str(folder / "users.csv"), 5, "agentSourcedIds")
    assert error.value is None
    assert "a value that looks like an e-mail address names no user in users.csv" in str(error)
    assert "pat@" not in str(error) and "example.org" not in str(error)
    folder = write_roster(tmp_path / "phone", {"users.csv": ("555-0104,s2,,", '555-0104,"s2, (280) 555-0143",,')})
    with pytest.raises(FormatError, match="a value that looks like a phone number names no user") as caught:
        read_oneroster(folder)
    assert "555-0143" not in str(caught.value)


def test_ids_that_break_the_id_rule_are_refused(tmp_path: Path) -> None:
    folder = write_roster(tmp_path, {"users.csv": ("s2,,,true", '"s\t2",,,true')})
    with pytest.raises(FormatError, match=r"line 3, column sourcedId: 's\\t2' holds a control character"):
        read_oneroster(folder)
    school = "n" * 198  # a valid id, but its calendar id "<school>:2026" would be 203 characters long
    folder = write_roster(
        tmp_path / "long",
        {"orgs.csv": ("d1,,,", f"{school},,,Long School,school,,d1,\nd1,,,"),
         "enrollments.csv": ("e1,,,math,north", f"e1,,,math,{school}")},
    )  # fmt: skip
    with pytest.raises(FormatError) as caught:
        read_oneroster(folder)
    assert (caught.value.file, caught.value.line) == (str(folder / "enrollments.csv"), 2)
    assert caught.value.column == "schoolSourcedId"
    assert "makes a calendar id (<school>:<year>) that is 203 characters long (at most 200)" in str(caught.value)
