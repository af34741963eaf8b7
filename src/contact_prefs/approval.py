"""When a batch needs a second person: the district's approval policy and the rule that reads it.

A policy names what makes a batch dangerous enough to need two people: more
than ``max_changes`` changes, any change to one of ``reasons`` (Emergency by
default), or a mode in ``modes`` (Census/Staff by default, whose filter can
reach every employee).  An approval is good for ``expires_after``.
"""

from __future__ import annotations

import datetime
from typing import Any

import attrs

from .changes import ChangeSet
from .enums import Mode, Reason
from .reasons import ReasonSet

DEFAULT_EXPIRY = datetime.timedelta(days=7)


def _names(field: str, value: Any) -> Any:
    # One name is text, and text is a collection of letters: refuse it rather than read "e", "m"...
    if isinstance(value, str):
        raise ValueError(f"{field} is a collection of names, such as [{value!r}], not one name")
    return value


def _reasons(value: Any) -> ReasonSet:
    return ReasonSet(_names("reasons", value))


def _modes(value: Any) -> frozenset[Mode]:
    return frozenset(Mode(mode) for mode in _names("modes", value))


def _required(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    # Not a converter to bool: "no" or "false" from a form or an environment variable would be true.
    if type(value) is not bool:
        raise ValueError(f"required is true or false, not {value!r}")


def _max_changes(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (type(value) is not int or value < 0):
        raise ValueError(f"max_changes is a whole number of zero or more, or None for no limit; not {value!r}")


def _expiry(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, datetime.timedelta) or value <= datetime.timedelta(0):
        raise ValueError(f"expires_after is a positive time span, not {value!r}")


@attrs.frozen(kw_only=True)
class ApprovalPolicy:
    """What needs a second person's approval before it is applied.

    ``required`` false (the default, with no policy at all) means no batch
    needs approval; the other fields say which batches do once it is true.
    """

    required: bool = attrs.field(default=False, validator=_required)
    max_changes: int | None = attrs.field(default=None, validator=_max_changes)
    reasons: ReasonSet = attrs.field(factory=lambda: ReasonSet([Reason.EMERGENCY]), converter=_reasons)
    modes: frozenset[Mode] = attrs.field(factory=lambda: frozenset({Mode.CENSUS_STAFF}), converter=_modes)
    expires_after: datetime.timedelta = attrs.field(default=DEFAULT_EXPIRY, validator=_expiry)


def approval_needed(policy: ApprovalPolicy, change_set: ChangeSet) -> str | None:
    """Why ``change_set`` needs a second person's approval under ``policy``, or ``None`` if it does not.

    The first reason that applies, in the order: mode, reasons changed, size.
    """
    if not policy.required:
        return None
    mode = change_set.spec.mode
    if mode in policy.modes:
        return f"batches in mode {mode.value} need approval"
    counts = change_set.counts()
    touched = ReasonSet(reason for (_method, reason), count in counts.items() if count) & policy.reasons
    if touched:
        names = ", ".join(reason.value for reason in touched)
        return f"changes to {names} need approval"
    size = sum(counts.values())
    if policy.max_changes is not None and size > policy.max_changes:
        return f"{size:,} changes is more than the {policy.max_changes:,} a batch may make without approval"
    return None
