"""The attrs validators the core's records share: the id rule and the actor rule on a field, and
times that carry their zone.  Each names the field it refused; ``None`` passes the optional ones."""

from __future__ import annotations

import datetime
from typing import Any

import attrs

from .identifiers import check_actor, id_problem

__all__ = ["an_id", "aware_time", "optional_actor", "optional_aware_time", "optional_id"]


def an_id(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """The field holds an id by the id rule (:func:`~contact_prefs.identifiers.id_problem`)."""
    if (problem := id_problem(value)) is not None:
        raise ValueError(f"{attribute.name} {problem}")


def optional_id(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """The field holds an id, or ``None``."""
    if value is not None:
        an_id(instance, attribute, value)


def optional_actor(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """The field names an actor by the actor rule, or is ``None``."""
    if value is not None:
        check_actor(value)


def aware_time(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """The field holds a time with a time zone (a naive one would be read in whatever zone a machine
    is in)."""
    if not isinstance(value, datetime.datetime) or value.utcoffset() is None:
        raise ValueError(f"{attribute.name} must be a time with a time zone, not {value!r}")


def optional_aware_time(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """The field holds a time with a time zone, or ``None``."""
    if value is not None:
        aware_time(instance, attribute, value)
