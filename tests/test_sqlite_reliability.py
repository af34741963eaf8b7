"""The SQLite store under stress: killed mid-commit, raced by a parent's edit, shared by two processes."""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from contact_prefs import (
    BatchSpec,
    ConflictError,
    ContactPoint,
    Enrollment,
    Method,
    Mode,
    Reason,
    ReasonSet,
    Setting,
    Skip,
    SkipReason,
    Snapshot,
    Source,
    plan,
    run_batch,
)
from contact_prefs.governance import verify_history
from contact_prefs.testing.strategies import DAY
from contact_prefs_sqlite.store import SQLiteStore

BEFORE = ReasonSet({Reason.EMERGENCY, Reason.GENERAL})
AFTER = ReasonSet({Reason.EMERGENCY, Reason.ATTENDANCE})  # Attendance on, General off: two changes per point

# The batch every child process runs; kept as source so that the child builds the same spec.
SPEC_SOURCE = (
    "BatchSpec(mode='students', settings={'attendance': 'on', 'general': 'off'}, "
    f"school_id='north', as_of=datetime.date.fromisoformat({DAY.isoformat()!r}))"
)
SPEC = BatchSpec(
    mode=Mode.STUDENTS,
    settings={Reason.ATTENDANCE: Setting.ON, Reason.GENERAL: Setting.OFF},
    school_id="north",
    as_of=DAY,
)


def district(students: int) -> Snapshot:
    """``students`` students of school north, each with one cell phone that has Emergency and General on."""
    ids = [f"s{n:06d}" for n in range(students)]
    return Snapshot(
        enrollments=[Enrollment(student_id=i, school_id="north", calendar_id="north:2026") for i in ids],
        contact_points=[
            ContactPoint(owner_id=i, method=Method.CELL_PHONE, address=f"+1 555 01{n:06d}", enabled=BEFORE)
            for n, i in enumerate(ids)
        ],
    )


@attrs.define
class Child:
    """A Python process running a script, whose output lines the test waits for, each within a deadline."""

    process: subprocess.Popen[bytes]
    unread: bytes = b""

    @classmethod
    def start(cls, script: str, *args: str) -> Child:
        command = [sys.executable, "-c", textwrap.dedent(script), *args]
        return cls(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE))

    def wait_for(self, marker: str, timeout: float = 60) -> str:
        """The first line starting with ``marker``; fail if the child ends first or takes longer than ``timeout``."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while True:
            *lines, self.unread = self.unread.split(b"\n")
            for index, line in enumerate(lines):
                if line.decode().startswith(marker):
                    self.unread = b"\n".join([*lines[index + 1 :], self.unread])
                    return line.decode()
            left = deadline - time.monotonic()
            ready = select.select([self.process.stdout], [], [], max(left, 0))[0]
            chunk = os.read(self.process.stdout.fileno(), 65536) if ready else b""
            if not chunk:
                self.kill()
                assert self.process.stderr is not None
                why = "ended" if ready else f"took more than {timeout} s"
                pytest.fail(f"the child {why} before printing {marker!r}: {self.process.stderr.read().decode()}")
            self.unread += chunk

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def finish(self, timeout: float = 120) -> str:
        """Everything the child prints until it exits successfully."""
        out, err = self.process.communicate(timeout=timeout)
        assert self.process.returncode == 0, err.decode()
        return (self.unread + out).decode()


# --- (a) crash: SIGKILL at several moments of a 100,000-change commit ------------------------------

STUDENTS = 50_000  # two changes each
DEEP_INSIDE = 1_000  # progress ticks into the update of the points (of about 2,700): a third of the way

# The child stops for good at a chosen moment of its commit (the parent kills it there): when the
# commit is about to run the n-th statement starting with a prefix, or, with the prefix "inside ",
# after n progress ticks (of 1,000 SQLite instructions) into the statement that follows.
CRASHING_CHILD = f"""
    import datetime, sys, time
    from contact_prefs import BatchSpec, plan
    from contact_prefs_sqlite.store import SQLiteStore

    path, pause_at, occurrence = sys.argv[1], sys.argv[2], int(sys.argv[3])
    spec = {SPEC_SOURCE}
    store = SQLiteStore.open(path)
    changeset = plan(spec, store.snapshot(spec))
    inside = pause_at.removeprefix("inside ") if pause_at.startswith("inside ") else None
    seen = {{"statements": 0, "ticks": 0, "running": ""}}

    def pause():
        print("paused", flush=True)
        time.sleep(600)

    def trace(statement):
        statement = seen["running"] = statement.lstrip()
        if pause_at and inside is None and statement.startswith(pause_at):
            seen["statements"] += 1
            if seen["statements"] == occurrence:
                pause()

    def tick():
        if inside is not None and seen["running"].startswith(inside):
            seen["ticks"] += 1
            if seen["ticks"] == occurrence:
                pause()
        return 0

    store._connection.set_trace_callback(trace)
    store._connection.set_progress_handler(tick, 1000)
    print("committing", len(changeset), flush=True)
    store.commit(changeset, actor="crash-test")
    print("committed", seen["ticks"], flush=True)
    time.sleep(600)
