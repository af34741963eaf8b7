"""The conformance kit on a real PostgreSQL server, run as any third-party backend runs it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from contact_prefs import Method, Store, open_store
from contact_prefs.testing.checks import RawPoint, RawPointReader
from contact_prefs.testing.profiles import examples
from contact_prefs.testing.stateful import StoreStateMachine
from contact_prefs.testing.store import StoreContract, StoreFactory


class TestPostgresStore(StoreContract):
    @pytest.fixture
    def new_store(self, new_schema: Callable[[], str]) -> StoreFactory:
        return lambda: open_store(new_schema())

    @pytest.fixture
    def raw_point(self, connect: Callable[[], Any]) -> RawPointReader:
        """The kit's side channel: a point's row, read over a connection of its own with plain SQL."""
        from psycopg import sql

        from contact_prefs_postgres.store import PostgresStore

        reader = connect()
        query = "SELECT address, enabled, text_enabled, source, revoked FROM {}.contact_points "
        query += "WHERE owner_id = %s AND method = %s"

        def read(store: Store, owner_id: str, method: Method) -> RawPoint | None:
            backend = getattr(store, "inner", store)  # open_store wraps the backend to announce its commits
            assert isinstance(backend, PostgresStore)
            statement = sql.SQL(query).format(sql.Identifier(backend.url.schema))
            row = reader.execute(statement, (owner_id, method.value)).fetchone()
            if row is None:
                return None
            address, enabled, text, source, revoked = row
            return RawPoint(address=address, enabled=enabled, text=text, source=source, revoked=int(revoked))

        return read


def test_random_operations_end_as_on_the_memory_store(new_schema: Callable[[], str]) -> None:
    # Run as a test function rather than the machine's TestCase, so that it gets a fresh
    # schema per example from the fixture and skips, like the rest, without a server.
    class PostgresStoreMachine(StoreStateMachine):
        def make_store(self) -> Store:
            return open_store(new_schema())

    run_state_machine_as_test(
        PostgresStoreMachine, settings=settings(max_examples=examples(25), stateful_step_count=15, deadline=None)
    )
