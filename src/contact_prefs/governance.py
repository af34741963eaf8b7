"""Two-person approval and the chained history, through a store: the steps the command line takes,
for programs that embed the library.

Every rule is the core's (:mod:`contact_prefs.proposals`, :mod:`contact_prefs.chain`);
this module only reads the store, plans, and hands the store what to record.
Times are passed in (``at``), so a program and its tests own the clock.
"""

from __future__ import annotations

import datetime

from .approval import ApprovalPolicy
from .batch import TRIES
from .batch_ids import find_by_prefix
from .chain import ChainReport, entries_of, verify_chain
from .changes import ChangeSet
from .errors import ConflictError
from .identifiers import check_actor
from .planning import plan
from .privacy import shown
from .proposals import Proposal, ProposalError, UnknownProposalError, check_application, new_proposal
from .spec import BatchSpec
from .store import Receipt, Store


def propose(
    store: Store, spec: BatchSpec, *, actor: str, policy: ApprovalPolicy, at: datetime.datetime
) -> tuple[Proposal, ChangeSet]:
    """Plan ``spec`` and record it as a proposal by ``actor``; nothing else is written."""
    check_actor(actor)
    change_set = plan(spec, store.snapshot(spec))
    proposal = new_proposal(change_set, proposer=actor, at=at, policy=policy)
    store.propose(proposal)
    return proposal, change_set


def find_proposal(store: Store, proposal_id: str) -> Proposal:
    """The proposal whose id is ``proposal_id``, or starts with it (at least 4 characters, unique)."""
    return find_by_prefix(
        store.proposals(),
        proposal_id,
        id_of=lambda proposal: proposal.proposal_id,
        kind="proposal",
        ambiguous=ProposalError,
        unknown=UnknownProposalError(f"no proposal {shown(proposal_id)} in this store"),
    )


def apply_proposal(store: Store, proposal_id: str, *, actor: str, at: datetime.datetime) -> tuple[ChangeSet, Receipt]:
    """Plan the proposal's spec again and commit it, only if it is approved, unexpired at ``at``,
    and the district has not moved since it was approved (same digest).

    Raises :class:`~contact_prefs.proposals.PlanMovedError` with how many changes differ,
    or :class:`~contact_prefs.proposals.ProposalError`; nothing is written then.
    """
    check_actor(actor)
    proposal = find_proposal(store, proposal_id)
    for attempt in range(1, TRIES + 1):
        change_set = plan(proposal.spec, store.snapshot(proposal.spec))
        check_application(proposal, change_set, at=at)
        try:
            return change_set, store.commit(change_set, actor=actor, proposal_id=proposal.proposal_id)
        except ConflictError:
            if attempt == TRIES:
                raise
    raise AssertionError("unreachable")


def verify_history(store: Store, *, expect_head: str | None = None) -> ChainReport:
    """Recompute the store's chain from what it holds now (:func:`~contact_prefs.chain.verify_chain`)."""
    entries = entries_of(
        history=reversed(store.history()),
        consent_events=store.consent_events(),
        policy_changes=store.policy_changes(),
        proposals=store.proposals(),
        schedules=store.schedules(),
    )
    return verify_chain(store.chain(), entries, expect_head=expect_head)
