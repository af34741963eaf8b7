"""What a plan produces: changes, skips, and the change set that holds them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import attrs

from .enums import Method, Reason, SkipReason, Source
from .reasons import ReasonSet
from .snapshot import _frozen
from .spec import BatchSpec

if TYPE_CHECKING:
    from .snapshot import Snapshot


@attrs.frozen(kw_only=True)
class Change:
    """One reason switched at one contact point.

    ``before``/``after`` are the reason's state there.  ``source_before`` and
    ``enabled_before`` are the whole point as the plan saw it (shared by every
    change at the point): a store writes the point only if it still looks like
    this.  ``affects`` holds the people whose messages change.
    """

    owner_id: str
    method: Method
    reason: Reason
    before: bool
    after: bool
    source_before: Source
    enabled_before: ReasonSet
    affects: frozenset[str]

    @property
    def point_key(self) -> tuple[str, Method]:
        return (self.owner_id, self.method)


@attrs.frozen(kw_only=True)
class Skip:
    """A recipient or contact point the batch left alone, and why."""

    owner_id: str
    reason: SkipReason
    method: Method | None = None


@attrs.frozen(kw_only=True)
class PointUpdate:
    """Every change at one contact point, as a store writes it: one compare-and-set."""

    owner_id: str
    method: Method
    source_before: Source
    enabled_before: ReasonSet
    enabled_after: ReasonSet
    changes: tuple[Change, ...]

    @property
    def key(self) -> tuple[str, Method]:
        return (self.owner_id, self.method)


def _counts_zero() -> dict[tuple[Method, Reason], int]:
    return {(method, reason): 0 for method in Method for reason in Reason}


@attrs.frozen(kw_only=True)
class ChangeSet:
    """The exact, reviewable result of planning a batch against a snapshot.

    ``basis`` is the version of the snapshot it was planned from.  Changes are
    ordered by owner, method and reason; ``recipients`` are the people the
    spec selected, in id order.
    """

    spec: BatchSpec
    basis: str
    changes: tuple[Change, ...] = attrs.field(converter=_frozen)
    skips: tuple[Skip, ...] = attrs.field(converter=_frozen)
    recipients: tuple[str, ...] = attrs.field(converter=_frozen)

    def __len__(self) -> int:
        return len(self.changes)

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    def counts(self) -> dict[tuple[Method, Reason], int]:
        """The results table: changes per (method, reason), every pair present."""
        return count_changes(self.changes)

    def skip_counts(self) -> dict[SkipReason, int]:
        """Skips per reason, every reason present."""
        counts = dict.fromkeys(SkipReason, 0)
        for skip in self.skips:
            counts[skip.reason] += 1
        return counts

    @property
    def portal_overwrites(self) -> int:
        """How many changes overwrite a preference a parent set in the portal."""
        return sum(1 for change in self.changes if change.source_before is Source.PORTAL)

    def point_updates(self) -> tuple[PointUpdate, ...]:
        """The changes grouped per contact point, in change order."""
        return group_by_point(self.changes)

    def inverse(self) -> ChangeSet:
        """The change set that undoes this one, planned against the state it leaves."""
        undo: list[Change] = []
        for update in self.point_updates():
            for change in update.changes:
                undo.append(
                    attrs.evolve(
                        change,
                        before=change.after,
                        after=change.before,
                        source_before=Source.BATCH,
                        enabled_before=update.enabled_after,
                    )
                )
        return ChangeSet(spec=self.spec, basis="", changes=undo, skips=(), recipients=self.recipients)

    def apply_to(self, snapshot: Snapshot) -> Snapshot:
        """``snapshot`` with these changes written as a store writes them (source BATCH)."""
        updates = {update.key: update for update in self.point_updates()}
        points = tuple(
            attrs.evolve(point, enabled=updates[point.key].enabled_after, source=Source.BATCH)
            if point.key in updates
            else point
            for point in snapshot.contact_points
        )
        return attrs.evolve(snapshot, contact_points=points)

    def render(self) -> str:
        """The results table as plain text, like the original tool's results page."""
        from .render import render_change_set

        return render_change_set(self)


def count_changes(changes: tuple[Change, ...]) -> dict[tuple[Method, Reason], int]:
    """Changes per (method, reason), every pair present, zeros included."""
    counts = _counts_zero()
    for change in changes:
        counts[change.method, change.reason] += 1
    return counts


def group_by_point(changes: tuple[Change, ...]) -> tuple[PointUpdate, ...]:
    """Group changes per contact point; each group becomes one compare-and-set write."""
    groups: dict[tuple[str, Method], list[Change]] = {}
    for change in changes:
        groups.setdefault(change.point_key, []).append(change)
    updates = []
    for (owner_id, method), group in groups.items():
        first = group[0]
        mask = first.enabled_before.mask
        for change in group:
            mask = mask | change.reason.bit if change.after else mask & ~change.reason.bit
        updates.append(
            PointUpdate(
                owner_id=owner_id,
                method=method,
                source_before=first.source_before,
                enabled_before=first.enabled_before,
                enabled_after=ReasonSet.from_mask(mask),
                changes=tuple(group),
            )
        )
    return tuple(updates)
