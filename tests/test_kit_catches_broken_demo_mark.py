"""The conformance kit fails stores that keep the demo mark wrongly: outside the load's transaction,
or only until the next load."""

from __future__ import annotations

import pytest

from contact_prefs import Snapshot
from contact_prefs.ledger import LoadReport
from contact_prefs.testing.checks import RawPointReader
from contact_prefs.testing.demo_data import DemoDataContract
from contact_prefs.testing.store import StoreFactory
from contact_prefs_memory import MemoryStore

from .test_kit_catches_broken_stores import memory_row


class EarlyMarkStore(MemoryStore):
    """Marks the store before the load is decided, so a load that fails leaves the mark."""

    def load(self, snapshot: Snapshot, **options: object) -> LoadReport:
        if options.get("demo"):
            self._demo = True
        return super().load(snapshot, **options)  # type: ignore[arg-type]


class ForgetfulStore(MemoryStore):
    """Keeps the mark of the last load only."""

    def load(self, snapshot: Snapshot, **options: object) -> LoadReport:
        report = super().load(snapshot, **options)  # type: ignore[arg-type]
        self._demo = bool(options.get("demo"))
        return report


class MemoryDemoContract(DemoDataContract):
    kind: type[MemoryStore] = MemoryStore

    @pytest.fixture
    def new_store(self) -> StoreFactory:
        return lambda: self.kind()

    @pytest.fixture
    def raw_point(self) -> RawPointReader:
        return memory_row


class EarlyMarkContract(MemoryDemoContract):
    kind = EarlyMarkStore


class ForgetfulContract(MemoryDemoContract):
    kind = ForgetfulStore


def test_the_kit_fails_exactly_the_tests_each_broken_mark_breaks(pytester: pytest.Pytester) -> None:
    classes = {
        "TestHonest": "MemoryDemoContract",
        "TestEarly": "EarlyMarkContract",
        "TestForgetful": "ForgetfulContract",
    }
    lines = ["import sys", f"here = sys.modules[{__name__!r}]"]
    lines += [f"class {name}(here.{contract}):\n    pass" for name, contract in classes.items()]
    pytester.makepyfile(test_kit_on_broken_marks="\n".join(lines))
    recorder = pytester.inline_run("-p", "no:cacheprovider")
    passed, skipped, failed = recorder.listoutcomes()
    assert not skipped and passed

    def name(report: pytest.TestReport) -> str:
        return "::".join(report.nodeid.split("::")[-2:])

    assert {name(report) for report in failed} == {
        "TestEarly::test_a_demo_load_that_fails_leaves_the_store_unmarked_and_unchanged",
        "TestForgetful::test_the_mark_stays_through_later_writes",
    }
    honest = {name(report) for report in passed if name(report).startswith("TestHonest::")}
    assert len(honest) == len([test for test in dir(DemoDataContract) if test.startswith("test_")])
