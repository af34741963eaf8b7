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
from types import TracebackType
from typing import Any

import attrs

import contact_prefs
from contact_prefs import (
    BatchRecord,
    BatchSpec,
    Change,
    ChangeSet,
    ConflictError,
    PointUpdate,
    Receipt,
    Snapshot,
    Source,
    StoreError,
    UnknownBatchError,
)
from contact_prefs.changes import count_changes
from contact_prefs.hookspecs import RegisterStore
from contact_prefs.rules import check_undoable, restore_within_consent
from contact_prefs.snapshot import RECORD_FIELDS

__all__ = ["MemoryStore"]

SCHEME = "memory"


def _empty_records() -> dict[str, dict[Any, Any]]:
    return {name: {} for name in RECORD_FIELDS}


@attrs.define
class MemoryStore:
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
        """Write every point update or none, each only if the point is still as planned."""
        with self._locked():
            updates = changeset.point_updates()
            points = self._records["contact_points"]
            self._refuse(
                update
                for update in updates
                # A point that switches on must not have had its consent withdrawn since planning.
                if self._stale(update) or (update.switched_on and points[update.key].revoked)
            )
            for update in updates:
                self._write(update, source=Source.BATCH)
            return self._receipt(self._record(changeset.spec, changeset.changes, actor=actor))

    def history(self) -> tuple[BatchRecord, ...]:
        """Every commit and undo, newest first."""
        with self._locked():
            return tuple(reversed(self._history))

    def undo(self, batch_id: str, *, actor: str) -> Receipt:
        """Restore the enabled reasons and source of every point ``batch_id`` wrote, within consent.

        Where consent is revoked now, the reasons the batch switched off stay
        off (``restore_within_consent``); a point left with nothing to write
        is not written, and the undo records only the changes it wrote.
        """
        with self._locked():
            index, original = self._find(batch_id)
            check_undoable(batch_id, undoes=original.undoes, undone_by=original.undone_by)
            done = ChangeSet(spec=original.spec, basis="", changes=original.changes).point_updates()
            # Every point must still be as the batch left it; being revoked now is no conflict.
            self._refuse(inverse for inverse in (update.inverse() for update in done) if self._stale(inverse))
            points = self._records["contact_points"]
            restored = [
                (update, undo)
                for update in done
                if (undo := restore_within_consent(update, revoked=points[update.key].revoked)) is not None
            ]
            for update, undo in restored:
                self._write(undo, source=update.source_before)
            changes = tuple(change for _, undo in restored for change in undo.changes)
            record = self._record(original.spec, changes, actor=actor, undoes=batch_id)
            self._history[index] = attrs.evolve(original, undone_by=record.batch_id)
            return self._receipt(record)

    def close(self) -> None:
        """Mark the store closed; closing twice is harmless."""
        with self._lock:
            self._closed = True

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _stale(self, update: PointUpdate) -> bool:
        """Whether the point is gone or no longer as ``update`` expects it."""
        point = self._records["contact_points"].get(update.key)
        return point is None or point.enabled != update.enabled_before or point.source is not update.source_before

    @staticmethod
    def _refuse(conflicting: Iterable[PointUpdate]) -> None:
        """Raise ``ConflictError`` with every change at these points, if there are any."""
        conflicts = [change for update in conflicting for change in update.changes]
        if conflicts:
            raise ConflictError(conflicts)

    def _write(self, update: PointUpdate, *, source: Source) -> None:
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
