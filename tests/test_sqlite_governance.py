"""Governance on the SQLite store beyond the shared contract: tampering by direct SQL, refused commits,
migrating older files, two processes appending to one chain, and a batch's approval columns."""

from __future__ import annotations

import datetime
import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import attrs
import pytest

from contact_prefs import (
    BatchRecord,
    ChangeSet,
    ConflictError,
    ContactPoint,
    Enrollment,
    Method,
    Reason,
    ReasonSet,
    Snapshot,
    StoreError,
    plan,
)
from contact_prefs.approval import ApprovalPolicy
from contact_prefs.chain import EntryKind
from contact_prefs.consent import Channel, ConsentAction, ConsentEvent, ConsentPolicy
from contact_prefs.governance import propose, verify_history
from contact_prefs.ledger import PolicyChange, ledger_key
from contact_prefs.proposals import Approval, PlanMovedError
from contact_prefs.testing.district import DISTRICT, G1_MAIL, OFF_SPEC, SPEC
from contact_prefs.testing.expected import edit_point
from contact_prefs.testing.strategies import DAY
from contact_prefs_sqlite import consent_rows, ledgers, schema
from contact_prefs_sqlite import history as history_rows
from contact_prefs_sqlite.connection import connect
from contact_prefs_sqlite.store import SQLiteStore
from contact_prefs_sqlite.tables import TABLES

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.UTC)
POLICY = ApprovalPolicy(required=True, max_changes=0)


def _fresh_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def revocation(point: ContactPoint, by: str = "office") -> ConsentEvent:
    return ConsentEvent(
        address=ledger_key(point.method, point.address, "US") or "",
        action=ConsentAction.REVOKE,
        channel=Channel.EMAIL_REPLY,
        received_at=NOW,
        recorded_by=by,
    )


# --- tampering by direct SQL --------------------------------------------------------------------


@attrs.frozen
class Recorded:
    """A store file whose history holds every kind of entry, and the ids in it."""

    path: Path
    ids: dict[str, str]


@pytest.fixture
def recorded(tmp_path: Path) -> Recorded:
    """Chain positions: 1 b1, 2 u1 (undoes b1), 3 consent #1, 4 policy #1, 5 b2, 6 proposal p,
    7 its approval, 8 b3 (applies p), 9 the application of p."""
    path = tmp_path / "district.db"
    with SQLiteStore.open(str(path)) as store:
        store.load(DISTRICT)
        b1 = store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff")
        u1 = store.undo(b1.batch_id, actor="staff")
        store.record_consent([revocation(G1_MAIL)], actor="office")
        store.set_consent_policy(ConsentPolicy(region="US"), actor="admin", why="yearly review")
        b2 = store.commit(plan(OFF_SPEC, store.snapshot(OFF_SPEC)), actor="staff")
        assert b2.applied > 0
        proposal, change_set = propose(store, SPEC, actor="alice", policy=POLICY, at=_fresh_now())
        store.approve(proposal.proposal_id, actor="bob", at=_fresh_now())
        b3 = store.commit(change_set, actor="carol", proposal_id=proposal.proposal_id)
        kinds = [link.kind.value for link in store.chain()]
        assert kinds == [*["batch"] * 2, "consent", "policy", "batch", "proposal", "approval", "batch", "application"]
        assert verify_history(store).intact
    ids = {"b1": b1.batch_id, "u1": u1.batch_id, "b2": b2.batch_id, "b3": b3.batch_id, "p": proposal.proposal_id}
    return Recorded(path, ids)


