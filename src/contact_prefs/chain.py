"""The tamper-evident history: every history entry hashed into one chain.

Each entry a store records (a commit or undo, a consent event, a policy
change, a proposal, its approval, withdrawal or application) has a canonical
body, a UTF-8 JSON text with sorted keys and no spaces (:class:`Entry`).  The
store appends a :class:`Link` per entry in the transaction that records it::

    digest = sha256(body)
    hash   = sha256(prev + "\\n" + kind + "\\n" + key + "\\n" + digest)

where ``prev`` is the hash of the link before (:data:`GENESIS` for the first),
all in lower-case hex.  The last link's hash, the head, stands for the whole
history: :func:`verify_chain` recomputes the chain from the entries the store
holds now and names the first one that was changed, removed, inserted or
moved.  A head kept elsewhere (printed, mailed, in another system) later
proves that nothing before it was rewritten, unless whoever rewrote it could
also replace every copy of that head.

Keys: a batch's id; a proposal's id for its proposal, approval, withdrawal
and application; for consent events and policy changes, which have no id,
their position (from 1) in the store's order of them.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from .changes import PointUpdate, group_by_point
from .consent import ConsentEvent
from .digest import updates_digest
from .enums import Method, Reason, _Vocabulary
from .ledger import PolicyChange
from .plain import spec_to_plain
from .proposals import Approval, Proposal
from .spec import BatchSpec

GENESIS = "0" * 64
"""The ``prev`` of the first link."""

_CHANGES_HEADER = "contact-prefs batch changes 1\n"


class EntryKind(_Vocabulary):
    """What a history entry records."""

    BATCH = "batch"
    CONSENT = "consent"
    POLICY = "policy"
    PROPOSAL = "proposal"
    APPROVAL = "approval"
    WITHDRAWAL = "withdrawal"
    APPLICATION = "application"
    SCHEDULE = "schedule"
    CANCELLATION = "cancellation"


@attrs.frozen
class Entry:
    """One history entry in canonical form: what a link's ``digest`` is the SHA-256 of."""

    kind: EntryKind
    key: str
    body: bytes = attrs.field(repr=False)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


@attrs.frozen(kw_only=True)
class Link:
    """One link of the chain: the entry it stands for (kind, key, digest) and the hashes."""

    seq: int
    kind: EntryKind = attrs.field(converter=EntryKind)
    key: str
    digest: str
    prev: str
    hash: str


def link_hash(prev: str, kind: EntryKind, key: str, digest: str) -> str:
    """The hash of a link: see this module's documentation."""
    return hashlib.sha256(f"{prev}\n{kind.value}\n{key}\n{digest}".encode()).hexdigest()


def chain_after(head: Link | None, entries: Iterable[Entry]) -> tuple[Link, ...]:
    """The links that append ``entries``, in order, to a chain whose last link is ``head``."""
    seq, prev = (0, GENESIS) if head is None else (head.seq, head.hash)
    links = []
    for entry in entries:
        seq += 1
        digest = entry.digest
        link = Link(seq=seq, kind=entry.kind, key=entry.key, digest=digest, prev=prev, hash="")
        prev = link_hash(prev, entry.kind, entry.key, digest)
        links.append(attrs.evolve(link, hash=prev))
    return tuple(links)


def head_of(links: Sequence[Link]) -> str:
    """The hash standing for the whole history: the last link's, or :data:`GENESIS` when there is none."""
    return links[-1].hash if links else GENESIS


# --- canonical bodies ---------------------------------------------------------


