"""Batch-id look-up: the whole id, or a unique beginning of at least four characters; nothing else."""

from __future__ import annotations

import datetime

import pytest

from contact_prefs import BatchRecord, BatchSpec, UnknownBatchError
from contact_prefs.batch_ids import BatchIdError, find_batch

FIRST = "abcd1111" + "0" * 24
SECOND = "abcd2222" + "0" * 24
THIRD = "ffff0000" + "1" * 24
AT = datetime.datetime(2026, 11, 30, 12, tzinfo=datetime.UTC)


def record(batch_id: str) -> BatchRecord:
    spec = BatchSpec(mode="students", settings={"general": "on"}, as_of=AT.date())
    return BatchRecord(batch_id=batch_id, actor="ann", at=AT, spec=spec, counts={}, changes=())


HISTORY = (record(FIRST), record(SECOND), record(THIRD))


def test_the_whole_id_or_a_unique_beginning_finds_the_batch() -> None:
    assert find_batch(HISTORY, FIRST) is HISTORY[0]
    assert find_batch(HISTORY, "abcd2") is HISTORY[1]
    assert find_batch(HISTORY, "ffff") is HISTORY[2]


def test_an_id_with_its_last_character_altered_is_no_batch() -> None:
    for batch_id in (FIRST, SECOND, THIRD):
        altered = batch_id[:-1] + ("2" if batch_id[-1] != "2" else "3")
        with pytest.raises(UnknownBatchError, match=rf"no batch '{altered}' in the history of sqlite:///d\.db"):
            find_batch(HISTORY, altered, history_of="sqlite:///d.db")
    with pytest.raises(UnknownBatchError):
        find_batch(HISTORY, FIRST + "0")  # one character too many is no batch either


def test_a_prefix_two_batches_share_is_a_usage_error_naming_how_many() -> None:
    with pytest.raises(BatchIdError, match=rf"'abcd' is the beginning of 2 batch ids \({FIRST}, {SECOND}\)"):
        find_batch(HISTORY, "abcd")
    many = [record(f"abcd{n:04d}" + "0" * 24) for n in range(7)]
    with pytest.raises(BatchIdError, match=r"is the beginning of 7 batch ids \(abcd0000.*, \.\.\.\): give more"):
        find_batch(many, "abcd")


@pytest.mark.parametrize("text", ["a", "ab", "abc", "fff"])
def test_a_prefix_shorter_than_four_characters_is_refused_even_when_unique(text: str) -> None:
    with pytest.raises(BatchIdError, match=rf"'{text}' is too short: give at least 4 characters"):
        find_batch(HISTORY, text)


@pytest.mark.parametrize("text", ["", " ", "  \t "])
def test_an_empty_batch_id_names_no_batch(text: str) -> None:
    # An id variable that came out empty in a script must not undo the only batch there is.
    with pytest.raises(BatchIdError, match="an empty batch id names no batch"):
        find_batch(HISTORY[:1], text)


def test_a_batch_id_with_a_control_character_is_refused_without_looking() -> None:
    with pytest.raises(BatchIdError, match=r"'abcd\\x00' holds a control character"):
        find_batch(HISTORY, "abcd\x00")
