"""The conformance kit fails stores that look right through their own methods but are not.

Each broken store here passes what a kit reading only through ``dump()`` and
``history()`` could check; the kit is run on it as a backend's test module
would run it (in a pytest session of its own), next to an honest store of the
same kind, and must fail exactly the broken one.
"""

from __future__ import annotations

import re
import sqlite3
from types import TracebackType
from typing import Any
from unittest import mock

import attrs
import pytest

from contact_prefs import (
    BatchRecord,
    BatchSpec,
    ChangeSet,
    ContactPoint,
    Method,
    Receipt,
    Snapshot,
    Store,
    open_store,
    plan,
)
from contact_prefs.changes import Change
from contact_prefs.testing.checks import RawPoint, RawPointReader
from contact_prefs.testing.store import DISTRICT, G2_MAIL, SPEC, StoreContract, StoreFactory, records
from contact_prefs_memory import MemoryStore
from contact_prefs_sqlite.store import SQLiteStore

# -- a SQLite store that swaps two columns consistently --------------------------------

_COLUMNS = re.compile(r"\b(enabled|text)\b")  # lower case: the column type TEXT is left alone


def swapped(statement: str) -> str:
    """``statement`` with the contact points' ``enabled`` and ``text`` columns swapped."""
    return _COLUMNS.sub(lambda found: "text" if found.group() == "enabled" else "enabled", statement)


