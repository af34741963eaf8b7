"""Each section of :class:`~contact_prefs.contents.StoreContents` as JSON lines, and back.

One JSON value per line, one line per entry, in the section's order:

* ``records``: ``[collection, value, ...]``, the record's fields in
  declaration order (the columns of its native CSV file, :mod:`.csv_native`):
  text as it is, dates ISO (``null`` when open), reason sets as bit masks,
  methods and sources by value;
* ``history``: one object per batch, oldest first: its id, actor, time,
  spec (:func:`~contact_prefs.plain.spec_to_plain`), counts, the batch it
  undoes and the one that undid it, and ``points``: one
  ``[owner_id, method, source_before, enabled_before, enabled_after, affects]``
  per contact point it wrote (reason sets as bit masks; the per-reason changes
  follow from them); ``approval`` (``{proposal_id, proposer, approver}`` or
  ``null``), ``schedule_id`` and ``left_alone`` (``[[reason, n], ...]``);
* ``consent_events``, ``reviews``, ``policy_changes``, ``proposals``,
  ``schedules``: one object per entry, its fields by name (times ISO 8601 with
  their offset, days ISO, reason sets as bit masks, enums by value, specs as
  :func:`~contact_prefs.plain.spec_to_plain`, counts ``[[method, reason, n], ...]``
  for the pairs counted); ``consent_policy``: one object;
* ``chain``: one object per link, in chain order: ``seq``, ``kind``, ``key``,
  ``digest``, ``prev``, ``hash``, as the store held them.

:data:`CODECS` holds one :class:`Codec` per section, by section name; a new
section of the contents needs one more entry here.
"""

from __future__ import annotations

import datetime
import enum
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs

from ..chain import Link
from ..changes import PointUpdate, count_changes, group_by_point
from ..consent import ConsentEvent, ConsentPolicy, Review
from ..contents import SECTIONS, StoreContents
from ..enums import Method, Reason, Source
from ..ledger import PolicyChange
from ..plain import spec_from_plain, spec_to_plain
from ..proposals import Approval, Proposal
from ..reasons import ReasonSet
from ..schedules import Schedule
from ..snapshot import RECORD_FIELDS, RECORD_TYPES, Snapshot
from ..store import BatchRecord

__all__ = ["CODECS", "Codec", "decode_line", "encode_line"]

Plain = Any
"""A JSON-ready value."""


@attrs.frozen
class Codec:
    """How one section becomes lines and back: ``encode`` gives the section's entries as JSON-ready
    values; ``decode`` reads one entry (raising ``ValueError``, ``KeyError`` or ``TypeError``), and
    ``collect`` makes the section's value of the decoded entries, in order."""

    encode: Callable[[StoreContents], Iterable[Plain]]
    decode: Callable[[Plain], Any]
    collect: Callable[[list[Any]], Any] = tuple


def encode_line(value: Plain) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def decode_line(line: bytes) -> Plain:
    return json.loads(line)


# --- records ---------------------------------------------------------------------------

_FIELDS = {name: tuple(field.name for field in attrs.fields(kind)) for name, kind in RECORD_TYPES.items()}
_REASON_FIELDS = frozenset({"enabled", "text", "revoked"})
_DAY_FIELDS = frozenset({"start", "end"})
_ENUM_FIELDS: dict[str, dict[str, enum.Enum]] = {
    field: {str(member.value): member for member in kind} for field, kind in (("method", Method), ("source", Source))
}
_ALL_REASONS = ReasonSet.all().mask


def _plain_value(value: Any) -> Plain:
    if isinstance(value, ReasonSet):
        return value.mask
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _encode_records(contents: StoreContents) -> Iterator[Plain]:
    for name, records in contents.records.collections().items():
        fields = _FIELDS[name]
        for record in records:
            yield [name, *(_plain_value(getattr(record, field)) for field in fields)]


