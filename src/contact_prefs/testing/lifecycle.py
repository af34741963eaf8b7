"""``LifecycleContract``: a store is a ``Store``, starts empty, and opens, enters and closes as one should.

This module imports pytest and Hypothesis: only tests import it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ..errors import StoreError
from ..planning import plan
from ..snapshot import Snapshot
from ..store import Store
from .base import ContractBase, StoreFactory
from .checks import CheckedStore
from .district import DISTRICT, SPEC
from .expected import records

__all__ = ["LifecycleContract"]


class LifecycleContract(ContractBase):
    """The protocol, and opening and closing stores."""

    def test_is_a_store(self, new_store: StoreFactory) -> None:
        with new_store() as store:
            assert isinstance(store, Store)

    def test_a_new_store_is_empty(self, store: CheckedStore) -> None:
        snapshot = store.dump()
        assert len(snapshot) == 0
        assert isinstance(snapshot.version, str)
        assert store.history() == ()

    def test_stores_from_one_factory_are_independent(self, new_checked_store: Callable[[], CheckedStore]) -> None:
        with new_checked_store() as first, new_checked_store() as second:
            first.load(DISTRICT)
            assert len(second.dump()) == 0

    def test_is_a_context_manager_that_closes(self, new_store: StoreFactory) -> None:
        store = new_store()
        with store as entered:
            assert entered is store
            entered.load(DISTRICT)
            assert records(entered.dump()) == records(DISTRICT)
        with pytest.raises(StoreError):
            store.dump()  # leaving the block closed it
        store.close()  # closing a closed store is harmless
        store.close()

    def test_close_is_idempotent(self, new_store: StoreFactory) -> None:
        store = new_store()
        store.load(DISTRICT)
        changeset = plan(SPEC, store.snapshot(SPEC))
        done = store.commit(changeset, actor="staff")
        store.close()
        store.close()  # closing again raises nothing
        uses: dict[str, Callable[[], Any]] = {
            "dump": store.dump,
            "snapshot": lambda: store.snapshot(SPEC),
            "history": store.history,
            "load": lambda: store.load(Snapshot()),
            "commit": lambda: store.commit(changeset, actor="staff"),
            "undo": lambda: store.undo(done.batch_id, actor="staff"),
        }
        for name, use in uses.items():
            with pytest.raises(StoreError):  # the store is really closed
                use()
                pytest.fail(f"{name} worked on a closed store")

    def test_context_manager_does_not_swallow_errors(self, new_store: StoreFactory) -> None:
        store = new_store()
        with pytest.raises(KeyError), store:
            raise KeyError("inside the block")
        store.close()
