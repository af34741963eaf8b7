"""Selection: whom a spec selects, when a store has worked it out already.

The selection rules (:func:`~contact_prefs.rules.students_in_scope`,
:func:`~contact_prefs.rules.messenger_contacts_of`,
:func:`~contact_prefs.rules.census_recipients`, and the households whose phone
the recipients share, :attr:`~contact_prefs.rules.District.members_of`) read a
district's enrollments, relationships, people and household memberships:
most of its records, which a plan needs for nothing else.  A store that
applies those rules in its own query language (the SQLite and PostgreSQL
stores do, in SQL) puts their answer in ``Snapshot.selection`` and leaves
those records out.  The conformance kit holds such a store to the
rules: planning its snapshot must give exactly what planning everything gives.

A selection answers for one spec's scope only; planning it for another spec
is refused rather than silently planned from the wrong people.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from types import MappingProxyType

import attrs

from .enums import Mode, SkipReason
from .spec import BatchSpec

Scope = tuple[Mode, str | None, str | None, frozenset[str] | None, datetime.date]


def scope_of(spec: BatchSpec) -> Scope:
    """What decides whom ``spec`` selects: its mode, school, calendar, filter and day.

    Census/Staff ignores school and calendar, so they do not count there.
    """
    census = spec.mode is Mode.CENSUS_STAFF
    return (
        spec.mode,
        None if census else spec.school_id,
        None if census else spec.calendar_id,
        spec.filter_ids,
        spec.as_of,
    )


def _ids(ids: Iterable[str]) -> frozenset[str]:
    return ids if type(ids) is frozenset else frozenset(ids)


def _households(households: Mapping[str, Iterable[str]]) -> Mapping[str, frozenset[str]]:
    # frozenset() of a frozenset is that very set: a store's sets are kept, not copied.
    return MappingProxyType(dict(zip(households, map(frozenset, households.values()), strict=True)))


def _pairs(skipped: Iterable[tuple[str, SkipReason]]) -> tuple[tuple[str, SkipReason], ...]:
    return tuple(sorted(skipped))


@attrs.frozen(kw_only=True)
class Selection:
    """The recipients a spec's scope selects, the households they share a phone with, and
    the people of its filter it skipped, each with why.

    ``households`` maps each household where a recipient is an active member
    on the day to all of its active members (whose messages a change to its
    phone affects); a store may leave out the households with no saved phone.
    Build one with :meth:`of`.  ``skipped`` is kept sorted, so two selections
    of the same people compare equal.
    """

    scope: Scope
    recipients: frozenset[str] = attrs.field(converter=_ids)
    households: Mapping[str, frozenset[str]] = attrs.field(converter=_households, hash=False)
    skipped: tuple[tuple[str, SkipReason], ...] = attrs.field(default=(), converter=_pairs)

    @classmethod
    def of(
        cls,
        spec: BatchSpec,
        recipients: Iterable[str],
        households: Mapping[str, Iterable[str]],
        skipped: Iterable[tuple[str, SkipReason]] = (),
    ) -> Selection:
        """The selection ``spec`` makes: ``recipients``, their ``households`` with their
        members, and ``skipped`` census people with the rule each failed."""
        return cls(scope=scope_of(spec), recipients=recipients, households=households, skipped=skipped)

    def answers(self, spec: BatchSpec) -> bool:
        """Whether this is the selection ``spec`` makes (same mode, school, calendar, filter and day)."""
        return self.scope == scope_of(spec)
