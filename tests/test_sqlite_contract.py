"""The SQLite store runs the conformance kit exactly as a third-party backend would: in memory and in files."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

from contact_prefs import Store, open_store
from contact_prefs.testing.stateful import StoreStateMachine
from contact_prefs.testing.store import StoreContract, StoreFactory


class TestInMemorySQLiteStore(StoreContract):
    @pytest.fixture
    def new_store(self) -> StoreFactory:
        return lambda: open_store("sqlite://")


class TestFileSQLiteStore(StoreContract):
    @pytest.fixture
    def new_store(self, tmp_path: Path) -> StoreFactory:
        numbers = itertools.count()
        return lambda: open_store(f"sqlite:///{tmp_path}/store-{next(numbers)}.db")


@settings(max_examples=25, stateful_step_count=15, deadline=None)
class InMemorySQLiteMachine(StoreStateMachine):
    def make_store(self) -> Store:
        return open_store("sqlite://")


TestInMemorySQLiteMachine = InMemorySQLiteMachine.TestCase


@settings(max_examples=10, stateful_step_count=15, deadline=None)
class FileSQLiteMachine(StoreStateMachine):
    """Each run in a file of its own folder, removed at teardown."""

    def make_store(self) -> Store:
        self.folder = tempfile.TemporaryDirectory(prefix="contact-prefs-machine-")
        return open_store(f"sqlite:///{self.folder.name}/district.db")

    def teardown(self) -> None:
        super().teardown()
        self.folder.cleanup()


TestFileSQLiteMachine = FileSQLiteMachine.TestCase
