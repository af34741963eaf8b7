"""The district's records, as immutable values.

Ids are strings.  A ``start`` or ``end`` of ``None`` is open-ended, and a dated
record is active on day D when ``start <= D <= end``.  Each record knows its
``key``: the fields that identify it in a store (an upsert replaces the record
with the same key).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from typing import Any

import attrs

from .enums import Method, Reason, Source
from .identifiers import check_id, id_problem
from .reasons import ReasonSet, revoked_set

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable_text(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    # Text every store can keep alike: PostgreSQL cannot store NUL, and no UTF-8 store a lone surrogate.
    # The message never repeats the value: a name or an address is personal data.
    if not isinstance(value, str):
        raise TypeError(f"{type(instance).__name__}.{attribute.name} must be text, not {type(value).__name__}")
    if _UNSTORABLE.search(value):
        what = f"{type(instance).__name__}.{attribute.name}"
        raise ValueError(f"{what} holds a NUL or a lone surrogate, which no store keeps")


def _id(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    # One rule for every id (contact_prefs.identifiers), so that every store accepts the same ids.
    if id_problem(value) is not None:
        check_id(value, f"{type(instance).__name__}.{attribute.name}")


def _day(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (not isinstance(value, datetime.date) or isinstance(value, datetime.datetime)):
        raise ValueError(f"{type(instance).__name__}.{attribute.name} must be a date or None, not {value!r}")


def _period(instance: Any, attribute: attrs.Attribute[Any], end: datetime.date | None) -> None:
    start = instance.start
    if start is not None and end is not None and end < start:
        raise ValueError(f"{type(instance).__name__} ends ({end}) before it starts ({start})")


def is_active(start: datetime.date | None, end: datetime.date | None, day: datetime.date) -> bool:
    """The rule for every dated record: active on ``day`` when ``start <= day <= end``."""
    return (start is None or start <= day) and (end is None or day <= end)


def start_order(start: datetime.date | None) -> tuple[bool, datetime.date]:
    """A sort key for an optional start: open-ended starts first."""
    return (start is not None, start or datetime.date.min)


_START = attrs.field(default=None, validator=_day, kw_only=True)
_END = attrs.field(default=None, validator=[_day, _period], kw_only=True)


@attrs.frozen(kw_only=True)
class Person:
    """A guardian, student or staff member."""

    id: str = attrs.field(validator=_id)
    name: str = attrs.field(default="", validator=_storable_text)

    @property
    def key(self) -> str:
        return self.id


@attrs.frozen(kw_only=True)
class HouseholdMember:
    """A person's membership of a household, which shares one household phone."""

    household_id: str = attrs.field(validator=_id)
    person_id: str = attrs.field(validator=_id)
    start: datetime.date | None = _START
    end: datetime.date | None = _END

    @property
    def key(self) -> tuple[str, str, datetime.date | None]:
        return (self.household_id, self.person_id, self.start)

    def is_active(self, day: datetime.date) -> bool:
        return is_active(self.start, self.end, day)


@attrs.frozen(kw_only=True)
class Enrollment:
    """A student's enrollment in one calendar of one school."""

    student_id: str = attrs.field(validator=_id)
    school_id: str = attrs.field(validator=_id)
    calendar_id: str = attrs.field(validator=_id)
    start: datetime.date | None = _START
    end: datetime.date | None = _END

    @property
    def key(self) -> tuple[str, str, str, datetime.date | None]:
        return (self.student_id, self.school_id, self.calendar_id, self.start)

    def is_active(self, day: datetime.date) -> bool:
        return is_active(self.start, self.end, day)


@attrs.frozen(kw_only=True)
class Relationship:
    """A link from a student to a contact; ``messenger`` is its Messenger flag."""

    student_id: str = attrs.field(validator=_id)
    contact_id: str = attrs.field(validator=_id)
    messenger: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool))

    @property
    def key(self) -> tuple[str, str]:
        return (self.student_id, self.contact_id)


@attrs.frozen(kw_only=True)
class DistrictAssignment:
    """A staff member's District Assignment record, required for Staff messages."""

    person_id: str = attrs.field(validator=_id)
    start: datetime.date | None = _START
    end: datetime.date | None = _END

    @property
    def key(self) -> tuple[str, datetime.date | None]:
        return (self.person_id, self.start)

    def is_active(self, day: datetime.date) -> bool:
        return is_active(self.start, self.end, day)


# Converters pass members through untouched (the hot path when a store builds
# a million points) and look up anything else.
def _method(value: Method | str) -> Method:
    return value if type(value) is Method else Method(value)


def _source(value: Source | str) -> Source:
    return value if type(value) is Source else Source(value)


def _reasons(value: Iterable[Reason | str]) -> ReasonSet:
    return value if type(value) is ReasonSet else ReasonSet(value)


def _redacted(address: str) -> str:
    # Addresses are personal data: a repr ends up in logs and tracebacks.
    return "'<redacted>'" if address else "''"


def _text_on_phones_only(instance: ContactPoint, attribute: attrs.Attribute[Any], text: ReasonSet) -> None:
    if text and not instance.method.is_phone:
        raise ValueError(
            f"{instance.method.value} of {instance.owner_id!r} cannot have text preferences: only phones send texts"
        )


@attrs.frozen(kw_only=True)
class ContactPoint:
    """One phone or e-mail slot and the reasons it receives.

    ``owner_id`` is a household id for ``HOUSEHOLD_PHONE`` and a person id
    otherwise.  ``enabled`` holds the reasons sent by voice or e-mail, ``text``
    the reasons also sent by SMS (phones only).  An empty ``address`` means
    nothing is saved, so nothing can be sent or set.  ``revoked`` holds the
    reasons consent is withdrawn for at this address (for example by a STOP
    reply; see :mod:`contact_prefs.consent`): ``True`` means every reason,
    ``False`` none.
    """

    owner_id: str = attrs.field(validator=_id)
    method: Method = attrs.field(converter=_method)
    address: str = attrs.field(default="", validator=_storable_text, repr=_redacted)
    enabled: ReasonSet = attrs.field(default=ReasonSet(), converter=_reasons)
    text: ReasonSet = attrs.field(default=ReasonSet(), converter=_reasons, validator=_text_on_phones_only)
    source: Source = attrs.field(default=Source.DEFAULT, converter=_source)
    revoked: ReasonSet = attrs.field(default=ReasonSet(), converter=revoked_set)

    @property
    def key(self) -> tuple[str, Method]:
        return (self.owner_id, self.method)

    @property
    def is_household(self) -> bool:
        return self.method is Method.HOUSEHOLD_PHONE


Record = Person | HouseholdMember | Enrollment | Relationship | DistrictAssignment | ContactPoint
