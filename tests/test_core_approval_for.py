"""The proposal that approves a batch planned again (a scheduled start), and why none does."""

from __future__ import annotations

import datetime
import random

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contact_prefs import ChangeSet, Reason, Source, plan
from contact_prefs.approval import ApprovalPolicy
from contact_prefs.proposals import (
    Proposal,
    ProposalError,
    applied_proposal,
    approval_for,
    approve_proposal,
    check_application,
    new_proposal,
    why_unapproved,
    withdraw_proposal,
)
from contact_prefs.snapshot import Snapshot
from contact_prefs.testing.district import DISTRICT, G1_MAIL, OFF_SPEC, SPEC

T0 = datetime.datetime(2026, 11, 30, 9, 0, tzinfo=datetime.UTC)
HOUR = datetime.timedelta(hours=1)
POLICY = ApprovalPolicy(required=True, max_changes=0)
CHANGES = plan(SPEC, DISTRICT)


def _moved() -> Snapshot:
    """DISTRICT after a parent switched Attendance on at g1's e-mail: one change fewer to plan."""
    points = [
        attrs.evolve(p, enabled=p.enabled | {Reason.ATTENDANCE}, source=Source.PORTAL) if p.key == G1_MAIL.key else p
        for p in DISTRICT.contact_points
    ]
    return attrs.evolve(DISTRICT, contact_points=points)


MOVED = plan(SPEC, _moved())


OTHER = plan(OFF_SPEC, DISTRICT)


def proposal(proposal_id: str = "p-1", *, at: datetime.datetime = T0, changes: ChangeSet = CHANGES) -> Proposal:
    return new_proposal(changes, proposer="alice", at=at, policy=POLICY, proposal_id=proposal_id)


PROPOSED = proposal()
APPROVED = approve_proposal(PROPOSED, approver="bob", at=T0 + HOUR)


def test_the_changes_differ_between_the_two_plans() -> None:
    assert len(CHANGES) == len(MOVED) + 1


def test_an_approved_proposal_of_the_same_plan_approves_it() -> None:
    assert approval_for([APPROVED], CHANGES, at=T0 + 2 * HOUR) == APPROVED
    assert why_unapproved([APPROVED], CHANGES, at=T0 + 2 * HOUR) == "proposal p-1 approves this batch"


def test_no_proposal_of_the_batch() -> None:
    other = approve_proposal(proposal("p-2", changes=OTHER), approver="bob", at=T0 + HOUR)
    for proposals in ([], [other]):
        assert approval_for(proposals, CHANGES, at=T0 + 2 * HOUR) is None
        assert why_unapproved(proposals, CHANGES, at=T0 + 2 * HOUR) == (
            "no proposal of this batch: propose it and have a second person approve it"
        )


def test_a_proposal_not_yet_approved() -> None:
    assert approval_for([PROPOSED], CHANGES, at=T0 + HOUR) is None
    assert why_unapproved([PROPOSED], CHANGES, at=T0 + HOUR) == "proposal p-1 is waiting for a second person's approval"
    assert why_unapproved([PROPOSED], MOVED, at=T0 + HOUR) == (
        "proposal p-1 is waiting for a second person's approval "
        "(and the district moved since it was proposed: 1 change(s) differ)"
    )


def test_approved_but_the_district_moved_says_how_many_changes_differ() -> None:
    assert approval_for([APPROVED], MOVED, at=T0 + 2 * HOUR) is None
    assert why_unapproved([APPROVED], MOVED, at=T0 + 2 * HOUR) == (
        "proposal p-1 was approved, but the district moved since: planned again, 1 change(s) differ; "
        "propose the batch again and have it approved"
    )


def test_an_expired_approval_approves_nothing() -> None:
    at = APPROVED.expires_at
    assert approval_for([APPROVED], CHANGES, at=at - datetime.timedelta(microseconds=1)) == APPROVED
    assert approval_for([APPROVED], CHANGES, at=at) is None
    assert why_unapproved([APPROVED], CHANGES, at=at) == (
        f"proposal p-1 expired at {at.isoformat()}: propose the batch again"
    )


