"""run_due's failures: a step that fails writes nothing, stops only its schedule, and is tried again."""

from __future__ import annotations

import datetime
from typing import Any

import attrs

from contact_prefs import ChangeSet, ConflictError, Receipt
from contact_prefs.approval import ApprovalPolicy
from contact_prefs.schedules import Step
from contact_prefs.scheduling import run_due
from contact_prefs.testing.district import DISTRICT, OFF_SPEC, SPEC
from contact_prefs.testing.expected import records
from contact_prefs.testing.schedules import ENDS, STARTS, summer
from contact_prefs_memory import MemoryStore


@attrs.define
class Crowded:
    """A store where someone always edits a point of one schedule's batch just before it commits."""

    inner: MemoryStore
    unlucky: str
    tries: int = 0

    def commit(self, changeset: ChangeSet, *, actor: str, schedule_id: str | None = None) -> Receipt:
        if schedule_id == self.unlucky:
            self.tries += 1
            raise ConflictError(changeset.changes[:1])
        return self.inner.commit(changeset, actor=actor, schedule_id=schedule_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_start_that_conflicts_three_times_fails_alone_and_its_end_waits() -> None:
    store = Crowded(MemoryStore(), unlucky="summer")
    store.load(DISTRICT)
    store.save_schedule(summer())
    store.save_schedule(summer(OFF_SPEC, ends_on=None, schedule_id="other"))
    runs = run_due(store, today=ENDS, actor="cron")  # type: ignore[arg-type]
    assert [(ran.schedule_id, ran.step, ran.failed) for ran in runs] == [
        ("other", Step.START, False),  # one day, one time made: in the order of their ids
        ("summer", Step.START, True),
        ("summer", Step.END, True),
    ]
    assert store.tries == 3
    assert (runs[1].problem or "").startswith("planned 3 times, and ")
    assert runs[2].problem == "its start did not run"
    assert [record.schedule_id for record in store.history()] == ["other"]
    # The next run tries again; once the district is quiet, the start and then the end run.
    store.unlucky = ""
    again = run_due(store, today=ENDS + datetime.timedelta(days=1), actor="cron")  # type: ignore[arg-type]
    assert [(ran.schedule_id, ran.step, ran.failed) for ran in again] == [
        ("summer", Step.START, False),
        ("summer", Step.END, False),
    ]


def test_under_an_approval_policy_a_batch_that_needs_a_second_person_waits() -> None:
    store = MemoryStore()
    store.load(DISTRICT)
    store.save_schedule(summer(SPEC))
    policy = ApprovalPolicy(required=True, max_changes=0)
    (ran,) = run_due(store, today=STARTS, actor="cron", approval=policy)
    assert ran.waits and not ran.failed and "approve" in (ran.waiting or "")
    assert store.history() == () and records(store.dump()) == records(DISTRICT)
    (ran,) = run_due(store, today=STARTS, actor="cron")  # without the policy, it runs
    assert ran.receipt is not None
