"""The PostgreSQL store's chained history against tampering by direct SQL, its migration, and writers at once."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs
import pytest

from contact_prefs import (
    ContactPoint,
    Enrollment,
    Method,
    Person,
    Reason,
    Relationship,
    Snapshot,
    Store,
    StoreError,
    open_store,
    plan,
)
from contact_prefs.approval import ApprovalPolicy
from contact_prefs.chain import EntryKind
from contact_prefs.consent import Channel, ConsentAction, ConsentEvent, ConsentPolicy
from contact_prefs.governance import apply_proposal, propose, verify_history
from contact_prefs.ledger import ledger_key
from contact_prefs.proposals import ProposalError
from contact_prefs.testing.district import DISTRICT, G1_MAIL, OFF_SPEC, SPEC

# A configured (or required) server needs the driver: then a missing one fails the run, never skips it.
_REQUIRED = os.environ.get("CONTACT_PREFS_REQUIRE_POSTGRES") not in (None, "", "0")
if os.environ.get("CONTACT_PREFS_TEST_POSTGRES") or _REQUIRED:
    import psycopg
else:
    psycopg = pytest.importorskip("psycopg")

from psycopg import sql  # noqa: E402  (after the skip: the driver is optional)

from contact_prefs_postgres import schema  # noqa: E402
from contact_prefs_postgres.store import PostgresStore  # noqa: E402

POLICY = ApprovalPolicy(required=True, max_changes=0)
PATIENCE = 60.0


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def schema_of(url: str) -> str:
    return url.rpartition("schema=")[2]


def run_sql(connection: Any, url: str, *statements: str, params: list[Any] | None = None) -> None:
    """Run ``statements`` on the store's schema, as someone with write access to the database would."""
    with connection.transaction():
        connection.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema_of(url))))
        for statement in statements:
            connection.execute(statement, params)


@attrs.frozen
class Written:
    """What :func:`write_a_history` wrote, by name."""

    first: str  # batch, chain position 1
    undo: str  # position 2: the undo of the first
    second: str  # position 3
    # position 4: a consent event; 5: a policy change
    proposal: str  # 6: proposed, 7: approved
    applied: str  # 8: the batch applying it; 9: its application


def write_a_history(store: Store) -> Written:
    store.load(DISTRICT)
    first = store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff").batch_id
    undo = store.undo(first, actor="staff").batch_id
    second = store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff").batch_id
    address = ledger_key(G1_MAIL.method, G1_MAIL.address, "US") or ""
    event = ConsentEvent(
        address=address,
        action=ConsentAction.REVOKE,
        channel=Channel.EMAIL_REPLY,
        received_at=_now(),
        recorded_by="office",
    )
    store.record_consent([event], actor="office")
    store.set_consent_policy(ConsentPolicy(region="US"), actor="admin", why="yearly review")
    proposal, _ = propose(store, OFF_SPEC, actor="alice", policy=POLICY, at=_now())
    store.approve(proposal.proposal_id, actor="bob", at=_now())
    _, receipt = apply_proposal(store, proposal.proposal_id, actor="carol", at=_now())
    written = Written(first, undo, second, proposal.proposal_id, receipt.batch_id)
    assert [(link.kind, link.key) for link in store.chain()] == [
        (EntryKind.BATCH, first),
        (EntryKind.BATCH, undo),
        (EntryKind.BATCH, second),
        (EntryKind.CONSENT, "1"),
        (EntryKind.POLICY, "1"),
        (EntryKind.PROPOSAL, proposal.proposal_id),
        (EntryKind.APPROVAL, proposal.proposal_id),
        (EntryKind.BATCH, receipt.batch_id),
        (EntryKind.APPLICATION, proposal.proposal_id),
    ]
    return written