class SwappingConnection(sqlite3.Connection):
    """A connection that runs every statement with ``enabled`` and ``text`` swapped: the schema,
    every write and every read alike, so the store's own reads give back what it was given."""

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        return super().execute(swapped(sql), parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        return super().executemany(swapped(sql), parameters)

    def executescript(self, script: str, /) -> sqlite3.Cursor:
        return super().executescript(swapped(script))


def open_swapped_store() -> Store:
    """A ``sqlite://`` store opened the usual way, but on a :class:`SwappingConnection`."""
    connect = sqlite3.connect

    def swapping(*args: Any, **options: Any) -> sqlite3.Connection:
        return connect(*args, factory=SwappingConnection, **options)

    with mock.patch.object(sqlite3, "connect", swapping):
        return open_store("sqlite://")


POINT_ROW = "SELECT address, enabled, text, source, revoked FROM contact_points WHERE owner_id = ? AND method = ?"


def read_row(store: Store, owner_id: str, method: Method) -> RawPoint | None:
    """The side channel: the row as plain SQL reads it (the base class's ``execute``, unswapped)."""
    backend = getattr(store, "inner", store)
    assert isinstance(backend, SQLiteStore)
    row = sqlite3.Connection.execute(backend._connection, POINT_ROW, (owner_id, method.value)).fetchone()
    if row is None:
        return None
    address, enabled, text, source, revoked = row
    return RawPoint(address=address, enabled=enabled, text=text, source=source, revoked=revoked)


class SwappedColumnsContract(StoreContract):
    @pytest.fixture
    def new_store(self) -> StoreFactory:
        return open_swapped_store

    @pytest.fixture
    def raw_point(self) -> RawPointReader:
        return read_row


class HonestSQLiteContract(StoreContract):
    @pytest.fixture
    def new_store(self) -> StoreFactory:
        return lambda: open_store("sqlite://")

    @pytest.fixture
    def raw_point(self) -> RawPointReader:
        return read_row


# -- a memory store that builds records without their checks ---------------------------


def unchecked(kind: type[Any], **fields: Any) -> Any:
    """A record of ``kind`` holding ``fields`` as given: no converter, no validator runs."""
    record = object.__new__(kind)
    for name, value in fields.items():
        object.__setattr__(record, name, value)
    return record


def bogus_point(point: ContactPoint, corruption: str) -> ContactPoint:
    fields = attrs.asdict(point, recurse=False)
    if corruption == "method as text":
        fields["method"] = point.method.value
    elif corruption == "bogus reasons":
        fields["enabled"] = frozenset({"bogus"})
    result: ContactPoint = unchecked(ContactPoint, **fields)
    return result


@attrs.define
class BogusRecordsStore:
    """A memory store whose answers hold one record built unchecked, with a bad value in it."""

    inner: MemoryStore
    corruption: str

    def load(self, snapshot: Snapshot, *, remove: Snapshot | None = None, keep_preferences: bool = False) -> Any:
        return self.inner.load(snapshot, remove=remove, keep_preferences=keep_preferences)

    def dump(self) -> Snapshot:
        return self._corrupted(self.inner.dump())

    def snapshot(self, spec: BatchSpec) -> Snapshot:
        return self._corrupted(self.inner.snapshot(spec))

    def commit(self, changeset: ChangeSet, *, actor: str) -> Receipt:
        return self.inner.commit(changeset, actor=actor)

    def undo(self, batch_id: str, *, actor: str) -> Receipt:
        return self.inner.undo(batch_id, actor=actor)

    def history(self) -> tuple[BatchRecord, ...]:
        history = self.inner.history()
        if self.corruption != "history method as text" or not history or not history[0].changes:
            return history
        first, *rest = history[0].changes
        fields = attrs.asdict(first, recurse=False) | {"method": first.method.value}
        changes = (unchecked(Change, **fields), *rest)
        return (attrs.evolve(history[0], changes=changes), *history[1:])

    def close(self) -> None:
        self.inner.close()

    def __enter__(self) -> BogusRecordsStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _corrupted(self, snapshot: Snapshot) -> Snapshot:
        if self.corruption not in ("method as text", "bogus reasons") or not snapshot.contact_points:
            return snapshot
        first, *rest = snapshot.contact_points
        return attrs.evolve(snapshot, contact_points=[bogus_point(first, self.corruption), *rest])


def memory_row(store: Store, owner_id: str, method: Method) -> RawPoint | None:
    backend = getattr(store, "inner", store)
    assert isinstance(backend, MemoryStore)
    held = backend._records["contact_points"].get((owner_id, method))
    return None if held is None else RawPoint.of(held)


class BogusRecordsContract(StoreContract):
    corruption = ""

    @pytest.fixture
    def new_store(self) -> StoreFactory:
        return lambda: BogusRecordsStore(MemoryStore(), self.corruption)

    @pytest.fixture
    def raw_point(self) -> RawPointReader:
        return memory_row


class MethodAsTextContract(BogusRecordsContract):
    corruption = "method as text"


class BogusReasonsContract(BogusRecordsContract):
    corruption = "bogus reasons"


class HistoryMethodAsTextContract(BogusRecordsContract):
    corruption = "history method as text"


class HonestMemoryContract(BogusRecordsContract):
    corruption = "none"


# -- running the kit on them -------------------------------------------------------------

LOADS = ["test_load_then_dump_gives_the_records_back"]
WRITES = ["test_commit_writes_every_change_with_source_batch", "test_undo_restores_enabled_and_source"]
HISTORY = ["test_history_is_newest_first_with_exact_records", "test_undo_restores_enabled_and_source"]


@attrs.frozen
class Outcome:
    failed: dict[str, str]  # "Class::test" -> its failure report
    passed: set[str]


def run_kit(pytester: pytest.Pytester, classes: dict[str, str], tests: list[str]) -> Outcome:
    """Run ``tests`` of the kit on each of ``classes`` (test class name: contract class here) in a session of its own.

    Examples only: a Hypothesis test failing on a broken store would spend long shrinking.
    """
    lines = ["import sys", f"here = sys.modules[{__name__!r}]"]
    lines += [f"class {name}(here.{contract}):\n    pass" for name, contract in classes.items()]
    pytester.makepyfile(test_kit_on_broken_stores="\n".join(lines))
    recorder = pytester.inline_run("-p", "no:cacheprovider", "-k", " or ".join(sorted(set(tests))))
    passed, skipped, failed = recorder.listoutcomes()
    assert not skipped

    def name(report: pytest.TestReport) -> str:
        return "::".join(report.nodeid.split("::")[-2:])

    return Outcome(failed={name(r): r.longreprtext for r in failed}, passed={name(r) for r in passed})


def test_a_store_that_swaps_two_columns_consistently_gives_back_what_it_was_given() -> None:
    """The premise: reading only through the store, nothing is wrong; the table holds garbage."""
    with open_swapped_store() as store:
        store.load(DISTRICT)
        assert records(store.dump()) == records(DISTRICT)
        receipt = store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff")
        store.undo(receipt.batch_id, actor="staff")
        assert records(store.dump()) == records(DISTRICT)
        # g2's e-mail: Emergency and General enabled (1 | 16), no texts; the columns say otherwise.
        assert read_row(store, *G2_MAIL.key) == RawPoint(
            address=G2_MAIL.address, enabled=0, text=1 | 16, source="staff", revoked=0
        )


def test_the_kit_fails_a_store_that_swaps_two_columns_consistently(pytester: pytest.Pytester) -> None:
    tests = [*LOADS, *WRITES, "test_the_stored_columns_mean_what_the_records_say"]
    outcome = run_kit(pytester, {"TestSwapped": "SwappedColumnsContract", "TestHonest": "HonestSQLiteContract"}, tests)
    assert outcome.passed == {f"TestHonest::{test}" for test in tests}
    assert set(outcome.failed) == {f"TestSwapped::{test}" for test in tests}
    for report in outcome.failed.values():
        assert "the backend's tables hold" in report or "store.stored(" in report, report
    assert G2_MAIL.address not in "".join(outcome.failed.values())  # personal data stays out of the reports


@pytest.mark.parametrize(
    ("contract", "tests", "says"),
    [
        ("MethodAsTextContract", LOADS + WRITES, "str is not a Method"),
        ("BogusReasonsContract", LOADS + WRITES, "frozenset is not a ReasonSet"),
        ("HistoryMethodAsTextContract", HISTORY, "str is not a Method"),
    ],
)
def test_the_kit_fails_a_store_that_returns_records_built_unchecked(
    pytester: pytest.Pytester, contract: str, tests: list[str], says: str
) -> None:
    outcome = run_kit(pytester, {"TestBogus": contract, "TestHonest": "HonestMemoryContract"}, tests)
    assert outcome.passed == {f"TestHonest::{test}" for test in tests}
    assert set(outcome.failed) == {f"TestBogus::{test}" for test in tests}
    for report in outcome.failed.values():
        assert says in report, report
