"""What a store must give back, worked out without a store: the kit's expected results and assertions.

Through :mod:`.district` this module imports Hypothesis: only tests import it.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from typing import Any, Protocol

import attrs

from ..changes import Change, ChangeSet, count_changes
from ..consent import ConsentEvent, ConsentPolicy
from ..enums import Method, Reason, Source
from ..ledger import consent_of_load, floors, ledger_key
from ..records import ContactPoint, DistrictAssignment, Enrollment, HouseholdMember, Person, Relationship
from ..snapshot import Snapshot
from ..spec import BatchSpec
from ..store import BatchRecord, Receipt
from ..writes import StoredPoint, undo_writes
from .district import ADDRESSES, DAY

__all__ = [
    "assert_batch_id",
    "assert_private",
    "assert_unchanged",
    "assert_utc",
    "changes_at",
    "edit_point",
    "holding",
    "key_variants",
    "point",
    "records",
    "touched",
    "undone",
]


class StoreLike(Protocol):
    """What the helpers here use of a store: the kit's checked store or the backend's own."""

    def load(self, snapshot: Snapshot, *, remove: Snapshot | None = ...) -> object: ...

    def dump(self) -> Snapshot: ...

    def history(self) -> tuple[BatchRecord, ...]: ...


def records(snapshot: Snapshot) -> Snapshot:
    """The snapshot's records in key order without its version: equal for equal contents."""
    return attrs.evolve(snapshot.sorted(), version="")


def changes_at(changeset: ChangeSet, *points: ContactPoint) -> list[Change]:
    keys = {point.key for point in points}
    return [change for change in changeset.changes if change.point_key in keys]


def point(snapshot: Snapshot, like: ContactPoint) -> ContactPoint:
    """The point of ``snapshot`` with the key of ``like``."""
    (found,) = [p for p in snapshot.contact_points if p.key == like.key]
    return found


def assert_utc(at: datetime.datetime) -> None:
    assert isinstance(at, datetime.datetime)
    assert at.tzinfo is not None and at.utcoffset() == datetime.timedelta(0), f"{at!r} is not in UTC"


def assert_batch_id(batch_id: str) -> None:
    parsed = uuid.UUID(hex=batch_id)
    assert parsed.hex == batch_id and parsed.version == 4, f"{batch_id!r} is not uuid.uuid4().hex"


def assert_unchanged(store: StoreLike, before: Snapshot, history: tuple[BatchRecord, ...]) -> None:
    """Nothing was written: the same records, version and history as before."""
    after = store.dump()
    assert records(after) == records(before)
    assert after.version == before.version
    assert store.history() == history


def assert_private(text: str) -> None:
    for address in ADDRESSES:
        assert address not in text, "an address (personal data) appears in an error, a log or a repr"


def holding(*held: Any) -> Snapshot:
    """A snapshot of ``held``, each record in its collection."""

    def of(kind: type[Any]) -> list[Any]:
        return [record for record in held if isinstance(record, kind)]

    return Snapshot(
        persons=of(Person),
        household_members=of(HouseholdMember),
        enrollments=of(Enrollment),
        relationships=of(Relationship),
        assignments=of(DistrictAssignment),
        contact_points=of(ContactPoint),
    )


def key_variants(record: Any) -> list[tuple[str, Any]]:
    """One (field, value) per key field of ``record``: changing that field gives another key."""
    variants: list[tuple[str, Any]] = []
    for name in attrs.fields_dict(type(record)):
        if name == "start":
            variants.append((name, None if record.start else DAY))
        elif name == "method":
            variants.append(
                (name, Method.SECONDARY_EMAIL if record.method is not Method.SECONDARY_EMAIL else Method.EMAIL)
            )
        elif name == "id" or name.endswith("_id"):
            variants.append((name, getattr(record, name) + "2"))
    return variants


def touched(changeset: ChangeSet) -> set[tuple[str, Method]]:
    """The keys of the points ``changeset`` writes."""
    return {change.point_key for change in changeset.changes}


def undone(district: Snapshot, changeset: ChangeSet) -> tuple[Snapshot, tuple[Change, ...]]:
    """``district`` after committing ``changeset`` and undoing it, and the changes the undo writes.

    What the undo writes is the core's rule (:func:`contact_prefs.writes.undo_writes`,
    which restores within consent): written points get their original reasons and
    source back; a point left with nothing to write stays as the batch left it.
    """
    done = changeset.apply_to(district)
    points = {p.key: p for p in done.contact_points}
    updates = changeset.point_updates()
    writes = {w.update.key: w for w in undo_writes(updates, [StoredPoint.of(points[u.key]) for u in updates])}
    restored = [
        attrs.evolve(p, enabled=writes[p.key].update.enabled_after, source=writes[p.key].source)
        if p.key in writes
        else p
        for p in done.contact_points
    ]
    changes = tuple(change for write in writes.values() for change in write.update.changes)
    return attrs.evolve(done, contact_points=restored), changes


def edit_point(store: StoreLike, stored: ContactPoint, edit: str) -> None:
    """Change one point the way the SIS or a parent in the portal would."""
    current = point(store.dump(), stored)
    if edit == "enabled changed":
        store.load(Snapshot(contact_points=[attrs.evolve(current, enabled=current.enabled ^ {Reason.TEACHER})]))
    elif edit == "source changed":
        other = Source.STAFF if current.source is Source.PORTAL else Source.PORTAL
        store.load(Snapshot(contact_points=[attrs.evolve(current, source=other)]))
    elif edit == "point gone":
        store.load(Snapshot(), remove=Snapshot(contact_points=[current]))
    elif edit == "newly revoked":
        store.load(Snapshot(contact_points=[attrs.evolve(current, revoked=True)]))
    else:
        raise ValueError(f"unknown edit {edit!r}")


class LedgerOfLoads:
    """The consent ledger a store builds from loads alone, kept by the core's rules: what the
    points of a sequence of loads hold as ``revoked`` (consent belongs to the address)."""

    def __init__(self) -> None:
        self.policy = ConsentPolicy()
        self.ledgers: dict[str, list[ConsentEvent]] = {}

    def key(self, point: ContactPoint) -> str | None:
        return ledger_key(point.method, point.address, self.policy.region)

    def load(self, points: Sequence[ContactPoint]) -> None:
        keys = [self.key(point) for point in points]
        loaded = consent_of_load(points, keys, self.ledgers, set(), self.policy, at=LOADED_AT, actor="import")
        for event in loaded.events:
            self.ledgers.setdefault(event.address, []).append(event)

    def as_stored(self, point: ContactPoint) -> ContactPoint:
        key = self.key(point)
        if key is None:
            return point
        return attrs.evolve(point, revoked=floors([key], self.ledgers, set(), self.policy)[key])


LOADED_AT = datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC)


def recorded(
    receipt: Receipt,
    actor: str,
    spec: BatchSpec,
    changes: tuple[Change, ...],
    *,
    undoes: str | None = None,
    undone_by: str | None = None,
) -> BatchRecord:
    """The history entry a store must keep of the commit or undo that returned ``receipt``: by
    ``actor``, of ``spec``, with exactly ``changes`` (and their counts), linked as given."""
    return BatchRecord(
        batch_id=receipt.batch_id,
        actor=actor,
        at=receipt.at,
        spec=spec,
        counts=count_changes(changes),
        changes=changes,
        undoes=undoes,
        undone_by=undone_by,
    )
