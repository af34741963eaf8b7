"""The command line on a PostgreSQL server whose URL holds a password: every command, and every message,
without it.  And ids: what the SQLite store accepts the PostgreSQL store accepts, or both refuse alike."""

from __future__ import annotations

import datetime
import json
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import pytest

from contact_prefs import (
    BatchSpec,
    ContactPoint,
    Enrollment,
    Person,
    Snapshot,
    UnknownBatchError,
    open_store,
    plan,
    run_batch,
)
from contact_prefs.cli import main
from contact_prefs.demo import build_district
from contact_prefs.formats import write_csv
from contact_prefs.identifiers import MAX_LENGTH, IdError

CANARY = "CANARY-s3cr%40t"  # trust authentication ignores it; percent-encoded "CANARY-s3cr@t"
LEAKS = ("CANARY", "s3cr")
TODAY = datetime.date.today()


def with_canary(url: str, where: str) -> str:
    """``url`` with the canary password as ``user:password@`` or as ``?password=``."""
    parts = urllib.parse.urlsplit(url)
    if where == "query":
        return f"{url}&password={CANARY}"
    user = parts.username or "postgres"
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:{CANARY}@{host}"))


@pytest.mark.parametrize("where", ["userinfo", "query"])
def test_no_command_shows_the_password_of_the_store_it_works_on(
    where: str, schema_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = with_canary(schema_url, where)
    shown = url.replace(CANARY, "***")
    files = tmp_path / "files"
    write_csv(build_district(5, today=TODAY), files)
    printed: list[str] = []

    def run(*args: str, code: int = 0) -> str:
        assert main(["--store", url, *args]) == code, args
        out, err = capsys.readouterr()
        printed.append(out + err)
        return out + err

    assert f"Loaded a demo district into {shown}: 20 students" in run("demo", "--students", "20")
    assert f"error: the store {shown} already holds" in run("demo", "--students", "20", code=2)
    assert f"no batch 'deadbeef' in the history of {shown}" in run("show", "deadbeef", code=2)
    assert f"no batch 'deadbeef' in the history of {shown}" in run("undo", "deadbeef", "--actor", "a", "--yes", code=2)
    assert f"error: the store {shown} holds the demo district" in run("import", "csv", str(files), code=2)
    assert f"Imported {files} into {shown}:" in run("import", "csv", str(files), "--into-demo")
    assert run("info").endswith("\nDemo data: yes, loaded by contact-prefs demo\n")
    batch = json.loads(run("apply", "--mode", "students", "--set", "behavior=on", "--actor", "ann", "--yes",
                           "--format", "json"))["batch_id"]  # fmt: skip
    run("plan", "--mode", "students", "--set", "general=on", "--details")
    run("show", batch, "--details")
    run("undo", batch, "--actor", "ann", "--yes")
    run("history")
    run("export", "csv", str(tmp_path / "out"))
    run("history", f"postgresql://ann:{CANARY}@db/district", code=2)  # an argument argparse does not expect
    assert not any(leak in text for text in printed for leak in LEAKS)


# -- ids: one rule, so both stores behave alike ------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path, new_schema: Callable[[], str]) -> str:
    return f"sqlite:///{tmp_path / 'ids.db'}" if request.param == "sqlite" else new_schema()


def test_the_longest_ids_in_any_script_load_and_plan_on_both_stores(store_url: str) -> None:
    # Four UTF-8 bytes a character, in the widest key (an enrollment's three ids), within PostgreSQL's index rows.
    wide = ["\U0001f600" * MAX_LENGTH, "\U0001f601" * MAX_LENGTH, "\U0001f602" * MAX_LENGTH]
    snapshot = Snapshot(
        persons=[Person(id=wide[0])],
        enrollments=[Enrollment(student_id=wide[0], school_id=wide[1], calendar_id=wide[2])],
        contact_points=[ContactPoint(owner_id=wide[0], method="email", address="a@example.org")],
    )
    with open_store(store_url) as store:
        store.load(snapshot)
        spec = BatchSpec(mode="students", settings={"general": "on"}, school_id=wide[1], filter_ids=[wide[0]])
        planned = plan(spec, store.snapshot(spec))
        assert len(planned.recipients) == 1 and planned.changes == plan(spec, snapshot).changes
        assert store.dump().persons == snapshot.persons
        _, receipt = run_batch(store, spec, actor="\U0001f603" * MAX_LENGTH)
        assert receipt is not None and store.history()[0].changes == planned.changes


@pytest.mark.parametrize("value", ["x" * 10_000, "a\x00b", "a\nb"], ids=["10,000 characters", "NUL", "newline"])
def test_ids_beyond_the_rule_are_refused_alike_before_either_store_is_reached(store_url: str, value: str) -> None:
    with open_store(store_url) as store:
        with pytest.raises(IdError):
            store.load(Snapshot(persons=[Person(id=value)]))
        with pytest.raises(ValueError, match="filter_ids must hold ids"):
            store.snapshot(BatchSpec(mode="students", settings={}, filter_ids=["p1", value]))
        with pytest.raises(UnknownBatchError, match="no batch has the id"):
            store.undo(value, actor="ann")
        with pytest.raises(IdError, match="the actor"):
            store.undo("deadbeef", actor=value)
        assert len(store.dump()) == 0
