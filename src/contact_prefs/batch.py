"""run_batch: snapshot, plan and commit, planning again when the district moved underneath."""

from __future__ import annotations

from .approval import ApprovalPolicy
from .changes import ChangeSet
from .errors import ConflictError
from .identifiers import check_actor
from .planning import plan
from .proposals import check_approval_not_needed
from .spec import BatchSpec
from .store import Receipt, Store

TRIES = 3


def run_batch(
    store: Store,
    spec: BatchSpec,
    *,
    actor: str,
    dry_run: bool = False,
    approval: ApprovalPolicy | None = None,
) -> tuple[ChangeSet, Receipt | None]:
    """Plan ``spec`` against ``store`` and, unless ``dry_run``, commit it.

    A commit that meets a conflict (a parent's edit since the snapshot) wrote
    nothing, so the batch is planned again from a fresh snapshot; after
    ``TRIES`` attempts the last ``ConflictError`` is raised.  An ``actor`` that
    breaks the id rule (:func:`~contact_prefs.identifiers.check_actor`) is refused first.
    Under an ``approval`` policy, a batch that needs a second person is refused before anything
    is written (:func:`~contact_prefs.proposals.check_approval_not_needed`): propose it instead
    (:func:`contact_prefs.governance.propose`).
    """
    check_actor(actor)
    for attempt in range(1, TRIES + 1):
        changeset = plan(spec, store.snapshot(spec))
        if dry_run:
            return changeset, None
        if approval is not None:
            check_approval_not_needed(approval, changeset)
        try:
            return changeset, store.commit(changeset, actor=actor)
        except ConflictError:
            if attempt == TRIES:
                raise
    raise AssertionError("unreachable")
