"""The native CSV format: lossless round trips, the exact file layout, and every error."""

from __future__ import annotations

import datetime
import tempfile
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contact_prefs import (
    ContactPoint,
    DistrictAssignment,
    Enrollment,
    HouseholdMember,
    Method,
    Person,
    Reason,
    ReasonSet,
    Relationship,
    Snapshot,
    Source,
    open_store,
)
from contact_prefs.demo import build_district
from contact_prefs.formats import FormatError, read_csv, write_csv
from contact_prefs.testing.profiles import examples
from contact_prefs.testing.strategies import districts

DAY = datetime.date(2026, 11, 30)


def unversioned(snapshot: Snapshot) -> Snapshot:
    return attrs.evolve(snapshot.sorted(), version="")


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(districts())
def test_export_then_import_into_an_empty_store_gives_the_same_snapshot(district: Snapshot) -> None:
    with tempfile.TemporaryDirectory() as folder:
        write_csv(district, folder)
        with open_store("memory://") as store:
            store.load(read_csv(folder))
            assert unversioned(store.dump()) == unversioned(district)


# Any text a CSV file and every store can hold: separators, quotes, line breaks, spaces at either end,
# any script; no NUL, which PostgreSQL cannot store (records refuse it).
texts = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=12)
# Any id: the same, but for the control characters and line separators ids may not hold.
ids = st.text(st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=12)


@settings(max_examples=examples(60), deadline=None)
@given(ids, st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12), texts, ids)
def test_any_text_survives_the_round_trip(identifier: str, name: str, address: str, household: str) -> None:
    snapshot = Snapshot(
        persons=[Person(id=identifier, name=name)],
        household_members=[HouseholdMember(household_id=household, person_id=identifier)],
        contact_points=[ContactPoint(owner_id=identifier, method=Method.EMAIL, address=address)],
    )
    with tempfile.TemporaryDirectory() as folder:
        write_csv(snapshot, folder)
        assert read_csv(folder) == snapshot


def test_a_demo_district_round_trips_and_counts_rows(tmp_path: Path) -> None:
    district = build_district(200, today=DAY)
    written = write_csv(district, tmp_path / "new" / "folder")
    assert written == {f"{name}.csv": len(records) for name, records in district.collections().items()}
    assert read_csv(tmp_path / "new" / "folder") == district


SMALL = Snapshot(
    persons=[Person(id="g1", name='Dana "D" Example, Jr.')],
    household_members=[HouseholdMember(household_id="h1", person_id="g1", start=DAY)],
    enrollments=[Enrollment(student_id="s1", school_id="north", calendar_id="north:2027", start=DAY, end=DAY)],
    relationships=[Relationship(student_id="s1", contact_id="g1", messenger=False)],
    assignments=[DistrictAssignment(person_id="t1")],
    contact_points=[
        ContactPoint(
            owner_id="g1",
            method=Method.CELL_PHONE,
            address="(201) 555-0100",
            enabled={Reason.EMERGENCY, Reason.FOOD_SERVICE},
            text={Reason.EMERGENCY},
            source=Source.PORTAL,
            revoked=True,
        )
    ],
)

EXPECTED_FILES = {
    "persons.csv": 'id,name\r\ng1,"Dana ""D"" Example, Jr."\r\n',
    "household_members.csv": "household_id,person_id,start,end\r\nh1,g1,2026-11-30,\r\n",
    "enrollments.csv": "student_id,school_id,calendar_id,start,end\r\ns1,north,north:2027,2026-11-30,2026-11-30\r\n",
    "relationships.csv": "student_id,contact_id,messenger\r\ns1,g1,false\r\n",
    "assignments.csv": "person_id,start,end\r\nt1,,\r\n",
    "contact_points.csv": "owner_id,method,address,enabled,text,source,revoked\r\n"
    "g1,cell_phone,(201) 555-0100,emergency;food_service,emergency,portal,true\r\n",
}


def test_the_files_hold_field_names_iso_dates_booleans_and_reason_lists(tmp_path: Path) -> None:
    write_csv(SMALL, tmp_path)
    assert {path.name: path.read_bytes().decode() for path in tmp_path.iterdir()} == EXPECTED_FILES