# Each tampering: the SQL (formatted with the ids written), the chain position of the first entry
# verify must report, and what its report must say.
TAMPERINGS: dict[str, tuple[list[str], int, str]] = {
    "a batch's count edited": (
        ["UPDATE batches SET counts = '[[\"email\", \"general\", 1000]]' WHERE batch_id = '{second}'"],
        3,
        "batch {second}, chained at position 3, was changed",
    ),
    "a batch's written point edited": (
        ["UPDATE batch_points SET enabled_after = 0 WHERE batch_id = '{second}' AND position = 0"],
        3,
        "batch {second}, chained at position 3, was changed",
    ),
    "a batch's actor edited": (
        ["UPDATE batches SET actor = 'mallory' WHERE batch_id = '{first}'"],
        1,
        "batch {first}, chained at position 1, was changed",
    ),
    "a batch deleted": (
        ["DELETE FROM batch_points WHERE batch_id = '{second}'", "DELETE FROM batches WHERE batch_id = '{second}'"],
        3,
        "batch {second}, chained at position 3, was removed",
    ),
    "two batches swapped": (
        [
            "UPDATE batches SET version = -version WHERE batch_id IN ('{first}', '{second}')",
            "UPDATE batches AS b SET version = -o.version FROM batches AS o "
            "WHERE (b.batch_id, o.batch_id) IN (('{first}', '{second}'), ('{second}', '{first}'))",
        ],
        1,
        "batch {first}, chained at position 1, was moved",
    ),
    "a batch inserted": (
        [
            "INSERT INTO batches (batch_id, version, actor, at, spec, counts) "
            "SELECT 'forged', 1000, actor, at, spec, counts FROM batches WHERE batch_id = '{second}'"
        ],
        10,
        "batch forged is in the history but was never chained: inserted",
    ),
    "a consent event edited": (
        [
            "ALTER TABLE consent_events DISABLE TRIGGER consent_events_append_only",
            "UPDATE consent_events SET recorded_by = 'mallory'",
            "ALTER TABLE consent_events ENABLE TRIGGER consent_events_append_only",
        ],
        4,
        "consent entry #1, chained at position 4, was changed",
    ),
    "a policy change deleted": (
        [
            "ALTER TABLE policy_changes DISABLE TRIGGER policy_changes_append_only",
            "DELETE FROM policy_changes",
            "ALTER TABLE policy_changes ENABLE TRIGGER policy_changes_append_only",
        ],
        5,
        "policy entry #1, chained at position 5, was removed",
    ),
    "a chain row deleted": (
        [
            "ALTER TABLE chain DISABLE TRIGGER chain_append_only",
            "DELETE FROM chain WHERE seq = 5",
            "ALTER TABLE chain ENABLE TRIGGER chain_append_only",
        ],
        5,
        "the chain breaks at position 5",
    ),
    "a chain row edited": (
        [
            "ALTER TABLE chain DISABLE TRIGGER chain_append_only",
            "UPDATE chain SET digest = repeat('0', 64) WHERE seq = 2",
            "ALTER TABLE chain ENABLE TRIGGER chain_append_only",
        ],
        2,
        "the link at position 2 (batch {undo}) was edited",
    ),
    "a proposal's approver edited": (
        ["UPDATE proposals SET approver = 'mallory' WHERE proposal_id = '{proposal}'"],
        7,
        "approval {proposal}, chained at position 7, was changed",
    ),
    "an applied batch's approver edited": (
        ["UPDATE batches SET approver = 'mallory' WHERE batch_id = '{applied}'"],
        8,
        "batch {applied}, chained at position 8, was changed",
    ),
}


@pytest.mark.parametrize("tampering", list(TAMPERINGS))
def test_verify_names_the_first_entry_tampered_with_by_direct_sql(
    schema_url: str, connect: Callable[[], Any], tampering: str
) -> None:
    statements, position, problem = TAMPERINGS[tampering]
    with open_store(schema_url) as store:
        written = write_a_history(store)
        before = verify_history(store)
        assert before.intact, before.problem
        ids = attrs.asdict(written)
        run_sql(connect(), schema_url, *(statement.format(**ids) for statement in statements))

        report = verify_history(store)
        assert not report.intact
        assert report.position == position
        assert problem.format(**ids) in (report.problem or "")
        # Nothing was repaired: it says so again, and the head kept before no longer proves the history.
        assert verify_history(store) == report
        assert not verify_history(store, expect_head=before.head).intact


