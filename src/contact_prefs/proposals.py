"""Two-person approval: a proposal records a planned batch, a second person approves it, anyone
allowed applies it, and only as it was approved.

Each rule is a pure function from a proposal (and a time, passed in: the core
reads no clock) to the proposal as it is after the step, or an error saying
why the step is refused.  Stores keep proposals and call these rules; the
command line and :mod:`contact_prefs.governance` drive them.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from .approval import ApprovalPolicy, approval_needed
from .changes import ChangeSet
from .digest import changes_between, changeset_digest
from .enums import Method, Reason, _Vocabulary
from .errors import ContactPrefsError
from .identifiers import check_actor
from .spec import BatchSpec
from .validators import an_id, aware_time, optional_actor, optional_aware_time, optional_id

Counts = dict[tuple[Method, Reason], int]


class ProposalError(ContactPrefsError):
    """A step a proposal's state, or the rules of approval, do not allow; nothing was written."""


class UnknownProposalError(ProposalError, LookupError):
    """A proposal id that is not in the store."""


class PlanMovedError(ProposalError):
    """The district moved since approval: planning again gives another change set.

    ``differing`` is how many changes differ (by the results tables).
    """

    def __init__(self, message: str, *, differing: int) -> None:
        super().__init__(message)
        self.differing = differing


class ApprovalRequiredError(ProposalError):
    """A batch the approval policy says needs a second person, applied without an approved proposal."""


class ProposalState(_Vocabulary):
    """Where a proposal stands, at a given time."""

    PROPOSED = "proposed"
    APPROVED = "approved"
    APPLIED = "applied"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


def _counts(value: Mapping[tuple[Method, Reason], int]) -> Counts:
    """Every (method, reason) pair, zeros included, as a change set counts them: a proposal read
    back from a store that keeps only the pairs changed equals the one proposed."""
    counts = {(method, reason): 0 for method in Method for reason in Reason}
    for pair, n in dict(value).items():
        if pair not in counts or type(n) is not int or n < 0:
            raise ValueError(
                f"counts hold a whole number of zero or more per (method, reason) pair, not {n!r} for {pair!r}"
            )
        counts[pair] = n
    return counts


