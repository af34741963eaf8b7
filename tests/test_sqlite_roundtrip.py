"""Text the SQLite store must keep exactly: quotes, SQL metacharacters, unicode, long strings."""

from __future__ import annotations

import tempfile
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contact_prefs import (
    BatchSpec,
    ConflictError,
    ContactPoint,
    Enrollment,
    HouseholdMember,
    Method,
    Mode,
    Person,
    Reason,
    Relationship,
    Setting,
    Snapshot,
    plan,
)
from contact_prefs.identifiers import id_problem
from contact_prefs.testing.profiles import examples
from contact_prefs.testing.strategies import DAY
from contact_prefs_sqlite.store import SQLiteStore

NASTY = st.sampled_from(
    [
        "'",
        '"',
        "O'Brien",
        "'; DROP TABLE contact_points; --",
        '" OR "1"="1',
        "%_\\",
        "?1",
        ":day",
        "[]",
        "NULL",
        " ",
        "\t\n",
        "Ærøskøbing 漢字 😀",
        "\u200b\u202e",
        "x" * 10_000,
    ]
)
# NUL-free unicode, no lone surrogates (they are not text).
TEXT = NASTY | st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=40)
# Ids and actors keep the one id rule (no control characters, at most 200); names and addresses are any text.
IDS = TEXT.filter(lambda text: id_problem(text) is None)


@st.composite
def districts(draw: st.DrawFn) -> tuple[Snapshot, BatchSpec, str]:
    """A student, a guardian and a household, every id, name and address drawn from nasty text."""
    student, guardian, household, school, calendar = draw(st.lists(IDS, min_size=5, max_size=5, unique=True))
    snapshot = Snapshot(
        persons=[Person(id=student, name=draw(TEXT)), Person(id=guardian, name=draw(TEXT))],
        household_members=[HouseholdMember(household_id=household, person_id=guardian)],
        enrollments=[Enrollment(student_id=student, school_id=school, calendar_id=calendar)],
        relationships=[Relationship(student_id=student, contact_id=guardian)],
        contact_points=[
            ContactPoint(owner_id=guardian, method=Method.EMAIL, address=draw(TEXT)),
            ContactPoint(owner_id=household, method=Method.HOUSEHOLD_PHONE, address=draw(TEXT)),
        ],
    )
    spec = BatchSpec(
        mode=Mode.STUDENT_MESSENGER_CONTACTS,
        settings={Reason.ATTENDANCE: Setting.ON},
        school_id=school,
        calendar_id=calendar,
        filter_ids={student, draw(IDS)},
        as_of=DAY,
    )
    return snapshot, spec, draw(IDS)


@settings(max_examples=examples(40), deadline=None)
@given(district=districts())
def test_nasty_text_round_trips_through_a_file_a_batch_and_its_undo(district: tuple[Snapshot, BatchSpec, str]) -> None:
    snapshot, spec, actor = district
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "district.db")
        with SQLiteStore.open(path) as store:
            store.load(snapshot)
            changeset = plan(spec, store.snapshot(spec))
            assert len(changeset) == 2  # the guardian's e-mail and the household phone
            receipt = store.commit(changeset, actor=actor)
            undo = store.undo(receipt.batch_id, actor=actor)
        with SQLiteStore.open(path) as store:
            assert store.dump().sorted().collections() == snapshot.sorted().collections()
            undone, committed = store.history()
    assert (committed.batch_id, committed.actor, committed.spec) == (receipt.batch_id, actor, spec)
    assert committed.changes == changeset.changes
    assert committed.undone_by == undo.batch_id
    assert undone.changes == changeset.inverse().changes


SECRETS = ("secret.parent@example.org", "+1 555 0100 1234")


@settings(max_examples=examples(20), deadline=None)
@given(district=districts())
def test_conflicts_name_ids_and_methods_never_an_address(district: tuple[Snapshot, BatchSpec, str]) -> None:
    snapshot, spec, actor = district
    email, phone = snapshot.contact_points
    private = Snapshot(
        contact_points=[attrs.evolve(email, address=SECRETS[0]), attrs.evolve(phone, address=SECRETS[1])]
    )
    with SQLiteStore.open(":memory:") as store:
        store.load(snapshot)
        store.load(private)
        changeset = plan(spec, store.snapshot(spec))
        store.commit(changeset, actor=actor)
        with pytest.raises(ConflictError) as raised:
            store.commit(changeset, actor=actor)  # the same batch again: both points have moved
    message = str(raised.value)
    assert "email" in message and "household_phone" in message
    assert not any(secret in message for secret in SECRETS)
    assert not any(secret in repr(raised.value.conflicts) for secret in SECRETS)
