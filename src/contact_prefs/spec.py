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

from .enums import Mode, Reason, Setting, normal_name
from .errors import SpecError
from .identifiers import MAX_LENGTH as MAX_ID_LENGTH
from .identifiers import id_problem
from .privacy import shown

TEXT_KEYS = frozenset({"text", "sms", "text_message", "text_messages"})
"""Names of text message preferences (after :func:`~contact_prefs.enums.normal_name`), which a batch refuses."""

TEXT_REFUSAL = (
    "text message preferences cannot be set in a batch, because recipients may be charged "
    "for text messages they do not want to receive"
)


class SettingError(SpecError):
    """A reason and setting refused; ``problem`` says why without repeating the pair as given."""

    def __init__(self, message: str, problem: str) -> None:
        super().__init__(message)
        self.problem = problem


def _quoted(value: Any) -> str:
    return shown(value) if isinstance(value, str) else repr(value)


def _member(kind: type[Any], value: Any, what: str) -> Any:
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except ValueError:
        raise SpecError(f"unknown {what} {_quoted(value)}; valid {what}s: {kind.choices()}") from None


def _mode(value: Any) -> Mode:
    member: Mode = _member(Mode, value, "mode")
    return member


def reason_setting(reason: Any, setting: Any) -> tuple[Reason, Setting]:
    """One entry of a spec's settings, checked as :class:`BatchSpec` checks it (the command line's
    ``--set`` too): text message preferences refused, names looked up through one normalization.

    Raises :class:`SettingError`.
    """
    if isinstance(reason, str) and normal_name(reason) in TEXT_KEYS:
        raise SettingError(f"{_quoted(reason)}: {TEXT_REFUSAL}", TEXT_REFUSAL)
    try:
        return _member(Reason, reason, "reason"), _member(Setting, setting, "setting")
    except SpecError as error:
        raise SettingError(str(error), str(error)) from None


def _settings(value: Mapping[Any, Any]) -> Mapping[Reason, Setting]:
    """Every reason's setting, in ``Reason`` order; reasons left out mean NO_CHANGE."""
    if not isinstance(value, Mapping):
        raise SpecError(f"settings must map reasons to settings, not {value!r}")
    given: dict[Reason, Setting] = {}
    for key, setting in value.items():
        reason, given_setting = reason_setting(key, setting)
        if reason in given:
            raise SpecError(f"the reason {reason.value!r} is set twice (as {_quoted(key)})")
        given[reason] = given_setting
    return MappingProxyType({reason: given.get(reason, Setting.NO_CHANGE) for reason in Reason})


def _filter(value: Iterable[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        raise SpecError(f"filter_ids must be a collection of ids, not the string {shown(value)}")
    ids = frozenset(value)
    bad = [(i, problem) for i in ids if (problem := id_problem(i)) is not None]
    if bad:
        first, problem = min(bad, key=lambda pair: repr(pair[0]))
        raise SpecError(
            f"filter_ids must hold ids (text of 1 to {MAX_ID_LENGTH} characters without control characters); "
            f"{len(bad):,} do not, such as {_quoted(first) if first else 'one that'} {problem}"
        )
    return ids


def _optional_id(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (problem := id_problem(value)) is not None:
        raise SpecError(
            f"{attribute.name} must be an id or None (meaning all), and {_quoted(value) if value else 'it'} {problem}"
        )


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