def test_applied_and_withdrawn_proposals_approve_nothing_and_are_not_named() -> None:
    applied = applied_proposal(APPROVED, batch_id="b-1", actor="carol", at=T0 + 2 * HOUR)
    withdrawn = withdraw_proposal(APPROVED, actor="alice", at=T0 + 2 * HOUR)
    for gone in (applied, withdrawn):
        assert approval_for([gone], CHANGES, at=T0 + 3 * HOUR) is None
        assert why_unapproved([gone], CHANGES, at=T0 + 3 * HOUR).startswith("no proposal of this batch")


def test_a_fresh_proposal_approved_after_the_district_moved_approves_the_new_plan() -> None:
    fresh = approve_proposal(proposal("p-2", at=T0 + 2 * HOUR, changes=MOVED), approver="bob", at=T0 + 3 * HOUR)
    assert approval_for([APPROVED, fresh], MOVED, at=T0 + 4 * HOUR) == fresh
    assert approval_for([fresh, APPROVED], CHANGES, at=T0 + 4 * HOUR) == APPROVED
    # The newest proposal of the batch explains the wait: here the fresh one, not yet approved.
    pending = proposal("p-3", at=T0 + 2 * HOUR, changes=MOVED)
    assert why_unapproved([APPROVED, pending], MOVED, at=T0 + 3 * HOUR).startswith("proposal p-3 is waiting")


def test_a_proposal_lasts_until_the_expiry_given() -> None:
    until = T0 + datetime.timedelta(days=30)
    assert new_proposal(CHANGES, proposer="alice", at=T0, policy=POLICY, expires_at=until).expires_at == until
    assert new_proposal(CHANGES, proposer="alice", at=T0, policy=POLICY).expires_at == T0 + POLICY.expires_after
    with pytest.raises(ValueError, match="cannot expire before"):
        new_proposal(CHANGES, proposer="alice", at=T0, policy=POLICY, expires_at=T0)


def _variant(index: int, kind: str, changes_index: int) -> Proposal:
    made = proposal(f"p-{index}", at=T0 + index * HOUR, changes=(CHANGES, MOVED, OTHER)[changes_index])
    if kind == "proposed":
        return made
    approved = approve_proposal(made, approver="bob", at=made.at + HOUR)
    if kind == "approved":
        return approved
    if kind == "withdrawn":
        return withdraw_proposal(approved, actor="alice", at=made.at + HOUR)
    return applied_proposal(approved, batch_id=f"b-{index}", actor="carol", at=made.at + HOUR)


def _applies(found: Proposal, changes: ChangeSet, at: datetime.datetime) -> bool:
    try:
        check_application(found, changes, at=at)
    except ProposalError:
        return False
    return True


@given(
    kinds=st.lists(
        st.tuples(st.sampled_from(["proposed", "approved", "withdrawn", "applied"]), st.integers(0, 2)), max_size=6
    ),
    planned=st.sampled_from([CHANGES, MOVED, OTHER]),
    days=st.integers(0, 10),
    order=st.randoms(use_true_random=False),
)
def test_a_batch_is_approved_exactly_when_one_of_its_proposals_would_apply(
    kinds: list[tuple[str, int]], planned: ChangeSet, days: int, order: random.Random
) -> None:
    proposals = [_variant(index, kind, which) for index, (kind, which) in enumerate(kinds)]
    at = T0 + datetime.timedelta(days=days)
    found = approval_for(proposals, planned, at=at)
    assert (found is not None) == any(_applies(each, planned, at) for each in proposals)
    if found is not None:
        assert _applies(found, planned, at)
    order.shuffle(proposals)
    assert approval_for(proposals, planned, at=at) == found
