"""A schedule under the approval policy: its start runs only through an approved proposal of exactly
its batch, approved before it runs and planned alike when it runs; otherwise it waits."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from contact_prefs import Reason, Source, open_store, plan
from contact_prefs.approval import ApprovalPolicy
from contact_prefs.proposals import ProposalError
from contact_prefs.schedules import ScheduleError, Step, spec_on
from contact_prefs.scheduling import propose_start, run_due, unschedule
from contact_prefs.snapshot import Snapshot
from contact_prefs.testing.district import DISTRICT, G1_MAIL, SPEC
from contact_prefs.testing.expected import point, records
from contact_prefs.testing.schedules import AT, ENDS, STARTS, summer
from contact_prefs_memory import MemoryStore

# The store checks a proposal's expiry against its own clock as it commits: a policy whose
# approvals outlast any run of these tests, over their simulated days.
POLICY = ApprovalPolicy(required=True, max_changes=0, expires_after=datetime.timedelta(days=3650))
RUN = datetime.datetime.combine(STARTS, datetime.time(6), datetime.UTC)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A store holding DISTRICT and the summer schedule (made by alice), not yet started."""
    opened: Any = MemoryStore() if request.param == "memory" else open_store(f"sqlite:///{tmp_path}/district.db")
    with opened:
        yield prepared(opened)


def prepared(store: Any) -> Any:
    """``store`` once it holds DISTRICT and the summer schedule (PostgreSQL's tests use it too)."""
    store.load(DISTRICT)
    store.save_schedule(summer())
    return store


def _parent_edit(store: Any) -> None:
    """A parent switches Attendance on at g1's e-mail in the portal: the start plans one change fewer."""
    before = point(store.dump(), G1_MAIL)
    store.load(
        Snapshot(
            contact_points=[attrs.evolve(before, enabled=before.enabled | {Reason.ATTENDANCE}, source=Source.PORTAL)]
        )
    )


def test_without_an_approval_it_waits_and_writes_nothing_until_approved(store: Any) -> None:
    runs = run_due(store, today=ENDS, actor="cron", approval=POLICY, at=RUN)  # the start and, missed, the end
    assert [(ran.step, ran.waits, ran.failed) for ran in runs] == [(Step.START, True, False), (Step.END, True, False)]
    assert runs[0].waiting == "no proposal of this batch: propose it and have a second person approve it"
    assert runs[1].waiting == "its start waits for approval"
    assert store.history() == () and records(store.dump()) == records(DISTRICT)
    assert store.schedules()[0].start_batch is None

    proposal, _ = propose_start(store, "summer", actor="alice", at=AT, policy=POLICY)
    (ran,) = run_due(store, today=STARTS, actor="cron", approval=POLICY, at=RUN)
    assert ran.waiting == f"proposal {proposal.proposal_id} is waiting for a second person's approval"
    assert store.history() == ()

    store.approve(proposal.proposal_id, actor="bob", at=AT + datetime.timedelta(hours=1))
    (ran,) = run_due(store, today=STARTS, actor="cron", approval=POLICY, at=RUN)
    assert ran.receipt is not None and not ran.waits and not ran.failed
    (record,) = store.history()
    assert (record.schedule_id, record.actor) == ("summer", "cron")
    assert attrs.astuple(record.approval) == (proposal.proposal_id, "alice", "bob")
    assert store.proposals()[0].batch_id == record.batch_id == store.schedules()[0].start_batch
    assert run_due(store, today=STARTS, actor="cron", approval=POLICY, at=RUN) == ()


def test_the_proposal_is_of_the_start_days_batch_and_lasts_past_the_start_day(store: Any) -> None:
    proposal, planned = propose_start(store, "summer", actor="alice", at=AT, policy=POLICY)
    spec = spec_on(SPEC, STARTS)
    assert proposal.spec == planned.spec == spec and planned.changes == plan(spec, store.snapshot(spec)).changes
    start = datetime.datetime.combine(STARTS, datetime.time(), datetime.UTC)
    assert proposal.expires_at == start + POLICY.expires_after
    assert proposal.why and store.proposals() == (proposal,)


def test_the_proposer_cannot_approve_their_own_schedules_proposal(store: Any) -> None:
    proposal, _ = propose_start(store, "summer", actor="alice", at=AT, policy=POLICY)
    with pytest.raises(ProposalError, match="cannot approve it too"):
        store.approve(proposal.proposal_id, actor="alice", at=AT + datetime.timedelta(hours=1))
    (ran,) = run_due(store, today=STARTS, actor="alice", approval=POLICY, at=RUN)
    assert ran.waits and store.history() == ()


def test_a_parent_edit_after_approval_makes_it_wait_until_a_fresh_proposal_is_approved(store: Any) -> None:
    first, _ = propose_start(store, "summer", actor="alice", at=AT, policy=POLICY)
    store.approve(first.proposal_id, actor="bob", at=AT + datetime.timedelta(hours=1))
    _parent_edit(store)
    edited = store.dump()
    (ran,) = run_due(store, today=STARTS, actor="cron", approval=POLICY, at=RUN)
    assert ran.waiting == (
        f"proposal {first.proposal_id} was approved, but the district moved since: planned again, "
        "1 change(s) differ; propose the batch again and have it approved"
    )
    assert store.history() == () and store.dump() == edited

    fresh, _ = propose_start(store, "summer", actor="alice", at=AT + datetime.timedelta(days=1), policy=POLICY)
    store.approve(fresh.proposal_id, actor="bob", at=AT + datetime.timedelta(days=1, hours=1))
    (ran,) = run_due(store, today=STARTS + datetime.timedelta(days=1), actor="cron", approval=POLICY, at=RUN)
    assert ran.receipt is not None and ran.receipt.applied == len(plan(SPEC, DISTRICT)) - 1
    assert store.history()[0].approval.proposal_id == fresh.proposal_id
    states = {p.proposal_id: p.batch_id is not None for p in store.proposals()}
    assert states == {first.proposal_id: False, fresh.proposal_id: True}


def test_without_a_policy_or_below_it_the_start_runs_as_before(store: Any) -> None:
    (ran,) = run_due(
        store, today=STARTS, actor="cron", approval=ApprovalPolicy(required=True, max_changes=99, reasons=[]), at=RUN
    )
    assert ran.receipt is not None and store.history()[0].approval is None
    (ran,) = run_due(store, today=ENDS, actor="cron", approval=POLICY, at=RUN)  # an end needs no approval
    assert ran.step is Step.END and ran.receipt is not None


def test_only_a_start_still_to_come_is_proposed(store: Any) -> None:
    store.save_schedule(summer(schedule_id="winter"))
    unschedule(store, "winter", actor="alice", at=AT)
    with pytest.raises(ScheduleError, match="was cancelled by alice: it never starts"):
        propose_start(store, "winter", actor="alice", at=AT, policy=POLICY)
    (ran,) = run_due(store, today=STARTS, actor="cron")
    assert ran.receipt is not None
    with pytest.raises(ScheduleError, match=f"was started already, by batch {ran.receipt.batch_id}"):
        propose_start(store, "summer", actor="alice", at=AT, policy=POLICY)
    assert store.proposals() == ()
