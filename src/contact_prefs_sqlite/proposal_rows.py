"""Proposals in SQL: one ``proposals`` row per proposal, holding every field of
:class:`~contact_prefs.proposals.Proposal`, both ways.

The rules (who may approve, withdraw or apply, and when) are the core's; the
store reads a row, calls them, and writes the proposal they return with
:data:`UPDATE_STATE`.  Times are ISO text in UTC (as the consent tables keep
them), the spec the history's JSON, the counts every ``[method, reason, n]``
the proposal holds, zeros included, so a proposal reads back equal.
"""

from __future__ import annotations

import datetime
import json
import sqlite3

from contact_prefs.plain import METHODS
from contact_prefs.privacy import shown
from contact_prefs.proposals import Proposal, UnknownProposalError

from . import history as history_rows
from .consent_rows import time_text
from .tables import Row

_STATE_COLUMNS = "approver, approved_at, withdrawn_by, withdrawn_at, batch_id, applied_by, applied_at"
COLUMNS = f"proposal_id, spec, digest, counts, proposer, at, expires_at, why, {_STATE_COLUMNS}"

INSERT = f"INSERT INTO proposals ({COLUMNS}) VALUES ({', '.join('?' * len(COLUMNS.split(', ')))})"
# Bound to a whole :func:`proposal_row`: the proposal found by its id gets its state columns anew.
UPDATE_STATE = (
    "UPDATE proposals SET approver = ?9, approved_at = ?10, withdrawn_by = ?11, withdrawn_at = ?12, "
    "batch_id = ?13, applied_by = ?14, applied_at = ?15 WHERE proposal_id = ?1"
)
_FIND = f"SELECT {COLUMNS} FROM proposals WHERE proposal_id = ?"


def _time(moment: datetime.datetime | None) -> str | None:
    return None if moment is None else time_text(moment)


def _moment(text: str | None) -> datetime.datetime | None:
    return None if text is None else datetime.datetime.fromisoformat(text)


def proposal_row(proposal: Proposal) -> Row:
    """A ``proposals`` row (:data:`COLUMNS`); its ``seq`` is the order proposed."""
    counts = [[method.value, reason.value, n] for (method, reason), n in proposal.counts.items()]
    return (
        proposal.proposal_id,
        history_rows.spec_json(proposal.spec),
        proposal.digest,
        json.dumps(counts),
        proposal.proposer,
        time_text(proposal.at),
        time_text(proposal.expires_at),
        proposal.why,
        proposal.approver,
        _time(proposal.approved_at),
        proposal.withdrawn_by,
        _time(proposal.withdrawn_at),
        proposal.batch_id,
        proposal.applied_by,
        _time(proposal.applied_at),
    )


def proposal_from_row(row: Row) -> Proposal:
    """A proposal from its row, through the checked constructor (proposals are few)."""
    (proposal_id, spec, digest, counts, proposer, at, expires_at, why, approver, approved_at) = row[:10]
    withdrawn_by, withdrawn_at, batch_id, applied_by, applied_at = row[10:]
    return Proposal(
        proposal_id=proposal_id,
        spec=history_rows.spec_from_json(spec),
        digest=digest,
        counts={(METHODS[method], history_rows.REASONS[reason]): n for method, reason, n in json.loads(counts)},
        proposer=proposer,
        at=datetime.datetime.fromisoformat(at),
        expires_at=datetime.datetime.fromisoformat(expires_at),
        why=why,
        approver=approver,
        approved_at=_moment(approved_at),
        withdrawn_by=withdrawn_by,
        withdrawn_at=_moment(withdrawn_at),
        batch_id=batch_id,
        applied_by=applied_by,
        applied_at=_moment(applied_at),
    )


def find(connection: sqlite3.Connection, proposal_id: str, where: str) -> Proposal:
    """The proposal ``proposal_id``; :class:`UnknownProposalError` naming ``where`` when there is none."""
    row = connection.execute(_FIND, (proposal_id,)).fetchone()
    if row is None:
        raise UnknownProposalError(f"no proposal {shown(proposal_id)} in {where}")
    return proposal_from_row(row)


def every(connection: sqlite3.Connection) -> tuple[Proposal, ...]:
    """Every proposal, in the order proposed."""
    return tuple(map(proposal_from_row, connection.execute(f"SELECT {COLUMNS} FROM proposals ORDER BY seq")))