TAMPERING = {
    "a count of a batch edited": (
        [
            "UPDATE batches SET counts = json_replace(counts, '$[0][2]', json_extract(counts, '$[0][2]') + 1) "
            "WHERE batch_id = '{b2}'"
        ],
        5,
        "batch {b2}, chained at position 5, was changed",
    ),
    "the actor of a batch edited": (
        ["UPDATE batches SET actor = 'mallory' WHERE batch_id = '{b1}'"],
        1,
        "batch {b1}, chained at position 1, was changed",
    ),
    "a batch deleted": (
        ["DELETE FROM batches WHERE batch_id = '{b2}'"],
        5,
        "batch {b2}, chained at position 5, was removed",
    ),
    "two batches swapped": (
        [
            "UPDATE batches SET seq = -1 WHERE batch_id = '{b1}'",
            "UPDATE batches SET seq = 1 WHERE batch_id = '{b2}'",
            "UPDATE batches SET seq = 3 WHERE seq = -1",
        ],
        1,
        "batch {b1}, chained at position 1, was moved",
    ),
    "a consent event edited, its trigger dropped": (
        [
            "DROP TRIGGER consent_events_append_only_UPDATE",
            "UPDATE consent_events SET recorded_by = 'mallory'",
        ],
        3,
        "consent entry #1, chained at position 3, was changed",
    ),
    "a policy change deleted, its trigger dropped": (
        ["DROP TRIGGER policy_changes_append_only_DELETE", "DELETE FROM policy_changes"],
        4,
        "policy entry #1, chained at position 4, was removed",
    ),
    "a chain row deleted, its trigger dropped": (
        ["DROP TRIGGER chain_append_only_DELETE", "DELETE FROM chain WHERE seq = 4"],
        4,
        "the chain breaks at position 4",
    ),
    "a chain row edited, its trigger dropped": (
        ["DROP TRIGGER chain_append_only_UPDATE", f"UPDATE chain SET digest = '{'0' * 64}' WHERE seq = 2"],
        2,
        "the link at position 2 (batch {u1}) was edited",
    ),
    "the approver of a proposal edited": (
        ["UPDATE proposals SET approver = 'mallory' WHERE proposal_id = '{p}'"],
        7,
        "approval {p}, chained at position 7, was changed",
    ),
    "the approver a batch names edited": (
        ["UPDATE batches SET approver = 'mallory' WHERE batch_id = '{b3}'"],
        8,
        "batch {b3}, chained at position 8, was changed",
    ),
    "a batch inserted": (
        [
            "INSERT INTO batches (batch_id, actor, at, spec, counts, applied, points, affects) "
            "SELECT 'forged', actor, at, spec, counts, applied, points, affects FROM batches WHERE batch_id = '{b2}'"
        ],
        10,
        "batch forged is in the history but was never chained: inserted",
    ),
}


@pytest.mark.parametrize(("statements", "position", "problem"), TAMPERING.values(), ids=TAMPERING.keys())
def test_verify_names_the_first_entry_changed_behind_the_stores_back(
    recorded: Recorded, statements: list[str], position: int, problem: str
) -> None:
    with SQLiteStore.open(str(recorded.path)) as store:
        head = verify_history(store).head
    with sqlite3.connect(recorded.path) as connection:
        for statement in statements:
            changed = connection.execute(statement.format(**recorded.ids))
            assert statement.startswith("DROP") or changed.rowcount >= 1, statement
    connection.close()

    with SQLiteStore.open(str(recorded.path)) as store:
        report = verify_history(store)
    assert not report.intact
    assert report.position == position
    assert problem.format(**recorded.ids) in (report.problem or "")
    if "chain" not in problem:  # only an edit of the chain itself moves its head
        assert report.head == head


@pytest.mark.parametrize("statement", ["UPDATE chain SET hash = prev", "DELETE FROM chain WHERE seq = 1"])
def test_the_chain_is_append_only(recorded: Recorded, statement: str) -> None:
    with sqlite3.connect(recorded.path) as connection, pytest.raises(sqlite3.IntegrityError, match="appended"):
        connection.execute(statement)
    connection.close()


def test_a_chain_row_that_is_no_link_is_named(recorded: Recorded) -> None:
    with sqlite3.connect(recorded.path) as connection:
        connection.execute("DROP TRIGGER chain_append_only_UPDATE")
        connection.execute("UPDATE chain SET kind = 'forged' WHERE seq = 3")
    connection.close()
    with (
        SQLiteStore.open(str(recorded.path)) as store,
        pytest.raises(StoreError, match="was edited: its row 3 is no link"),
    ):
        verify_history(store)


def test_a_refused_commit_adds_no_link(tmp_path: Path) -> None:
    with SQLiteStore.open(str(tmp_path / "district.db")) as store:
        store.load(DISTRICT)
        proposal, _ = propose(store, SPEC, actor="alice", policy=POLICY, at=_fresh_now())
        store.approve(proposal.proposal_id, actor="bob", at=_fresh_now())
        stale = plan(SPEC, store.snapshot(SPEC))
        edit_point(store, G1_MAIL, "point gone")  # the district moved
        chain = store.chain()
        with pytest.raises(PlanMovedError):
            store.commit(plan(SPEC, store.snapshot(SPEC)), actor="carol", proposal_id=proposal.proposal_id)
        with pytest.raises(ConflictError):
            store.commit(stale, actor="staff")
        assert store.chain() == chain
        assert [link.kind for link in chain] == [EntryKind.PROPOSAL, EntryKind.APPROVAL]
        assert store.proposals()[-1].batch_id is None
        assert verify_history(store).intact


