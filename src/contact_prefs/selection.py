"""Selection: whom a spec selects, when a store has worked it out already.

The selection rules (:func:`~contact_prefs.rules.students_in_scope`,
:func:`~contact_prefs.rules.messenger_contacts_of`,
:func:`~contact_prefs.rules.census_recipients`) read a district's enrollments,
relationships and people: hundreds of thousands of records that a plan needs
for nothing else.  A store that applies those rules in its own query language
(the SQLite store does, in SQL) puts their answer in ``Snapshot.selection``
and leaves those records out.  The conformance kit holds such a store to the
rules: planning its snapshot must give exactly what planning everything gives.

A selection answers for one spec's scope only; planning it for another spec
is refused rather than silently planned from the wrong people.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

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


def _pairs(skipped: Iterable[tuple[str, SkipReason]]) -> tuple[tuple[str, SkipReason], ...]:
    return tuple(sorted(skipped))


@attrs.frozen(kw_only=True)
class Selection:
    """The recipients a spec's scope selects, and the people of its filter it skipped, each with why.

    Build one with :meth:`of`.  ``skipped`` is kept sorted, so two selections
    of the same people compare equal.
    """

    scope: Scope
    recipients: frozenset[str] = attrs.field(converter=_ids)
    skipped: tuple[tuple[str, SkipReason], ...] = attrs.field(default=(), converter=_pairs)

    @classmethod
    def of(
        cls, spec: BatchSpec, recipients: Iterable[str], skipped: Iterable[tuple[str, SkipReason]] = ()
    ) -> Selection:
        """The selection ``spec`` makes: ``recipients``, and ``skipped`` census people with the rule each failed."""
        return cls(scope=scope_of(spec), recipients=recipients, skipped=skipped)

    def answers(self, spec: BatchSpec) -> bool:
        """Whether this is the selection ``spec`` makes (same mode, school, calendar, filter and day)."""
        return self.scope == scope_of(spec)
