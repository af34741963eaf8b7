"""Several connections on one store: conflicts, waiting on row locks, and killed transactions.

Moments inside a commit are reached deterministically: a third connection
holds the ``meta`` row, which a write locks last, so a commit can be held
after it has written its points and before it commits; the tests watch
``pg_stat_activity`` to see who waits for whom.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import attrs
import pytest

from contact_prefs import (
    BatchSpec,
    ConflictError,
    ContactPoint,
    Enrollment,
    Method,
    Mode,
    Person,
    Reason,
    ReasonSet,
    Relationship,
    Snapshot,
    Source,
    Store,
    StoreError,
    open_store,
    plan,
    run_batch,
)
from contact_prefs.testing.strategies import DAY

SCHOOLS = ("north", "south")
PATIENCE = 60.0  # seconds to wait for the server to reach a state before the test fails


def district(size: int) -> Snapshot:
    """``size`` students per school, each with a messenger guardian whose e-mail has only Emergency on."""
    persons, enrollments, relationships, points = [], [], [], []
    for school in SCHOOLS:
        for n in range(size):
            student, guardian = f"{school}-s{n}", f"{school}-g{n}"
            persons += [Person(id=student), Person(id=guardian)]
            enrollments.append(Enrollment(student_id=student, school_id=school, calendar_id=f"{school}:2026"))
            relationships.append(Relationship(student_id=student, contact_id=guardian))
            points.append(
                ContactPoint(
                    owner_id=guardian,
                    method=Method.EMAIL,
                    address=f"{guardian}@example.org",
                    enabled={Reason.EMERGENCY},
                    source=Source.DEFAULT,
                )
            )
    return Snapshot(persons=persons, enrollments=enrollments, relationships=relationships, contact_points=points)


def attendance_on(school: str) -> BatchSpec:
    """Switch Attendance and General on for the guardians of ``school``."""
    return BatchSpec(
        mode=Mode.STUDENT_MESSENGER_CONTACTS,
        settings={Reason.ATTENDANCE: "on", Reason.GENERAL: "on"},
        school_id=school,
        as_of=DAY,
    )


def stored(store: Store, owner_id: str) -> ContactPoint:
    return next(p for p in store.dump().contact_points if p.key == (owner_id, Method.EMAIL))


def records(snapshot: Snapshot) -> Snapshot:
    return attrs.evolve(snapshot.sorted(), version="")


def backend(store: Store) -> int:
    pid: int = store.connection.info.backend_pid  # type: ignore[attr-defined]
    return pid


def wait_until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"the server never reached the state: {what}")
        time.sleep(0.005)


def activity(watcher: Any, pid: int) -> tuple[str | None, str, list[int]]:
    """What backend ``pid`` is doing: its wait event type, its query, the backends blocking it."""
    row = watcher.execute(
        "SELECT wait_event_type, query, pg_blocking_pids(pid) FROM pg_stat_activity WHERE pid = %s", [pid]
    ).fetchone()
    return (row[0], row[1], row[2]) if row else (None, "", [])


def blocked_by(watcher: Any, pid: int, blockers: set[int]) -> Callable[[], bool]:
    return lambda: set(activity(watcher, pid)[2]) == blockers


@contextmanager
def meta_held(blocker: Any, schema: str) -> Iterator[None]:
    """Hold the ``meta`` row from ``blocker``: every write of the store then waits just before its end."""
    from psycopg import sql

    with blocker.transaction():
        blocker.execute(sql.SQL("SELECT FROM {}.meta FOR UPDATE").format(sql.Identifier(schema)))
        yield


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=3) as executor:
        yield executor


@pytest.fixture
def watcher(connect: Callable[[], Any]) -> Any:
    return connect()


@pytest.fixture
def blocker(connect: Callable[[], Any]) -> Any:
    return connect()


def test_a_portal_edit_between_snapshot_and_commit_conflicts_and_is_kept(schema_url: str) -> None:
    with open_store(schema_url) as batch, open_store(schema_url) as portal:
        batch.load(district(3))
        spec = attendance_on("north")
        changeset = plan(spec, batch.snapshot(spec))
        edited = attrs.evolve(stored(portal, "north-g1"), enabled={Reason.TEACHER}, source=Source.PORTAL)
        portal.load(Snapshot(contact_points=[edited]))
        before, history = batch.dump(), batch.history()

        with pytest.raises(ConflictError) as raised:
            batch.commit(changeset, actor="staff")

        assert set(raised.value.conflicts) == {c for c in changeset.changes if c.owner_id == "north-g1"}
        assert records(batch.dump()) == records(before)
        assert batch.history() == history
        run_batch(batch, spec, actor="staff")
        assert stored(portal, "north-g1").enabled == ReasonSet({Reason.TEACHER, Reason.ATTENDANCE, Reason.GENERAL})


def test_two_connections_commit_different_batches_at_once(
    schema_url: str, pool: ThreadPoolExecutor, watcher: Any, blocker: Any
) -> None:
    with open_store(schema_url) as first, open_store(schema_url) as second:
        first.load(district(20))
        before = first.dump()
        north = plan(attendance_on("north"), first.snapshot(attendance_on("north")))
        south = plan(attendance_on("south"), second.snapshot(attendance_on("south")))

        with meta_held(blocker, first.url.schema):
            commits = [pool.submit(first.commit, north, actor="a"), pool.submit(second.commit, south, actor="b")]
            # Both have written their points and wait only for the version bump: they ran side by side.
            for store in (first, second):
                wait_until(lambda s=store: "UPDATE meta" in activity(watcher, backend(s))[1], "both commits at meta")
        receipts = [commit.result() for commit in commits]

        assert records(first.dump()) == records(south.apply_to(north.apply_to(before)))
        assert {record.batch_id for record in first.history()} == {receipt.batch_id for receipt in receipts}


def test_two_commits_of_one_point_queue_and_the_second_conflicts(
    schema_url: str, pool: ThreadPoolExecutor, watcher: Any, blocker: Any
) -> None:
    with open_store(schema_url) as first, open_store(schema_url) as second:
        first.load(district(5))
        spec = attendance_on("north")
        changeset = plan(spec, first.snapshot(spec))

        with meta_held(blocker, first.url.schema):
            winner = pool.submit(first.commit, changeset, actor="a")
            wait_until(lambda: "UPDATE meta" in activity(watcher, backend(first))[1], "the first commit at meta")
            loser = pool.submit(second.commit, changeset, actor="b")
            wait_until(blocked_by(watcher, backend(second), {backend(first)}), "the second waits for the first")
        receipt = winner.result()
        with pytest.raises(ConflictError) as raised:
            loser.result()

        assert set(raised.value.conflicts) == set(changeset.changes)
        assert [record.batch_id for record in first.history()] == [receipt.batch_id]


def test_a_portal_write_waits_for_the_commit_and_lands_after_it(
    schema_url: str, pool: ThreadPoolExecutor, watcher: Any, blocker: Any
) -> None:
    with open_store(schema_url) as batch, open_store(schema_url) as portal:
        batch.load(district(5))
        spec = attendance_on("north")
        changeset = plan(spec, batch.snapshot(spec))
        point = stored(batch, "north-g2")
        edit = attrs.evolve(point, enabled={Reason.EMERGENCY, Reason.PRIORITY}, source=Source.PORTAL)
        before = batch.dump()

        with meta_held(blocker, batch.url.schema):
            commit = pool.submit(batch.commit, changeset, actor="staff")
            wait_until(lambda: "UPDATE meta" in activity(watcher, backend(batch))[1], "the commit at meta")
            write = pool.submit(portal.load, Snapshot(contact_points=[edit]))
            # The portal's write waits on the row lock the commit holds, not on anything else.
            wait_until(blocked_by(watcher, backend(portal), {backend(batch)}), "the portal waits for the commit")
            assert not write.done()
        commit.result()
        write.result()

        committed = changeset.apply_to(before)
        expected = [edit if p.key == edit.key else p for p in committed.contact_points]
        assert records(batch.dump()) == records(attrs.evolve(committed, contact_points=expected))


def test_a_commit_killed_after_writing_its_points_leaves_nothing(
    schema_url: str, pool: ThreadPoolExecutor, watcher: Any, blocker: Any
) -> None:
    with open_store(schema_url) as store:
        store.load(district(50))
        before = store.dump()
        spec = attendance_on("north")
        changeset = plan(spec, store.snapshot(spec))
        pid = backend(store)

        with meta_held(blocker, store.url.schema):
            commit: Future[Any] = pool.submit(store.commit, changeset, actor="staff")
            wait_until(lambda: "UPDATE meta" in activity(watcher, pid)[1], "the commit wrote its points")
            assert watcher.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
            with pytest.raises(StoreError) as raised:
                commit.result()
        assert "terminat" in str(raised.value)

    with open_store(schema_url) as reopened:
        assert records(reopened.dump()) == records(before)
        assert reopened.history() == ()


@pytest.mark.parametrize("statement", ["WITH written", "INSERT INTO batch_points"])
def test_a_large_commit_killed_while_running_leaves_all_or_nothing(
    schema_url: str, pool: ThreadPoolExecutor, watcher: Any, statement: str
) -> None:
    """Killed as soon as ``statement`` (updating the points, recording them) is seen running, or
    later if it was too quick to be seen: either way the store has all of the batch or none of it."""
    with open_store(schema_url) as store:
        store.load(district(5_000))
        before = store.dump()
        spec = attendance_on("north")
        changeset = plan(spec, store.snapshot(spec))
        pid = backend(store)

        commit: Future[Any] = pool.submit(store.commit, changeset, actor="staff")
        wait_until(lambda: statement in activity(watcher, pid)[1] or commit.done(), f"the commit runs {statement}")
        watcher.execute("SELECT pg_terminate_backend(%s)", [pid])
        try:
            receipt = commit.result()
        except StoreError:
            receipt = None

    with open_store(schema_url) as reopened:
        points = sorted(reopened.dump().contact_points, key=str)
        if receipt is None:
            assert points == sorted(before.contact_points, key=str)
            assert reopened.history() == ()
        else:
            assert points == sorted(changeset.apply_to(before).contact_points, key=str)
            assert [record.batch_id for record in reopened.history()] == [receipt.batch_id]


def test_portal_edits_batches_and_undos_at_once_never_deadlock(schema_url: str) -> None:
    """Writers hammering the same points: each write lands or conflicts cleanly, none fails otherwise
    (a deadlock would fail one with a StoreError: locks are taken in one order everywhere)."""
    rounds = 30
    with open_store(schema_url) as setup:
        setup.load(district(8))

    def portal(worker: int) -> list[Snapshot]:
        edits = []
        with open_store(schema_url) as store:
            for n in range(rounds):
                points = [p for p in store.dump().contact_points if p.owner_id.startswith("north")]
                # Several points in an order of their own: locks must not be taken in input order.
                chosen = points[n % 3 :: 3][::-1]
                edited = [attrs.evolve(p, enabled={Reason.PRIORITY}, source=Source.PORTAL) for p in chosen]
                store.load(Snapshot(contact_points=edited), remove=Snapshot(persons=[Person(id=f"w{worker}")]))
                edits.append(Snapshot(contact_points=edited))
        return edits

    def batches(actor: str) -> int:
        landed = 0
        with open_store(schema_url) as store:
            for n in range(rounds):
                spec = attendance_on(SCHOOLS[n % 2])
                try:
                    _, receipt = run_batch(store, spec, actor=actor)
                    landed += 1
                    store.undo(receipt.batch_id, actor=actor)
                    landed += 1
                except ConflictError:
                    pass  # a portal edit came between: nothing was written, which the history shows
        return landed

    with ThreadPoolExecutor(max_workers=4) as pool:
        portals = [pool.submit(portal, n) for n in range(2)]
        committers = [pool.submit(batches, actor) for actor in ("a", "b")]
        landed = sum(future.result() for future in committers)
        for future in portals:
            future.result()

    with open_store(schema_url) as store:
        assert len(store.history()) == landed