"""


@pytest.fixture(scope="module")
def district_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("crash") / "district.db"
    with SQLiteStore.open(str(path)) as store:
        store.load(district(STUDENTS))
    return path  # closed: the write-ahead log is folded into the file, so copying it copies the district


def outcome(path: Path) -> str:
    """``"none"`` or ``"whole"``: what a reopened store shows of the batch (anything else fails).

    Either way the chain verifies intact and holds the batch's link exactly when the history holds the batch.
    """
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    connection.close()
    with SQLiteStore.open(str(path)) as store:
        history = store.history()
        points = store.dump().contact_points
        chain = store.chain()
        report = verify_history(store)
    assert report.intact, report.problem
    assert [link.key for link in chain] == [record.batch_id for record in history]
    assert len(points) == STUDENTS
    states = {(point.enabled, point.source) for point in points}
    if not history:
        assert states == {(BEFORE, Source.DEFAULT)}, "a batch without its history record left changes behind"
        return "none"
    (record,) = history
    assert record.actor == "crash-test"
    assert len(record.changes) == 2 * STUDENTS
    assert states == {(AFTER, Source.BATCH)}, "the history records a batch whose changes are not all there"
    return "whole"


@pytest.mark.parametrize(
    ("pause_at", "occurrence", "expected"),
    [
        pytest.param("INSERT INTO batches", 1, "none", id="transaction begun, nothing written"),
        pytest.param("SAVEPOINT", 1, "none", id="batch and its history recorded, no point written"),
        pytest.param("inside UPDATE contact_points", 20, "none", id="inside the update of the points"),
        pytest.param("inside UPDATE contact_points", DEEP_INSIDE, "none", id="deep inside the update of the points"),
        pytest.param("INSERT INTO chain", 1, "none", id="points written, not yet the chain link"),
        pytest.param("UPDATE state", 1, "none", id="everything written but the version"),
        pytest.param("COMMIT", 1, "none", id="right before COMMIT"),
        pytest.param("", 0, "whole", id="after the commit returned"),
    ],
)
def test_a_commit_killed_at_any_moment_leaves_all_or_nothing(
    district_file: Path, tmp_path: Path, pause_at: str, occurrence: int, expected: str
) -> None:
    path = tmp_path / "district.db"
    shutil.copyfile(district_file, path)
    crashing = Child.start(CRASHING_CHILD, str(path), pause_at, str(occurrence))
    try:
        crashing.wait_for("paused" if pause_at else "committed")
    finally:
        crashing.kill()
    assert crashing.process.returncode == -signal.SIGKILL
    assert outcome(path) == expected


def test_the_update_of_the_points_runs_long_enough_to_be_killed_inside(district_file: Path, tmp_path: Path) -> None:
    # Guards the "inside the update" moments above: the child must pause there, not after it.
    path = tmp_path / "district.db"
    shutil.copyfile(district_file, path)
    counting = Child.start(CRASHING_CHILD, str(path), "inside UPDATE contact_points", "0")
    try:
        ticks = int(counting.wait_for("committed").split()[1])
    finally:
        counting.kill()
    assert ticks > 2 * DEEP_INSIDE


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.15, 0.3, 0.6])
def test_a_commit_killed_after_a_delay_leaves_all_or_nothing(district_file: Path, tmp_path: Path, delay: float) -> None:
    path = tmp_path / "district.db"
    shutil.copyfile(district_file, path)
    crashing = Child.start(CRASHING_CHILD, str(path), "", "0")
    try:
        crashing.wait_for("committing")
        with contextlib.suppress(subprocess.TimeoutExpired):
            crashing.process.wait(timeout=delay)  # the commit runs meanwhile; it may or may not finish
    finally:
        crashing.kill()
    assert outcome(path) in {"none", "whole"}


# --- (b) a parent's portal edit between snapshot and commit ----------------------------------------


@pytest.fixture
def two_connections(tmp_path: Path) -> Iterator[tuple[SQLiteStore, SQLiteStore]]:
    """The district file opened twice: the batch's connection and the portal's."""
    path = str(tmp_path / "district.db")
    with SQLiteStore.open(path) as batch, SQLiteStore.open(path) as portal:
        batch.load(district(20))
        yield batch, portal


def test_a_portal_edit_after_planning_makes_the_commit_conflict_and_survives_the_rerun(
    two_connections: tuple[SQLiteStore, SQLiteStore],
) -> None:
    batch, portal = two_connections
    changeset = plan(SPEC, batch.snapshot(SPEC))
    assert len(changeset) == 40

    # The parent of s000007 turns Teacher messages on in the portal.
    (edited,) = [p for p in portal.dump().contact_points if p.owner_id == "s000007"]
    parents_choice = attrs.evolve(edited, enabled=edited.enabled | {Reason.TEACHER}, source=Source.PORTAL)
    portal.load(Snapshot(contact_points=[parents_choice]))
    before = batch.dump()

    with pytest.raises(ConflictError) as raised:
        batch.commit(changeset, actor="office")
    assert {change.owner_id for change in raised.value.conflicts} == {"s000007"}
    assert len(raised.value.conflicts) == 2  # both changes planned at that point
    after = batch.dump()
    assert after.sorted() == before.sorted(), "a conflicting commit wrote something"
    assert batch.history() == ()

    _, receipt = run_batch(batch, SPEC, actor="office")
    assert receipt is not None and receipt.applied == 40
    stored = {p.owner_id: p for p in portal.dump().contact_points}
    assert stored["s000007"].enabled == AFTER | {Reason.TEACHER}, "the parent's choice was lost"
    assert all(p.enabled == AFTER and p.source is Source.BATCH for o, p in stored.items() if o != "s000007")
    assert [record.batch_id for record in portal.history()] == [receipt.batch_id]


def test_keep_portal_leaves_the_parents_point_whole_on_the_rerun(
    two_connections: tuple[SQLiteStore, SQLiteStore],
) -> None:
    batch, portal = two_connections
    spec = attrs.evolve(SPEC, keep_portal=True)
    changeset = plan(spec, batch.snapshot(spec))
    (edited,) = [p for p in portal.dump().contact_points if p.owner_id == "s000003"]
    portal.load(Snapshot(contact_points=[attrs.evolve(edited, source=Source.PORTAL)]))  # the parent saved as is

    with pytest.raises(ConflictError):
        batch.commit(changeset, actor="office")
    replanned, receipt = run_batch(batch, spec, actor="office")
    assert receipt is not None and receipt.applied == 38
    assert Skip(owner_id="s000003", reason=SkipReason.PORTAL_PROTECTED, method=Method.CELL_PHONE) in replanned.skips
    (kept,) = [p for p in batch.dump().contact_points if p.owner_id == "s000003"]
    assert (kept.enabled, kept.source) == (BEFORE, Source.PORTAL)


# --- (c) two processes committing different batches at the same time ------------------------------

RACING_CHILD = f"""
    import datetime, json, os, sys, time
    from contact_prefs import BatchSpec, run_batch
    from contact_prefs_sqlite.store import SQLiteStore

    path, reason, go = sys.argv[1], sys.argv[2], sys.argv[3]
    spec = BatchSpec(mode="students", settings={{reason: "on"}}, school_id="north",
                     as_of=datetime.date.fromisoformat({DAY.isoformat()!r}))
    with SQLiteStore.open(path) as store:
        print("ready", flush=True)
        while not os.path.exists(go):  # both start together
            time.sleep(0.001)
        changeset, receipt = run_batch(store, spec, actor=reason)
        print(json.dumps({{"batch_id": receipt.batch_id, "applied": receipt.applied}}), flush=True)
