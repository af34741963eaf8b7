"""Two-person approval: when a batch needs it, and every step of a proposal, allowed or refused."""

from __future__ import annotations

import datetime
from typing import Any

import attrs
import pytest

from contact_prefs import ChangeSet, Method, Mode, Reason, ReasonSet, Source, plan
from contact_prefs.approval import DEFAULT_EXPIRY, ApprovalPolicy, approval_needed
from contact_prefs.changes import PointUpdate
from contact_prefs.digest import changes_between, changeset_digest
from contact_prefs.identifiers import IdError
from contact_prefs.proposals import (
    Approval,
    ApprovalRequiredError,
    PlanMovedError,
    Proposal,
    ProposalError,
    ProposalState,
    applied_proposal,
    approval_of,
    approve_proposal,
    check_application,
    check_approval_not_needed,
    new_proposal,
    withdraw_proposal,
)
from contact_prefs.testing.district import DISTRICT, G1_MAIL, OFF_SPEC, SPEC

T0 = datetime.datetime(2026, 11, 30, 9, 0, tzinfo=datetime.UTC)
LATER = T0 + datetime.timedelta(hours=2)
MICROSECOND = datetime.timedelta(microseconds=1)
CHANGES = plan(SPEC, DISTRICT)  # attendance on, general off: cell, e-mail and household phone
POLICY = ApprovalPolicy(required=True, max_changes=0)


def proposed(**fields: Any) -> Proposal:
    return new_proposal(CHANGES, proposer="alice", at=T0, policy=POLICY, proposal_id="p-1", **fields)


PROPOSED = proposed()
APPROVED = approve_proposal(PROPOSED, approver="bob", at=LATER)
EXPIRES = PROPOSED.expires_at


# --- the approval policy -------------------------------------------------------------------


def test_a_policy_not_required_never_asks_for_approval() -> None:
    anything = ApprovalPolicy(max_changes=0, reasons=list(Reason), modes=list(Mode))
    assert approval_needed(anything, CHANGES) is None
    assert approval_needed(ApprovalPolicy(), plan(SPEC, DISTRICT)) is None


def test_each_trigger_of_the_policy_and_their_order() -> None:
    size = len(CHANGES)
    assert size == 5
    by_mode = ApprovalPolicy(required=True, modes=[Mode.STUDENT_MESSENGER_CONTACTS], reasons=[Reason.GENERAL])
    assert approval_needed(by_mode, CHANGES) == "batches in mode student_messenger_contacts need approval"
    by_reason = ApprovalPolicy(required=True, reasons=[Reason.GENERAL, Reason.ATTENDANCE], max_changes=0)
    assert approval_needed(by_reason, CHANGES) == "changes to attendance, general need approval"
    by_size = ApprovalPolicy(required=True, max_changes=size - 1)
    assert approval_needed(by_size, CHANGES) == "5 changes is more than the 4 a batch may make without approval"
    assert approval_needed(ApprovalPolicy(required=True, max_changes=size), CHANGES) is None  # at the limit
    assert approval_needed(ApprovalPolicy(required=True), CHANGES) is None  # emergency, census/staff: neither
    # A reason named but set to no change, or only skipped, is not a change to it.
    assert approval_needed(ApprovalPolicy(required=True, reasons=[Reason.TEACHER]), CHANGES) is None


