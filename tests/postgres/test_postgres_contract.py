"""The conformance kit on a real PostgreSQL server, run as any third-party backend runs it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from contact_prefs import Store, open_store
from contact_prefs.testing.stateful import StoreStateMachine
from contact_prefs.testing.store import StoreContract, StoreFactory


class TestPostgresStore(StoreContract):
    @pytest.fixture
    def new_store(self, new_schema: Callable[[], str]) -> StoreFactory:
        return lambda: open_store(new_schema())


def test_random_operations_end_as_on_the_memory_store(new_schema: Callable[[], str]) -> None:
    # Run as a test function rather than the machine's TestCase, so that it gets a fresh
    # schema per example from the fixture and skips, like the rest, without a server.
    class PostgresStoreMachine(StoreStateMachine):
        def make_store(self) -> Store:
            return open_store(new_schema())

    run_state_machine_as_test(
        PostgresStoreMachine, settings=settings(max_examples=25, stateful_step_count=15, deadline=None)
    )