"""


def test_two_processes_commit_batches_on_the_same_points_at_once_and_both_land(tmp_path: Path) -> None:
    path = tmp_path / "district.db"
    students = 3000
    with SQLiteStore.open(str(path)) as store:
        store.load(district(students))
    go = tmp_path / "go"
    racers = [Child.start(RACING_CHILD, str(path), reason, str(go)) for reason in ("attendance", "teacher")]
    for racer in racers:
        racer.wait_for("ready")
    go.touch()
    receipts = [json.loads(racer.finish().strip().splitlines()[-1]) for racer in racers]

    assert [receipt["applied"] for receipt in receipts] == [students, students]
    with SQLiteStore.open(str(path)) as store:
        points = store.dump().contact_points
        history = store.history()
    both = BEFORE | {Reason.ATTENDANCE, Reason.TEACHER}
    assert {point.enabled for point in points} == {both}, "a change of one batch was lost"
    assert sorted(record.batch_id for record in history) == sorted(receipt["batch_id"] for receipt in receipts)
    # Serialized: the later batch planned from the state the earlier one left.
    later, earlier = history
    assert all(change.enabled_before == BEFORE for change in earlier.changes)
    assert {change.enabled_before for change in later.changes} == {BEFORE | {Reason(earlier.actor)}}


def test_the_version_changes_with_a_write_from_another_process(tmp_path: Path) -> None:
    path = tmp_path / "district.db"
    with SQLiteStore.open(str(path)) as store:
        store.load(district(3))
        version = store.snapshot(SPEC).version
        writer = Child.start(
            """
            import sys
            from contact_prefs import Snapshot, Person
            from contact_prefs_sqlite.store import SQLiteStore
            with SQLiteStore.open(sys.argv[1]) as store:
                store.load(Snapshot(persons=[Person(id="new")]))
            """,
            str(path),
        )
        writer.finish()
        assert store.snapshot(SPEC).version != version
        assert store.dump().version == store.snapshot(SPEC).version


def test_the_store_file_uses_write_ahead_logging(tmp_path: Path) -> None:
    path = tmp_path / "district.db"
    SQLiteStore.open(str(path)).close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    connection.close()
    assert os.path.exists(path)