# --- migrating a version-3 file -------------------------------------------------------------------


def write_version_3_batch(
    connection: sqlite3.Connection, batch_id: str, at: datetime.datetime, changeset: ChangeSet, **links: str
) -> None:
    """A ``batches`` row as version 3 wrote one."""
    updates = changeset.point_updates()
    connection.execute(
        "INSERT INTO batches (batch_id, actor, at, spec, counts, applied, undoes, undone_by, points, affects) "
        "VALUES (?, 'office', ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            batch_id,
            at.isoformat(),
            history_rows.spec_json(changeset.spec),
            history_rows.counts_json(changeset.counts()),
            len(changeset),
            links.get("undoes"),
            links.get("undone_by"),
            history_rows.points_json(history_rows.point_rows(updates)),
            history_rows.affects_json(updates),
        ),
    )


def test_a_version_3_store_is_chained_as_it_stood_and_verifies_intact(tmp_path: Path) -> None:
    first = plan(SPEC, DISTRICT)
    second = plan(OFF_SPEC, first.apply_to(DISTRICT))
    undo = second.inverse()
    change = PolicyChange(policy=ConsentPolicy(region="US"), actor="admin", at=NOW, why="yearly review")
    events = [revocation(G1_MAIL), revocation(G1_MAIL, by="front desk")]
    path = tmp_path / "district.db"
    connection = connect(str(path), migrations=schema.MIGRATIONS[:3])
    with connection:
        for name, records in first.apply_to(DISTRICT).collections().items():
            connection.executemany(TABLES[name].upsert(), map(TABLES[name].to_row, records))
        ledgers.key_points(connection, "US")
        write_version_3_batch(connection, "b1", NOW, first)
        write_version_3_batch(connection, "b2", NOW + datetime.timedelta(hours=1), second, undone_by="u2")
        write_version_3_batch(connection, "u2", NOW + datetime.timedelta(hours=2), undo, undoes="b2")
        ledgers.append(connection, events)
        connection.execute(consent_rows.INSERT_CHANGE, consent_rows.change_row(change))
    assert schema.user_version(connection) == 3
    connection.close()

    with SQLiteStore.open(str(path)) as store:
        assert schema.user_version(store._connection) == len(schema.MIGRATIONS) == 4
        assert [(link.kind, link.key) for link in store.chain()] == [
            (EntryKind.BATCH, "b1"),
            (EntryKind.BATCH, "b2"),
            (EntryKind.BATCH, "u2"),
            (EntryKind.CONSENT, "1"),
            (EntryKind.CONSENT, "2"),
            (EntryKind.POLICY, "1"),
        ]
        assert [record.batch_id for record in store.history()] == ["u2", "b2", "b1"]
        assert all(record.approval is None for record in store.history())
        assert store.history()[2] == BatchRecord(
            batch_id="b1", actor="office", at=NOW, spec=SPEC, counts=first.counts(), changes=first.changes
        )
        assert store.consent_events() == tuple(events)
        report = verify_history(store)
        assert report.intact, report.problem
        # The chain goes on from the migrated head.
        receipt = store.undo("b1", actor="office")
        after = verify_history(store, expect_head=report.head)
        assert after.intact, after.problem
        assert (after.links, store.chain()[-1].key) == (report.links + 1, receipt.batch_id)


def test_a_version_2_store_chains_the_revocations_its_flags_became(tmp_path: Path) -> None:
    # Version 3 turned each revoked flag into a REVOKE event; version 4 chains those events too.
    path = tmp_path / "district.db"
    connection = connect(str(path), migrations=schema.MIGRATIONS[:2])
    with connection:
        points = TABLES["contact_points"]
        connection.executemany(points.upsert(), map(points.to_row, DISTRICT.contact_points))
        connection.execute(
            "UPDATE contact_points SET revoked = 1 WHERE owner_id = ? AND method = ?",
            (G1_MAIL.owner_id, G1_MAIL.method.value),
        )
    connection.close()
    with SQLiteStore.open(str(path)) as store:
        events = store.consent_events()
        assert [event.address for event in events] == [revocation(G1_MAIL).address]
        assert [(link.kind, link.key) for link in store.chain()] == [(EntryKind.CONSENT, "1")]
        assert verify_history(store).intact


def test_a_version_3_store_without_history_migrates_to_an_empty_chain(tmp_path: Path) -> None:
    path = tmp_path / "district.db"
    connect(str(path), migrations=schema.MIGRATIONS[:3]).close()
    with SQLiteStore.open(str(path)) as store:
        assert store.chain() == ()
        assert verify_history(store).intact