def test_the_chain_and_the_consent_tables_refuse_changes_while_their_triggers_stand(
    schema_url: str, connect: Callable[[], Any]
) -> None:
    with open_store(schema_url) as store:
        write_a_history(store)
        for statement in ("UPDATE chain SET key = 'x'", "DELETE FROM chain", "TRUNCATE chain"):
            with pytest.raises(psycopg.errors.RaiseException, match="chain rows are appended, never changed"):
                run_sql(connect(), schema_url, statement)
        assert verify_history(store).intact


def test_a_chain_row_of_no_kind_is_an_error_saying_the_chain_was_edited(
    schema_url: str, connect: Callable[[], Any]
) -> None:
    with open_store(schema_url) as store:
        write_a_history(store)
        run_sql(
            connect(),
            schema_url,
            "ALTER TABLE chain DISABLE TRIGGER chain_append_only",
            "UPDATE chain SET kind = 'erased' WHERE seq = 3",
        )
        with pytest.raises(StoreError, match="link 3 has the kind 'erased', which no entry has: the chain was edited"):
            store.chain()


def test_a_version_2_store_migrates_by_chaining_its_history_in_order(
    new_schema: Callable[[], str], connect: Callable[[], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = new_schema()
    with open_store(url) as store:
        store.load(DISTRICT)
        first = store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff").batch_id
        undo = store.undo(first, actor="staff").batch_id
        address = ledger_key(G1_MAIL.method, G1_MAIL.address, "US") or ""
        events = [
            ConsentEvent(
                address=address, action=action, channel=Channel.EMAIL_REPLY, received_at=_now(), recorded_by="o"
            )
            for action in (ConsentAction.REVOKE, ConsentAction.GRANT)
        ]
        store.record_consent(events, actor="office")
        second = store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff").batch_id
        store.set_consent_policy(ConsentPolicy(region="US"), actor="admin", why="yearly review")
        history, ledger, changes = store.history(), store.consent_events(), store.policy_changes()
    # Version 3 only adds: dropping what it added leaves the store as version 2 kept it.
    run_sql(
        connect(),
        url,
        "DROP TABLE chain",
        "DROP TABLE schedules",
        "ALTER TABLE batches DROP COLUMN proposal_id, DROP COLUMN proposer, DROP COLUMN approver",
        "ALTER TABLE batches DROP COLUMN schedule_id, DROP COLUMN left_alone",
        "DROP TABLE proposals",
        "ALTER TABLE meta DROP COLUMN demo",
        "UPDATE meta SET schema_version = 2",
    )
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:2])
    version_2 = new_schema()
    PostgresStore.open(version_2).close()
    monkeypatch.undo()
    assert columns(connect(), url) == columns(connect(), version_2)

    with open_store(url) as migrated:
        assert (migrated.history(), migrated.consent_events(), migrated.policy_changes()) == (history, ledger, changes)
        assert [(link.kind, link.key) for link in migrated.chain()] == [
            (EntryKind.BATCH, first),
            (EntryKind.BATCH, undo),
            (EntryKind.BATCH, second),
            (EntryKind.CONSENT, "1"),
            (EntryKind.CONSENT, "2"),
            (EntryKind.POLICY, "1"),
        ]
        report = verify_history(migrated)
        assert report.intact, report.problem
        # And it goes on as any store: new writes join the migrated chain.
        migrated.commit(plan(OFF_SPEC, migrated.snapshot(OFF_SPEC)), actor="staff")
        assert len(migrated.chain()) == 7
        assert verify_history(migrated, expect_head=report.head).intact


def columns(connection: Any, url: str) -> list[tuple[str, str, str]]:
    rows = connection.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = %s "
        "ORDER BY table_name, column_name",
        [schema_of(url)],
    ).fetchall()
    return [tuple(row) for row in rows]


def test_a_version_1_store_chains_the_revocations_its_migration_records(
    schema_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:1])
    with PostgresStore.open(schema_url) as old:  # version 1: revoked is a flag
        insert = sql.SQL("INSERT INTO {}.contact_points VALUES ('g1', 'email', %s, 1, 0, 'default', true)")
        old.connection.execute(insert.format(sql.Identifier(old.url.schema)), [G1_MAIL.address])
    monkeypatch.undo()

    with open_store(schema_url) as migrated:
        (event,) = migrated.consent_events()
        assert event.action is ConsentAction.REVOKE
        assert [(link.kind, link.key) for link in migrated.chain()] == [(EntryKind.CONSENT, "1")]
        assert verify_history(migrated).intact


