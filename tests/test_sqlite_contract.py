"""The SQLite store runs the conformance kit exactly as a third-party backend would: in memory and in files."""

from __future__ import annotations

import itertools
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from contact_prefs import Method, Store, open_store
from contact_prefs.testing.checks import RawPoint, RawPointReader
from contact_prefs.testing.profiles import examples
from contact_prefs.testing.stateful import StoreStateMachine
from contact_prefs.testing.store import StoreContract, StoreFactory
from contact_prefs_sqlite.store import SQLiteStore

POINT_ROW = "SELECT address, enabled, text, source, revoked FROM contact_points WHERE owner_id = ? AND method = ?"
"""The kit's side channel: a point's row, read with plain SQL rather than through the store."""


def backend(store: Store) -> SQLiteStore:
    found = getattr(store, "inner", store)  # open_store wraps the backend to announce its commits
    assert isinstance(found, SQLiteStore)
    return found


def raw(row: tuple[Any, ...] | None) -> RawPoint | None:
    if row is None:
        return None
    address, enabled, text, source, revoked = row
    return RawPoint(address=address, enabled=enabled, text=text, source=source, revoked=revoked)


class TestInMemorySQLiteStore(StoreContract):
    @pytest.fixture
    def new_store(self) -> StoreFactory:
        return lambda: open_store("sqlite://")

    @pytest.fixture
    def raw_point(self) -> RawPointReader:
        # A private in-memory database is reachable only through its own connection.
        return lambda store, owner_id, method: raw(
            backend(store)._connection.execute(POINT_ROW, (owner_id, method.value)).fetchone()
        )


class TestFileSQLiteStore(StoreContract):
    @pytest.fixture
    def new_store(self, tmp_path: Path) -> StoreFactory:
        numbers = itertools.count()
        return lambda: open_store(f"sqlite:///{tmp_path}/store-{next(numbers)}.db")

    @pytest.fixture
    def raw_point(self) -> Iterator[RawPointReader]:
        readers: dict[str, sqlite3.Connection] = {}  # one read-only connection to each file

        def read(store: Store, owner_id: str, method: Method) -> RawPoint | None:
            path = backend(store).path
            if path not in readers:
                readers[path] = sqlite3.connect(f"{Path(path).as_uri()}?mode=ro", uri=True)
            return raw(readers[path].execute(POINT_ROW, (owner_id, method.value)).fetchone())

        yield read
        for reader in readers.values():
            reader.close()


@settings(max_examples=examples(25), stateful_step_count=15, deadline=None)
class InMemorySQLiteMachine(StoreStateMachine):
    def make_store(self) -> Store:
        return open_store("sqlite://")


TestInMemorySQLiteMachine = InMemorySQLiteMachine.TestCase


@settings(max_examples=examples(10), stateful_step_count=15, deadline=None)
class FileSQLiteMachine(StoreStateMachine):
    """Each run in a file of its own folder, removed at teardown."""

    def make_store(self) -> Store:
        self.folder = tempfile.TemporaryDirectory(prefix="contact-prefs-machine-")
        return open_store(f"sqlite:///{self.folder.name}/district.db")

    def teardown(self) -> None:
        super().teardown()
        self.folder.cleanup()


TestFileSQLiteMachine = FileSQLiteMachine.TestCase