# --- two processes, one chain ---------------------------------------------------------------------

BEFORE = ReasonSet({Reason.EMERGENCY, Reason.GENERAL})
SCHOOLS = ("north", "south")
COMMITS = 6  # per process

# Each child commits COMMITS batches on its own school (switching one reason on and off), as fast
# as it can, so the two contend for the write lock the whole time.
COMMITTING_CHILD = f"""
    import datetime, json, os, sys, time
    from contact_prefs import BatchSpec, run_batch
    from contact_prefs_sqlite.store import SQLiteStore

    path, school, go = sys.argv[1], sys.argv[2], sys.argv[3]
    with SQLiteStore.open(path) as store:
        print("ready", flush=True)
        while not os.path.exists(go):
            time.sleep(0.001)
        ids = []
        for n in range({COMMITS}):
            spec = BatchSpec(mode="students", settings={{"attendance": "off" if n % 2 else "on"}},
                             school_id=school, as_of=datetime.date.fromisoformat({DAY.isoformat()!r}))
            ids.append(run_batch(store, spec, actor=school)[1].batch_id)
        print(json.dumps(ids), flush=True)
"""


def two_schools(students: int) -> Snapshot:
    ids = [(school, f"{school}{n:05d}") for school in SCHOOLS for n in range(students)]
    return Snapshot(
        enrollments=[Enrollment(student_id=i, school_id=school, calendar_id=f"{school}:2026") for school, i in ids],
        contact_points=[
            ContactPoint(owner_id=i, method=Method.CELL_PHONE, address=f"+1 555 02{n:06d}", enabled=BEFORE)
            for n, (_, i) in enumerate(ids)
        ],
    )


def test_two_processes_committing_at_once_append_one_intact_chain(tmp_path: Path) -> None:
    path, go_file = tmp_path / "district.db", tmp_path / "go"
    with SQLiteStore.open(str(path)) as store:
        store.load(two_schools(500))
    children = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(COMMITTING_CHILD), str(path), school, str(go_file)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for school in SCHOOLS
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready", child.stderr.read() if child.stderr else ""
        go_file.touch()
        outputs = [child.communicate(timeout=120) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert [child.returncode for child in children] == [0, 0], [err for _, err in outputs]
    committed = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]

    with SQLiteStore.open(str(path)) as store:
        history = store.history()
        chain = store.chain()
        report = verify_history(store)
    assert report.intact, report.problem
    assert len(history) == len(chain) == 2 * COMMITS
    # One chain, in the order the batches were written, holding each process's batches in its order.
    assert [link.key for link in chain] == [record.batch_id for record in reversed(history)]
    for ids in committed:
        assert [key for key in (link.key for link in chain) if key in ids] == ids
    assert [link.seq for link in chain] == list(range(1, 2 * COMMITS + 1))


# --- the batch's approval columns -----------------------------------------------------------------


def test_a_batch_applied_through_a_proposal_names_it_in_its_row(tmp_path: Path) -> None:
    path = tmp_path / "district.db"
    with SQLiteStore.open(str(path)) as store:
        store.load(DISTRICT)
        proposal, change_set = propose(store, SPEC, actor="alice", policy=POLICY, at=_fresh_now())
        store.approve(proposal.proposal_id, actor="bob", at=_fresh_now())
        applied = store.commit(change_set, actor="carol", proposal_id=proposal.proposal_id)
        plain = store.commit(plan(OFF_SPEC, store.snapshot(OFF_SPEC)), actor="staff")
    with sqlite3.connect(path) as connection:
        rows = dict(
            (batch_id, (proposal_id, proposer, approver))
            for batch_id, proposal_id, proposer, approver in connection.execute(
                "SELECT batch_id, proposal_id, proposer, approver FROM batches"
            )
        )
        state = connection.execute(
            "SELECT batch_id, applied_by FROM proposals WHERE proposal_id = ?", (proposal.proposal_id,)
        ).fetchone()
    connection.close()
    assert rows == {applied.batch_id: (proposal.proposal_id, "alice", "bob"), plain.batch_id: (None, None, None)}
    assert state == (applied.batch_id, "carol")
    with SQLiteStore.open(str(path)) as store:
        summaries = {summary.batch_id: summary.approval for summary in store.batches()}
    assert summaries == {
        applied.batch_id: Approval(proposal_id=proposal.proposal_id, proposer="alice", approver="bob"),
        plain.batch_id: None,
    }