def _decode_record(entry: Plain) -> tuple[str, Any]:
    if not (isinstance(entry, list) and entry and entry[0] in _FIELDS):
        raise ValueError("a record is [collection, fields...]")
    name, values = entry[0], entry[1:]
    fields = _FIELDS[name]
    if len(values) != len(fields):
        raise ValueError(f"a {name} record has {len(fields)} fields ({', '.join(fields)})")
    arguments = dict(zip(fields, values, strict=True))
    for field in _REASON_FIELDS.intersection(arguments):
        mask = arguments[field]
        if type(mask) is not int or not 0 <= mask <= _ALL_REASONS:
            raise ValueError(f"{field} is not a mask of reasons")
        arguments[field] = ReasonSet.from_mask(mask)
    for field in _DAY_FIELDS.intersection(arguments):
        day = arguments[field]
        if day is not None:
            if not isinstance(day, str):
                raise ValueError(f"{field} is not a date (YYYY-MM-DD) or null")
            arguments[field] = datetime.date.fromisoformat(day)
    for field, members in _ENUM_FIELDS.items():
        if field in arguments:
            member = members.get(arguments[field]) if isinstance(arguments[field], str) else None
            if member is None:
                raise ValueError(f"{field} is not a {field} ({', '.join(members)})")
            arguments[field] = member
    return name, RECORD_TYPES[name](**arguments)  # the checked constructor: it refuses a wrong value


def _collect_records(records: list[tuple[str, Any]]) -> Snapshot:
    collections: dict[str, list[Any]] = {name: [] for name in RECORD_FIELDS}
    for name, record in records:
        collections[name].append(record)
    return Snapshot(**collections)  # type: ignore[arg-type]


# --- history ---------------------------------------------------------------------------

_METHODS = {method.value: method for method in Method}
_REASONS = {reason.value: reason for reason in Reason}


def _encode_batch(record: BatchRecord) -> Plain:
    return {
        "batch_id": record.batch_id,
        "actor": record.actor,
        "at": record.at.isoformat(),
        "spec": spec_to_plain(record.spec),
        "counts": [[method.value, reason.value, n] for (method, reason), n in record.counts.items() if n],
        "undoes": record.undoes,
        "undone_by": record.undone_by,
        "approval": None if record.approval is None else attrs.asdict(record.approval),
        "schedule_id": record.schedule_id,
        "left_alone": _left_alone_plain(record.left_alone),
        "points": [
            [
                u.owner_id,
                u.method.value,
                u.source_before.value,
                u.enabled_before.mask,
                u.enabled_after.mask,
                sorted(u.affects),
            ]
            for u in group_by_point(record.changes)
        ],
    }


def _decode_batch(entry: Plain) -> BatchRecord:
    updates = [
        PointUpdate(
            owner_id=owner_id,
            method=Method(method),
            source_before=Source(source),
            enabled_before=ReasonSet.from_mask(before),
            enabled_after=ReasonSet.from_mask(after),
            affects=frozenset(affects),
        )
        for owner_id, method, source, before, after, affects in entry["points"]
    ]
    counts = count_changes(())
    for method, reason, n in entry["counts"]:
        counts[_METHODS[method], _REASONS[reason]] = n
    approval = entry["approval"]
    return BatchRecord(
        batch_id=entry["batch_id"],
        actor=entry["actor"],
        at=_moment(entry["at"]),
        spec=spec_from_plain(entry["spec"]),
        counts=counts,
        changes=tuple(change for update in updates for change in update.changes),
        undoes=entry["undoes"],
        undone_by=entry["undone_by"],
        approval=None if approval is None else Approval(**approval),
        schedule_id=entry["schedule_id"],
        left_alone=_left_alone(entry["left_alone"]),
    )


def _left_alone_plain(counts: dict[Reason, int]) -> Plain:
    return [[reason.value, n] for reason, n in counts.items() if n]


def _left_alone(plain: Plain) -> dict[Reason, int]:
    return {_REASONS[reason]: n for reason, n in plain}


