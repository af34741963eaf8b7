"""``GovernanceContract``: proposals and their approval, and the hash-chained history.

This module imports pytest and Hypothesis: only tests import it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ..approval import ApprovalPolicy
from ..chain import GENESIS, EntryKind, verify_chain
from ..consent import Channel, ConsentAction, ConsentEvent, ConsentPolicy
from ..errors import ConflictError
from ..governance import propose, verify_history
from ..ledger import ledger_key
from ..planning import plan
from ..proposals import (
    Approval,
    PlanMovedError,
    ProposalError,
    ProposalState,
    UnknownProposalError,
    new_proposal,
)
from ..snapshot import Snapshot
from .base import EXAMPLES, ContractBase
from .checks import CheckedStore
from .district import DISTRICT, G1_MAIL, IDLE_SPEC, OFF_SPEC, SPEC
from .expected import edit_point, records

__all__ = ["GovernanceContract"]

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.UTC)
POLICY = ApprovalPolicy(required=True, max_changes=0)


def _fresh_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class GovernanceContract(ContractBase):
    """``propose``, ``approve``, ``withdraw``, ``proposals``, ``commit(proposal_id=)`` and ``chain``."""

    # -- proposals ------------------------------------------------------------

    def test_a_proposal_is_kept_as_proposed(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        now = _fresh_now()
        proposal, change_set = propose(store, SPEC, actor="alice", policy=POLICY, at=now)
        (kept,) = store.proposals()
        assert kept == proposal
        assert dict(kept.counts) == change_set.counts()
        assert kept.state(now) is ProposalState.PROPOSED
        assert kept.why  # the policy asked for approval, and says why
        assert store.history() == ()  # proposing writes no batch
        assert records(store.dump()) == records(DISTRICT)

    def test_proposal_ids_are_unique(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        proposal, _ = propose(store, SPEC, actor="alice", policy=POLICY, at=_fresh_now())
        with pytest.raises(ProposalError):
            store.propose(proposal)
        assert len(store.proposals()) == 1

    def test_approval_by_a_second_person(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        now = _fresh_now()
        proposal, _ = propose(store, SPEC, actor="alice", policy=POLICY, at=now)
        with pytest.raises(ProposalError, match="second person"):
            store.approve(proposal.proposal_id, actor="alice", at=now)
        assert store.proposals()[0].approver is None
        approved = store.approve(proposal.proposal_id, actor="bob", at=now)
        assert (approved.approver, approved.approved_at) == ("bob", now)
        assert store.proposals() == (approved,)
        assert approved.state(now) is ProposalState.APPROVED
        with pytest.raises(ProposalError, match="approved"):
            store.approve(proposal.proposal_id, actor="carol", at=now)

    def test_unknown_proposals(self, store: CheckedStore) -> None:
        now = _fresh_now()
        for step in (store.approve, store.withdraw):
            with pytest.raises(UnknownProposalError):
                step("no-such-proposal", actor="bob", at=now)
        with pytest.raises(UnknownProposalError):
            store.commit(plan(IDLE_SPEC, store.snapshot(IDLE_SPEC)), actor="carol", proposal_id="no-such-proposal")
        assert store.history() == ()

    def test_withdrawal(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        now = _fresh_now()
        proposal, change_set = propose(store, SPEC, actor="alice", policy=POLICY, at=now)
        withdrawn = store.withdraw(proposal.proposal_id, actor="alice", at=now)
        assert withdrawn.state(now) is ProposalState.WITHDRAWN
        assert store.proposals() == (withdrawn,)
        with pytest.raises(ProposalError, match="withdrawn"):
            store.approve(proposal.proposal_id, actor="bob", at=now)
        with pytest.raises(ProposalError, match="withdrawn"):
            store.commit(change_set, actor="carol", proposal_id=proposal.proposal_id)
        assert store.history() == ()

    def test_applying_an_approved_proposal_names_proposer_and_approver(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        now = _fresh_now()
        proposal, change_set = propose(store, SPEC, actor="alice", policy=POLICY, at=now)
        store.approve(proposal.proposal_id, actor="bob", at=now)
        receipt = store.commit(change_set, actor="carol", proposal_id=proposal.proposal_id)
        expected = Approval(proposal_id=proposal.proposal_id, proposer="alice", approver="bob")
        (record,) = store.history()
        assert (record.batch_id, record.actor, record.approval) == (receipt.batch_id, "carol", expected)
        (summary,) = store.batches()
        assert summary.approval == expected
        (applied,) = store.proposals()
        assert (applied.batch_id, applied.applied_by) == (receipt.batch_id, "carol")
        assert applied.state(_fresh_now()) is ProposalState.APPLIED
        assert records(store.dump()) == records(change_set.apply_to(DISTRICT))
        # Applied once: never twice.
        again = plan(SPEC, store.snapshot(SPEC))
        with pytest.raises(ProposalError, match="applied"):
            store.commit(again, actor="carol", proposal_id=proposal.proposal_id)
        assert len(store.history()) == 1

    def test_an_unapproved_or_expired_proposal_is_not_applied(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        proposal, change_set = propose(store, SPEC, actor="alice", policy=POLICY, at=_fresh_now())
        with pytest.raises(ProposalError, match="proposed"):
            store.commit(change_set, actor="carol", proposal_id=proposal.proposal_id)
        # One proposed eight days ago, approved in time, has expired by now.
        long_ago = _fresh_now() - datetime.timedelta(days=8)
        old = new_proposal(change_set, proposer="alice", at=long_ago, policy=POLICY, proposal_id="old-proposal")
        store.propose(old)
        store.approve(old.proposal_id, actor="bob", at=long_ago + datetime.timedelta(hours=1))
        with pytest.raises(ProposalError, match="expired"):
            store.commit(change_set, actor="carol", proposal_id=old.proposal_id)
        with pytest.raises(ProposalError, match="expired"):
            store.approve(old.proposal_id, actor="dave", at=_fresh_now())
        assert store.history() == ()
        assert records(store.dump()) == records(DISTRICT)

    def test_a_change_set_other_than_the_approved_one_is_refused(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        now = _fresh_now()
        proposal, change_set = propose(store, SPEC, actor="alice", policy=POLICY, at=now)
        store.approve(proposal.proposal_id, actor="bob", at=now)
        edit_point(store, G1_MAIL, "point gone")  # the SIS removed a point: the district moved
        moved = plan(SPEC, store.snapshot(SPEC))
        with pytest.raises(PlanMovedError) as refused:
            store.commit(moved, actor="carol", proposal_id=proposal.proposal_id)
        assert refused.value.differing > 0
        # The change set as approved now conflicts: either way nothing is written.
        with pytest.raises((ConflictError, ProposalError)):
            store.commit(change_set, actor="carol", proposal_id=proposal.proposal_id)
        assert store.history() == ()
        assert store.proposals()[0].batch_id is None

    # -- the chain ------------------------------------------------------------

    def test_an_empty_store_has_an_empty_chain(self, store: CheckedStore) -> None:
        assert store.chain() == ()
        report = verify_history(store)
        assert (report.intact, report.head, report.links) == (True, GENESIS, 0)

    def test_every_history_entry_is_chained_in_order(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        receipt = store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff")
        store.undo(receipt.batch_id, actor="staff")
        event = ConsentEvent(
            address=ledger_key(G1_MAIL.method, G1_MAIL.address, "US") or "",
            action=ConsentAction.REVOKE,
            channel=Channel.EMAIL_REPLY,
            received_at=NOW,
            recorded_by="office",
        )
        store.record_consent([event], actor="office")
        store.set_consent_policy(ConsentPolicy(region="US"), actor="admin", why="yearly review")
        now = _fresh_now()
        proposal, change_set = propose(store, OFF_SPEC, actor="alice", policy=POLICY, at=now)
        store.approve(proposal.proposal_id, actor="bob", at=now)
        applied = store.commit(change_set, actor="carol", proposal_id=proposal.proposal_id)
        chain = store.chain()
        kinds = [(link.kind, link.key) for link in chain]
        undo_id = store.history()[1].batch_id
        assert kinds == [
            (EntryKind.BATCH, receipt.batch_id),
            (EntryKind.BATCH, undo_id),
            (EntryKind.CONSENT, "1"),
            (EntryKind.POLICY, "1"),
            (EntryKind.PROPOSAL, proposal.proposal_id),
            (EntryKind.APPROVAL, proposal.proposal_id),
            (EntryKind.BATCH, applied.batch_id),
            (EntryKind.APPLICATION, proposal.proposal_id),
        ]
        assert [link.seq for link in chain] == list(range(1, len(chain) + 1))
        report = verify_history(store, expect_head=chain[3].hash)
        assert report.intact, report.problem
        assert report.head == chain[-1].hash

    def test_a_load_that_revokes_chains_its_consent_events(self, store: CheckedStore) -> None:
        revoked = attrs.evolve(G1_MAIL, revoked=True)
        store.load(DISTRICT)
        store.load(Snapshot(contact_points=[revoked]))
        events = store.consent_events()
        assert events
        assert [link.kind for link in store.chain()] == [EntryKind.CONSENT] * len(events)
        assert verify_history(store).intact

    def test_a_head_never_kept_is_refused(self, store: CheckedStore) -> None:
        store.load(DISTRICT)
        store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff")
        report = verify_history(store, expect_head="f" * 64)
        assert not report.intact
        assert "rewritten" in (report.problem or "")

    @EXAMPLES
    @given(steps=st.lists(st.sampled_from(["commit", "undo", "propose", "policy"]), max_size=5))
    def test_the_chain_stays_intact_through_any_writes(
        self, new_checked_store: Callable[[], CheckedStore], steps: list[str]
    ) -> None:
        with new_checked_store() as store:
            store.load(DISTRICT)
            heads = [verify_history(store).head]
            for step in steps:
                if step == "commit":
                    store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff")
                elif step == "undo":
                    undoable = [r for r in store.history() if r.undoes is None and r.undone_by is None]
                    if not undoable:
                        continue
                    store.undo(undoable[0].batch_id, actor="staff")
                elif step == "propose":
                    propose(store, SPEC, actor="alice", policy=POLICY, at=_fresh_now())
                else:
                    store.set_consent_policy(ConsentPolicy(), actor="admin", why="again")
                report = verify_history(store)
                assert report.intact, report.problem
                assert report.head not in heads  # every write moves the head
                heads.append(report.head)
            # The chain verifies from its own links alone, and a link edited in it is found.
            chain = store.chain()
            if chain:
                edited = list(chain)
                edited[0] = attrs.evolve(edited[0], digest="0" * 64)
                entries_report = verify_chain(edited, [])
                assert not entries_report.intact
                assert entries_report.position == 1