def write_files(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8", newline="")
    return folder


def test_hand_written_files_may_differ_in_the_harmless_ways(tmp_path: Path) -> None:
    folder = write_files(
        tmp_path,
        {
            # a byte-order mark, an extra column, LF line ends, a blank line, TRUE, spaces in a list, no final newline
            "relationships.csv": "\ufeffstudent_id,contact_id,messenger,note\ns1,g1,TRUE,aunt\n\ns2,g1,False,x",
            "contact_points.csv": "owner_id,method,address,enabled,text,source,revoked\n"
            "g1,Cell-Phone,555-0100, Attendance ; general;,,Portal,false\n",
        },
    )
    snapshot = read_csv(folder)
    assert snapshot.relationships == (
        Relationship(student_id="s1", contact_id="g1", messenger=True),
        Relationship(student_id="s2", contact_id="g1", messenger=False),
    )
    (point,) = snapshot.contact_points
    assert point.method is Method.CELL_PHONE and point.source is Source.PORTAL
    assert point.enabled == ReasonSet({Reason.ATTENDANCE, Reason.GENERAL})
    assert snapshot.persons == () and snapshot.enrollments == ()


POINTS = "owner_id,method,address,enabled,text,source,revoked\r\n"
MEMBERS = "household_id,person_id,start,end\r\n"


@pytest.mark.parametrize(
    ("file", "text", "line", "column", "value", "message"),
    [
        ("household_members.csv", MEMBERS + "h1,g1,2026-13-01,\r\n", 2, "start", "2026-13-01", "is not a date"),
        ("household_members.csv", MEMBERS + "h1,g1,30/11/2026,\r\n", 2, "start", "30/11/2026", "is not a date"),
        ("household_members.csv", MEMBERS + "h1,,,\r\n", 2, "person_id", "", "a value is required"),
        ("household_members.csv", MEMBERS + "h1,g1,2026-11-30,2026-11-01\r\n", 2, "end", "2026-11-01", "is before"),
        (
            "household_members.csv",
            MEMBERS + "h1,g1,,\r\nh1,g2,,\r\nh1,g1,,\r\n",
            4,
            None,
            None,
            "repeats the key (household_id, person_id, start) of line 2",
        ),
        (
            "relationships.csv",
            "student_id,contact_id,messenger\r\ns1,g1,yes\r\n",
            2,
            "messenger",
            "yes",
            "true or false",
        ),
        ("contact_points.csv", POINTS + "g1,fax,0100,,,default,false\r\n", 2, "method", "fax", "is not a method"),
        ("contact_points.csv", POINTS + "g1,email,x,,,parent,false\r\n", 2, "source", "parent", "is not a source"),
        ("contact_points.csv", POINTS + "g1,email,x,general;lunch,,default,false\r\n", 2, "enabled", "", "'lunch'"),
        ("contact_points.csv", POINTS + "g1,email,x,,emergency,default,false\r\n", 2, "text", "", "phones only"),
        (
            "contact_points.csv",
            POINTS + "g1,email,x,,,default\r\n",
            2,
            None,
            None,
            "has 6 fields where the header has 7",
        ),
        ("contact_points.csv", POINTS + "g1,email,x,,,default,false,x\r\n", 2, None, None, "8 fields where"),
        ("contact_points.csv", "owner_id,method,enabled\r\n", 1, None, None, "lacks the column(s) address, text"),
        ("contact_points.csv", "owner_id,owner_id,method\r\n", 1, None, None, "names owner_id more than once"),
        ("persons.csv", 'id,name\r\n"g1,Dana\r\n', 2, None, None, "is not valid CSV"),
    ],
)
def test_bad_files_are_refused_with_file_line_column_and_value(
    tmp_path: Path, file: str, text: str, line: int, column: str | None, value: str | None, message: str
) -> None:
    write_files(tmp_path, {file: text, "persons.csv": "id,name\r\ng1,Dana\r\n"} | {file: text})
    with pytest.raises(FormatError) as caught:
        read_csv(tmp_path)
    error = caught.value
    assert (error.file, error.line, error.column) == (str(tmp_path / file), line, column)
    if value:
        assert error.value == value
        assert repr(value) in str(error)
    assert message in str(error)
    assert str(error).startswith(f"{tmp_path / file}, line {line}")


def test_an_address_never_appears_in_an_error(tmp_path: Path) -> None:
    write_files(tmp_path, {"contact_points.csv": POINTS + "g1,email,secret@example.org,,emergency,default,false\r\n"})
    with pytest.raises(FormatError, match="cannot receive texts") as caught:
        read_csv(tmp_path)
    assert "secret" not in str(caught.value)


def test_a_file_that_is_not_utf8_is_refused_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "persons.csv").write_bytes(b"id,name\r\ng1,Dana\r\ng2,Fran\xe7ois\r\n")
    with pytest.raises(FormatError, match=r"persons\.csv, line 3: is not UTF-8 text"):
        read_csv(tmp_path)


