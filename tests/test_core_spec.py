"""BatchSpec validation: the first rule, applied before anything is planned."""

from __future__ import annotations

import datetime

import pytest

from contact_prefs import BatchSpec, Mode, Reason, Setting, SpecError
from contact_prefs.spec import TEXT_REFUSAL, SettingError, reason_setting


def test_settings_accept_strings_and_fill_in_no_change() -> None:
    spec = BatchSpec(mode="students", settings={"attendance": "on", "Food-Service": "OFF"})
    assert spec.mode is Mode.STUDENTS
    assert list(spec.settings) == list(Reason)
    assert spec.settings[Reason.ATTENDANCE] is Setting.ON
    assert spec.settings[Reason.FOOD_SERVICE] is Setting.OFF
    assert spec.settings[Reason.GENERAL] is Setting.NO_CHANGE
    assert spec.reasons(Setting.ON) == {Reason.ATTENDANCE}


def test_specs_that_mean_the_same_are_equal() -> None:
    day = datetime.date(2026, 11, 30)
    a = BatchSpec(mode=Mode.STUDENTS, settings={Reason.GENERAL: Setting.ON}, as_of=day)
    b = BatchSpec(mode="students", settings={"general": "on", "teacher": "no_change"}, as_of=day)
    assert a == b and hash(a) == hash(b)


@pytest.mark.parametrize("key", ["text", "SMS", "Text", "text-message", "text message", " Text  Messages "])
def test_text_message_preferences_cannot_be_set_in_a_batch(key: str) -> None:
    # Seed: "Text message preferences cannot be set in the Contact Preferences Batch,
    # as recipients could potentially be charged for text messages they do not want to receive."
    with pytest.raises(SpecError, match=r"text message preferences cannot be set in a batch.*charged"):
        BatchSpec(mode="students", settings={key: "on"})


def test_unknown_reason_is_rejected_with_the_valid_choices() -> None:
    with pytest.raises(SpecError, match=r"unknown reason 'lunch'; valid reasons: emergency, attendance, .*teacher"):
        BatchSpec(mode="students", settings={"lunch": "on"})


def test_unknown_setting_and_mode_are_rejected_with_the_valid_choices() -> None:
    with pytest.raises(SpecError, match=r"unknown setting 'maybe'; valid settings: no_change, on, off"):
        BatchSpec(mode="students", settings={"general": "maybe"})
    with pytest.raises(SpecError, match=r"unknown mode 'parents'; valid modes: student_messenger_contacts"):
        BatchSpec(mode="parents", settings={})


def test_census_staff_requires_a_filter() -> None:
    # Seed: "A filter is required in the Ad Hoc Census Filter dropdown list when the Census/Staff mode is selected"
    with pytest.raises(SpecError, match=r"census_staff requires filter_ids"):
        BatchSpec(mode=Mode.CENSUS_STAFF, settings={"staff": "on"})
    assert BatchSpec(mode=Mode.CENSUS_STAFF, settings={"staff": "on"}, filter_ids=[]).filter_ids == frozenset()


def test_emergency_off_needs_the_explicit_switch() -> None:
    with pytest.raises(SpecError, match=r"emergency: off .*allow_emergency_off=True"):
        BatchSpec(mode="students", settings={"emergency": "off"})
    spec = BatchSpec(mode="students", settings={"emergency": "off"}, allow_emergency_off=True)
    assert spec.settings[Reason.EMERGENCY] is Setting.OFF
    assert BatchSpec(mode="students", settings={"emergency": "on"}).settings[Reason.EMERGENCY] is Setting.ON


def test_as_of_defaults_to_today_when_the_spec_is_built() -> None:
    assert BatchSpec(mode="students", settings={}).as_of == datetime.date.today()
    with pytest.raises(SpecError, match=r"as_of must be a date"):
        BatchSpec(mode="students", settings={}, as_of="2026-11-30")  # type: ignore[arg-type]


def test_filter_must_be_a_collection_of_ids() -> None:
    assert BatchSpec(mode="students", settings={}, filter_ids=["s1", "s1"]).filter_ids == {"s1"}
    with pytest.raises(SpecError, match=r"collection of ids, not the string 's1'"):
        BatchSpec(mode="students", settings={}, filter_ids="s1")
    with pytest.raises(SpecError, match=r"filter_ids must hold ids .*; 1 do not, such as one that is empty"):
        BatchSpec(mode="students", settings={}, filter_ids=["s1", ""])


def test_a_reason_set_twice_is_rejected() -> None:
    with pytest.raises(SpecError, match=r"set twice"):
        BatchSpec(mode="students", settings={"general": "on", Reason.GENERAL: "off"})


def test_scope_ids_must_be_ids() -> None:
    with pytest.raises(SpecError, match=r"school_id must be an id or None \(meaning all\), and it is empty"):
        BatchSpec(mode="students", settings={}, school_id="")
    spec = BatchSpec(mode="students", settings={}, calendar_id="north:2026")
    assert spec.school_id is None and spec.calendar_id == "north:2026"


def test_the_command_line_and_the_spec_check_a_setting_with_one_function() -> None:
    # reason_setting is what BatchSpec and --set both call: one normalization, one refusal.
    with pytest.raises(SettingError) as raised:
        reason_setting("text message", "on")
    assert raised.value.problem == TEXT_REFUSAL
    with pytest.raises(SpecError) as from_spec:
        BatchSpec(mode="students", settings={"text message": "on"})
    assert str(from_spec.value) == str(raised.value) == f"'text message': {TEXT_REFUSAL}"
    assert reason_setting(" Food--Service ", "No-Change") == (Reason.FOOD_SERVICE, Setting.NO_CHANGE)


def test_spec_errors_withhold_what_looks_like_personal_data() -> None:
    for settings in ({"pat@example.org": "on"}, {"general": "(280) 555-0143"}):
        with pytest.raises(SpecError) as raised:
            BatchSpec(mode="students", settings=settings)
        assert "pat@example" not in str(raised.value) and "555" not in str(raised.value)
        assert "a value that looks like" in str(raised.value)
    with pytest.raises(SpecError) as raised:
        BatchSpec(mode="students", settings={}, filter_ids=["pat@example.org\n"])
    assert "pat@" not in str(raised.value) and "control character" in str(raised.value)