def _counts_plain(counts: dict[tuple[Method, Reason], int]) -> Plain:
    return [[method.value, reason.value, n] for (method, reason), n in counts.items() if n]


def _counts(plain: Plain) -> dict[tuple[Method, Reason], int]:
    return {(_METHODS[method], _REASONS[reason]): n for method, reason, n in plain}


# --- consent ---------------------------------------------------------------------------


def _encode_event(event: ConsentEvent) -> Plain:
    return {
        "address": event.address,
        "action": event.action.value,
        "channel": event.channel.value,
        "received_at": event.received_at.isoformat(),
        "recorded_by": event.recorded_by,
        "reasons": event.reasons.mask,
        "evidence": event.evidence,
        "wording": event.wording,
    }


def _decode_event(entry: Plain) -> ConsentEvent:
    return ConsentEvent(
        **{**entry, "received_at": _moment(entry["received_at"]), "reasons": ReasonSet.from_mask(entry["reasons"])}
    )


def _encode_review(review: Review) -> Plain:
    return {
        "review_id": review.review_id,
        "address": review.address,
        "message": review.message,
        "channel": review.channel.value,
        "received_at": review.received_at.isoformat(),
        "due_on": review.due_on.isoformat(),
        "resolved_by": review.resolved_by,
        "resolved_at": None if review.resolved_at is None else review.resolved_at.isoformat(),
        "revoked": review.revoked,
        "note": review.note,
    }


def _decode_review(entry: Plain) -> Review:
    resolved_at = entry["resolved_at"]
    return Review(
        **{
            **entry,
            "received_at": _moment(entry["received_at"]),
            "due_on": datetime.date.fromisoformat(entry["due_on"]),
            "resolved_at": None if resolved_at is None else _moment(resolved_at),
        }
    )


def _encode_policy(policy: ConsentPolicy) -> Plain:
    return {
        "region": policy.region,
        "scope": policy.scope.value,
        "exempt": policy.exempt.mask,
        "holidays": sorted(day.isoformat() for day in policy.holidays),
    }


def _decode_policy(entry: Plain) -> ConsentPolicy:
    return ConsentPolicy(
        region=entry["region"],
        scope=entry["scope"],
        exempt=ReasonSet.from_mask(entry["exempt"]),
        holidays=[datetime.date.fromisoformat(day) for day in entry["holidays"]],
    )


def _encode_change(change: PolicyChange) -> Plain:
    return {
        "policy": _encode_policy(change.policy),
        "actor": change.actor,
        "at": change.at.isoformat(),
        "why": change.why,
    }


def _decode_change(entry: Plain) -> PolicyChange:
    policy = _decode_policy(entry["policy"])
    return PolicyChange(policy=policy, actor=entry["actor"], at=_moment(entry["at"]), why=entry["why"])


def _the_policy(policies: list[ConsentPolicy]) -> ConsentPolicy:
    _check(len(policies) == 1, "the consent policy is one line")
    return policies[0]


# --- governance ------------------------------------------------------------------------


