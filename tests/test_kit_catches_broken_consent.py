"""The kit's consent contract fails stores that keep the ledger wrong, however right their own reads look.

Each broken store here is the memory store with one consent rule bent the way
a backend might bend it; the contract's example tests are run on it as a
backend's test module would run them (in a pytest session of its own), next to
the honest memory store, and must fail exactly the broken one.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

import attrs
import pytest

from contact_prefs import ContactPoint, Method, Snapshot, Store
from contact_prefs.consent import ConsentEvent, Review
from contact_prefs.ledger import LoadReport
from contact_prefs.testing.checks import RawPoint, RawPointReader
from contact_prefs.testing.consent import ConsentContract
from contact_prefs.testing.store import StoreFactory
from contact_prefs_memory import MemoryStore


class AsSavedStore(MemoryStore):
    """Compares addresses as saved: "(280) 555-0143" and "280-555-0143" are two numbers to it."""

    def _key(self, point: ContactPoint) -> str | None:
        return point.address.strip() or None


class ClearingLoadStore(MemoryStore):
    """Lets a load say what is revoked: an old backup clears a revocation."""

    def load(self, snapshot: Snapshot, **options: Any) -> LoadReport:
        report = super().load(snapshot, **options)
        points = self._records["contact_points"]
        for point in snapshot.contact_points:
            points[point.key] = attrs.evolve(points[point.key], revoked=point.revoked)
        return report


class ByReceiptStore(MemoryStore):
    """Gives a ledger in the order its messages were received, not the order they were recorded."""

    def ledger(self, address: str) -> tuple[ConsentEvent, ...]:
        return tuple(sorted(super().ledger(address), key=lambda event: event.received_at))


class HalfWritingStore(MemoryStore):
    """Appends the events before it checks the rest of the write."""

    def record_consent(
        self, events: Sequence[ConsentEvent] = (), *, reviews: Sequence[Review] = (), actor: str
    ) -> None:
        self._events.extend(events)  # never taken back when the checks below refuse the write
        super().record_consent((), reviews=reviews, actor=actor)


class DatetimeDueStore(MemoryStore):
    """Returns a resolved review whose due day is a datetime (built without the checked constructor's types)."""

    def resolve_review(self, review_id: str, **options: Any) -> Review:
        resolved = super().resolve_review(review_id, **options)
        due = datetime.datetime.combine(resolved.due_on, datetime.time(), tzinfo=datetime.UTC)
        return attrs.evolve(resolved, due_on=due)


def memory_row(store: Store, owner_id: str, method: Method) -> RawPoint | None:
    backend = getattr(store, "inner", store)
    assert isinstance(backend, MemoryStore)
    held = backend._records["contact_points"].get((owner_id, method))
    return None if held is None else RawPoint.of(held)


class MemoryConsentContract(ConsentContract):
    kind: type[MemoryStore] = MemoryStore

    @pytest.fixture
    def new_store(self) -> StoreFactory:
        return self.kind

    @pytest.fixture
    def raw_point(self) -> RawPointReader:
        return memory_row


class AsSavedContract(MemoryConsentContract):
    kind = AsSavedStore


class ClearingLoadContract(MemoryConsentContract):
    kind = ClearingLoadStore


class ByReceiptContract(MemoryConsentContract):
    kind = ByReceiptStore


class HalfWritingContract(MemoryConsentContract):
    kind = HalfWritingStore


class DatetimeDueContract(MemoryConsentContract):
    kind = DatetimeDueStore


def run_kit(pytester: pytest.Pytester, contract: str, tests: list[str]) -> tuple[list[str], list[str]]:
    """Run ``tests`` of the consent contract on ``contract`` and on the honest memory store; the ids
    (``Class::test[parameters]``) of the tests that passed and of those that failed."""
    lines = ["import sys", f"here = sys.modules[{__name__!r}]"]
    lines += [f"class TestBroken(here.{contract}):\n    pass"]
    lines += ["class TestHonest(here.MemoryConsentContract):\n    pass"]
    pytester.makepyfile(test_consent_kit_on_broken_stores="\n".join(lines))
    recorder = pytester.inline_run("-p", "no:cacheprovider", "-k", " or ".join(tests))
    passed, skipped, failed = recorder.listoutcomes()
    assert not skipped

    def name(report: pytest.TestReport | pytest.CollectReport) -> str:
        return "::".join(report.nodeid.split("::")[-2:])

    return sorted(map(name, passed)), sorted(map(name, failed))


@pytest.mark.parametrize(
    ("contract", "tests"),
    [
        (
            "AsSavedContract",
            [
                "test_a_revocation_reaches_the_number_however_it_is_written",
                "test_an_email_revocation_reaches_the_address_in_any_case",
                "test_a_stale_load_never_clears_a_revocation_and_counts_the_points_it_kept",
            ],
        ),
        (
            "ClearingLoadContract",
            [
                "test_a_stale_load_never_clears_a_revocation_and_counts_the_points_it_kept",
                "test_a_stale_load_keeps_a_waiting_messages_hold",
            ],
        ),
        ("ByReceiptContract", ["test_the_ledger_is_every_event_of_its_address_in_recording_order"]),
        ("HalfWritingContract", ["test_a_consent_write_that_fails_writes_nothing"]),
        ("DatetimeDueContract", ["test_a_message_read_as_no_revocation_lifts_the_hold"]),
    ],
)
def test_the_consent_contract_fails_a_store_that_bends_a_rule(
    pytester: pytest.Pytester, contract: str, tests: list[str]
) -> None:
    passed, failed = run_kit(pytester, contract, tests)
    assert [test.replace("TestHonest::", "TestBroken::") for test in passed] == failed  # each: honest passes
    assert {test.partition("::")[2].partition("[")[0] for test in failed} == set(tests)
