"""Everything a store holds moves between backends and back unchanged: SQLite to memory to SQLite."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from contact_prefs import BatchSpec, Method, Snapshot, Store, open_store, plan
from contact_prefs.contents import differences
from contact_prefs.governance import verify_history
from contact_prefs.testing.checks import CheckedStore, RawPoint
from contact_prefs.testing.district import CROWDED_DISTRICTS, SPECS
from contact_prefs.testing.profiles import examples
from contact_prefs.testing.transfer import assert_same, fill


def point_as_read(store: Store, owner_id: str, method: Method) -> RawPoint | None:
    """The point as the store reads it: these tests compare stores with each other, not with their tables."""
    found = [p for p in store.dump().contact_points if p.key == (owner_id, method)]
    return RawPoint.of(found[0]) if found else None


def test_sqlite_to_memory_to_sqlite(tmp_path: Path) -> None:
    with CheckedStore(open_store(f"sqlite:///{tmp_path}/first.db"), point_as_read) as first:
        fill(first)
        sent = first.contents()
    with open_store("memory://") as middle, open_store(f"sqlite:///{tmp_path}/last.db") as last:
        middle.receive(sent)
        last.receive(middle.contents())
        assert_same(middle.contents(), sent)
        assert_same(last.contents(), sent)
        assert last.history() == middle.history()
        # The last store works on: undoing the newest batch gives the same on both.
        standing = sent.history[-1].batch_id  # the newest batch: its points are as it left them
        middle.undo(standing, actor="principal")
        last.undo(standing, actor="principal")
        # (The undos' ids and times differ, so their history entries and chain links do.)
        found = differences(last.contents(), middle.contents())
        assert [d for d in found if not d.startswith(("history", "chain"))] == []
        assert verify_history(middle).intact and verify_history(last).intact
        assert middle.chain()[:-1] == last.chain()[:-1] == sent.chain


@settings(max_examples=examples(20), deadline=None)
@given(district=CROWDED_DISTRICTS, specs=st.lists(SPECS, max_size=3))
def test_any_district_moves_from_memory_to_sqlite_and_back(district: Snapshot, specs: list[BatchSpec]) -> None:
    with open_store("memory://") as source, open_store("sqlite://") as sqlite, open_store("memory://") as back:
        source.load(district)
        for spec in specs:
            source.commit(plan(spec, source.snapshot(spec)), actor="staff")
        sent = source.contents()
        sqlite.receive(sent)
        back.receive(sqlite.contents())
        assert_same(back.contents(), sent)