def _canonical(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _time(at: datetime.datetime | None) -> str | None:
    return None if at is None else at.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def _counts(counts: Mapping[tuple[Method, Reason], int]) -> dict[str, int]:
    return {f"{method.value}/{reason.value}": n for (method, reason), n in counts.items() if n}


def batch_entry(
    *,
    batch_id: str,
    actor: str,
    at: datetime.datetime,
    spec: BatchSpec,
    counts: Mapping[tuple[Method, Reason], int],
    updates: Iterable[PointUpdate],
    undoes: str | None = None,
    approval: Approval | None = None,
    schedule_id: str | None = None,
    left_alone: Mapping[Reason, int] | None = None,
) -> Entry:
    """A commit's or undo's entry, from what it wrote (``updates``, in the order written).

    The body names the batch, who, when, the spec, the results table, what it
    undoes, who proposed and approved it, the schedule it ran or reverted and
    what a revert left alone, and a digest of every point it wrote
    (as :mod:`contact_prefs.digest` hashes a change set, without the consent
    it was planned under, which the history does not keep, and without the
    updates that switch nothing).
    """
    body = {
        "batch": batch_id,
        "actor": actor,
        "at": _time(at),
        "spec": spec_to_plain(spec),
        "counts": _counts(counts),
        "undoes": undoes,
        "approval": None if approval is None else attrs.asdict(approval),
        "schedule": schedule_id,
        "left_alone": {reason.value: n for reason, n in (left_alone or {}).items() if n},
        "changes": updates_digest(_switching(updates), with_consent=False, header=_CHANGES_HEADER),
    }
    return Entry(EntryKind.BATCH, batch_id, _canonical(body))


def _switching(updates: Iterable[PointUpdate]) -> Iterator[PointUpdate]:
    """The updates that switch a reason: the history keeps changes, so one that switches nothing
    has none to read back, and every store must leave it out of the entry alike."""
    return (update for update in updates if update.enabled_before.mask != update.enabled_after.mask)


def batch_entry_of(record: Any) -> Entry:
    """The entry of a :class:`~contact_prefs.store.BatchRecord` as a store's history returns it."""
    return batch_entry(
        batch_id=record.batch_id,
        actor=record.actor,
        at=record.at,
        spec=record.spec,
        counts=record.counts,
        updates=group_by_point(record.changes),
        undoes=record.undoes,
        approval=record.approval,
        schedule_id=record.schedule_id,
        left_alone=record.left_alone,
    )


def consent_entry(event: ConsentEvent, position: int) -> Entry:
    """The entry of the ``position``-th consent event a store recorded (from 1)."""
    body = {
        "address": event.address,
        "action": event.action.value,
        "reasons": event.reasons.mask,
        "channel": event.channel.value,
        "received_at": _time(event.received_at),
        "recorded_by": event.recorded_by,
        "evidence": event.evidence,
        "wording": event.wording,
    }
    return Entry(EntryKind.CONSENT, str(position), _canonical(body))


def policy_entry(change: PolicyChange, position: int) -> Entry:
    """The entry of the ``position``-th change of the consent policy (from 1)."""
    policy = change.policy
    body = {
        "region": policy.region,
        "scope": policy.scope.value,
        "exempt": policy.exempt.mask,
        "holidays": sorted(day.isoformat() for day in policy.holidays),
        "actor": change.actor,
        "at": _time(change.at),
        "why": change.why,
    }
    return Entry(EntryKind.POLICY, str(position), _canonical(body))


def proposal_entry(proposal: Proposal) -> Entry:
    """The entry recording ``proposal`` as proposed."""
    body = {
        "spec": spec_to_plain(proposal.spec),
        "digest": proposal.digest,
        "counts": _counts(proposal.counts),
        "proposer": proposal.proposer,
        "at": _time(proposal.at),
        "expires_at": _time(proposal.expires_at),
        "why": proposal.why,
    }
    return Entry(EntryKind.PROPOSAL, proposal.proposal_id, _canonical(body))


def approval_entry(proposal: Proposal) -> Entry:
    """The entry recording the approval of ``proposal``."""
    body = {"approver": proposal.approver, "at": _time(proposal.approved_at)}
    return Entry(EntryKind.APPROVAL, proposal.proposal_id, _canonical(body))


def withdrawal_entry(proposal: Proposal) -> Entry:
    """The entry recording the withdrawal of ``proposal``."""
    body = {"by": proposal.withdrawn_by, "at": _time(proposal.withdrawn_at)}
    return Entry(EntryKind.WITHDRAWAL, proposal.proposal_id, _canonical(body))


def application_entry(proposal: Proposal) -> Entry:
    """The entry recording which batch applied ``proposal``, who applied it and when."""
    body = {"batch": proposal.batch_id, "by": proposal.applied_by, "at": _time(proposal.applied_at)}
    return Entry(EntryKind.APPLICATION, proposal.proposal_id, _canonical(body))


def proposal_entries(proposal: Proposal) -> list[Entry]:
    """Every entry a proposal has made so far, in the order they happen."""
    entries = [proposal_entry(proposal)]
    if proposal.approver is not None:
        entries.append(approval_entry(proposal))
    if proposal.withdrawn_by is not None:
        entries.append(withdrawal_entry(proposal))
    if proposal.batch_id is not None:
        entries.append(application_entry(proposal))
    return entries


def entries_of(
    *,
    history: Iterable[Any],
    consent_events: Iterable[ConsentEvent],
    policy_changes: Iterable[PolicyChange],
    proposals: Iterable[Proposal],
    schedules: Iterable[Any] = (),
) -> list[Entry]:
    """The entries a store holds now, each kind in the store's own order (history oldest first)."""
    from .schedule_entries import schedule_entries  # they build on this module

    entries = [batch_entry_of(record) for record in history]
    entries.extend(consent_entry(event, n) for n, event in enumerate(consent_events, 1))
    entries.extend(policy_entry(change, n) for n, change in enumerate(policy_changes, 1))
    for proposal in proposals:
        entries.extend(proposal_entries(proposal))
    for schedule in schedules:
        entries.extend(schedule_entries(schedule))
    return entries


# --- verification -------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ChainReport:
    """What :func:`verify_chain` found: the head and the number of links, or the first problem.

    ``position`` is the chain position (from 1) of the first entry found
    changed, removed, inserted or moved; ``None`` when the chain is intact.
    """

    head: str
    links: int
    problem: str | None = None
    position: int | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


_ORDERED = (EntryKind.BATCH, EntryKind.CONSENT, EntryKind.POLICY)
"""The kinds whose order in a store is part of the history (the others are found by their key)."""


def _named(kind: EntryKind, key: str) -> str:
    if kind in (EntryKind.CONSENT, EntryKind.POLICY):
        return f"{kind.value} entry #{key}"
    return f"{kind.value} {key}"


def verify_chain(links: Sequence[Link], entries: Sequence[Entry], *, expect_head: str | None = None) -> ChainReport:
    """Recompute the chain of ``links`` and compare it with ``entries``, what the store holds now.

    Finds, in chain order, the first link whose hashes do not follow (a link
    edited, removed, inserted or moved), the first entry whose content is not
    what was chained (edited), chained but gone (removed), held twice, or,
    for batches, consent events and policy changes, out of its chained order
    (moved); then any entry held but never chained (inserted).  Entries are
    matched to links by kind and key, so ``entries`` may list the steps of
    each proposal together (as :func:`entries_of` does).
    With ``expect_head``, that hash must be one of the chain's: a head kept
    elsewhere proves the history up to it was not rewritten.
    """
    head = head_of(links)
    problems: list[tuple[int, str]] = []

    prev = GENESIS
    for position, link in enumerate(links, 1):
        if link.seq != position or link.prev != prev:
            problems.append(
                (
                    position,
                    f"the chain breaks at position {position} ({_named(link.kind, link.key)}): "
                    "a link before it was removed, inserted or moved",
                )
            )
            break
        if link_hash(prev, link.kind, link.key, link.digest) != link.hash:
            problems.append((position, f"the link at position {position} ({_named(link.kind, link.key)}) was edited"))
            break
        prev = link.hash

    held: dict[tuple[EntryKind, str], Entry] = {}
    twice: list[tuple[EntryKind, str]] = []
    for entry in entries:
        if (entry.kind, entry.key) in held:
            twice.append((entry.kind, entry.key))
        held.setdefault((entry.kind, entry.key), entry)
    chained: dict[tuple[EntryKind, str], int] = {}
    for position, link in enumerate(links, 1):
        if (link.kind, link.key) in chained:
            problems.append(
                (position, f"{_named(link.kind, link.key)} is chained twice: the link at {position} was inserted")
            )
            break
        chained[link.kind, link.key] = position
    for position, link in enumerate(links, 1):
        now = held.get((link.kind, link.key))
        if now is None:
            problems.append((position, f"{_named(link.kind, link.key)}, chained at position {position}, was removed"))
            break
        if now.digest != link.digest:
            problems.append(
                (
                    position,
                    f"{_named(link.kind, link.key)}, chained at position {position}, was changed since it was recorded",
                )
            )
            break

    # Batches, consent events and policy changes must stand in the order they were chained: their
    # order is part of what the history says (a moved batch reorders it).  A proposal's steps are
    # found by its id: stores list them after it, while the chain has them as they happened.
    by_kind: dict[EntryKind, list[str]] = {}
    for kind, key in held:
        if kind in _ORDERED:
            by_kind.setdefault(kind, []).append(key)
    for kind, keys in by_kind.items():
        in_chain = [key for key in keys if (kind, key) in chained]
        expected = sorted(in_chain, key=lambda key: chained[kind, key])
        for key, want in zip(in_chain, expected, strict=True):
            if key != want:
                position = chained[kind, want]
                problems.append((position, f"{_named(kind, want)}, chained at position {position}, was moved"))
                break

    if twice:
        kind, key = twice[0]
        position = chained.get((kind, key), len(links) + 1)
        problems.append((position, f"{_named(kind, key)} is in the history twice: one was inserted"))

    inserted = [entry for entry in entries if (entry.kind, entry.key) not in chained]
    if inserted:
        first = inserted[0]
        problems.append(
            (len(links) + 1, f"{_named(first.kind, first.key)} is in the history but was never chained: inserted")
        )

    if expect_head is not None and expect_head not in {link.hash for link in links} and expect_head != GENESIS:
        problems.append((0, f"the head {expect_head} is not in this chain: the history before it was rewritten"))

    if problems:
        position, problem = min(problems, key=lambda pair: pair[0])
        return ChainReport(head=head, links=len(links), problem=problem, position=position or None)
    return ChainReport(head=head, links=len(links))
