"""The governance Python API (propose, find, apply, verify; run_batch under an approval policy)
on the reference store."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import attrs
import pytest

from contact_prefs import Reason, Snapshot, Source, Store, open_store, plan, run_batch
from contact_prefs.approval import ApprovalPolicy
from contact_prefs.chain import EntryKind
from contact_prefs.governance import apply_proposal, find_proposal, propose, verify_history
from contact_prefs.identifiers import IdError
from contact_prefs.proposals import (
    Approval,
    ApprovalRequiredError,
    PlanMovedError,
    ProposalError,
    ProposalState,
    UnknownProposalError,
    new_proposal,
)
from contact_prefs.testing.district import DISTRICT, G2_MAIL, OFF_SPEC, SPEC
from contact_prefs.testing.expected import records

POLICY = ApprovalPolicy(required=True, max_changes=0)


@pytest.fixture
def store() -> Iterator[Store]:
    with open_store("memory://") as opened:
        opened.load(DISTRICT)
        yield opened


def now() -> datetime.datetime:
    # The store stamps commits with its own clock; proposals are made and applied in real time.
    return datetime.datetime.now(datetime.UTC)


def written(store: Store) -> tuple[object, ...]:
    """Everything a refused step must leave as it was."""
    return (store.dump(), store.history(), store.proposals(), store.chain())


def test_propose_approve_apply_records_the_batch_with_its_approval(store: Store) -> None:
    before = records(store.dump())
    proposal, change_set = propose(store, SPEC, actor="alice", policy=POLICY, at=now())
    assert store.proposals() == (proposal,)
    assert (store.history(), records(store.dump())) == ((), before)  # proposing writes no batch
    store.approve(proposal.proposal_id, actor="bob", at=now())
    applied, receipt = apply_proposal(store, proposal.proposal_id[:6], actor="carol", at=now())
    assert applied.updates == change_set.updates  # planned again, the same (at a later version)
    (record,) = store.history()
    assert (record.batch_id, record.actor) == (receipt.batch_id, "carol")
    assert record.approval == Approval(proposal_id=proposal.proposal_id, proposer="alice", approver="bob")
    assert records(store.dump()) == records(change_set.apply_to(DISTRICT))
    (done,) = store.proposals()
    assert (done.state(now()), done.batch_id, done.applied_by) == (ProposalState.APPLIED, receipt.batch_id, "carol")
    assert [link.kind for link in store.chain()] == [
        EntryKind.PROPOSAL,
        EntryKind.APPROVAL,
        EntryKind.BATCH,
        EntryKind.APPLICATION,
    ]
    report = verify_history(store)
    assert report.intact, report.problem
    assert report.head == store.chain()[-1].hash
    with pytest.raises(ProposalError, match="applied"):
        apply_proposal(store, proposal.proposal_id, actor="carol", at=now())
    assert len(store.history()) == 1


def test_after_a_portal_edit_the_approved_proposal_is_refused_and_nothing_written(store: Store) -> None:
    proposal, _ = propose(store, SPEC, actor="alice", policy=POLICY, at=now())
    store.approve(proposal.proposal_id, actor="bob", at=now())
    # A parent switches General off at g2's e-mail in the portal: the batch has one change less to make.
    store.load(Snapshot(contact_points=[attrs.evolve(G2_MAIL, enabled={Reason.EMERGENCY}, source=Source.PORTAL)]))
    before = written(store)
    with pytest.raises(PlanMovedError, match="1 change\\(s\\) differ") as refused:
        apply_proposal(store, proposal.proposal_id, actor="carol", at=now())
    assert refused.value.differing == 1
    assert written(store) == before
    assert store.proposals()[0].state(now()) is ProposalState.APPROVED


def test_an_unapproved_expired_or_unknown_proposal_is_not_applied(store: Store) -> None:
    proposal, change_set = propose(store, SPEC, actor="alice", policy=POLICY, at=now())
    long_ago = now() - datetime.timedelta(days=8)
    old = new_proposal(change_set, proposer="alice", at=long_ago, policy=POLICY, proposal_id="old-proposal")
    store.propose(old)
    store.approve(old.proposal_id, actor="bob", at=long_ago)
    before = written(store)
    with pytest.raises(ProposalError, match="is proposed"):
        apply_proposal(store, proposal.proposal_id, actor="carol", at=now())
    with pytest.raises(ProposalError, match="is expired"):
        apply_proposal(store, "old-proposal", actor="carol", at=now())
    with pytest.raises(UnknownProposalError, match="no proposal 'nowhere' in this store"):
        apply_proposal(store, "nowhere", actor="carol", at=now())
    with pytest.raises(IdError):
        apply_proposal(store, proposal.proposal_id, actor=" ", at=now())
    assert written(store) == before


def test_a_proposal_needs_a_valid_proposer_and_writes_nothing_else(store: Store) -> None:
    before = written(store)
    with pytest.raises(IdError):
        propose(store, SPEC, actor="al\nice", policy=POLICY, at=now())
    assert written(store) == before


def test_run_batch_refuses_a_batch_that_needs_approval_and_writes_nothing(store: Store) -> None:
    before = written(store)
    with pytest.raises(ApprovalRequiredError, match="changes is more than the 0"):
        run_batch(store, SPEC, actor="staff", approval=POLICY)
    assert written(store) == before
    # Looking is no applying: a dry run shows the plan.
    change_set, receipt = run_batch(store, SPEC, actor="staff", approval=POLICY, dry_run=True)
    assert (receipt, change_set.updates) == (None, plan(SPEC, DISTRICT).updates)
    assert written(store) == before


def test_run_batch_passes_a_batch_the_policy_lets_through(store: Store) -> None:
    lenient = ApprovalPolicy(required=True, max_changes=1, reasons=[Reason.EMERGENCY])
    change_set, receipt = run_batch(store, OFF_SPEC, actor="staff", approval=lenient)
    assert receipt is not None and len(change_set) == 1
    (record,) = store.history()
    assert (record.batch_id, record.approval) == (receipt.batch_id, None)
    assert verify_history(store).intact


def test_find_proposal_by_id_or_unique_prefix(store: Store) -> None:
    change_set = plan(SPEC, store.snapshot(SPEC))
    for proposal_id in ("abcd1234", "abcd5678", "abc"):
        store.propose(new_proposal(change_set, proposer="alice", at=now(), policy=POLICY, proposal_id=proposal_id))
    assert find_proposal(store, "abcd1234").proposal_id == "abcd1234"
    assert find_proposal(store, "abcd12").proposal_id == "abcd1234"
    assert find_proposal(store, "abc").proposal_id == "abc"  # a whole id, however short
    with pytest.raises(ProposalError, match="too short") as short:
        find_proposal(store, "ab")
    assert not isinstance(short.value, UnknownProposalError)
    with pytest.raises(ProposalError, match="beginning of 2 proposal ids"):
        find_proposal(store, "abcd")
    with pytest.raises(UnknownProposalError):
        find_proposal(store, "ffff")


def test_proposals_approved_out_of_their_order_verify_intact(store: Store) -> None:
    first, _ = propose(store, SPEC, actor="alice", policy=POLICY, at=now())
    second, _ = propose(store, OFF_SPEC, actor="alice", policy=POLICY, at=now())
    store.approve(second.proposal_id, actor="bob", at=now())
    store.approve(first.proposal_id, actor="bob", at=now())
    store.withdraw(second.proposal_id, actor="alice", at=now())
    apply_proposal(store, first.proposal_id, actor="carol", at=now())
    report = verify_history(store)
    assert report.intact, report.problem
    assert report.links == 7


def test_the_governance_names_are_public() -> None:
    import contact_prefs
    from contact_prefs import approval, chain, proposals

    assert contact_prefs.__all__ == sorted(contact_prefs.__all__)
    assert contact_prefs.ApprovalPolicy is approval.ApprovalPolicy
    assert contact_prefs.ChainReport is chain.ChainReport
    for name in (
        "Approval",
        "ApprovalRequiredError",
        "PlanMovedError",
        "Proposal",
        "ProposalError",
        "ProposalState",
        "UnknownProposalError",
    ):
        assert name in contact_prefs.__all__
        assert getattr(contact_prefs, name) is getattr(proposals, name)


class CommitsWhileRead:
    """A store on which another writer commits right after the history is read: each of a store's
    methods is a transaction of its own, not one together."""

    def __init__(self, inner: Store, writes: int) -> None:
        self.inner, self.writes = inner, writes

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def history(self) -> object:
        history = self.inner.history()
        if self.writes:
            self.writes -= 1
            self.inner.commit(plan(SPEC, self.inner.snapshot(SPEC)), actor="someone else")
        return history


@pytest.mark.parametrize("writes", [1, 2])
def test_verifying_a_store_that_is_being_written_is_no_false_alarm(store: Store, writes: int) -> None:
    store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff")
    busy = CommitsWhileRead(store, writes)
    report = verify_history(busy)  # type: ignore[arg-type]
    assert report.intact, report.problem
    assert report.links == len(store.chain()) == 1 + writes
