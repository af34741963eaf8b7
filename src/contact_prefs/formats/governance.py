"""Proposals and the chain's verification as text and JSON: what the governance commands print.

The JSON field names are a stable interface for scripts; ``docs/cli.md``
lists them.  A proposal is shown by its counts, never by its changes: the
store keeps only the digest of those.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from ..chain import ChainReport
from ..enums import Method, Reason
from ..proposals import Proposal
from ..render import render_table
from .results import aligned, describe_scope, describe_settings, spec_data, utc


def _moment(at: datetime.datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def proposal_data(proposal: Proposal, *, now: datetime.datetime) -> dict[str, Any]:
    """The JSON object of one proposal: every key always present, ``null`` for what has not happened."""
    return {
        "proposal_id": proposal.proposal_id,
        "state": proposal.state(now).value,
        "proposer": proposal.proposer,
        "at": _moment(proposal.at),
        "expires_at": _moment(proposal.expires_at),
        "why": proposal.why or None,
        "digest": proposal.digest,
        "updated": proposal.changes,
        "spec": spec_data(proposal.spec),
        "counts": {
            method.value: {reason.value: proposal.counts.get((method, reason), 0) for reason in Reason}
            for method in Method
        },
        "approver": proposal.approver,
        "approved_at": _moment(proposal.approved_at),
        "withdrawn_by": proposal.withdrawn_by,
        "withdrawn_at": _moment(proposal.withdrawn_at),
        "batch_id": proposal.batch_id,
        "applied_by": proposal.applied_by,
        "applied_at": _moment(proposal.applied_at),
    }


def proposal_text(proposal: Proposal, *, now: datetime.datetime) -> str:
    """A proposal as people read it: who, when, its state and why it needs approval, then the batch
    and its results table."""
    lines = [f"Proposal {proposal.proposal_id} by {proposal.proposer} at {utc(proposal.at)}"]
    lines.append(f"State: {proposal.state(now).value}")
    lines.append(f"Needs approval: {proposal.why}" if proposal.why else "Needs approval: not under the policy")
    if proposal.approver is not None and proposal.approved_at is not None:
        lines.append(f"Approved by {proposal.approver} at {utc(proposal.approved_at)}")
    if proposal.withdrawn_by is not None and proposal.withdrawn_at is not None:
        lines.append(f"Withdrawn by {proposal.withdrawn_by} at {utc(proposal.withdrawn_at)}")
    if proposal.batch_id is not None and proposal.applied_at is not None:
        lines.append(f"Applied as batch {proposal.batch_id} by {proposal.applied_by} at {utc(proposal.applied_at)}")
    elif proposal.withdrawn_by is None:
        lines.append(f"Expires: {utc(proposal.expires_at)}")
    lines += [f"Digest: {proposal.digest}", ""]
    spec = proposal.spec
    lines.append(f"Contact Preferences Batch: {spec.mode.label}, as of {spec.as_of.isoformat()}")
    lines.append(f"Scope: {describe_scope(spec)}")
    lines.append(f"Settings: {describe_settings(spec)}")
    lines += ["", render_table(proposal.counts), ""]
    lines.append(f"Updated preferences: {proposal.changes:,}")
    return "\n".join(lines)


def proposals_text(proposals: Sequence[Proposal], *, now: datetime.datetime) -> str:
    """Every proposal, one aligned line each, in the order proposed."""
    if not proposals:
        return "No proposals yet."
    rows: list[Sequence[str]] = [
        ("Proposal", "State", "Proposer", "Approver", "Changes", "Proposed (UTC)", "Expires (UTC)", "Batch")
    ]
    for proposal in proposals:
        rows.append(
            (
                proposal.proposal_id,
                proposal.state(now).value,
                proposal.proposer,
                proposal.approver or "",
                f"{proposal.changes:,}",
                utc(proposal.at).removesuffix(" UTC"),
                utc(proposal.expires_at).removesuffix(" UTC"),
                proposal.batch_id or "",
            )
        )
    return aligned(rows)


def chain_data(report: ChainReport, *, expect_head: str | None) -> dict[str, Any]:
    """The JSON object of ``verify``."""
    return {
        "intact": report.intact,
        "head": report.head,
        "entries": report.links,
        "expect_head": expect_head,
        "problem": report.problem,
        "position": report.position,
    }


def chain_text(report: ChainReport, *, expect_head: str | None) -> str:
    """What ``verify`` found, as people read it."""
    if not report.intact:
        return f"The history does not verify: {report.problem}."
    lines = [f"The history is intact: {report.links:,} entries, head {report.head}"]
    if expect_head is not None:
        lines.append(f"The head {expect_head} is in the chain: nothing recorded up to it was rewritten.")
    lines.append(
        "Keep this head elsewhere (a printed report, another system): "
        "a later 'contact-prefs verify --expect-head HEAD' proves nothing before it was rewritten."
    )
    return "\n".join(lines)
