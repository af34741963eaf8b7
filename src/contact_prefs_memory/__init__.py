"""The reference store: every record in dicts in memory, one lock around every operation.

It defines the store semantics the other backends are tested against, so it
is written to be obviously right rather than fast.  ``open_store("memory://")``
opens a fresh, empty one; nothing outlives the process.
"""

from __future__ import annotations

import contextlib
import datetime
import threading
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import attrs

import contact_prefs
from contact_prefs import (
    BatchRecord,
    BatchSpec,
    Change,
    ChangeSet,
    PointUpdate,
    Receipt,
    Snapshot,
    Source,
    StoreError,
    UnknownBatchError,
)
from contact_prefs.changes import count_changes
from contact_prefs.hookspecs import RegisterStore
from contact_prefs.rules import check_undoable
from contact_prefs.snapshot import RECORD_FIELDS
from contact_prefs.store import ClosesOnExit
from contact_prefs.writes import StoredPoint, check_commit, undo_writes

__all__ = ["MemoryStore"]

SCHEME = "memory"


def _empty_records() -> dict[str, dict[Any, Any]]:
    return {name: {} for name in RECORD_FIELDS}


@attrs.define
class MemoryStore(ClosesOnExit):
    """A store held in dicts, one per record collection, keyed by each record's ``key``.

    ``version`` counts the writes; ``history`` is kept oldest first and
    returned newest first.  Thread-safe: every operation holds one lock.
    """

    _records: dict[str, dict[Any, Any]] = attrs.field(factory=_empty_records, repr=False)
    _history: list[BatchRecord] = attrs.field(factory=list, repr=False)
    _writes: int = 0
    _closed: bool = False
    _lock: threading.RLock = attrs.field(factory=threading.RLock, repr=False)

    @property
    def _version(self) -> str:
        return str(self._writes)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the store's lock for one operation, on an open store."""
        with self._lock:
            if self._closed:
                raise StoreError("the memory store is closed")
            yield

    def load(self, snapshot: Snapshot, *, remove: Snapshot | None = None, keep_preferences: bool = False) -> None:
        """Delete the records keyed in ``remove``, then upsert every record of ``snapshot``.

        With ``keep_preferences`` an existing contact point keeps everything but its address.
        """
        with self._locked():
            if remove is not None:
                for name, records in remove.collections().items():
                    for record in records:
                        self._records[name].pop(record.key, None)
            for name, records in snapshot.collections().items():
                stored = self._records[name]
                for record in records:
                    old = stored.get(record.key) if keep_preferences and name == "contact_points" else None
                    stored[record.key] = record if old is None else attrs.evolve(old, address=record.address)
            self._writes += 1

    def dump(self) -> Snapshot:
        """Everything stored."""
        with self._locked():
            collections: dict[str, Any] = {name: tuple(records.values()) for name, records in self._records.items()}
            return Snapshot(**collections, version=self._version)

    def snapshot(self, spec: BatchSpec) -> Snapshot:
        """Everything stored: the reference store does not narrow to the spec."""
        return self.dump()

    def commit(self, changeset: ChangeSet, *, actor: str) -> Receipt:
        """Write every point update or none, as :func:`~contact_prefs.writes.check_commit` decides."""
        with self._locked():
            writes = check_commit(changeset.updates, self._now(changeset.updates))
            for update in writes:
                self._write(update, source=Source.BATCH)
            return self._receipt(self._record(changeset.spec, changeset.changes, actor=actor))

    def history(self) -> tuple[BatchRecord, ...]:
        """Every commit and undo, newest first."""
        with self._locked():
            return tuple(reversed(self._history))

    def undo(self, batch_id: str, *, actor: str) -> Receipt:
        """Write back what :func:`~contact_prefs.writes.undo_writes` decides for the points ``batch_id`` wrote."""
        with self._locked():
            index, original = self._find(batch_id)
            check_undoable(batch_id, undoes=original.undoes, undone_by=original.undone_by)
            done = ChangeSet(spec=original.spec, basis="", changes=original.changes).updates
            writes = undo_writes(done, self._now(done))
            for write in writes:
                self._write(write.update, source=write.source)
            changes = tuple(change for write in writes for change in write.update.changes)
            record = self._record(original.spec, changes, actor=actor, undoes=batch_id)
            self._history[index] = attrs.evolve(original, undone_by=record.batch_id)
            return self._receipt(record)

    def close(self) -> None:
        """Mark the store closed; closing twice is harmless."""
        with self._lock:
            self._closed = True

    def _now(self, updates: Iterable[PointUpdate]) -> list[StoredPoint | None]:
        """The points these updates are for, as they are now."""
        points = self._records["contact_points"]
        return [StoredPoint.of(points.get(update.key)) for update in updates]

    def _write(self, update: PointUpdate, *, source: Source) -> None:
        """The compare-and-set, trivially true under the store's lock (the rules read the points under it)."""
        points = self._records["contact_points"]
        points[update.key] = attrs.evolve(points[update.key], enabled=update.enabled_after, source=source)

    def _record(
        self, spec: BatchSpec, changes: tuple[Change, ...], *, actor: str, undoes: str | None = None
    ) -> BatchRecord:
        record = BatchRecord(
            batch_id=uuid.uuid4().hex,
            actor=actor,
            at=datetime.datetime.now(datetime.UTC),
            spec=spec,
            counts=count_changes(changes),
            changes=changes,
            undoes=undoes,
        )
        self._history.append(record)
        self._writes += 1
        return record

    @staticmethod
    def _receipt(record: BatchRecord) -> Receipt:
        return Receipt(
            batch_id=record.batch_id,
            actor=record.actor,
            at=record.at,
            counts=dict(record.counts),
            applied=len(record.changes),
            undoes=record.undoes,
        )

    def _find(self, batch_id: str) -> tuple[int, BatchRecord]:
        for index, record in enumerate(self._history):
            if record.batch_id == batch_id:
                return index, record
        raise UnknownBatchError(f"no batch {batch_id!r} in the history of this store")


def _open(url: str) -> MemoryStore:
    if url != f"{SCHEME}://":
        raise StoreError(f"a memory store URL is just {SCHEME}:// (a fresh, empty store), not {url!r}")
    return MemoryStore()


@contact_prefs.hookimpl
def contact_prefs_register_stores(register: RegisterStore) -> None:
    """Serve ``memory://``."""
    register(SCHEME, _open)