def test_a_folder_without_native_files_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="holds none of the native CSV files"):
        read_csv(tmp_path)
    with pytest.raises(FormatError, match="is not a folder"):
        read_csv(tmp_path / "missing")
    (tmp_path / "persons.csv").mkdir()
    with pytest.raises(FormatError, match="holds none"):
        read_csv(tmp_path)


def test_a_failed_export_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    write_csv(SMALL, tmp_path)
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    broken = Person(id="p1")
    object.__setattr__(broken, "name", 12)  # no CSV form: writing fails half way through
    with pytest.raises(TypeError):
        write_csv(attrs.evolve(SMALL, persons=[Person(id="p0"), broken]), tmp_path)
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before


@pytest.mark.parametrize(
    ("header", "row", "column", "personal"),
    [
        # address and method swapped in the header: the phone number sits under "method"
        ("owner_id,address,method,enabled,text,source,revoked", "g1,cell_phone,(280) 555-0143,,,default,false",
         "method", "(280) 555-0143"),
        ("owner_id,method,address,enabled,text,source,revoked", "g1,email,x,pat@example.org,,default,false",
         "enabled", "pat@example.org"),
        ("owner_id,method,address,enabled,text,source,revoked", "g1,email,x,general;pat@example.org,,default,false",
         "enabled", "pat@example.org"),
        ("owner_id,method,address,enabled,text,source,revoked", "g1,email,x,,,2805550143,false",
         "source", "2805550143"),
        ("owner_id,method,address,enabled,text,source,revoked", "g1,email,x,,,default,pat@example.org",
         "revoked", "pat@example.org"),
    ],
)  # fmt: skip
def test_values_that_look_personal_are_withheld_from_errors_wherever_they_are(
    tmp_path: Path, header: str, row: str, column: str, personal: str
) -> None:
    write_files(tmp_path, {"contact_points.csv": f"{header}\r\n{row}\r\n"})
    with pytest.raises(FormatError) as caught:
        read_csv(tmp_path)
    error = caught.value
    path = str(tmp_path / "contact_points.csv")
    assert (error.file, error.line, error.column, error.value) == (path, 2, column, None)
    assert str(error).startswith(f"{tmp_path / 'contact_points.csv'}, line 2, column {column}: a value that looks like")
    assert personal not in str(error) and personal.partition("@")[0] not in str(error)
    assert "555" not in str(error)


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ('"s\x001"', "holds a control character"),
        ('"s1\n"', "holds a control character"),
        ('"s\t1"', "holds a control character"),
        ("s" * 201, "is 201 characters long (at most 200)"),
    ],
)
def test_ids_that_break_the_id_rule_are_refused_with_line_and_column(tmp_path: Path, cell: str, problem: str) -> None:
    write_files(tmp_path, {"enrollments.csv": f"student_id,school_id,calendar_id,start,end\r\nok,{cell},c,,\r\n"})
    with pytest.raises(FormatError) as caught:
        read_csv(tmp_path)
    error = caught.value
    assert (error.line, error.column) == (2, "school_id")
    assert f"{problem}, and is not an id" in str(error)
    assert "\x00" not in str(error) and "\t" not in str(error) and "s" * 61 not in str(error)
