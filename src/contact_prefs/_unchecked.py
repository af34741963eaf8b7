"""Unchecked constructors, for the bundled backends only: records and snapshots read back
from a store that validated them when they were loaded.

Not part of the public API, and not for third-party backends: a record built
here skips every converter and validator, so a wrong value (a method that is
a plain string, an unknown reason) would pass unnoticed.  A plugin builds its
records with the ordinary constructors (``ContactPoint(...)``, ``Snapshot(...)``).
The conformance kit re-checks every record a store returns, these included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, cast

import attrs

from .records import ContactPoint, DistrictAssignment, Enrollment, HouseholdMember, Person, Relationship
from .selection import Selection
from .snapshot import RECORD_FIELDS, Snapshot, _frozen

T = TypeVar("T")


def constructor(cls: type[T], converters: Mapping[str, Callable[[Any], Any]] | None = None) -> Callable[..., T]:
    """A constructor of ``cls`` that takes every field positionally, in field order,
    and neither converts nor validates.

    It sets the slots directly, as attrs' own generated ``__init__`` does after
    its checks, so the object is indistinguishable from a checked one.
    ``converters`` (by field name) turn a stored form into the field's value
    on the way in, in the same call: a row becomes a record in one step.
    """
    converters = converters or {}
    names = [field.name for field in attrs.fields(cast("type[attrs.AttrsInstance]", cls))]
    unknown = converters.keys() - set(names)
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {', '.join(sorted(unknown))}")
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls}
    namespace.update({f"set_{name}": cls.__dict__[name].__set__ for name in names})
    namespace.update({f"convert_{name}": converter for name, converter in converters.items()})
    values = {name: f"convert_{name}({name})" if name in converters else name for name in names}
    body = "".join(f"    set_{name}(record, {value})\n" for name, value in values.items())
    source = f"def unchecked({', '.join(names)}):\n    record = new(cls)\n{body}    return record\n"
    exec(source, namespace)  # the same technique attrs uses to generate __init__
    built: Callable[..., T] = namespace["unchecked"]
    return built


def record(kind: type[T], **converters: Callable[[Any], Any]) -> Callable[..., T]:
    """The unchecked constructor of a record type.

    ``record(ContactPoint)(owner_id, method, address, enabled, text, source, revoked)``
    takes every field positionally, already converted (a ``Method``, a ``ReasonSet``),
    unless ``converters`` name a function per field that converts a stored form:
    ``record(ContactPoint, method=METHODS.__getitem__, ...)`` takes the method's value.
    """
    return constructor(kind, converters) if converters else _RECORDS[kind]


_RECORDS: dict[type[Any], Callable[..., Any]] = {
    kind: constructor(kind)
    for kind in (Person, HouseholdMember, Enrollment, Relationship, DistrictAssignment, ContactPoint)
}

_snapshot = constructor(Snapshot)


def snapshot(collections: Mapping[str, Iterable[Any]], *, version: str, selection: Selection | None = None) -> Snapshot:
    """A snapshot of records a store read back by key, built without checking them again.

    Keys are unique in a store by construction, and a district's million
    contact points would otherwise be checked once more on every read.
    Collections left out are empty.
    """
    unknown = collections.keys() - set(RECORD_FIELDS)
    if unknown:
        raise TypeError(f"snapshot() got unknown collections: {', '.join(sorted(unknown))}")
    records = (_frozen(collections.get(name, ())) for name in RECORD_FIELDS)
    return _snapshot(*records, selection, version)
