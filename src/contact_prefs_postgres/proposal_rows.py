"""Proposals as rows of the ``proposals`` table, both ways.

A row holds every field of a :class:`~contact_prefs.proposals.Proposal`:
the spec as JSON, the counts as ``[[method, reason, n], ...]`` for every pair
the proposal holds (zeros too, so that it reads back equal), times as
``timestamptz`` (read back in UTC).  The rules that fill the state columns are
the core's (:mod:`contact_prefs.proposals`); these functions only read and
write.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from contact_prefs.enums import Method, Reason
from contact_prefs.plain import METHODS, spec_from_plain, spec_to_plain
from contact_prefs.privacy import shown
from contact_prefs.proposals import Proposal, ProposalError, UnknownProposalError

from .history import REASONS

Cursor = psycopg.Cursor[Any]

STATE_COLUMNS = "approver, approved_at, withdrawn_by, withdrawn_at, batch_id, applied_by, applied_at"
COLUMNS = f"proposal_id, spec, digest, counts, proposer, at, expires_at, why, {STATE_COLUMNS}"

_INSERT = f"INSERT INTO proposals ({COLUMNS}) VALUES ({', '.join(['%s'] * 15)}) ON CONFLICT (proposal_id) DO NOTHING"
_UPDATE_STATE = (
    "UPDATE proposals SET approver = %s, approved_at = %s, withdrawn_by = %s, withdrawn_at = %s, "
    "batch_id = %s, applied_by = %s, applied_at = %s WHERE proposal_id = %s"
)


def _counts_plain(counts: Mapping[tuple[Method, Reason], int]) -> list[list[Any]]:
    return [[method.value, reason.value, n] for (method, reason), n in counts.items()]


def _utc(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(datetime.UTC)


def _maybe_utc(moment: datetime.datetime | None) -> datetime.datetime | None:
    return None if moment is None else _utc(moment)


def _state(proposal: Proposal) -> list[Any]:
    return [
        proposal.approver,
        proposal.approved_at,
        proposal.withdrawn_by,
        proposal.withdrawn_at,
        proposal.batch_id,
        proposal.applied_by,
        proposal.applied_at,
    ]


def from_row(row: tuple[Any, ...]) -> Proposal:
    """The proposal of a row (:data:`COLUMNS`)."""
    proposal_id, spec, digest, counts, proposer, at, expires_at, why, *state = row
    approver, approved_at, withdrawn_by, withdrawn_at, batch_id, applied_by, applied_at = state
    return Proposal(
        proposal_id=proposal_id,
        spec=spec_from_plain(spec),
        digest=digest,
        counts={(METHODS[method], REASONS[reason]): n for method, reason, n in counts},
        proposer=proposer,
        at=_utc(at),
        expires_at=_utc(expires_at),
        why=why,
        approver=approver,
        approved_at=_maybe_utc(approved_at),
        withdrawn_by=withdrawn_by,
        withdrawn_at=_maybe_utc(withdrawn_at),
        batch_id=batch_id,
        applied_by=applied_by,
        applied_at=_maybe_utc(applied_at),
    )


def insert(cursor: Cursor, proposal: Proposal) -> None:
    """Add ``proposal``; ``ProposalError`` if its id is taken (nothing is written then)."""
    row = [
        proposal.proposal_id,
        Jsonb(spec_to_plain(proposal.spec)),
        proposal.digest,
        Jsonb(_counts_plain(proposal.counts)),
        proposal.proposer,
        proposal.at,
        proposal.expires_at,
        proposal.why,
        *_state(proposal),
    ]
    if cursor.execute(_INSERT, row).rowcount != 1:
        raise ProposalError(f"a proposal with the id {shown(proposal.proposal_id)} exists already")


def locked(cursor: Cursor, proposal_id: str) -> Proposal:
    """The proposal ``proposal_id``, its row locked until the transaction ends; ``UnknownProposalError``."""
    row = None
    if "\x00" not in proposal_id:  # no id holds one: PostgreSQL cannot take it
        query = f"SELECT {COLUMNS} FROM proposals WHERE proposal_id = %s FOR UPDATE"
        row = cursor.execute(query, [proposal_id]).fetchone()
    if row is None:
        raise UnknownProposalError(f"no proposal {shown(proposal_id)} in this store")
    return from_row(row)


def write_state(cursor: Cursor, proposal: Proposal) -> None:
    """Write the state columns of ``proposal`` (approved, withdrawn, applied) as the rules returned it."""
    cursor.execute(_UPDATE_STATE, [*_state(proposal), proposal.proposal_id])


def every(cursor: Cursor) -> tuple[Proposal, ...]:
    """Every proposal, in the order proposed."""
    return tuple(map(from_row, cursor.execute(f"SELECT {COLUMNS} FROM proposals ORDER BY seq").fetchall()))
