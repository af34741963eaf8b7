"""What a plan produces: changes, skips, and the change set that holds them.

A change set keeps one :class:`PointUpdate` per contact point (the unit a
store writes, with one compare-and-set) and spells it out as one
:class:`Change` per reason only when asked: a district-wide batch touches
hundreds of thousands of points, and counting, committing or inverting them
never needs the per-reason objects.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import attrs

from .enums import Method, Reason, SkipReason, Source
from .reasons import ReasonSet, revoked_set
from .snapshot import _frozen
from .spec import BatchSpec

if TYPE_CHECKING:
    from .snapshot import Snapshot

_REASON_BITS = [(reason, reason.bit) for reason in Reason]


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


def _no_switch_on_where_revoked(update: PointUpdate, attribute: Any, revoked: ReasonSet) -> None:
    if revoked.mask & update.enabled_after.mask & ~update.enabled_before.mask:
        raise ValueError(
            f"the update at {update.owner_id!r} {update.method.value} switches a reason on "
            "whose consent is withdrawn (revoked_before)"
        )





@attrs.frozen(kw_only=True)
class PointUpdate:
    """Every change at one contact point, as a store writes it: one compare-and-set.

    The point is written only if it still has ``enabled_before``,
    ``source_before`` and ``revoked_before`` (the reasons its consent was
    withdrawn for, as planned); it then gets ``enabled_after``.  An update never
    switches on a reason in ``revoked_before``: the consent floor holds by
    construction.
    """

    owner_id: str
    method: Method
    source_before: Source
    enabled_before: ReasonSet
    enabled_after: ReasonSet
    affects: frozenset[str]
    # What the compare-and-set expects, not what the update does: left out of equality, so a
    # change set rebuilt from its per-reason changes (which do not carry it) equals the original.
    revoked_before: ReasonSet = attrs.field(
        default=ReasonSet(), converter=revoked_set, validator=_no_switch_on_where_revoked, eq=False
    )

    @property
    def key(self) -> tuple[str, Method]:
        return (self.owner_id, self.method)

    @property
    def affects_only_owner(self) -> bool:
        """Whether the update affects just its owner, as every update but a household phone's does
        (stores record whom the others affect, and nothing for these)."""
        return len(self.affects) == 1 and self.owner_id in self.affects

    @property
    def switched_on(self) -> ReasonSet:
        return self.enabled_after - self.enabled_before

    @property
    def changes(self) -> tuple[Change, ...]:
        """One change per reason that differs, in ``Reason`` order."""
        before, after = self.enabled_before.mask, self.enabled_after.mask
        return tuple(
            Change(
                owner_id=self.owner_id,
                method=self.method,
                reason=reason,
                before=bool(before & bit),
                after=bool(after & bit),
                source_before=self.source_before,
                enabled_before=self.enabled_before,
                affects=self.affects,
            )
            for reason, bit in _REASON_BITS
            if (before ^ after) & bit
        )

    def inverse(self) -> PointUpdate:
        """The update that takes the point back, as a batch leaves it (source BATCH).

        It claims nothing about consent (``revoked_before`` empty): a store
        compares it with the point as it is, and the consent floor decides
        (:func:`contact_prefs.writes.undo_writes` is how a batch is undone).
        """
        return attrs.evolve(
            self,
            source_before=Source.BATCH,
            enabled_before=self.enabled_after,
            enabled_after=self.enabled_before,
            revoked_before=ReasonSet(),
        )


@attrs.frozen(init=False)
class ChangeSet:
    """The exact, reviewable result of planning a batch against a snapshot.

    Build it with ``changes`` (any iterable of :class:`Change`) or, as
    :func:`~contact_prefs.plan` does, with per-point ``updates``.  ``basis`` is
    the version of the snapshot it was planned from.  Changes are ordered by
    owner, method and reason; ``recipients`` are the people the spec selected.
    """

    spec: BatchSpec
    basis: str
    updates: tuple[PointUpdate, ...] = attrs.field(converter=_frozen)
    skips: tuple[Skip, ...] = attrs.field(converter=_frozen)
    recipients: tuple[str, ...] = attrs.field(converter=_frozen)
    _cache: dict[str, Any] = attrs.field(factory=dict, init=False, eq=False, repr=False, hash=False)

    def __init__(
        self,
        *,
        spec: BatchSpec,
        basis: str,
        changes: Iterable[Change] = (),
        skips: Iterable[Skip] = (),
        recipients: Iterable[str] = (),
        updates: Iterable[PointUpdate] | None = None,
    ) -> None:
        self.__attrs_init__(
            spec=spec,
            basis=basis,
            updates=group_by_point(changes) if updates is None else updates,
            skips=skips,
            recipients=recipients,
        )

    @property
    def changes(self) -> tuple[Change, ...]:
        """Every change, one per reason and point, built on first use."""
        if "changes" not in self._cache:
            self._cache["changes"] = tuple(change for update in self.updates for change in update.changes)
        changes: tuple[Change, ...] = self._cache["changes"]
        return changes

    def __len__(self) -> int:
        return sum(self.counts().values())

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    def counts(self) -> dict[tuple[Method, Reason], int]:
        """The results table: changes per (method, reason), every pair present."""
        if "counts" not in self._cache:
            self._cache["counts"] = count_updates(self.updates)
        return dict(self._cache["counts"])

    def skip_counts(self) -> dict[SkipReason, int]:
        """Skips per reason, every reason present."""
        counts = dict.fromkeys(SkipReason, 0)
        for skip in self.skips:
            counts[skip.reason] += 1
        return counts

    @property
    def portal_overwrites(self) -> int:
        """How many changes overwrite a preference a parent set in the portal."""
        return sum(
            (u.enabled_before.mask ^ u.enabled_after.mask).bit_count()
            for u in self.updates
            if u.source_before is Source.PORTAL
        )

    def point_updates(self) -> tuple[PointUpdate, ...]:
        """The changes grouped per contact point, in change order."""
        return self.updates

    def inverse(self) -> ChangeSet:
        """The change set that undoes this one, against the state it leaves (source BATCH)."""
        return ChangeSet(
            spec=self.spec,
            basis="",
            updates=[update.inverse() for update in self.updates],
            recipients=self.recipients,
        )

    def apply_to(self, snapshot: Snapshot) -> Snapshot:
        """``snapshot`` with these changes written as a store writes them (source BATCH)."""
        updates = {update.key: update for update in self.updates}
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


def count_changes(changes: Iterable[Change]) -> dict[tuple[Method, Reason], int]:
    """Changes per (method, reason), every pair present, zeros included."""
    counts = {(method, reason): 0 for method in Method for reason in Reason}
    for change in changes:
        counts[change.method, change.reason] += 1
    return counts


def count_updates(updates: Iterable[PointUpdate]) -> dict[tuple[Method, Reason], int]:
    """Like :func:`count_changes`, from per-point updates without spelling out their changes."""
    # Points share few distinct (method, flipped reasons) pairs: count those, then expand.
    flips = Counter((u.method, u.enabled_before.mask ^ u.enabled_after.mask) for u in updates)
    counts = {(method, reason): 0 for method in Method for reason in Reason}
    for (method, mask), points in flips.items():
        for reason, bit in _REASON_BITS:
            if mask & bit:
                counts[method, reason] += points
    return counts


def group_by_point(changes: Iterable[Change]) -> tuple[PointUpdate, ...]:
    """Group changes per contact point; each group becomes one compare-and-set write.

    The changes at one point must agree on what the point looked like, and each
    must really switch its reason.
    """
    groups: dict[tuple[str, Method], list[Change]] = {}
    for change in changes:
        groups.setdefault(change.point_key, []).append(change)
    updates = []
    for (owner_id, method), group in groups.items():
        first = group[0]
        mask = first.enabled_before.mask
        for change in group:
            consistent = (
                change.before is not change.after
                and change.before is bool(first.enabled_before.mask & change.reason.bit)
                and (change.enabled_before, change.source_before, change.affects)
                == (first.enabled_before, first.source_before, first.affects)
            )
            if not consistent or (mask ^ first.enabled_before.mask) & change.reason.bit:
                raise ValueError(
                    f"inconsistent change at {owner_id!r} {method.value} for {change.reason.value}: "
                    "each change must switch its reason once, from the point's enabled_before"
                )
            mask ^= change.reason.bit
        updates.append(
            PointUpdate(
                owner_id=owner_id,
                method=method,
                source_before=first.source_before,
                enabled_before=first.enabled_before,
                enabled_after=ReasonSet.from_mask(mask),
                affects=first.affects,
            )
        )
    return tuple(updates)
