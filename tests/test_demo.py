"""The demo district: deterministic, well formed, and shaped like a real district."""

from __future__ import annotations

import datetime
import re
from collections import Counter

import pytest

from contact_prefs import Method, Mode, Reason, Setting, Snapshot, Source, plan
from contact_prefs.demo import build_district, iter_district, sample_spec, school_ids, school_year

DAY = datetime.date(2026, 11, 30)
STUDENTS = 2000


@pytest.fixture(scope="module")
def district() -> Snapshot:
    return build_district(STUDENTS, today=DAY)


def student_ids(district: Snapshot) -> list[str]:
    return [p.id for p in district.persons if p.id.startswith("stu-")]


def test_the_same_inputs_give_the_same_district(district: Snapshot) -> None:
    assert build_district(STUDENTS, today=DAY) == district
    assert build_district(STUDENTS, seed=1, today=DAY) != district


def test_the_date_moves_the_dates_but_not_what_is_active() -> None:
    results = set()
    for today in [DAY, datetime.date(2027, 8, 15), datetime.date(2027, 8, 14), datetime.date(2028, 6, 30)]:
        district = build_district(300, today=today)
        change_set = plan(sample_spec(today), district)
        results.add((tuple(change_set.counts().items()), change_set.recipients, tuple(change_set.skips)))
        assert any(e.calendar_id.endswith(f":{school_year(today)}") for e in district.enrollments)
    assert len(results) == 1


def test_the_parts_add_up_to_the_district(district: Snapshot) -> None:
    parts = list(iter_district(STUDENTS, today=DAY, chunk=300))
    assert len(parts) > 6
    for name, records in district.collections().items():
        assert tuple(record for part in parts for record in getattr(part, name)) == records
    # Whole families per part: every relationship's people are in the same part.
    for part in parts:
        people = {p.id for p in part.persons}
        assert all(r.student_id in people and r.contact_id in people for r in part.relationships)


def test_store_keys_are_unique(district: Snapshot) -> None:
    for name, records in district.collections().items():
        assert len({record.key for record in records}) == len(records), name


def test_about_one_and_a_half_messenger_contacts_per_student(district: Snapshot) -> None:
    messenger = [r for r in district.relationships if r.messenger]
    assert 1.35 <= len(messenger) / STUDENTS <= 1.65
    assert any(not r.messenger for r in district.relationships)
    assert len(student_ids(district)) == STUDENTS


def test_households_share_phones_and_some_guardians_have_two(district: Snapshot) -> None:
    active = [m for m in district.household_members if m.is_active(DAY)]
    members = Counter(m.household_id for m in active)
    phones = {p.owner_id for p in district.contact_points if p.method is Method.HOUSEHOLD_PHONE and p.address}
    assert sum(1 for household in phones if members[household] >= 2) > STUDENTS / 4
    households_per_guardian = Counter(m.person_id for m in district.household_members if m.person_id.startswith("gdn-"))
    assert sum(1 for n in households_per_guardian.values() if n == 2) > STUDENTS / 50
    assert any(m.end is not None and m.end < DAY for m in district.household_members)
    # Children of separated parents belong to both households at once.
    households_per_child = Counter(m.person_id for m in active if m.person_id.startswith("stu-"))
    assert any(n == 2 for n in households_per_child.values())


def test_students_have_their_own_email_and_contacts_a_mix_of_methods(district: Snapshot) -> None:
    student_email = {
        p.owner_id for p in district.contact_points if p.method is Method.EMAIL and p.owner_id[:4] == "stu-"
    }
    assert len(student_email) > STUDENTS / 3
    assert {p.method for p in district.contact_points} == set(Method)
    assert any(not p.address for p in district.contact_points)


def test_schools_calendars_and_enrollments(district: Snapshot) -> None:
    schools = {e.school_id for e in district.enrollments}
    assert schools == set(school_ids(STUDENTS)) and len(schools) >= 3
    assert all(re.fullmatch(rf"{re.escape(e.school_id)}:\d{{4}}", e.calendar_id) for e in district.enrollments)
    assert len({e.calendar_id for e in district.enrollments}) == 2 * len(schools)  # this year and last
    active = {e.student_id for e in district.enrollments if e.is_active(DAY)}
    assert 0.95 * STUDENTS <= len(active) < STUDENTS  # a few withdrew
    assert any(e.end is not None and e.end < DAY and e.calendar_id.endswith(":2027") for e in district.enrollments)


def test_staff_with_and_without_district_assignments(district: Snapshot) -> None:
    staff = {p.id for p in district.persons if p.id.startswith("stf-")}
    assigned = {a.person_id for a in district.assignments if a.is_active(DAY)}
    assert len(staff) == STUDENTS // 12
    assert assigned < staff
    assert 0.7 * len(staff) <= len(assigned) <= 0.95 * len(staff)
    assert any(a.end is not None for a in district.assignments)


def test_portal_and_revoked_points_in_realistic_measure(district: Snapshot) -> None:
    saved = [p for p in district.contact_points if p.address]
    sources = Counter(p.source for p in saved)
    assert 0.07 <= sources[Source.PORTAL] / len(saved) <= 0.13
    assert 0.004 <= sum(bool(p.revoked) for p in saved) / len(saved) <= 0.02
    assert all(not p.text or p.method.is_phone for p in district.contact_points)


def test_addresses_are_fictional(district: Snapshot) -> None:
    for point in district.contact_points:
        if point.method.is_phone and point.address:
            assert re.fullmatch(r"\(\d{3}\) 555-01\d\d", point.address)
        elif point.address:
            assert point.address.endswith("example.org")


def test_the_sample_batch_changes_much_and_skips_some(district: Snapshot) -> None:
    spec = sample_spec(DAY)
    assert spec.mode is Mode.STUDENT_MESSENGER_CONTACTS and spec.as_of == DAY
    assert spec.settings[Reason.FOOD_SERVICE] is Setting.OFF
    change_set = plan(spec, district)
    assert len(change_set.recipients) > STUDENTS * 0.9
    assert len(change_set) > STUDENTS
    assert change_set.portal_overwrites > 0
    assert {skip.reason.value for skip in change_set.skips} >= {"consent_revoked", "no_contact_method"}


def test_sizes_at_the_edges() -> None:
    empty = build_district(0, today=DAY)
    assert {p.id[:4] for p in empty.persons} == {"stf-"} and not empty.enrollments
    one = build_district(1, today=DAY)
    assert student_ids(one) == ["stu-0001"]
    with pytest.raises(ValueError, match="students must be zero or more"):
        build_district(-1)
