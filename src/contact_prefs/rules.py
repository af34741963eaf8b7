"""The rules of the Contact Preferences Batch, each in one place and named after itself.

The seed's words, for reference:

* "The tool looks for Enrollments in the selected school/calendar to determine
  the set of guardians which are updated."  -> :func:`students_in_scope`,
  :func:`messenger_contacts_of`
* "When updating Census/Staff, staff members must have a district assignment."
  -> :func:`census_recipients`
* "The guardians must also have a phone number or email address saved in order
  for the Contact Reason option(s) to be enabled."  -> :func:`points_of`
* "Staff ... is applicable only to those individuals who have a District
  Assignments record."  -> :func:`staff_reason_applies`
* "Household phone preferences apply to all active members of this household
  ... regardless of the mode selected."  -> :func:`points_of`, :func:`affected_people`
* "If parents have set preferences through the Campus Portal, this wizard may
  overwrite those settings."  -> :func:`decide` (unless ``keep_portal``)
* A revoked consent is honoured: a batch never switches a revoked reason
  back on, and neither does an undo.  -> :func:`decide`, :func:`restore_within_consent`

:class:`District` indexes a snapshot once, for one day, so that every rule is
a dictionary or set look-up.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from functools import cached_property
from operator import attrgetter

import attrs

from .changes import PointUpdate
from .enums import Method, Reason, SkipReason, Source
from .errors import ContactPrefsError
from .reasons import ReasonSet
from .records import ContactPoint, is_active
from .snapshot import Snapshot
from .spec import BatchSpec

STAFF_BIT = Reason.STAFF.bit
HOUSEHOLD_PHONE = Method.HOUSEHOLD_PHONE
NOBODY: frozenset[str] = frozenset()
_OWNER = attrgetter("owner_id")


class District:
    """A snapshot indexed for one day.  Each index is built on first use."""

    def __init__(self, snapshot: Snapshot, day: datetime.date) -> None:
        self.snapshot = snapshot
        self.day = day
        # ``{person_id}``, one shared set per person (a person's points share it), made on first use.
        self.alone: Callable[[str], frozenset[str]] = _Singletons().__getitem__

    @cached_property
    def person_ids(self) -> frozenset[str]:
        return frozenset(person.id for person in self.snapshot.persons)

    @cached_property
    def assigned(self) -> frozenset[str]:
        """People with a District Assignment active on the day."""
        day = self.day
        return frozenset(a.person_id for a in self.snapshot.assignments if is_active(a.start, a.end, day))

    @cached_property
    def members_of(self) -> Mapping[str, frozenset[str]]:
        """Household id -> its active members on the day (one shared frozenset each).

        A store's selection names the households in play with their members;
        otherwise they come from the snapshot's memberships.
        """
        if self.snapshot.selection is not None:
            return self.snapshot.selection.households
        day = self.day
        members: defaultdict[str, list[str]] = defaultdict(list)
        for m in self.snapshot.household_members:
            if is_active(m.start, m.end, day):
                members[m.household_id].append(m.person_id)
        return {household: frozenset(people) for household, people in members.items()}


class _Singletons(dict[str, frozenset[str]]):
    """Person id -> ``{person id}``, made on first look-up (a C-speed hit afterwards)."""

    def __missing__(self, person_id: str) -> frozenset[str]:
        people = self[person_id] = frozenset((person_id,))
        return people


def students_in_scope(spec: BatchSpec, district: District) -> set[str]:
    """Students with an enrollment active on ``as_of`` in the selected school and
    calendar (``None`` means all), narrowed by the ad hoc student filter."""
    day, school, calendar = district.day, spec.school_id, spec.calendar_id
    students = {
        e.student_id
        for e in district.snapshot.enrollments
        if (school is None or e.school_id == school)
        and (calendar is None or e.calendar_id == calendar)
        and is_active(e.start, e.end, day)
    }
    if spec.filter_ids is not None:
        students &= spec.filter_ids
    return students


def messenger_contacts_of(students: set[str], district: District) -> set[str]:
    """Everyone linked to these students by a relationship with the Messenger flag."""
    return {
        link.contact_id for link in district.snapshot.relationships if link.messenger and link.student_id in students
    }


def census_recipients(spec: BatchSpec, district: District) -> tuple[set[str], list[tuple[str, SkipReason]]]:
    """The census filter's people who exist and hold an active District Assignment.

    The others are skipped, each for the first rule it fails, and nothing else
    happens to them.
    """
    recipients: set[str] = set()
    skipped: list[tuple[str, SkipReason]] = []
    for person_id in spec.filter_ids or ():
        if person_id not in district.person_ids:
            skipped.append((person_id, SkipReason.UNKNOWN_PERSON))
        elif person_id not in district.assigned:
            skipped.append((person_id, SkipReason.NO_DISTRICT_ASSIGNMENT))
        else:
            recipients.add(person_id)
    return recipients, skipped


def points_of(recipients: AbstractSet[str], district: District) -> tuple[list[ContactPoint], AbstractSet[str]]:
    """The recipients' own saved points plus the saved household phone of every
    household where one of them is an active member, each point once; and the
    recipients who reach no point at all.

    A pass over the district's points per kind and one over its households,
    not one search per recipient: a district has a million points.
    """
    members_of = district.members_of
    households = {household for household, members in members_of.items() if not members.isdisjoint(recipients)}
    household_phone, saved = HOUSEHOLD_PHONE, district.snapshot.contact_points
    # Household and person ids are separate namespaces: "1001" may name both.
    own = [p for p in saved if p.method is not household_phone and p.owner_id in recipients and p.address]
    phones = [p for p in saved if p.method is household_phone and p.owner_id in households and p.address]
    reached = set(map(_OWNER, own))
    reached_at_home = NOBODY.union(*(members_of[household] for household in map(_OWNER, phones)))
    return own + phones, recipients - reached - reached_at_home


def staff_reason_applies(point: ContactPoint, district: District) -> bool:
    """Staff messages reach only a person's own points, and only with an active
    District Assignment; never a household phone."""
    return point.method is not HOUSEHOLD_PHONE and point.owner_id in district.assigned


def affected_people(point: ContactPoint, district: District) -> frozenset[str]:
    """Whose messages change: the owner, or every active member of the household."""
    if point.method is HOUSEHOLD_PHONE:
        return district.members_of.get(point.owner_id, NOBODY)
    return district.alone(point.owner_id)


def decide(
    point: ContactPoint, switch_on: int, switch_off: int, keep_portal: bool
) -> tuple[int, int, SkipReason | None]:
    """Which reasons to switch on and off at one point (as masks), and why any were held back.

    ``switch_on``/``switch_off`` are the reasons the spec sets ON/OFF that apply
    here.  Only reasons whose state differs are wanted.  With ``keep_portal`` a
    point a parent set in the portal is left whole.  A reason whose consent is
    withdrawn at the point is never switched on (the consent floor), and the
    point is skipped as consent revoked; the other reasons, and switching off,
    go ahead.
    """
    current = point.enabled.mask
    wanted_on = switch_on & ~current
    wanted_off = switch_off & current
    if not (wanted_on or wanted_off):
        return 0, 0, None
    if keep_portal and point.source is Source.PORTAL:
        return 0, 0, SkipReason.PORTAL_PROTECTED
    held = wanted_on & point.revoked.mask
    if held:
        return wanted_on & ~held, wanted_off, SkipReason.CONSENT_REVOKED
    return wanted_on, wanted_off, None


METHOD_ORDER = {method: index for index, method in enumerate(Method)}
SKIP_ORDER = {reason: index for index, reason in enumerate(SkipReason)}


def check_undoable(batch_id: str, *, undoes: str | None, undone_by: str | None) -> None:
    """A batch is undone at most once, and an undo is never undone (a new batch says what is wanted)."""
    if undoes is not None:
        raise ContactPrefsError(
            f"batch {batch_id} is the undo of batch {undoes} and cannot be undone; plan a new batch instead"
        )
    if undone_by is not None:
        raise ContactPrefsError(f"batch {batch_id} was already undone by batch {undone_by}")


def restore_within_consent(update: PointUpdate, revoked: ReasonSet) -> PointUpdate | None:
    """How an undo takes one point of a batch back, given the point as the batch left it.

    The point gets back the reasons it had before the batch, except that no
    reason whose consent is withdrawn now (``revoked``) is switched back on:
    the consent floor outranks an undo, so reasons the batch switched off
    stay off there.  ``None`` when that leaves nothing to write.
    """
    undo = update.inverse()
    held = undo.switched_on & revoked
    if held:
        undo = attrs.evolve(undo, enabled_after=undo.enabled_after - held)
    return None if undo.enabled_after == undo.enabled_before else undo
