"""``PrivacyContract``: text is kept exactly, whatever it holds, and addresses stay out of errors, logs and reprs.

This module imports pytest and Hypothesis: only tests import it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ..enums import Method, Mode, Reason, Setting
from ..errors import ContactPrefsError
from ..planning import plan
from ..records import ContactPoint, DistrictAssignment, Enrollment, HouseholdMember, Person, Relationship
from ..snapshot import Snapshot
from ..spec import BatchSpec
from ..store import Receipt
from .base import EXAMPLES, ContractBase
from .checks import CheckedStore
from .district import ACTORS, DAY, DISTRICT, IDS, NASTY, SAVED_POINTS, SPEC, TEXT
from .expected import assert_private, edit_point, records, touched

__all__ = ["PrivacyContract"]

CheckedFactory = Callable[[], CheckedStore]


class PrivacyContract(ContractBase):
    """Hostile text (quotes, SQL, unicode, long strings) round-trips; personal data never leaks."""

    @EXAMPLES
    @given(
        person=IDS,
        contact=IDS,
        household=IDS,
        school=IDS,
        calendar=IDS,
        name=st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00")) | NASTY,
        address=TEXT,
        household_address=TEXT,
        actor=ACTORS,
    )
    def test_text_round_trips_exactly(
        self,
        new_checked_store: CheckedFactory,
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
        with new_checked_store() as store:
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

    def test_no_address_in_errors_logs_or_reprs(self, store: CheckedStore, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.DEBUG)
        store.load(DISTRICT)
        stale = plan(SPEC, store.snapshot(SPEC))
        done = store.commit(stale, actor="staff")
        for stored in SAVED_POINTS:
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
        assert_private(repr(store.inner))
        assert_private(repr(store.dump()))
        assert_private(repr(store.history()))
        assert_private(caplog.text)
