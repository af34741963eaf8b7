"""The one rule for ids and actor names: 1 to 200 characters, no control characters."""

from __future__ import annotations

import pytest

from contact_prefs import BatchSpec, ContactPoint, Enrollment, Person, SpecError
from contact_prefs.identifiers import MAX_LENGTH, IdError, check_actor, id_problem

BAD_IDS = {
    "a NUL": "stu\x00001",
    "a newline": "stu-0001\n",
    "a tab": "stu\t1",
    "a carriage return": "stu\r1",
    "DEL": "stu\x7f",
    "a C1 control": "stu\x851",
    "a line separator": "stu\u20281",
    "a lone surrogate": "stu\udcff",
    "too many characters": "x" * (MAX_LENGTH + 1),
    "ten thousand characters": "x" * 10_000,
}


@pytest.mark.parametrize("value", BAD_IDS.values(), ids=BAD_IDS.keys())
def test_records_refuse_ids_that_break_the_rule(value: str) -> None:
    for build in (
        lambda: Person(id=value),
        lambda: Enrollment(student_id="s1", school_id=value, calendar_id="c"),
        lambda: ContactPoint(owner_id=value, method="email"),
    ):
        with pytest.raises(IdError) as raised:
            build()
        assert isinstance(raised.value, ValueError)  # as every record check is
        assert value not in str(raised.value)
        assert len(str(raised.value)) < 200


@pytest.mark.parametrize("value", BAD_IDS.values(), ids=BAD_IDS.keys())
def test_batch_specs_refuse_ids_that_break_the_rule(value: str) -> None:
    with pytest.raises(SpecError, match="filter_ids"):
        BatchSpec(mode="students", settings={}, filter_ids=["stu-0001", value])
    for field in ("school_id", "calendar_id"):
        with pytest.raises(SpecError, match=field):
            BatchSpec(mode="students", settings={}, **{field: value})


def test_the_longest_id_in_every_alphabet_and_ordinary_punctuation_is_accepted() -> None:
    for value in ("x" * MAX_LENGTH, "\U0001f600" * MAX_LENGTH, "Ünïcödé ids, with spaces; and: punctuation!", "1"):
        assert id_problem(value) is None
        assert Person(id=value).id == value
        assert BatchSpec(mode="students", settings={}, school_id=value).school_id == value


def test_the_problem_names_what_is_wrong_without_the_value() -> None:
    assert id_problem("") == "is empty"
    assert id_problem(42) == "is not a string but int"
    assert id_problem("x" * 10_000) == "is 10,000 characters long (at most 200)"
    assert id_problem("a\x00b") == "holds a control character"


@pytest.mark.parametrize("actor", ["ann\nbob", "ann\x1b[2J", "", "   ", "a" * 201, "ann\x00"])
def test_an_actor_is_checked_like_an_id(actor: str) -> None:
    with pytest.raises(IdError, match="the actor"):
        check_actor(actor)
    assert check_actor("Ann O'Neil (district office)") == "Ann O'Neil (district office)"
