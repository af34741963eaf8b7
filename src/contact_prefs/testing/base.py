"""The fixtures every contract class shares: the two a backend overrides, and the stores the kit opens.

This module imports pytest and Hypothesis: only tests import it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, settings

from ..store import Store
from .checks import CheckedStore, RawPointReader
from .profiles import examples

__all__ = ["EXAMPLES", "ContractBase", "StoreFactory"]

StoreFactory = Callable[[], Store]
"""What the ``new_store`` fixture returns: each call opens a fresh, empty store."""

CheckedFactory = Callable[[], CheckedStore]

EXAMPLES = settings(
    max_examples=examples(30),
    deadline=None,
    # Each example opens its own store through the new_store factory, so the
    # function-scoped fixture is safe; and one backend may run the contract in
    # several classes (in memory, in a file), which are different executors
    # of the same examples.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
)
"""The settings of the kit's Hypothesis tests: 30 examples under the thorough profile."""


class ContractBase:
    """What every contract class needs: override ``new_store`` and ``raw_point``.

    ``new_store``
        Return a factory: a callable with no arguments that opens a fresh,
        empty, open store each time it is called (for example a new file in
        ``tmp_path`` per call).  The kit closes every store it opens.  A
        factory rather than a store because Hypothesis tests run many examples
        in one test function, and each example needs its own empty store.

    ``raw_point``
        Return a callable ``raw_point(store, owner_id, method)`` that reads the
        contact point's row from the backend's own tables, not through the
        store's methods, and gives it as a :class:`~contact_prefs.testing.checks.RawPoint`
        (``None`` when there is no row).  ``store`` is one that ``new_store``
        opened.  The kit holds every point a store returns to its row, so a
        store that stores the wrong thing consistently fails.

    The kit provides ``store``, one store from ``new_store`` closed after the
    test, and ``new_checked_store``, a factory of such stores; both are
    :class:`~contact_prefs.testing.checks.CheckedStore`: every record they
    return is built again by the checked constructors and held to the tables.
    """

    @pytest.fixture
    def new_store(self) -> StoreFactory:
        raise NotImplementedError(
            f"{type(self).__name__} must override the new_store fixture: return a callable "
            "that opens a fresh, empty, open store each time it is called"
        )

    @pytest.fixture
    def raw_point(self) -> RawPointReader:
        pytest.fail(
            f"{type(self).__name__} must override the raw_point fixture: return a callable "
            "(store, owner_id, method) -> RawPoint | None that reads the contact point's row from the "
            "backend's own tables, not through the store (see 'Testing a backend' in docs/plugins.md)"
        )

    @pytest.fixture
    def new_checked_store(self, new_store: StoreFactory, raw_point: RawPointReader) -> CheckedFactory:
        return lambda: CheckedStore(new_store(), raw_point)

    @pytest.fixture
    def store(self, new_checked_store: CheckedFactory) -> Iterator[CheckedStore]:
        with new_checked_store() as store:
            yield store
