"""BatchSpec: what a batch should do, validated when it is built.

A spec that passes construction is safe to plan: validation is where the
seed's prohibitions live (no text preferences, a required census filter) and
where the library adds its own (Emergency stays on unless asked explicitly).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from .enums import Mode, Reason, Setting
from .errors import SpecError

TEXT_KEYS = frozenset({"text", "sms", "text_message", "text_messages"})

TEXT_REFUSAL = (
    "text message preferences cannot be set in a batch, because recipients may be charged "
    "for text messages they do not want to receive"
)


def _member(kind: type[Any], value: Any, what: str) -> Any:
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except ValueError:
        raise SpecError(f"unknown {what} {value!r}; valid {what}s: {kind.choices()}") from None


def _mode(value: Any) -> Mode:
    member: Mode = _member(Mode, value, "mode")
    return member


def _settings(value: Mapping[Any, Any]) -> Mapping[Reason, Setting]:
    """Every reason's setting, in ``Reason`` order; reasons left out mean NO_CHANGE."""
    if not isinstance(value, Mapping):
        raise SpecError(f"settings must map reasons to settings, not {value!r}")
    given: dict[Reason, Setting] = {}
    for key, setting in value.items():
        if isinstance(key, str) and key.strip().lower().replace("-", "_").replace(" ", "_") in TEXT_KEYS:
            raise SpecError(f"{key!r}: {TEXT_REFUSAL}")
        reason: Reason = _member(Reason, key, "reason")
        if reason in given:
            raise SpecError(f"the reason {reason.value!r} is set twice (as {key!r})")
        given[reason] = _member(Setting, setting, "setting")
    return MappingProxyType({reason: given.get(reason, Setting.NO_CHANGE) for reason in Reason})


def _filter(value: Iterable[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        raise SpecError(f"filter_ids must be a collection of ids, not the string {value!r}")
    ids = frozenset(value)
    bad = sorted(repr(i) for i in ids if not isinstance(i, str) or not i)
    if bad:
        raise SpecError(f"filter_ids must hold non-empty string ids; got {', '.join(bad[:5])}")
    return ids


def _optional_id(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise SpecError(f"{attribute.name} must be a non-empty id or None (meaning all), not {value!r}")


def _day(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise SpecError(f"as_of must be a date, not {value!r}")


@attrs.frozen(kw_only=True)
class BatchSpec:
    """One run of the batch tool: a mode, a scope, and a setting per reason.

    ``settings`` maps reasons to settings (strings accepted) and is stored
    for every reason in ``Reason`` order.  ``school_id`` and ``calendar_id``
    of ``None`` mean all; they are ignored in CENSUS_STAFF.  ``filter_ids``
    is the ad hoc filter (student ids, or person ids in CENSUS_STAFF where it
    is required); ``None`` means no filter, an empty filter selects nobody.
    """

    mode: Mode = attrs.field(converter=_mode)
    settings: Mapping[Reason, Setting] = attrs.field(converter=_settings, hash=False)
    school_id: str | None = attrs.field(default=None, validator=_optional_id)
    calendar_id: str | None = attrs.field(default=None, validator=_optional_id)
    filter_ids: frozenset[str] | None = attrs.field(default=None, converter=_filter)
    as_of: datetime.date = attrs.field(factory=datetime.date.today, validator=_day)
    keep_portal: bool = attrs.field(default=False, converter=bool)
    allow_emergency_off: bool = attrs.field(default=False, converter=bool)

    def __attrs_post_init__(self) -> None:
        census_filter_required(self)
        emergency_stays_on(self)

    def reasons(self, setting: Setting) -> frozenset[Reason]:
        """The reasons this spec sets to ``setting``."""
        return frozenset(reason for reason, value in self.settings.items() if value is setting)


def census_filter_required(spec: BatchSpec) -> None:
    """Census/Staff picks people with an ad hoc census filter, which is required."""
    if spec.mode is Mode.CENSUS_STAFF and spec.filter_ids is None:
        raise SpecError("mode census_staff requires filter_ids (an ad hoc census filter of person ids)")


def emergency_stays_on(spec: BatchSpec) -> None:
    """Switching Emergency off en masse is refused unless explicitly allowed."""
    if spec.settings[Reason.EMERGENCY] is Setting.OFF and not spec.allow_emergency_off:
        raise SpecError(
            "emergency: off would stop emergency messages (closures, threats) for everyone in scope; "
            "pass allow_emergency_off=True if that is really intended"
        )