def _optional_time(at: datetime.datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _optional_moment(text: str | None) -> datetime.datetime | None:
    return None if text is None else _moment(text)


def _encode_proposal(proposal: Proposal) -> Plain:
    return {
        "proposal_id": proposal.proposal_id,
        "spec": spec_to_plain(proposal.spec),
        "digest": proposal.digest,
        "counts": _counts_plain(proposal.counts),
        "proposer": proposal.proposer,
        "at": proposal.at.isoformat(),
        "expires_at": proposal.expires_at.isoformat(),
        "why": proposal.why,
        "approver": proposal.approver,
        "approved_at": _optional_time(proposal.approved_at),
        "withdrawn_by": proposal.withdrawn_by,
        "withdrawn_at": _optional_time(proposal.withdrawn_at),
        "batch_id": proposal.batch_id,
        "applied_by": proposal.applied_by,
        "applied_at": _optional_time(proposal.applied_at),
    }


def _decode_proposal(entry: Plain) -> Proposal:
    return Proposal(
        **{
            **entry,
            "spec": spec_from_plain(entry["spec"]),
            "counts": _counts(entry["counts"]),
            "at": _moment(entry["at"]),
            "expires_at": _moment(entry["expires_at"]),
            "approved_at": _optional_moment(entry["approved_at"]),
            "withdrawn_at": _optional_moment(entry["withdrawn_at"]),
            "applied_at": _optional_moment(entry["applied_at"]),
        }
    )


def _encode_schedule(schedule: Schedule) -> Plain:
    return {
        "schedule_id": schedule.schedule_id,
        "spec": spec_to_plain(schedule.spec),
        "starts_on": schedule.starts_on.isoformat(),
        "ends_on": None if schedule.ends_on is None else schedule.ends_on.isoformat(),
        "actor": schedule.actor,
        "created_at": schedule.created_at.isoformat(),
        "cancelled_by": schedule.cancelled_by,
        "cancelled_at": _optional_time(schedule.cancelled_at),
        "start_batch": schedule.start_batch,
        "end_batch": schedule.end_batch,
        "left_alone": _left_alone_plain(schedule.left_alone),
    }


def _decode_schedule(entry: Plain) -> Schedule:
    ends_on = entry["ends_on"]
    return Schedule(
        **{
            **entry,
            "spec": spec_from_plain(entry["spec"]),
            "starts_on": datetime.date.fromisoformat(entry["starts_on"]),
            "ends_on": None if ends_on is None else datetime.date.fromisoformat(ends_on),
            "created_at": _moment(entry["created_at"]),
            "cancelled_at": _optional_moment(entry["cancelled_at"]),
            "left_alone": _left_alone(entry["left_alone"]),
        }
    )


_LINK_FIELDS = ("seq", "kind", "key", "digest", "prev", "hash")


def _encode_link(link: Link) -> Plain:
    return {
        "seq": link.seq,
        "kind": link.kind.value,
        "key": link.key,
        "digest": link.digest,
        "prev": link.prev,
        "hash": link.hash,
    }


def _decode_link(entry: Plain) -> Link:
    _check(
        isinstance(entry, dict) and sorted(entry) == sorted(_LINK_FIELDS),
        f"a link has the fields {', '.join(_LINK_FIELDS)}",
    )
    _check(type(entry["seq"]) is int, "a link's seq is a whole number")
    _check(all(isinstance(entry[field], str) for field in _LINK_FIELDS[1:]), "a link's kind, key and hashes are text")
    return Link(**entry)


# --- helpers ---------------------------------------------------------------------------


def _moment(text: str) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(text)
    _check(moment.utcoffset() is not None, "a time has no offset")
    return moment


def _check(condition: object, problem: str) -> None:
    if not condition:
        raise ValueError(problem)


def _each(encode: Callable[[Any], Plain], field: str) -> Callable[[StoreContents], Iterable[Plain]]:
    return lambda contents: map(encode, getattr(contents, field))


CODECS: dict[str, Codec] = {
    "records": Codec(_encode_records, _decode_record, _collect_records),
    "history": Codec(_each(_encode_batch, "history"), _decode_batch),
    "consent_events": Codec(_each(_encode_event, "consent_events"), _decode_event),
    "reviews": Codec(_each(_encode_review, "reviews"), _decode_review),
    "consent_policy": Codec(lambda contents: [_encode_policy(contents.consent_policy)], _decode_policy, _the_policy),
    "policy_changes": Codec(_each(_encode_change, "policy_changes"), _decode_change),
    "proposals": Codec(_each(_encode_proposal, "proposals"), _decode_proposal),
    "schedules": Codec(_each(_encode_schedule, "schedules"), _decode_schedule),
    "chain": Codec(_each(_encode_link, "chain"), _decode_link),
}
"""One codec per section of :data:`~contact_prefs.contents.SECTIONS`, by name."""

assert list(CODECS) == [section.name for section in SECTIONS], "every section has a codec, in section order"
