"""A store's selection: planning with it gives what the selection rules give, and only for its own spec."""

from __future__ import annotations

import datetime

import attrs
import pytest
from hypothesis import given, settings

from contact_prefs import BatchSpec, ContactPoint, Method, Mode, Snapshot, SnapshotError, plan
from contact_prefs._unchecked import snapshot as trusted_snapshot
from contact_prefs.enums import SkipReason
from contact_prefs.planning import _select
from contact_prefs.rules import District
from contact_prefs.selection import Selection, scope_of
from contact_prefs.snapshot import RECORD_FIELDS
from contact_prefs.testing.profiles import examples
from contact_prefs.testing.strategies import DAY, districts, specs

SPEC = BatchSpec(mode="student_messenger_contacts", settings={"attendance": "on"}, as_of=DAY)


def selected_like_a_store(spec: BatchSpec, snapshot: Snapshot) -> Snapshot:
    """``snapshot`` as a narrowing store hands it over: the selection rules' answer, without what they read."""
    district = District(snapshot, spec.as_of)
    recipients, skipped = _select(spec, district)
    households = {h: members for h, members in district.members_of.items() if not members.isdisjoint(recipients)}
    selection = Selection.of(spec, recipients, households, skipped)
    return attrs.evolve(
        snapshot, persons=(), household_members=(), enrollments=(), relationships=(), selection=selection
    )


@settings(max_examples=examples(100), deadline=None)
@given(districts(), specs())
def test_planning_a_store_selection_equals_applying_the_rules(snapshot: Snapshot, spec: BatchSpec) -> None:
    assert plan(spec, selected_like_a_store(spec, snapshot)) == plan(spec, snapshot)


@settings(max_examples=examples(50), deadline=None)
@given(districts(), specs(), specs())
def test_a_selection_answers_only_a_spec_of_the_same_scope(
    snapshot: Snapshot, made: BatchSpec, other: BatchSpec
) -> None:
    narrowed = selected_like_a_store(made, snapshot)
    if scope_of(other) == scope_of(made):
        assert plan(other, narrowed) == plan(other, snapshot)
    else:
        with pytest.raises(SnapshotError, match="narrowed for another spec"):
            plan(other, narrowed)


def test_the_scope_is_mode_school_calendar_filter_and_day() -> None:
    base = Selection.of(SPEC, ["g1"], {})
    assert base.answers(attrs.evolve(SPEC, settings={"general": "off"}, keep_portal=True))
    for other in (
        attrs.evolve(SPEC, mode=Mode.STUDENTS),
        attrs.evolve(SPEC, school_id="north"),
        attrs.evolve(SPEC, calendar_id="north:2026"),
        attrs.evolve(SPEC, filter_ids={"s1"}),
        attrs.evolve(SPEC, as_of=DAY + datetime.timedelta(days=1)),
    ):
        assert not base.answers(other)


def test_census_staff_ignores_school_and_calendar_in_its_scope() -> None:
    census = BatchSpec(mode="census_staff", settings={"staff": "on"}, filter_ids={"t1"}, as_of=DAY)
    selection = Selection.of(census, ["t1"], {})
    assert selection.answers(attrs.evolve(census, school_id="north", calendar_id="north:2026"))
    assert not selection.answers(attrs.evolve(census, filter_ids={"t1", "t2"}))


def test_skipped_people_are_kept_in_order_so_equal_selections_compare_equal() -> None:
    unknown = SkipReason.UNKNOWN_PERSON
    one = Selection.of(SPEC, ["g2", "g1"], {"h1": ["g1", "p1"]}, [("t2", unknown), ("t1", unknown)])
    two = Selection.of(SPEC, {"g1", "g2"}, {"h1": {"p1", "g1"}}, [("t1", unknown), ("t2", unknown)])
    assert one == two
    assert one.skipped[0] == ("t1", unknown)
    assert one.households["h1"] == frozenset({"g1", "p1"})


def test_a_selection_s_households_cannot_be_changed_afterwards() -> None:
    given = {"h1": ["g1"]}
    selection = Selection.of(SPEC, ["g1"], given)
    given["h1"].append("p1")
    given["h2"] = ["g1"]
    assert dict(selection.households) == {"h1": frozenset({"g1"})}
    with pytest.raises(TypeError):
        selection.households["h2"] = frozenset()  # type: ignore[index]


def test_a_snapshot_sorted_keeps_its_selection() -> None:
    snapshot = Snapshot(selection=Selection.of(SPEC, ["g1"], {}), version="7")
    assert snapshot.sorted().selection == snapshot.selection


def test_a_snapshot_refuses_a_selection_of_the_wrong_type() -> None:
    with pytest.raises(TypeError, match="selection"):
        Snapshot(selection={"g1"})  # type: ignore[arg-type]


@settings(max_examples=examples(50), deadline=None)
@given(districts(version="3"))
def test_a_trusted_snapshot_equals_a_checked_one(snapshot: Snapshot) -> None:
    collections = {name: list(records) for name, records in snapshot.collections().items()}
    assert trusted_snapshot(collections, version="3") == snapshot


def test_a_trusted_snapshot_leaves_out_nothing_it_was_given_and_refuses_unknown_collections() -> None:
    point = ContactPoint(owner_id="g1", method=Method.EMAIL, address="x@example.org")
    built = trusted_snapshot({"contact_points": [point]}, version="1", selection=Selection.of(SPEC, ["g1"], {}))
    assert built.contact_points == (point,) and built.persons == () and built.selection is not None
    assert set(RECORD_FIELDS) == set(built.collections())
    with pytest.raises(TypeError, match="unknown collections: points"):
        trusted_snapshot({"points": [point]}, version="1")
