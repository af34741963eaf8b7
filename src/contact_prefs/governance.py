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
from .privacy import looks_personal, shown
from .progress import NO_PROGRESS, Progress
from .proposals import Proposal, ProposalError, UnknownProposalError, check_application, new_proposal
from .spec import BatchSpec
from .store import Receipt, Store, progress_option


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


def apply_proposal(
    store: Store, proposal_id: str, *, actor: str, at: datetime.datetime, progress: Progress = NO_PROGRESS
) -> tuple[ChangeSet, Receipt]:
    """Plan the proposal's spec again and commit it, only if it is approved, unexpired at ``at``,
    and the district has not moved since it was approved (same digest).

    Raises :class:`~contact_prefs.proposals.PlanMovedError` with how many changes differ,
    or :class:`~contact_prefs.proposals.ProposalError`; nothing is written then.  ``progress`` hears
    the reading, planning and commit, from a store that takes it.
    """
    check_actor(actor)
    proposal = find_proposal(store, proposal_id)
    for attempt in range(1, TRIES + 1):
        snapshot = store.snapshot(proposal.spec, **progress_option(progress, store.snapshot))
        change_set = plan(proposal.spec, snapshot, progress=progress)
        check_application(proposal, change_set, at=at)
        reported = progress_option(progress, store.commit)
        try:
            return change_set, store.commit(change_set, actor=actor, proposal_id=proposal.proposal_id, **reported)
        except ConflictError:
            if attempt == TRIES:
                raise
    raise AssertionError("unreachable")


READS = 5
"""How many times :func:`verify_history` reads a store that other writers keep changing."""


def verify_history(store: Store, *, expect_head: str | None = None) -> ChainReport:
    """Recompute the store's chain from what it holds now (:func:`~contact_prefs.chain.verify_chain`).

    Each of a store's methods reads in a transaction of its own: a write landing between the
    reads of the history and of the chain would look like an entry removed or inserted.  Every
    write that records an entry appends its link in the same transaction, so the chain is read
    before and after the entries, and everything is read again when it moved in between.

    A row edited into something no entry can be (an unknown kind, an actor with a control
    character) is refused by the checked constructors as the store reads it: that is reported
    as tampering too, never raised.
    """
    for attempt in range(1, READS + 1):
        try:
            links = store.chain()
            entries = entries_of(
                history=reversed(store.history()),
                consent_events=store.consent_events(),
                policy_changes=store.policy_changes(),
                proposals=store.proposals(),
                schedules=store.schedules(),
            )
            moved = store.chain() != links
        except (ValueError, TypeError) as error:
            why = "(details withheld: they hold personal data)" if looks_personal(str(error)) else f"({error})"
            problem = f"the history holds an entry no store could have written {why}"
            return ChainReport(head="", links=0, problem=problem)
        if attempt == READS or not moved:
            return verify_chain(links, entries, expect_head=expect_head)
    raise AssertionError("unreachable")
