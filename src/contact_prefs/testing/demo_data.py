"""``DemoDataContract``: a store remembers that a load of the demo district marked it.

This module imports pytest and Hypothesis: only tests import it.
"""

from __future__ import annotations

import attrs
import pytest

from ..errors import ContactPrefsError
from ..planning import plan
from ..records import Person
from ..snapshot import Snapshot
from .base import ContractBase
from .checks import CheckedStore
from .district import DISTRICT, G1_CELL, SPEC
from .expected import records

__all__ = ["DemoDataContract"]


class DemoDataContract(ContractBase):
    """``holds_demo`` and ``load(..., demo=True)``: the mark is written with the load, and stays."""

    def test_a_new_store_holds_no_demo_data(self, store: CheckedStore) -> None:
        assert store.holds_demo() is False

    def test_loads_without_demo_leave_the_store_unmarked(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        store.load(Snapshot(persons=[Person(id="g3")]), remove=Snapshot(contact_points=[G1_CELL]))
        assert store.holds_demo() is False

    def test_a_demo_load_marks_the_store_and_loads_as_any_load(self, store: CheckedStore) -> None:
        store.load(DISTRICT, demo=True)
        assert store.holds_demo() is True
        assert records(store.dump()) == records(DISTRICT)

    def test_the_mark_stays_through_later_writes(self, store: CheckedStore) -> None:
        store.load(DISTRICT, demo=True)
        store.load(Snapshot(persons=[Person(id="g3")]))
        store.load(DISTRICT, keep_preferences=True, demo=False)
        receipt = store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff")
        store.undo(receipt.batch_id, actor="staff")
        store.load(Snapshot(), remove=DISTRICT)
        assert store.holds_demo() is True

    def test_a_demo_load_that_fails_leaves_the_store_unmarked_and_unchanged(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        before = store.dump()
        revoked = attrs.evolve(G1_CELL, revoked=True)
        with pytest.raises(ContactPrefsError):  # an actor of only spaces: the actor rule refuses the load
            store.load(Snapshot(persons=[Person(id="g3")], contact_points=[revoked]), actor="   ", demo=True)
        assert store.holds_demo() is False
        assert records(store.dump()) == records(before)
        assert store.dump().version == before.version

    def test_the_mark_is_a_write(self, store: CheckedStore) -> None:
        """Marking moves the version like any load: a plan made before it cannot commit unnoticed."""
        store.load(DISTRICT)
        version = store.dump().version
        store.load(Snapshot(), demo=True)
        assert store.holds_demo() is True
        assert store.dump().version != version
