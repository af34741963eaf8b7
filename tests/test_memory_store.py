"""The memory store runs the conformance kit exactly as a third-party backend would."""

from __future__ import annotations

import pytest

from contact_prefs import open_store
from contact_prefs.testing.store import StoreContract, StoreFactory


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def new_store(self) -> StoreFactory:
        return lambda: open_store("memory://")