# --- writers at once ----------------------------------------------------------------

SCHOOLS = ("north", "south")

# Commits and undoes the batch switching Attendance on for the guardians of one school.
WRITER = """
import sys
from contact_prefs import BatchSpec, Mode, Reason, open_store, run_batch
from contact_prefs.testing.strategies import DAY

url, school, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
spec = BatchSpec(mode=Mode.STUDENT_MESSENGER_CONTACTS, settings={Reason.ATTENDANCE: "on"}, school_id=school, as_of=DAY)
with open_store(url) as store:
    for _ in range(rounds):
        _, receipt = run_batch(store, spec, actor=school)
        assert receipt.applied > 0
        store.undo(receipt.batch_id, actor=school)
"""


def two_schools(size: int) -> Snapshot:
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
                )
            )
    return Snapshot(persons=persons, enrollments=enrollments, relationships=relationships, contact_points=points)


def writers_at_meta(watcher: Any, names: list[str]) -> bool:
    rows = watcher.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = ANY(%s) AND query LIKE 'UPDATE meta%%' "
        "AND wait_event_type = 'Lock'",
        [names],
    ).fetchone()
    return bool(rows[0] == len(names))


def test_two_processes_writing_at_once_append_to_one_intact_chain(schema_url: str, connect: Callable[[], Any]) -> None:
    """Two processes, one per school, commit and undo in turns, starting at the same instant: both
    wait for the ``meta`` row, which a third connection holds, their first batch written but not chained."""
    rounds = 5
    with open_store(schema_url) as store:
        store.load(two_schools(20))
    names = [f"cp-writer-{school}" for school in SCHOOLS]
    blocker, watcher = connect(), connect()
    with blocker.transaction():
        blocker.execute(sql.SQL("SELECT FROM {}.meta FOR UPDATE").format(sql.Identifier(schema_of(schema_url))))
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", WRITER, f"{schema_url}&application_name={name}", school, str(rounds)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name, school in zip(names, SCHOOLS, strict=True)
        ]
        deadline = time.monotonic() + PATIENCE
        while not writers_at_meta(watcher, names):
            assert all(process.poll() is None for process in processes), [p.communicate() for p in processes]
            assert time.monotonic() < deadline, "the writers never both reached the meta row"
            time.sleep(0.01)
    outcomes = [process.communicate(timeout=PATIENCE) for process in processes]
    assert all(process.returncode == 0 for process in processes), outcomes

    with open_store(schema_url) as store:
        history, chain = store.history(), store.chain()
        assert len(history) == 2 * 2 * rounds
        assert {record.actor for record in history} == set(SCHOOLS)
        assert [link.seq for link in chain] == list(range(1, len(history) + 1))
        assert [link.key for link in chain] == [record.batch_id for record in reversed(history)]
        report = verify_history(store)
        assert report.intact, report.problem


def test_a_proposal_applied_twice_at_once_is_applied_once(schema_url: str) -> None:
    with open_store(schema_url) as first, open_store(schema_url) as second:
        first.load(DISTRICT)
        proposal, change_set = propose(first, SPEC, actor="alice", policy=POLICY, at=_now())
        first.approve(proposal.proposal_id, actor="bob", at=_now())

        def apply(store: Store) -> str:
            try:
                return store.commit(change_set, actor="carol", proposal_id=proposal.proposal_id).batch_id
            except ProposalError as refused:
                return str(refused)

        with ThreadPoolExecutor(max_workers=2) as pool:
            outcomes = list(pool.map(apply, (first, second)))
        (record,) = first.history()
        refused = [outcome for outcome in outcomes if outcome != record.batch_id]
        assert record.batch_id in outcomes
        assert len(refused) == 1
        assert f"proposal {proposal.proposal_id} is applied: it cannot be applied" in refused[0]
        assert first.proposals()[0].batch_id == record.batch_id
        assert verify_history(first).intact
