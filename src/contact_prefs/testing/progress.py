"""``ProgressContract``: ``snapshot``, ``load`` and ``commit`` report how far they got, and change nothing by it.

A store may take an optional ``progress=`` (a :class:`~contact_prefs.progress.Progress`) on those
three calls.  Every step it starts finishes, whether the call succeeds or fails; a step with a total
advances by exactly that total when it succeeds; and what the call returns and writes is the same
with and without it.

This module imports pytest and Hypothesis: only tests import it.
"""

from __future__ import annotations

import pytest

from ..errors import ConflictError
from ..planning import plan
from .base import CheckedFactory, ContractBase
from .checks import CheckedStore
from .district import DISTRICT, G2_MAIL, SPEC
from .expected import assert_unchanged, edit_point, records

__all__ = ["ProgressContract", "Recorder"]


class Recorder:
    """A :class:`~contact_prefs.progress.Progress` that writes down what it is told."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def start(self, total: int | None, what: str) -> None:
        self.events.append(("start", (total, what)))

    def advance(self, count: int) -> None:
        self.events.append(("advance", count))

    def finish(self) -> None:
        self.events.append(("finish", None))

    @property
    def steps(self) -> list[int]:
        """Every ``advance``'s count, in order."""
        return [count for kind, count in self.events if kind == "advance" and isinstance(count, int)]

    @property
    def started(self) -> list[tuple[int | None, str]]:
        """Every ``start``'s total and name, in order."""
        return [value for kind, value in self.events if kind == "start" and isinstance(value, tuple)]

    def assert_steps_finished(self) -> None:
        """Something was reported, and every step that started finished, in order (one at a time)."""
        kinds = [kind for kind, _ in self.events]
        assert kinds, "nothing was reported"
        assert kinds[0] == "start" and kinds[-1] == "finish", kinds
        open_steps = 0
        for kind in kinds:
            if kind == "start":
                assert open_steps == 0, f"a step started before the one before it finished: {kinds}"
                open_steps += 1
            elif kind == "finish":
                assert open_steps == 1, f"a finish without a step: {kinds}"
                open_steps -= 1
            else:
                assert open_steps == 1, f"an advance outside a step: {kinds}"
        assert all(count >= 0 for count in self.steps), self.steps

    def assert_complete(self) -> None:
        """Every step finished, and one that gave a total advanced by exactly that total."""
        self.assert_steps_finished()
        step: list[int] = []
        total: object = None
        for kind, value in self.events:
            if kind == "start":
                assert isinstance(value, tuple)
                total, step = value[0], []
            elif kind == "advance":
                assert isinstance(value, int)
                step.append(value)
            elif total is not None:
                assert sum(step) == total, f"advanced by {step}, of a total of {total}"


class ProgressContract(ContractBase):
    """``progress=`` on ``snapshot``, ``load`` and ``commit``: reported, finished, and changing nothing."""

    def test_load_reports_its_records_and_loads_the_same(
        self, store: CheckedStore, new_checked_store: CheckedFactory
    ) -> None:
        recorder = Recorder()
        report = store.load(DISTRICT, progress=recorder)
        recorder.assert_complete()
        with new_checked_store() as plain:
            assert plain.load(DISTRICT) == report
            assert records(store.dump()) == records(plain.dump())

    def test_snapshot_reports_its_reading_and_reads_the_same(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        recorder = Recorder()
        reported = store.snapshot(SPEC, progress=recorder)
        recorder.assert_complete()
        assert reported == store.snapshot(SPEC)
        assert plan(SPEC, reported) == plan(SPEC, store.snapshot(SPEC))

    def test_commit_reports_its_points_and_writes_the_same(
        self, store: CheckedStore, new_checked_store: CheckedFactory
    ) -> None:
        store.load(DISTRICT)
        changeset = plan(SPEC, store.snapshot(SPEC))
        recorder = Recorder()
        receipt = store.commit(changeset, actor="staff", progress=recorder)
        recorder.assert_complete()
        assert sum(recorder.steps) > 0
        with new_checked_store() as plain:
            plain.load(DISTRICT)
            unreported = plain.commit(plan(SPEC, plain.snapshot(SPEC)), actor="staff")
            assert (receipt.counts, receipt.applied) == (unreported.counts, unreported.applied)
            assert records(store.dump()) == records(plain.dump())
        [record] = store.history()
        assert record.changes == changeset.changes

    def test_a_commit_that_conflicts_finishes_its_progress_and_writes_nothing(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        changeset = plan(SPEC, store.snapshot(SPEC))
        edit_point(store, G2_MAIL, "enabled changed")
        before, history = store.dump(), store.history()
        recorder = Recorder()
        with pytest.raises(ConflictError):
            store.commit(changeset, actor="staff", progress=recorder)
        recorder.assert_steps_finished()
        assert_unchanged(store, before, history)