def test_the_default_policy_names_emergency_census_staff_and_seven_days() -> None:
    policy = ApprovalPolicy(required=True)
    assert (policy.reasons, policy.modes, policy.max_changes) == (
        ReasonSet([Reason.EMERGENCY]),
        frozenset({Mode.CENSUS_STAFF}),
        None,
    )
    assert policy.expires_after == DEFAULT_EXPIRY == datetime.timedelta(days=7)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"max_changes": -1}, "max_changes is a whole number of zero or more"),
        ({"max_changes": 2.5}, "max_changes is a whole number"),
        ({"max_changes": False}, "max_changes is a whole number"),
        ({"expires_after": datetime.timedelta(seconds=-1)}, "expires_after is a positive time span"),
        ({"expires_after": "7 days"}, "expires_after is a positive time span"),
        ({"required": "no"}, "required is true or false"),
        ({"required": 1}, "required is true or false"),
        ({"modes": ["everyone"]}, "everyone"),
        ({"reasons": ["bogus"]}, "bogus"),
    ],
)
def test_a_policy_refuses_bad_values(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ApprovalPolicy(**fields)


# --- proposing -----------------------------------------------------------------------------


def test_a_proposal_holds_the_change_set_as_planned() -> None:
    assert PROPOSED.digest == changeset_digest(CHANGES)
    assert PROPOSED.counts == CHANGES.counts()
    assert (PROPOSED.spec, PROPOSED.proposer, PROPOSED.at, PROPOSED.changes) == (SPEC, "alice", T0, 5)
    assert PROPOSED.expires_at == T0 + datetime.timedelta(days=7)
    assert PROPOSED.why == approval_needed(POLICY, CHANGES)
    assert new_proposal(CHANGES, proposer="alice", at=T0, policy=ApprovalPolicy()).why == ""
    short = ApprovalPolicy(expires_after=datetime.timedelta(hours=1))
    assert new_proposal(CHANGES, proposer="alice", at=T0, policy=short).expires_at == T0 + datetime.timedelta(hours=1)
    fresh = {new_proposal(CHANGES, proposer="alice", at=T0, policy=POLICY).proposal_id for _ in range(3)}
    assert len(fresh) == 3 and all(len(id_) == 32 for id_ in fresh)


def test_a_proposal_expires_exactly_at_its_expiry_approved_or_not() -> None:
    for proposal, alive in ((PROPOSED, ProposalState.PROPOSED), (APPROVED, ProposalState.APPROVED)):
        assert proposal.state(EXPIRES - MICROSECOND) is alive
        assert proposal.state(EXPIRES) is ProposalState.EXPIRED
        assert proposal.state(EXPIRES + DEFAULT_EXPIRY) is ProposalState.EXPIRED


# --- approving -----------------------------------------------------------------------------


def test_a_second_person_approves() -> None:
    assert (APPROVED.approver, APPROVED.approved_at) == ("bob", LATER)
    assert APPROVED.state(LATER) is ProposalState.APPROVED
    assert attrs.evolve(APPROVED, approver=None, approved_at=None) == PROPOSED  # nothing else changed
    assert approve_proposal(PROPOSED, approver="bob", at=EXPIRES - MICROSECOND).approver == "bob"


def test_the_proposer_cannot_approve() -> None:
    with pytest.raises(ProposalError, match="alice proposed p-1 and cannot approve it too: a second person must"):
        approve_proposal(PROPOSED, approver="alice", at=LATER)


@pytest.mark.parametrize(
    ("proposal", "at", "state"),
    [
        (APPROVED, LATER, "approved"),  # twice
        (PROPOSED, EXPIRES, "expired"),
        (withdraw_proposal(PROPOSED, actor="alice", at=LATER), LATER, "withdrawn"),
        (applied_proposal(APPROVED, batch_id="b-1", actor="carol", at=LATER), LATER, "applied"),
    ],
)
def test_only_a_proposed_proposal_is_approved(proposal: Proposal, at: datetime.datetime, state: str) -> None:
    with pytest.raises(ProposalError, match=f"proposal p-1 is {state}: it cannot be approved"):
        approve_proposal(proposal, approver="dave", at=at)


def test_an_approver_follows_the_actor_rule() -> None:
    for name in ("", "   ", "bo\nb"):
        with pytest.raises(IdError):
            approve_proposal(PROPOSED, approver=name, at=LATER)


# --- withdrawing ---------------------------------------------------------------------------


def test_a_proposed_or_approved_proposal_is_withdrawn_by_anyone() -> None:
    for proposal in (PROPOSED, APPROVED):
        withdrawn = withdraw_proposal(proposal, actor="alice", at=LATER)
        assert (withdrawn.withdrawn_by, withdrawn.withdrawn_at) == ("alice", LATER)
        assert withdrawn.state(LATER) is ProposalState.WITHDRAWN
        assert withdrawn.state(EXPIRES + DEFAULT_EXPIRY) is ProposalState.WITHDRAWN  # final


@pytest.mark.parametrize(
    ("proposal", "at", "state"),
    [
        (applied_proposal(APPROVED, batch_id="b-1", actor="carol", at=LATER), LATER, "applied"),
        (withdraw_proposal(PROPOSED, actor="alice", at=LATER), LATER, "withdrawn"),
        (PROPOSED, EXPIRES, "expired"),
        (APPROVED, EXPIRES, "expired"),
    ],
)
def test_a_proposal_applied_withdrawn_or_expired_is_not_withdrawn(
    proposal: Proposal, at: datetime.datetime, state: str
) -> None:
    with pytest.raises(ProposalError, match=f"proposal p-1 is {state}: it cannot be withdrawn"):
        withdraw_proposal(proposal, actor="bob", at=at)


# --- applying ------------------------------------------------------------------------------


def test_an_approved_proposal_applies_as_planned_until_it_expires() -> None:
    check_application(APPROVED, CHANGES, at=LATER)
    check_application(APPROVED, plan(SPEC, DISTRICT), at=EXPIRES - MICROSECOND)  # planned again, the same
    applied = applied_proposal(APPROVED, batch_id="b-1", actor="carol", at=LATER)
    assert (applied.batch_id, applied.applied_by, applied.applied_at) == ("b-1", "carol", LATER)
    assert applied.state(EXPIRES + DEFAULT_EXPIRY) is ProposalState.APPLIED  # final
    assert approval_of(applied) == Approval(proposal_id="p-1", proposer="alice", approver="bob")


@pytest.mark.parametrize(
    ("proposal", "at", "state"),
    [
        (PROPOSED, LATER, "proposed"),
        (APPROVED, EXPIRES, "expired"),
        (withdraw_proposal(APPROVED, actor="alice", at=LATER), LATER, "withdrawn"),
        (applied_proposal(APPROVED, batch_id="b-1", actor="carol", at=LATER), LATER, "applied"),
    ],
)
def test_only_an_approved_unexpired_proposal_applies(proposal: Proposal, at: datetime.datetime, state: str) -> None:
    with pytest.raises(ProposalError, match=f"proposal p-1 is {state}: it cannot be applied"):
        check_application(proposal, CHANGES, at=at)


def test_a_proposal_applies_only_to_its_own_spec() -> None:
    other = plan(OFF_SPEC, DISTRICT)
    with pytest.raises(ProposalError, match="approved for another batch spec") as refused:
        check_application(APPROVED, other, at=LATER)
    assert not isinstance(refused.value, PlanMovedError)


def test_a_district_that_moved_since_approval_is_refused_with_how_many_changes_differ() -> None:
    # The SIS removed a point since approval.
    moved_district = attrs.evolve(
        DISTRICT, contact_points=[point for point in DISTRICT.contact_points if point.key != G1_MAIL.key]
    )
    moved = plan(SPEC, moved_district)
    differing = changes_between(CHANGES.counts(), moved.counts())
    assert differing == len(CHANGES) - len(moved) > 0
    with pytest.raises(PlanMovedError, match=f"{differing} change\\(s\\) differ") as refused:
        check_application(APPROVED, moved, at=LATER)
    assert refused.value.differing == differing
    assert "nothing was written" in str(refused.value)
    assert "propose the batch again" in str(refused.value)


def _one_update(owner: str, revoked: set[str] | None = None) -> ChangeSet:
    update = PointUpdate(
        owner_id=owner,
        method=Method.EMAIL,
        source_before=Source.STAFF,
        enabled_before=ReasonSet(),
        enabled_after=ReasonSet({Reason.ATTENDANCE}),
        affects=frozenset({owner}),
        revoked_before=ReasonSet(revoked or set()),
    )
    return ChangeSet(spec=SPEC, basis="", updates=[update])


@pytest.mark.parametrize("now", [_one_update("g2"), _one_update("g1", revoked={"general"})])
def test_as_many_changes_elsewhere_or_under_other_consent_differ_too(now: ChangeSet) -> None:
    approved = approve_proposal(
        new_proposal(_one_update("g1"), proposer="alice", at=T0, policy=POLICY, proposal_id="p-1"),
        approver="bob",
        at=T0,
    )
    with pytest.raises(
        PlanMovedError, match="as many changes of each kind, but at other points or under other consent"
    ):
        check_application(approved, now, at=LATER)


def test_an_unapproved_proposal_names_no_approval() -> None:
    with pytest.raises(ProposalError, match="p-1 has not been approved"):
        approval_of(PROPOSED)


def test_a_batch_that_needs_approval_is_not_applied_without_it() -> None:
    with pytest.raises(ApprovalRequiredError, match="needs a second person's approval") as refused:
        check_approval_not_needed(POLICY, CHANGES)
    assert approval_needed(POLICY, CHANGES) in str(refused.value)
    assert "nothing was written" in str(refused.value)
    check_approval_not_needed(ApprovalPolicy(), CHANGES)
    check_approval_not_needed(ApprovalPolicy(required=True, max_changes=5), CHANGES)


# --- the proposal's own checks -------------------------------------------------------------


NAIVE = datetime.datetime(2026, 11, 30, 9, 0)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"at": NAIVE}, "at must be a time with a time zone"),
        ({"expires_at": NAIVE}, "expires_at must be a time with a time zone"),
        ({"approver": "bob", "approved_at": NAIVE}, "approved_at must be a time with a time zone"),
        ({"withdrawn_by": "bob", "withdrawn_at": NAIVE}, "withdrawn_at must be a time with a time zone"),
        ({"applied_at": NAIVE, "batch_id": "b", "applied_by": "c"}, "applied_at must be a time with a time zone"),
        ({"digest": "A" * 64}, "digest must be a SHA-256 in lower-case hex"),
        ({"digest": "a" * 63}, "digest must be a SHA-256 in lower-case hex"),
        ({"proposal_id": ""}, "proposal_id is empty"),
        ({"proposal_id": "p\n1"}, "proposal_id holds a control character"),
        ({"proposal_id": "p" * 201}, "proposal_id is 201 characters long"),
        ({"batch_id": "b\t1", "applied_by": "c", "applied_at": T0}, "batch_id holds a control character"),
        ({"proposer": "  "}, "only spaces"),
        ({"approver": "b\x7fob", "approved_at": T0}, "control character"),
        ({"withdrawn_by": "", "withdrawn_at": T0}, "empty"),
        ({"applied_by": "c\n", "batch_id": "b", "applied_at": T0}, "control character"),
    ],
)
def test_a_proposal_refuses_what_no_store_could_keep_alike(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        attrs.evolve(PROPOSED, **fields)


def test_counts_are_every_pair_so_a_store_may_keep_only_the_pairs_changed() -> None:
    changed = {pair: n for pair, n in PROPOSED.counts.items() if n}
    assert len(changed) < len(PROPOSED.counts)
    assert attrs.evolve(PROPOSED, counts=changed) == PROPOSED
    assert attrs.evolve(PROPOSED, counts=changed).counts == CHANGES.counts()
    for bad in ({(Method.EMAIL, Reason.GENERAL): -1}, {(Method.EMAIL, Reason.GENERAL): 1.5}, {("fax", "general"): 1}):
        with pytest.raises(ValueError, match="counts hold a whole number of zero or more"):
            attrs.evolve(PROPOSED, counts=bad)


@pytest.mark.parametrize(("field", "text"), [("reasons", "emergency"), ("modes", "census_staff")])
def test_a_policy_takes_a_collection_not_one_name(field: str, text: str) -> None:
    with pytest.raises(ValueError, match=f"{field} is a collection of names, such as \\['{text}'\\], not one name"):
        ApprovalPolicy(**{field: text})
