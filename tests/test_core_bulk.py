"""The unchecked constructors private to the bundled backends, and the collector pause a program opts into."""

from __future__ import annotations

import datetime
import gc
import weakref

import attrs
import pytest

from contact_prefs import BatchSpec, ContactPoint, Enrollment, Method, ReasonSet, Source, open_store, plan
from contact_prefs._unchecked import record as trusted
from contact_prefs.bulk import collector_paused
from contact_prefs.demo import build_district, sample_spec


def test_a_trusted_record_equals_the_checked_one() -> None:
    checked = ContactPoint(owner_id="g1", method="cell_phone", address="555-0100", enabled={"general"}, revoked=True)
    fast = trusted(ContactPoint)(
        "g1", Method.CELL_PHONE, "555-0100", ReasonSet(["general"]), ReasonSet(), Source.DEFAULT, ReasonSet.all()
    )
    assert fast == checked and hash(fast) == hash(checked) and repr(fast) == repr(checked)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        fast.revoked = False  # type: ignore[misc]
    day = datetime.date(2026, 11, 30)
    assert trusted(Enrollment)("s", "a", "c", day, None) == Enrollment(
        student_id="s", school_id="a", calendar_id="c", start=day
    )


def test_a_trusted_record_converts_stored_forms_in_the_same_call() -> None:
    from_row = trusted(
        ContactPoint, method=Method, enabled=ReasonSet.from_mask, source=Source, revoked=ReasonSet.from_mask
    )
    stored = from_row("g1", "cell_phone", "555-0100", ReasonSet(["general"]).mask, ReasonSet(), "portal", 255)
    assert stored == ContactPoint(
        owner_id="g1", method="cell_phone", address="555-0100", enabled={"general"}, source="portal", revoked=True
    )
    assert stored.enabled is ReasonSet(["general"]) and stored.revoked is ReasonSet.all()


def test_a_converter_for_a_field_that_does_not_exist_is_refused() -> None:
    with pytest.raises(TypeError, match="ContactPoint has no field colour"):
        trusted(ContactPoint, colour=str)


@pytest.mark.parametrize("enabled_before", [True, False])
def test_the_collector_is_restored_after_bulk_work(enabled_before: bool) -> None:
    (gc.enable if enabled_before else gc.disable)()
    try:
        with pytest.raises(RuntimeError), collector_paused():
            assert not gc.isenabled()
            raise RuntimeError
        assert gc.isenabled() is enabled_before
    finally:
        gc.enable()


class _Node:
    def __init__(self) -> None:
        self.other: object = self  # a reference cycle: only the cyclic collector frees it


def test_what_a_paused_block_built_skips_the_young_collections_yet_is_still_collected() -> None:
    gc.enable()
    with collector_paused():
        built = [_Node() for _ in range(10_000)]
    assert gc.isenabled()
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert all(id(node) in oldest for node in built)  # never traversed young, only to be promoted
    freed = weakref.ref(built[0])
    del built
    gc.collect()
    assert freed() is None


@pytest.mark.parametrize("url", ["memory://", "sqlite://"])
def test_the_library_never_touches_the_collector_by_itself(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    # The collector belongs to the embedding process: only a program that opts in pauses it.
    def refuse() -> None:
        raise AssertionError("the library touched the process's garbage collector")

    for name in ("disable", "freeze", "unfreeze"):
        monkeypatch.setattr(gc, name, refuse)
    district = build_district(60, seed=3)
    spec: BatchSpec = sample_spec(datetime.date.today())
    with open_store(url) as store:
        store.load(district)
        changeset = plan(spec, store.snapshot(spec))
        receipt = store.commit(changeset, actor="office")
        store.undo(receipt.batch_id, actor="office")
        assert len(store.history()) == 2 and store.dump().contact_points
    assert len(changeset) > 0
