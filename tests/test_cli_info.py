"""``contact-prefs info``: what a store holds, counted from the records, and whether it is demo data."""

from __future__ import annotations

import csv
import datetime
import io
import json
import sqlite3
from pathlib import Path

import pytest

from contact_prefs import open_store
from contact_prefs.enums import Method
from contact_prefs.inventory import demo_verdict, is_fictional
from contact_prefs.records import ContactPoint

from .test_cli import SAMPLE, district, fails, ok  # noqa: F401  (district: the demo district fixture)


def test_info_counts_what_the_demo_store_holds(district: Path) -> None:  # noqa: F811
    data = json.loads(ok(district, "info", "--format", "json"))
    with open_store(f"sqlite:///{district / 'contact-prefs.db'}") as store:
        dump = store.dump()
        batches = len(store.history())
    today = datetime.date.today()
    assert data["store"] == "sqlite:///contact-prefs.db" and data["backend"] == "sqlite"
    with sqlite3.connect(district / "contact-prefs.db") as connection:
        assert data["schema_version"] == connection.execute("PRAGMA user_version").fetchone()[0] > 0
    counts = data["counts"]
    assert counts["persons"] == len(dump.persons)
    assert counts["students"] == len({e.student_id for e in dump.enrollments}) == 200
    assert counts["guardians"] == len({r.contact_id for r in dump.relationships}) > 0
    assert counts["staff"] == len({a.person_id for a in dump.assignments}) > 0
    assert counts["batches"] == batches == 1
    assert counts["revoked_points"] == sum(1 for p in dump.contact_points if p.revoked) > 0
    assert data["contact_points"] == {
        method.value: sum(1 for p in dump.contact_points if p.method is method and p.address) for method in Method
    }
    schools = data["schools"]
    assert sorted(schools) == sorted({e.school_id for e in dump.enrollments})
    for school, shown in schools.items():
        mine = [e for e in dump.enrollments if e.school_id == school]
        assert shown["calendars"] == sorted({e.calendar_id for e in mine})
        assert shown["enrollments"] == len(mine)
        assert shown["enrolled"] == len({e.student_id for e in mine if e.is_active(today)})
    assert sum(school["enrolled"] for school in schools.values()) > 0
    assert data["demo_data"] is True and data["addresses_look_like_demo"] is True
    assert "fictional 555-01xx numbers or example.org" in data["addresses_why"]


def test_info_counts_enrolled_students_as_of_the_date_and_prints_no_address(district: Path) -> None:  # noqa: F811
    data = json.loads(ok(district, "info", "--as-of", "2001-01-01", "--format", "json"))
    assert data["as_of"] == "2001-01-01"
    assert all(school["enrolled"] == 0 for school in data["schools"].values())
    text = ok(district, "info")
    assert text.startswith("Store: sqlite:///contact-prefs.db (sqlite, schema version ")
    assert "central-high" in text and "Enrolled on " in text
    assert text.endswith("\nDemo data: yes, loaded by contact-prefs demo\n")
    rows = list(csv.reader(io.StringIO(ok(district, "info", "--format", "csv"))))
    assert rows[0] == ["item", "value"] and ["backend", "sqlite"] in rows and ["demo_data", "true"] in rows
    assert all(len(row) == 2 for row in rows)
    with open_store(f"sqlite:///{district / 'contact-prefs.db'}") as store:
        addresses = {point.address for point in store.dump().contact_points if point.address}
    for output in (text, json.dumps(data), ok(district, "info", "--format", "csv")):
        assert not any(address in output for address in addresses)


def test_info_on_a_real_roster_shows_its_school_its_days_and_no_guardians(tmp_path: Path) -> None:
    ok(tmp_path, "import", "oneroster", str(SAMPLE))
    data = json.loads(ok(tmp_path, "info", "--as-of", "2021-03-01", "--format", "json"))
    assert data["counts"]["guardians"] == 0 and data["counts"]["students"] == 8
    school = data["schools"]["255901001"]
    assert school["calendars"] == ["255901001:2021"] and school["enrolled"] == 8
    assert (school["first_day"], school["last_day"]) == ("2020-08-17", "2021-05-28")
    assert data["demo_data"] is False and data["addresses_look_like_demo"] is False
    assert "18 of its 18 saved addresses are not fictional" in data["addresses_why"]
    assert ok(tmp_path, "info").endswith("\nDemo data: no\n")


def test_info_names_no_schema_version_for_other_stores_and_needs_a_store(tmp_path: Path) -> None:
    data = json.loads(ok(tmp_path, "--store", "memory://", "info", "--format", "json"))
    assert (data["backend"], data["schema_version"], data["schools"]) == ("memory", None, {})
    assert (data["demo_data"], data["addresses_look_like_demo"]) == (False, False)
    assert data["addresses_why"] == "it holds no saved phone or e-mail address"
    assert "there is no contact-prefs.db" in fails(tmp_path, "info")


@pytest.mark.parametrize(
    ("method", "address", "fictional"),
    [
        (Method.CELL_PHONE, "(280) 555-0143", True),
        (Method.HOUSEHOLD_PHONE, "+1 201 555 0199", True),
        (Method.CELL_PHONE, "(280) 555-0243", False),
        (Method.CELL_PHONE, "(280) 555-1043", False),
        (Method.EMAIL, "pat@example.org", True),
        (Method.EMAIL, "kid@students.EXAMPLE.org", True),
        (Method.EMAIL, "pat@example.org.evil.com", False),
        (Method.EMAIL, "pat@notexample.org", False),
    ],
)
def test_fictional_addresses_are_the_demos(method: Method, address: str, fictional: bool) -> None:
    assert is_fictional(ContactPoint(owner_id="p", method=method, address=address)) is fictional


def test_one_real_address_is_enough_to_not_be_demo_data() -> None:
    demo = [ContactPoint(owner_id=f"p{n}", method=Method.CELL_PHONE, address=f"(280) 555-01{n:02d}") for n in range(5)]
    blank = ContactPoint(owner_id="q", method=Method.EMAIL, address="")
    assert demo_verdict([*demo, blank]) == (
        True, "all 5 of its saved addresses are fictional 555-01xx numbers or example.org addresses"
    )  # fmt: skip
    real = ContactPoint(owner_id="r", method=Method.EMAIL, address="pat@district.k12.us")
    looks, why = demo_verdict([*demo, real])
    assert looks is False and why.startswith("1 of its 6 saved addresses are not fictional")
