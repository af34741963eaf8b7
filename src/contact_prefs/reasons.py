"""ReasonSet: an immutable set of reasons, backed by one small int.

A district holds about a million contact points, each with two reason sets.
There are only 256 possible sets, so every set is interned: a contact point
holds a pointer, not a container, and comparing two sets is one identity check.
The bit layout (one bit per reason, in ``Reason`` order) is also how the
original system stores a messenger column, so stores can keep the mask as is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Set
from typing import Any, ClassVar

from .enums import Reason

_ALL_MASK = (1 << len(Reason)) - 1


class ReasonSet(Set[Reason]):
    """An immutable set of :class:`Reason`, iterated in ``Reason`` order."""

    __slots__ = ("mask",)
    mask: int
    """The bit mask: bit *i* is the *i*-th reason.  A plain slot, read millions of times per batch."""
    _interned: ClassVar[list[ReasonSet]] = []

    def __new__(cls, reasons: Iterable[Reason | str] = ()) -> ReasonSet:
        if isinstance(reasons, ReasonSet):
            return reasons
        mask = 0
        for reason in reasons:
            mask |= Reason(reason).bit
        return cls.from_mask(mask)

    @classmethod
    def from_mask(cls, mask: int) -> ReasonSet:
        """The set whose bits are ``mask`` (bit *i* is the *i*-th reason)."""
        # type() and the range, not try/except IndexError: a negative index would wrap around.
        if type(mask) is int and 0 <= mask <= _ALL_MASK:
            return cls._interned[mask]
        raise ValueError(f"not a reason mask: {mask!r} (expected an int from 0 to {_ALL_MASK})")

    @classmethod
    def all(cls) -> ReasonSet:
        return cls._interned[_ALL_MASK]

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"ReasonSet is immutable; cannot set {name}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"ReasonSet is immutable; cannot delete {name}")

    def __contains__(self, reason: object) -> bool:
        return isinstance(reason, Reason) and bool(self.mask & reason.bit)

    def __iter__(self) -> Iterator[Reason]:
        mask = self.mask
        return (reason for reason in Reason if mask & reason.bit)

    def __len__(self) -> int:
        return self.mask.bit_count()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ReasonSet):
            return self is other
        return NotImplemented

    def __hash__(self) -> int:
        return self.mask

    # The Set mixins would rebuild sets one reason at a time; masks do it in one step.
    def __and__(self, other: Any) -> ReasonSet:
        return ReasonSet.from_mask(self.mask & ReasonSet(other).mask)

    def __or__(self, other: Any) -> ReasonSet:
        return ReasonSet.from_mask(self.mask | ReasonSet(other).mask)

    def __sub__(self, other: Any) -> ReasonSet:
        return ReasonSet.from_mask(self.mask & ~ReasonSet(other).mask)

    def __xor__(self, other: Any) -> ReasonSet:
        return ReasonSet.from_mask(self.mask ^ ReasonSet(other).mask)

    def __reduce__(self) -> tuple[Any, ...]:
        return (ReasonSet.from_mask, (self.mask,))

    def __copy__(self) -> ReasonSet:
        return self

    def __deepcopy__(self, memo: object) -> ReasonSet:
        return self

    def __repr__(self) -> str:
        return f"ReasonSet({{{', '.join(reason.name for reason in self)}}})"


def revoked_set(value: bool | Iterable[Reason | str]) -> ReasonSet:
    """The reasons a ``revoked`` value names: ``True`` every reason, ``False`` none, else the reasons given."""
    if value is True:
        return ReasonSet.all()
    if value is False:
        return ReasonSet()
    if isinstance(value, int | str):
        raise TypeError(f"revoked must be True, False or reasons, not {value!r}")
    return ReasonSet(value)


def _intern_all() -> None:
    for mask in range(_ALL_MASK + 1):
        instance = object.__new__(ReasonSet)
        object.__setattr__(instance, "mask", mask)
        ReasonSet._interned.append(instance)


_intern_all()

BY_MASK: tuple[ReasonSet, ...] = tuple(ReasonSet._interned)
"""Every reason set, indexed by its mask: the hot-path form of :meth:`ReasonSet.from_mask`."""