def _digest(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{64}", value):
        raise ValueError(f"{attribute.name} must be a SHA-256 in lower-case hex, not {value!r}")


@attrs.frozen(kw_only=True)
class Proposal:
    """A planned batch waiting for, or having had, a second person's approval.

    ``digest`` and ``counts`` are those of the change set as proposed
    (:func:`~contact_prefs.digest.changeset_digest`); ``why`` is why it needs
    approval (empty if the policy did not require it).  The other fields are
    filled as the proposal is approved, withdrawn or applied.
    """

    proposal_id: str = attrs.field(validator=an_id)
    spec: BatchSpec
    digest: str = attrs.field(validator=_digest)
    counts: Counts = attrs.field(hash=False, converter=_counts)
    proposer: str = attrs.field(validator=lambda _i, _a, value: check_actor(value))
    at: datetime.datetime = attrs.field(validator=aware_time)
    expires_at: datetime.datetime = attrs.field(validator=aware_time)
    why: str = ""
    approver: str | None = attrs.field(default=None, validator=optional_actor)
    approved_at: datetime.datetime | None = attrs.field(default=None, validator=optional_aware_time)
    withdrawn_by: str | None = attrs.field(default=None, validator=optional_actor)
    withdrawn_at: datetime.datetime | None = attrs.field(default=None, validator=optional_aware_time)
    batch_id: str | None = attrs.field(default=None, validator=optional_id)
    applied_by: str | None = attrs.field(default=None, validator=optional_actor)
    applied_at: datetime.datetime | None = attrs.field(default=None, validator=optional_aware_time)

    @property
    def changes(self) -> int:
        """How many changes the proposed batch makes."""
        return sum(self.counts.values())

    def state(self, now: datetime.datetime) -> ProposalState:
        """Where the proposal stands at ``now``: applied and withdrawn are final; an unapplied
        proposal expires at ``expires_at``, approved or not."""
        if self.batch_id is not None:
            return ProposalState.APPLIED
        if self.withdrawn_by is not None:
            return ProposalState.WITHDRAWN
        if now >= self.expires_at:
            return ProposalState.EXPIRED
        if self.approver is not None:
            return ProposalState.APPROVED
        return ProposalState.PROPOSED


@attrs.frozen(kw_only=True)
class Approval:
    """Who proposed and who approved a batch: what a batch's history entry names."""

    proposal_id: str
    proposer: str
    approver: str


def new_proposal(
    change_set: ChangeSet,
    *,
    proposer: str,
    at: datetime.datetime,
    policy: ApprovalPolicy,
    proposal_id: str | None = None,
    expires_at: datetime.datetime | None = None,
) -> Proposal:
    """A proposal of ``change_set`` by ``proposer`` at ``at``, expiring as ``policy`` says
    (``policy.expires_after`` after ``at``) or at ``expires_at`` when given: a schedule's proposal
    lasts until its start day."""
    if expires_at is None:
        expires_at = at + policy.expires_after
    elif expires_at <= at:
        raise ValueError(f"a proposal made at {at.isoformat()} cannot expire before, at {expires_at.isoformat()}")
    return Proposal(
        proposal_id=proposal_id or uuid.uuid4().hex,
        spec=change_set.spec,
        digest=changeset_digest(change_set),
        counts=change_set.counts(),
        proposer=proposer,
        at=at,
        expires_at=expires_at,
        why=approval_needed(policy, change_set) or "",
    )


def _refuse_unless(proposal: Proposal, now: datetime.datetime, *allowed: ProposalState, step: str) -> None:
    state = proposal.state(now)
    if state not in allowed:
        raise ProposalError(f"proposal {proposal.proposal_id} is {state.value}: it cannot be {step}")


def approve_proposal(proposal: Proposal, *, approver: str, at: datetime.datetime) -> Proposal:
    """Two-person rule: a proposed (not expired, withdrawn or applied) proposal approved by someone
    other than its proposer."""
    check_actor(approver)
    _refuse_unless(proposal, at, ProposalState.PROPOSED, step="approved")
    if approver == proposal.proposer:
        raise ProposalError(
            f"{approver} proposed {proposal.proposal_id} and cannot approve it too: a second person must"
        )
    return attrs.evolve(proposal, approver=approver, approved_at=at)


def withdraw_proposal(proposal: Proposal, *, actor: str, at: datetime.datetime) -> Proposal:
    """A proposal not yet applied (nor withdrawn, nor expired) withdrawn by ``actor``."""
    check_actor(actor)
    _refuse_unless(proposal, at, ProposalState.PROPOSED, ProposalState.APPROVED, step="withdrawn")
    return attrs.evolve(proposal, withdrawn_by=actor, withdrawn_at=at)


def check_application(proposal: Proposal, change_set: ChangeSet, *, at: datetime.datetime) -> None:
    """Apply only as approved: the proposal is approved and unexpired at ``at``, and ``change_set``
    (planned again, from the proposal's spec) has the digest that was approved."""
    _refuse_unless(proposal, at, ProposalState.APPROVED, step="applied")
    if change_set.spec != proposal.spec:
        raise ProposalError(f"proposal {proposal.proposal_id} was approved for another batch spec")
    if changeset_digest(change_set) != proposal.digest:
        differing, how_many = _how_many_differ(proposal, change_set)
        raise PlanMovedError(
            f"the district moved since proposal {proposal.proposal_id} was approved: planned again, "
            f"{how_many}; nothing was written: propose the batch again",
            differing=differing,
        )


def _how_many_differ(proposal: Proposal, change_set: ChangeSet) -> tuple[int, str]:
    """How many changes differ between what was proposed and ``change_set``, and that said in words."""
    differing = changes_between(proposal.counts, change_set.counts())
    # Equal results tables: the same switches at other points, or planned under other consent.
    if differing:
        return differing, f"{differing:,} change(s) differ"
    return differing, "as many changes of each kind, but at other points or under other consent"


def approval_for(proposals: Iterable[Proposal], change_set: ChangeSet, *, at: datetime.datetime) -> Proposal | None:
    """The proposal that approves applying ``change_set`` at ``at``, or ``None`` (then
    :func:`why_unapproved` says why): approved, unapplied, not withdrawn, unexpired at ``at``,
    of exactly ``change_set``'s spec, with ``change_set``'s digest (the district has not moved).

    A scheduled batch is approved this way: by an ordinary proposal of the batch its start runs.
    Of several that fit, the first approved.
    """
    digest = changeset_digest(change_set)
    fitting = [
        proposal
        for proposal in proposals
        if proposal.spec == change_set.spec
        and proposal.state(at) is ProposalState.APPROVED
        and proposal.digest == digest
    ]
    return min(fitting, key=lambda proposal: (proposal.approved_at or proposal.at, proposal.proposal_id), default=None)


def why_unapproved(proposals: Iterable[Proposal], change_set: ChangeSet, *, at: datetime.datetime) -> str:
    """Why no proposal approves ``change_set`` at ``at`` (:func:`approval_for`), from the newest
    proposal of its spec still open or expired: none proposed, not yet approved, approved but the
    district moved (with how many changes differ), or expired."""
    open_or_expired = (ProposalState.PROPOSED, ProposalState.APPROVED, ProposalState.EXPIRED)
    same = [p for p in proposals if p.spec == change_set.spec and p.state(at) in open_or_expired]
    if not same:
        return "no proposal of this batch: propose it and have a second person approve it"
    newest = max(same, key=lambda proposal: (proposal.at, proposal.proposal_id))
    name = f"proposal {newest.proposal_id}"
    state = newest.state(at)
    if state is ProposalState.EXPIRED:
        return f"{name} expired at {newest.expires_at.isoformat()}: propose the batch again"
    moved = changeset_digest(change_set) != newest.digest
    if state is ProposalState.PROPOSED:
        since = ""
        if moved:
            since = f" (and the district moved since it was proposed: {_how_many_differ(newest, change_set)[1]})"
        return f"{name} is waiting for a second person's approval{since}"
    if not moved:
        return f"{name} approves this batch"
    return (
        f"{name} was approved, but the district moved since: planned again, "
        f"{_how_many_differ(newest, change_set)[1]}; propose the batch again and have it approved"
    )


def applied_proposal(proposal: Proposal, *, batch_id: str, actor: str, at: datetime.datetime) -> Proposal:
    """``proposal`` once ``actor`` applied it as batch ``batch_id``."""
    return attrs.evolve(proposal, batch_id=batch_id, applied_by=actor, applied_at=at)


def approval_of(proposal: Proposal) -> Approval:
    """What the history entry of the batch applying ``proposal`` names."""
    if proposal.approver is None:
        raise ProposalError(f"proposal {proposal.proposal_id} has not been approved")
    return Approval(proposal_id=proposal.proposal_id, proposer=proposal.proposer, approver=proposal.approver)


def check_approval_not_needed(policy: ApprovalPolicy, change_set: ChangeSet) -> None:
    """A batch the policy says needs approval is applied only through an approved proposal."""
    why = approval_needed(policy, change_set)
    if why is not None:
        raise ApprovalRequiredError(
            f"this batch needs a second person's approval ({why}): propose it, have it approved, "
            "then apply the proposal; nothing was written"
        )
