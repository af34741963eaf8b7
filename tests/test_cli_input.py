"""What the command line refuses before it writes: batch ids that name no one batch, and actors and ids
with control characters.  Commands run in process (``main``); the Python API refuses the same."""

from __future__ import annotations

import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import attrs
import pytest

from contact_prefs import BatchRecord, Plugins, UnknownBatchError, open_store, run_batch
from contact_prefs.cli import main
from contact_prefs.demo import build_district, sample_spec
from contact_prefs.identifiers import IdError
from contact_prefs.store import Store

TODAY = datetime.date.today()
APPLY = ("apply", "--mode", "students", "--set", "behavior=on", "--yes")


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A district with one batch in its history."""
    url = f"sqlite:///{tmp_path / 'district.db'}"
    with open_store(url) as store:
        store.load(build_district(40, today=TODAY))
        run_batch(store, sample_spec(TODAY), actor="demo")
    return url


def batches(url: str) -> list[str]:
    with open_store(url) as store:
        return [record.batch_id for record in store.history()]


# -- batch ids -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\t"])
def test_an_empty_batch_id_is_a_usage_error_that_undoes_nothing(
    url: str, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    for command in (["undo", text, "--actor", "ann", "--yes"], ["show", text]):
        code, out, err = cli(capsys, "--store", url, *command)
        assert code == 2 and out == "", err
        assert f"contact-prefs {command[0]}: error: argument BATCH_ID: an empty batch id names no batch" in err
    assert len(batches(url)) == 1


def test_an_id_with_its_last_character_altered_is_no_batch(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    (batch,) = batches(url)
    altered = batch[:-1] + ("0" if batch[-1] != "0" else "1")
    for command in (["show", altered], ["undo", altered, "--actor", "ann", "--yes"]):
        code, out, err = cli(capsys, "--store", url, *command)
        assert (code, out) == (2, "")
        assert err == (
            f"contact-prefs: error: no batch '{altered}' in the history of {url} (contact-prefs history lists them)\n"
        )
    assert len(batches(url)) == 1


def test_a_prefix_needs_four_characters(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    (batch,) = batches(url)
    code, _, err = cli(capsys, "--store", url, "undo", batch[:3], "--actor", "ann", "--yes")
    assert code == 2 and f"the batch id '{batch[:3]}' is too short: give at least 4 characters" in err
    code, out, _ = cli(capsys, "--store", url, "show", batch[:4])
    assert code == 0 and f"Batch {batch}" in out
    assert len(batches(url)) == 1


@attrs.define
class TwinStore:
    """A store whose history holds two batches whose ids begin alike (random ids rarely do)."""

    inner: Store

    def history(self) -> tuple[BatchRecord, ...]:
        (record,) = self.inner.history()
        return tuple(attrs.evolve(record, batch_id=f"abcd{n}" + record.batch_id[5:]) for n in (1, 2))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __enter__(self) -> TwinStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.inner.close()


def test_a_prefix_two_batches_share_is_a_usage_error_naming_how_many(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    opens = Plugins.open_store
    monkeypatch.setattr(Plugins, "open_store", lambda self, url: TwinStore(opens(self, url)))
    for command in (["show", "abcd"], ["undo", "abcd", "--actor", "ann", "--yes"]):
        code, out, err = cli(capsys, "--store", url, *command)
        assert (code, out) == (2, "")
        assert "error: the batch id 'abcd' is the beginning of 2 batch ids (abcd1" in err and "give more of it" in err
    code, out, _ = cli(capsys, "--store", url, "show", "abcd2")
    assert code == 0 and "Batch abcd2" in out


# -- control characters and overlong ids -------------------------------------------------------


@pytest.mark.parametrize("actor", ["ann\nbob", "ann\r", "ann\x1b[2J", "ann\x00", "ann\u2028bob", "a" * 201, " "])
def test_an_actor_with_a_control_character_is_refused(
    url: str, capsys: pytest.CaptureFixture[str], actor: str
) -> None:
    (batch,) = batches(url)
    for command in ([*APPLY, "--actor", actor], ["undo", batch, "--yes", "--actor", actor]):
        code, out, err = cli(capsys, "--store", url, *command)
        assert (code, out) == (2, ""), err
        assert "error: argument --actor: " in err and (actor == " " or actor not in err)  # repr'd, if at all
    assert batches(url) == [batch]


@pytest.mark.parametrize("value", ["north\n", "no\x00rth", "n" * 201])
def test_scope_ids_and_batch_ids_with_control_characters_are_refused(
    url: str, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    for command in (["plan", "--mode", "students", "--set", "general=on", "--school", value], ["show", value]):
        code, out, err = cli(capsys, "--store", url, *command)
        assert (code, out) == (2, "")
        assert "control character" in err or "characters long (at most 200)" in err


def test_a_filter_file_line_with_a_control_character_is_refused_by_its_line(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("stu-0001\r\n  stu-0002\t\r\nstu\x000003\n", encoding="utf-8")  # ends forgiven, inside refused
    code, out, err = cli(capsys, "--store", url, *APPLY, "--actor", "ann", "--filter-file", str(ids))
    assert (code, out) == (2, "")
    assert f"argument --filter-file: {str(ids)!r}, line 3: the id there holds a control character" in err
    assert len(batches(url)) == 1
    ids.write_text("stu-0001\r\n  stu-0002\t\r\n", encoding="utf-8")
    code, out, _ = cli(capsys, "--store", url, "plan", "--mode", "students", "--set", "general=on",
                       "--filter-file", str(ids))  # fmt: skip
    assert code == 0 and "Recipients: 2" in out


def test_the_python_api_refuses_such_actors_and_batch_ids_too(url: str) -> None:
    with open_store(url) as store:
        (record,) = store.history()
        with pytest.raises(IdError, match="the actor"):
            run_batch(store, sample_spec(TODAY), actor="ann\nbob")
        with pytest.raises(IdError, match="the actor"):
            store.undo(record.batch_id, actor="ann\x00")
        with pytest.raises(UnknownBatchError, match=r"no batch has the id 'x\\x00', which holds a control character"):
            store.undo("x\x00", actor="ann")
        assert store.history() == (record,)
