"""The consent ledger in the PostgreSQL store: stale imports, shared numbers, atomic writes, migration,
persistence, and consent writes meeting commits on other connections.

Where the memory store (the reference) is given the same calls, both must give the same results.
"""

from __future__ import annotations

import datetime
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import attrs
import pytest

from contact_prefs import (
    BatchSpec,
    ConflictError,
    ContactPoint,
    ContactPrefsError,
    Enrollment,
    HouseholdMember,
    Method,
    Mode,
    Person,
    Reason,
    ReasonSet,
    Relationship,
    Setting,
    Snapshot,
    Store,
    StoreError,
    plan,
    run_batch,
)
from contact_prefs.consent import Channel, ConsentAction, ConsentEvent, ConsentPolicy, RevocationScope
from contact_prefs.errors import UnknownReviewError
from contact_prefs.ledger import BEFORE_THE_LEDGER, LOADED_AS_REVOKED, floors, ledger_key, new_review
from contact_prefs_memory import MemoryStore

# A configured (or required) server needs the driver: then a missing one fails the run, never skips it.
_REQUIRED = os.environ.get("CONTACT_PREFS_REQUIRE_POSTGRES") not in (None, "", "0")
if os.environ.get("CONTACT_PREFS_TEST_POSTGRES") or _REQUIRED:
    import psycopg
else:
    psycopg = pytest.importorskip("psycopg")

from psycopg import sql  # noqa: E402  (after the skip: the driver is optional)

from contact_prefs_postgres import ledgers, loading, schema  # noqa: E402
from contact_prefs_postgres.store import PostgresStore  # noqa: E402

UTC = datetime.UTC
AT = datetime.datetime(2026, 12, 4, 16, 0, tzinfo=UTC)  # a Friday
DAY = datetime.date(2026, 11, 30)
NUMBER = "+12805550143"
MAIL = "pat@example.org"
ALL, NONE = ReasonSet.all(), ReasonSet()
PATIENCE = 60.0  # seconds to wait for the server to reach a state before a test fails

# One number written three ways, on two guardians and their household; another number; an e-mail address.
GA_CELL = ContactPoint(owner_id="ga", method=Method.CELL_PHONE, address="(280) 555-0143", enabled={Reason.GENERAL})
GB_WORK = ContactPoint(owner_id="gb", method=Method.WORK_PHONE, address="280-555-0143")
HOME = ContactPoint(owner_id="h1", method=Method.HOUSEHOLD_PHONE, address="+1 280 555 0143")
GB_CELL = ContactPoint(owner_id="gb", method=Method.CELL_PHONE, address="(280) 555-0199")
GA_MAIL = ContactPoint(owner_id="ga", method=Method.EMAIL, address=" Pat@Example.org ")
GB_MAIL = ContactPoint(owner_id="gb", method=Method.EMAIL)  # nothing saved
SHARED = (("ga", Method.CELL_PHONE), ("gb", Method.WORK_PHONE), ("h1", Method.HOUSEHOLD_PHONE))
DISTRICT = Snapshot(
    persons=[Person(id=i) for i in ("s1", "ga", "gb")],
    enrollments=[Enrollment(student_id="s1", school_id="north", calendar_id="north:2026")],
    relationships=[Relationship(student_id="s1", contact_id="ga"), Relationship(student_id="s1", contact_id="gb")],
    household_members=[HouseholdMember(household_id="h1", person_id=i) for i in ("ga", "gb")],
    contact_points=[GA_CELL, GB_WORK, HOME, GB_CELL, GA_MAIL, GB_MAIL],
)
ATTENDANCE_ON = BatchSpec(
    mode=Mode.STUDENT_MESSENGER_CONTACTS, settings={Reason.ATTENDANCE: Setting.ON}, as_of=DAY, school_id="north"
)


def revoke(address: str = NUMBER, *, hours: int = 0, **fields: Any) -> ConsentEvent:
    fields = {"channel": Channel.KEYWORD_REPLY, "recorded_by": "vendor", "evidence": "STOP", **fields}
    return ConsentEvent(
        address=address, action=ConsentAction.REVOKE, received_at=AT + datetime.timedelta(hours=hours), **fields
    )


def grant(address: str = NUMBER, *, hours: int = 1) -> ConsentEvent:
    return ConsentEvent(
        address=address,
        action=ConsentAction.GRANT,
        channel=Channel.PAPER_FORM,
        received_at=AT + datetime.timedelta(hours=hours),
        recorded_by="office",
        evidence="form 12",
        wording="v3",
    )


def review(review_id: str = "r1", address: str = NUMBER, message: str = "please don't text me") -> Any:
    return new_review(
        review_id, address=address, message=message, channel=Channel.KEYWORD_REPLY, received_at=AT,
        policy=ConsentPolicy(),
    )  # fmt: skip


def revoked(store: Store) -> dict[tuple[str, Method], ReasonSet]:
    return {point.key: point.revoked for point in store.dump().contact_points}


def on(store: PostgresStore, statement: str) -> Any:
    """``statement`` run on the store's own connection, in its schema (``{}`` is the schema)."""
    return store.connection.execute(sql.SQL(statement).format(sql.Identifier(store.url.schema)))


@pytest.fixture
def store(schema_url: str) -> Iterator[PostgresStore]:
    with PostgresStore.open(schema_url) as store:
        store.load(DISTRICT)
        yield store


@pytest.fixture
def both(schema_url: str) -> Iterator[tuple[PostgresStore, MemoryStore]]:
    """The PostgreSQL store and the reference, each with the district loaded."""
    with PostgresStore.open(schema_url) as postgres, MemoryStore() as memory:
        assert postgres.load(DISTRICT) == memory.load(DISTRICT)
        yield postgres, memory


def same(stores: tuple[PostgresStore, MemoryStore], call: Callable[[Store], Any]) -> Any:
    """``call`` on both stores: the same result, and the same records, ledgers and queue after it."""
    postgres, memory = stores
    result = call(postgres)
    assert result == call(memory)
    agree(stores)
    return result


def agree(stores: tuple[PostgresStore, MemoryStore]) -> None:
    """Both stores hold the same records, ledgers, queue and policy."""
    postgres, memory = stores
    assert postgres.dump().sorted().collections() == memory.dump().sorted().collections()
    for address in (NUMBER, MAIL, "+12805550199"):
        assert postgres.ledger(address) == memory.ledger(address)
        assert postgres.holders(address) == memory.holders(address)
    assert postgres.reviews() == memory.reviews()
    assert postgres.consent_policy() == memory.consent_policy()


# --- loads ----------------------------------------------------------------------


def test_a_stale_file_never_clears_a_revocation_and_the_load_counts_the_points_kept_revoked(
    both: tuple[PostgresStore, MemoryStore],
) -> None:
    same(both, lambda s: s.record_consent([revoke()], actor="vendor-feed"))
    postgres, _ = both
    assert {key: revoked(postgres)[key] for key in SHARED} == dict.fromkeys(SHARED, ALL)

    # An old backup: every point as it was before the revocation, not revoked.
    report = same(both, lambda s: s.load(Snapshot(contact_points=[GA_CELL, GB_WORK, GB_CELL]), actor="backup"))
    assert (report.kept_revoked, report.revocations) == (2, 0)
    assert {key: revoked(postgres)[key] for key in SHARED} == dict.fromkeys(SHARED, ALL)
    assert revoked(postgres)[GB_CELL.key] == NONE


def test_keeping_preferences_takes_the_consent_of_the_new_address(both: tuple[PostgresStore, MemoryStore]) -> None:
    same(both, lambda s: s.record_consent([revoke()], actor="vendor-feed"))
    # The cell phone moves to the revoked number, the household phone away from it; neither
    # file's revoked counts, nor do the points' kept preferences.
    moved = [
        attrs.evolve(GB_CELL, address="280 555 0143", enabled={Reason.TEACHER}),
        attrs.evolve(HOME, address="(280) 555-0100", revoked=True),
    ]
    report = same(both, lambda s: s.load(Snapshot(contact_points=moved), keep_preferences=True))
    assert (report.kept_revoked, report.revocations) == (1, 0)
    points = {point.key: point for point in both[0].dump().contact_points}
    assert points[GB_CELL.key] == attrs.evolve(GB_CELL, address="280 555 0143", revoked=ALL)
    assert points[HOME.key] == attrs.evolve(HOME, address="(280) 555-0100")
    assert both[0].holders(NUMBER) == (("ga", Method.CELL_PHONE), GB_CELL.key, ("gb", Method.WORK_PHONE))


def test_a_point_loaded_as_revoked_adds_one_revocation_to_its_address(
    both: tuple[PostgresStore, MemoryStore],
) -> None:
    store = both[0]
    loaded = Snapshot(contact_points=[attrs.evolve(GA_MAIL, revoked={Reason.GENERAL})])
    report = store.load(loaded, actor="sis")
    assert report == both[1].load(loaded, actor="sis")  # the events' times are each store's now
    # The revocation covers every reason: the point, loaded as not revoked for the others, is kept revoked.
    assert (report.revocations, report.kept_revoked) == (1, 1)
    ((event),) = store.ledger(MAIL)
    assert (event.action, event.channel, event.recorded_by, event.evidence) == (
        ConsentAction.REVOKE, Channel.IMPORT, "sis", LOADED_AS_REVOKED,
    )  # fmt: skip
    assert event.reasons == ReasonSet({Reason.GENERAL}) and event.received_at.utcoffset() == datetime.timedelta(0)
    assert revoked(store)[GA_MAIL.key] == ALL  # a revocation covers every reason unless the district says otherwise
    store.load(Snapshot(contact_points=[attrs.evolve(GA_MAIL, revoked=True)]), actor="sis")
    assert len(store.ledger(MAIL)) == 1  # revoked already: nothing to add


def test_a_point_loaded_as_revoked_revokes_its_number_at_every_other_point_holding_it(store: PostgresStore) -> None:
    # Only the household phone is in the file; the guardians' points hold the same number.
    store.load(Snapshot(contact_points=[attrs.evolve(HOME, revoked=True)]))
    assert [(e.action, e.evidence) for e in store.ledger(NUMBER)] == [(ConsentAction.REVOKE, LOADED_AS_REVOKED)]
    assert {key: revoked(store)[key] for key in SHARED} == dict.fromkeys(SHARED, ALL)
    assert revoked(store)[GB_CELL.key] == NONE


def test_a_load_reports_the_addresses_it_cannot_normalize_by_point_never_by_value(
    both: tuple[PostgresStore, MemoryStore],
) -> None:
    odd = ContactPoint(owner_id="gb", method=Method.OTHER_PHONE, address="ext. 12", revoked=True)
    report = same(both, lambda s: s.load(Snapshot(contact_points=[odd, GB_CELL])))
    assert report.unnormalized == (odd.key,)
    assert [e.address for e in both[0].ledger("ext. 12")] == ["ext. 12"]  # kept under the address as saved
    assert both[0].holders("ext. 12") == (odd.key,)


def test_a_point_with_nothing_saved_keeps_what_it_was_loaded_with(store: PostgresStore) -> None:
    report = store.load(Snapshot(contact_points=[attrs.evolve(GB_MAIL, revoked=True)]))
    assert report.revocations == 0 and revoked(store)[GB_MAIL.key] == ALL
    assert on(store, "SELECT count(*) FROM {}.consent_events").fetchone() == (0,)


def test_a_reload_reads_again_only_the_addresses_that_changed(
    store: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[str] = []

    def counted(method: Method, address: str, region: str) -> str | None:
        read.append(address)
        return ledger_key(method, address, region)

    monkeypatch.setattr(loading, "ledger_key", counted)
    moved = attrs.evolve(GB_CELL, address="280 555 0143")
    points = [moved if point.key == moved.key else point for point in DISTRICT.contact_points]
    store.load(attrs.evolve(DISTRICT, contact_points=points))
    # The others' keys are as stored, their addresses unchanged (a point with nothing saved has no key).
    assert read == [moved.address, GB_MAIL.address]
    assert store.holders(NUMBER) == (("ga", Method.CELL_PHONE), moved.key, ("gb", Method.WORK_PHONE), HOME.key)


def test_a_removed_point_no_longer_holds_its_address(both: tuple[PostgresStore, MemoryStore]) -> None:
    same(both, lambda s: s.load(Snapshot(), remove=Snapshot(contact_points=[GB_WORK])))
    assert both[0].holders(NUMBER) == (GA_CELL.key, HOME.key)
    assert on(both[0], "SELECT count(*) FROM {}.ledger_keys WHERE owner_id = 'gb'").fetchone() == (1,)


# --- shared numbers, reviews and the policy --------------------------------------------


def test_a_revocation_on_one_guardians_number_reaches_the_other_guardian_and_the_household(
    both: tuple[PostgresStore, MemoryStore],
) -> None:
    postgres, _ = both
    version = postgres.dump().version
    same(both, lambda s: s.record_consent([revoke(reasons={Reason.GENERAL})], actor="front-office"))
    assert postgres.dump().version != version  # a consent write is a write
    assert postgres.holders(NUMBER) == SHARED
    assert {key: revoked(postgres)[key] for key in SHARED} == dict.fromkeys(SHARED, ALL)
    same(both, lambda s: s.record_consent([grant()], actor="front-office"))  # only a GRANT lifts it
    assert {key: revoked(postgres)[key] for key in SHARED} == dict.fromkeys(SHARED, NONE)
    assert [e.action for e in postgres.ledger(NUMBER)] == [ConsentAction.REVOKE, ConsentAction.GRANT]


def test_a_waiting_message_holds_every_reason_until_a_reviewer_reads_it(
    both: tuple[PostgresStore, MemoryStore],
) -> None:
    postgres, _ = both
    same(both, lambda s: s.record_consent(reviews=[review("r1"), review("r2", MAIL)], actor="vendor-feed"))
    assert {key: revoked(postgres)[key] for key in SHARED} == dict.fromkeys(SHARED, ALL)
    assert [(r.review_id, r.waiting, r.due_on) for r in postgres.reviews()] == [
        ("r1", True, datetime.date(2026, 12, 18)),
        ("r2", True, datetime.date(2026, 12, 18)),
    ]

    kept = same(both, lambda s: s.resolve_review("r1", revoked=False, actor="reviewer", note="a question", at=AT))
    assert (kept.revoked, kept.resolved_by, kept.note) == (False, "reviewer", "a question")
    assert {key: revoked(postgres)[key] for key in SHARED} == dict.fromkeys(SHARED, NONE)
    assert postgres.ledger(NUMBER) == ()

    later = AT + datetime.timedelta(days=3)
    read = same(both, lambda s: s.resolve_review("r2", revoked=True, actor="reviewer", note="", at=later))
    assert read.resolved_at == later and read.revoked is True
    ((event),) = postgres.ledger(MAIL)
    assert (event.action, event.received_at, event.evidence) == (ConsentAction.REVOKE, AT, "please don't text me")
    assert revoked(postgres)[GA_MAIL.key] == ALL


def test_resolving_an_unknown_or_resolved_review_is_refused_and_writes_nothing(store: PostgresStore) -> None:
    store.record_consent(reviews=[review("r1")], actor="vendor-feed")
    store.resolve_review("r1", revoked=False, actor="reviewer", note="", at=AT)
    before, queue = store.dump(), store.reviews()
    with pytest.raises(UnknownReviewError, match="no review 'r9'"):
        store.resolve_review("r9", revoked=True, actor="reviewer", note="", at=AT)
    with pytest.raises(UnknownReviewError, match="no review"):
        store.resolve_review("r\x00", revoked=True, actor="reviewer", note="", at=AT)
    with pytest.raises(ContactPrefsError, match="resolved already"):
        store.resolve_review("r1", revoked=True, actor="someone else", note="", at=AT)
    assert (store.dump(), store.reviews(), store.ledger(NUMBER)) == (before, queue, ())


def test_a_review_id_that_looks_like_a_number_is_withheld_from_the_error(store: PostgresStore) -> None:
    with pytest.raises(UnknownReviewError) as raised:
        store.resolve_review("280 555 0143", revoked=True, actor="reviewer", note="", at=AT)
    assert "0143" not in str(raised.value)


def test_the_exemption_and_the_scope_are_the_districts_policy_recorded_with_who_and_why(
    both: tuple[PostgresStore, MemoryStore],
) -> None:
    postgres, memory = both
    same(both, lambda s: s.record_consent([revoke(reasons={Reason.GENERAL})], actor="vendor-feed"))
    exempt = ConsentPolicy(exempt={Reason.EMERGENCY}, holidays={datetime.date(2026, 12, 25)})
    change = postgres.set_consent_policy(exempt, actor="superintendent", why="board decision 2026-14")
    memory.set_consent_policy(exempt, actor="superintendent", why="board decision 2026-14")
    assert (change.policy, change.actor, change.why) == (exempt, "superintendent", "board decision 2026-14")
    assert change.at.utcoffset() == datetime.timedelta(0)
    agree(both)
    assert revoked(postgres)[GA_CELL.key] == ALL - {Reason.EMERGENCY}

    named = attrs.evolve(exempt, scope=RevocationScope.NAMED)
    postgres.set_consent_policy(named, actor="superintendent", why="revoke-all postponed")
    memory.set_consent_policy(named, actor="superintendent", why="revoke-all postponed")
    agree(both)
    assert revoked(postgres)[GA_CELL.key] == ReasonSet({Reason.GENERAL})
    assert [c.policy for c in postgres.policy_changes()] == [exempt, named]
    assert postgres.policy_changes()[0] == change


def test_a_new_region_reads_every_number_anew(both: tuple[PostgresStore, MemoryStore]) -> None:
    london = ContactPoint(owner_id="gb", method=Method.OTHER_PHONE, address="020 7946 0958")
    report = same(both, lambda s: s.load(Snapshot(contact_points=[london])))
    assert report.unnormalized == (london.key,)  # not a US number
    for store in both:
        store.set_consent_policy(ConsentPolicy(region="GB"), actor="it", why="a district abroad")
    agree(both)
    assert both[0].holders("+442079460958") == (london.key,)
    assert both[0].holders(NUMBER) == (HOME.key,)  # the guardians' numbers, without +1, are British ones now
    same(both, lambda s: s.record_consent([revoke("+442079460958")], actor="vendor-feed"))
    assert revoked(both[0])[london.key] == ALL


# --- consent meeting commits --------------------------------------------------------


def test_a_plan_made_before_a_revocation_conflicts_at_commit(store: PostgresStore) -> None:
    changeset = plan(ATTENDANCE_ON, store.snapshot(ATTENDANCE_ON))
    assert GA_CELL.key in {u.key for u in changeset.point_updates()}
    store.record_consent([revoke()], actor="vendor-feed")
    before = store.dump()
    with pytest.raises(ConflictError):
        store.commit(changeset, actor="office")
    assert store.dump() == before and store.history() == ()


def backend(store: PostgresStore) -> int:
    pid: int = store.connection.info.backend_pid
    return pid


def wait_until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"the server never reached the state: {what}")
        time.sleep(0.005)


def activity(watcher: Any, pid: int) -> tuple[str, list[int]]:
    """What backend ``pid`` is running, and the backends blocking it."""
    row = watcher.execute("SELECT query, pg_blocking_pids(pid) FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
    return (row[0], row[1]) if row else ("", [])


@contextmanager
def meta_held(blocker: Any, schema_name: str) -> Iterator[None]:
    """Hold the ``meta`` row from ``blocker``: every write of the store then waits just before its end,
    having written everything else (and holding its row locks)."""
    with blocker.transaction():
        blocker.execute(sql.SQL("SELECT FROM {}.meta FOR UPDATE").format(sql.Identifier(schema_name)))
        yield


def test_a_revocation_racing_a_commit_that_holds_the_points_lands_after_it(
    schema_url: str, connect: Callable[[], Any]
) -> None:
    watcher, blocker = connect(), connect()
    with PostgresStore.open(schema_url) as batch, PostgresStore.open(schema_url) as feed:
        batch.load(DISTRICT)
        changeset = plan(ATTENDANCE_ON, batch.snapshot(ATTENDANCE_ON))
        with ThreadPoolExecutor(max_workers=2) as pool:
            with meta_held(blocker, batch.url.schema):
                commit = pool.submit(batch.commit, changeset, actor="office")
                wait_until(lambda: "UPDATE meta" in activity(watcher, backend(batch))[0], "the commit at meta")
                revocation = pool.submit(feed.record_consent, [revoke()], actor="vendor-feed")
                # The revocation waits on the points the commit holds, not on anything else.
                wait_until(lambda: activity(watcher, backend(feed))[1] == [backend(batch)], "it waits for the commit")
                assert not revocation.done()
            commit.result()
            revocation.result()

        points = {point.key: point for point in batch.dump().contact_points}
        for key in SHARED:  # the batch's reasons are on, and the revocation holds every reason back
            assert Reason.ATTENDANCE in points[key].enabled and points[key].revoked == ALL
        assert len(batch.history()) == 1 and len(batch.ledger(NUMBER)) == 1


def test_a_commit_racing_a_revocation_that_holds_the_points_conflicts(
    schema_url: str, connect: Callable[[], Any]
) -> None:
    watcher, blocker = connect(), connect()
    with PostgresStore.open(schema_url) as batch, PostgresStore.open(schema_url) as feed:
        batch.load(DISTRICT)
        changeset = plan(ATTENDANCE_ON, batch.snapshot(ATTENDANCE_ON))
        with ThreadPoolExecutor(max_workers=2) as pool:
            with meta_held(blocker, batch.url.schema):
                revocation = pool.submit(feed.record_consent, [revoke()], actor="vendor-feed")
                wait_until(lambda: "UPDATE meta" in activity(watcher, backend(feed))[0], "the revocation at meta")
                commit = pool.submit(batch.commit, changeset, actor="office")
                wait_until(lambda: activity(watcher, backend(batch))[1] == [backend(feed)], "it waits for the feed")
            revocation.result()
            with pytest.raises(ConflictError) as raised:
                commit.result()

        assert {(c.owner_id, c.method) for c in raised.value.conflicts} == set(SHARED)
        assert batch.history() == ()
        points = {point.key: point for point in batch.dump().contact_points}
        assert {key: (points[key].enabled, points[key].revoked) for key in SHARED} == {
            key: (point.enabled, ALL) for point in DISTRICT.contact_points if (key := point.key) in SHARED
        }


def test_consent_writes_loads_batches_and_undos_at_once_never_deadlock(schema_url: str) -> None:
    """Writers on the same points: each write lands or conflicts cleanly, none fails otherwise
    (a deadlock would fail one with a StoreError: every write locks points in key order)."""
    rounds = 15
    with PostgresStore.open(schema_url) as setup:
        setup.load(DISTRICT)

    def feed() -> None:
        with PostgresStore.open(schema_url) as store:
            for n in range(rounds):
                event = revoke(hours=n) if n % 2 else grant(hours=n)
                store.record_consent([event, attrs.evolve(event, address=MAIL)], actor="vendor-feed")

    def portal() -> None:
        with PostgresStore.open(schema_url) as store:
            for n in range(rounds):
                # The points in an order of their own, one of them loaded as revoked now and then.
                points = [HOME, GB_WORK, GA_MAIL, GA_CELL][n % 4 :] + [HOME, GB_WORK, GA_MAIL, GA_CELL][: n % 4]
                points[0] = attrs.evolve(points[0], revoked=n % 3 == 0)
                store.load(Snapshot(contact_points=points))

    def batches() -> int:
        landed = 0
        with PostgresStore.open(schema_url) as store:
            for _ in range(rounds):
                try:
                    _, receipt = run_batch(store, ATTENDANCE_ON, actor="office")
                    landed += 1
                    store.undo(receipt.batch_id, actor="office")
                    landed += 1
                except ConflictError:
                    pass  # a write came between: nothing was written, which the history shows
        return landed

    with ThreadPoolExecutor(max_workers=3) as pool:
        writers = [pool.submit(feed), pool.submit(portal)]
        committed = pool.submit(batches)
        for writer in writers:
            writer.result()
        landed = committed.result()

    with PostgresStore.open(schema_url) as store:
        assert len(store.history()) == landed
        # Every point holds what its address's ledger says, whoever wrote last.
        policy, pending = store.consent_policy(), {r.address for r in store.reviews() if r.waiting}
        for address in (NUMBER, MAIL):
            (floor,) = floors([address], {address: store.ledger(address)}, pending, policy).values()
            assert {revoked(store)[key] for key in store.holders(address)} == {floor}


# --- atomicity -------------------------------------------------------------------


def test_recording_consent_is_all_or_nothing(store: PostgresStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.record_consent(reviews=[review("r1", MAIL)], actor="vendor-feed")
    before, queue = store.dump(), store.reviews()

    # A taken review id after valid events: nothing of the call is written.
    with pytest.raises(ContactPrefsError, match="review ids must be new and distinct; taken: 'r1'"):
        store.record_consent([revoke()], reviews=[review("r2"), review("r1")], actor="vendor-feed")
    with pytest.raises(ContactPrefsError, match="new and distinct"):
        store.record_consent(reviews=[review("r3"), review("r3")], actor="vendor-feed")
    # Text PostgreSQL cannot store, named by field, never showing the address.
    with pytest.raises(StoreError, match="evidence contains a NUL") as raised:
        store.record_consent([revoke(), revoke(evidence="ST\x00P")], actor="vendor-feed")
    assert NUMBER not in str(raised.value)

    # A failure after the events and reviews were inserted, while the points are written.
    def fail(*args: object, **kwargs: object) -> None:
        raise OSError("disk unplugged")

    monkeypatch.setattr(ledgers, "write_floors", fail)
    with pytest.raises(OSError, match="unplugged"):
        store.record_consent([revoke()], reviews=[review("r4")], actor="vendor-feed")
    monkeypatch.undo()
    assert (store.dump(), store.reviews(), store.ledger(NUMBER)) == (before, queue, ())


def test_resolving_a_review_is_all_or_nothing(store: PostgresStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.record_consent(reviews=[review("r1")], actor="vendor-feed")
    before, queue = store.dump(), store.reviews()

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError("disk unplugged")

    monkeypatch.setattr(ledgers, "write_floors", fail)
    with pytest.raises(OSError, match="unplugged"):
        store.resolve_review("r1", revoked=True, actor="reviewer", note="", at=AT)
    monkeypatch.undo()
    assert (store.dump(), store.reviews(), store.ledger(NUMBER)) == (before, queue, ())
    assert store.resolve_review("r1", revoked=True, actor="reviewer", note="", at=AT).revoked is True


def test_a_load_is_all_or_nothing_with_its_revocations(store: PostgresStore, monkeypatch: pytest.MonkeyPatch) -> None:
    before = store.dump()

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError("disk unplugged")

    monkeypatch.setattr(ledgers, "write_floors", fail)
    with pytest.raises(OSError, match="unplugged"):
        store.load(Snapshot(persons=[Person(id="new")], contact_points=[attrs.evolve(HOME, revoked=True)]))
    monkeypatch.undo()
    assert (store.dump(), store.ledger(NUMBER)) == (before, ())


def test_events_and_policy_changes_are_never_changed_or_deleted(store: PostgresStore) -> None:
    store.record_consent([revoke()], actor="vendor-feed")
    store.set_consent_policy(ConsentPolicy(), actor="it", why="confirm the defaults")
    for statement in (
        "UPDATE {}.consent_events SET action = 'grant'",
        "DELETE FROM {}.consent_events",
        "TRUNCATE {}.consent_events",
        "UPDATE {}.policy_changes SET actor = 'someone else'",
        "DELETE FROM {}.policy_changes",
        "TRUNCATE {}.policy_changes",
    ):
        with pytest.raises(psycopg.errors.RaiseException, match="appended, never changed or deleted"):
            on(store, statement)
    assert len(store.ledger(NUMBER)) == 1 and len(store.policy_changes()) == 1


# --- persistence and migration ---------------------------------------------------


def test_everything_reads_back_equal_after_reopening(schema_url: str) -> None:
    def everything(store: PostgresStore) -> tuple[Any, ...]:
        ledgers = {a: (store.ledger(a), store.holders(a)) for a in (NUMBER, MAIL, "+12805550199")}
        return (store.dump(), store.reviews(), store.consent_policy(), store.policy_changes(), ledgers)

    with PostgresStore.open(schema_url) as store:
        store.load(DISTRICT)
        store.load(Snapshot(contact_points=[attrs.evolve(GB_CELL, revoked={Reason.FOOD_SERVICE})]))
        store.record_consent(
            [revoke(channel=Channel.KEY_PRESS, evidence="call 0091, key 9"), grant(MAIL)],
            reviews=[review("r1"), review("r2", MAIL, message="Bitte nicht mehr anrufen ☎")],
            actor="vendor-feed",
        )
        store.resolve_review("r2", revoked=True, actor="reviewer", note="German: stop calling", at=AT)
        store.set_consent_policy(
            ConsentPolicy(exempt={Reason.EMERGENCY}, holidays={DAY, datetime.date(2026, 12, 25)}),
            actor="superintendent",
            why="board decision",
        )
        saved = everything(store)
    with PostgresStore.open(schema_url) as store:
        assert everything(store) == saved
    assert len(saved[4][MAIL][0]) == 2 and saved[1][1].revoked is True
    assert saved[4]["+12805550199"][0][0].reasons == ReasonSet({Reason.FOOD_SERVICE})


def test_a_version_1_store_migrates_each_revoked_flag_into_a_revocation_before_the_ledger(
    schema_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:1])
    with PostgresStore.open(schema_url) as old:  # version 1: revoked is a flag
        flagged = {GA_CELL.key, GA_MAIL.key, GB_MAIL.key}
        insert = sql.SQL("INSERT INTO {}.contact_points VALUES (%s, %s, %s, %s, 0, 'default', %s)")
        for p in DISTRICT.contact_points:
            row = [p.owner_id, p.method.value, p.address, p.enabled.mask, p.key in flagged]
            old.connection.execute(insert.format(sql.Identifier(old.url.schema)), row)
    monkeypatch.undo()
    started = datetime.datetime.now(UTC) - datetime.timedelta(seconds=5)  # the server's clock, not ours

    with PostgresStore.open(schema_url) as store:
        assert on(store, "SELECT schema_version FROM {}.meta").fetchone() == (schema.latest(),)
        ((phone),) = store.ledger(NUMBER)
        ((mail),) = store.ledger(MAIL)
        for event in (phone, mail):
            assert (event.action, event.channel, event.evidence, event.recorded_by, event.reasons) == (
                ConsentAction.REVOKE, Channel.IMPORT, BEFORE_THE_LEDGER, "migration", ALL,
            )  # fmt: skip
            assert started <= event.received_at <= datetime.datetime.now(UTC) + datetime.timedelta(seconds=5)
        # The flag on one guardian's cell now revokes the number wherever it is saved.
        assert {key: revoked(store)[key] for key in SHARED} == dict.fromkeys(SHARED, ALL)
        assert revoked(store)[GB_MAIL.key] == ALL  # nothing saved: no ledger, the flag kept as a mask
        assert revoked(store)[GB_CELL.key] == NONE
        assert store.holders(NUMBER) == SHARED and store.holders(MAIL) == (GA_MAIL.key,)
        keys = dict(on(store, "SELECT owner_id || ' ' || method, ledger_key FROM {}.ledger_keys").fetchall())
        assert keys == {
            "ga cell_phone": NUMBER, "gb work_phone": NUMBER, "h1 household_phone": NUMBER,
            "gb cell_phone": "+12805550199", "ga email": MAIL,
        }  # fmt: skip
    with PostgresStore.open(schema_url) as store:  # migrated once
        assert len(store.ledger(NUMBER)) == 1


# --- the hot paths ----------------------------------------------------------------


def test_commits_write_no_index_but_the_points_primary_key(store: PostgresStore) -> None:
    # Every index on contact_points costs each commit an entry per point it writes: the ledger
    # keys live in a table of their own, which commits never touch.
    indexes = store.connection.execute(
        "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND tablename = 'contact_points'", [store.url.schema]
    )
    assert [name for (name,) in indexes.fetchall()] == ["contact_points_pkey"]


@pytest.mark.parametrize(
    ("statement", "arrays", "index"),
    [
        (ledgers._WRITE_FLOORS.format(join="JOIN"), [[NUMBER], [0]], "ledger_keys_by_key"),
        ("SELECT * FROM consent_events WHERE address = %s ORDER BY seq", [NUMBER], "consent_events_by_address"),
    ],
)
def test_the_points_of_an_address_and_its_ledger_are_found_by_index(
    store: PostgresStore, statement: str, arrays: list[Any], index: str
) -> None:
    with store.connection.transaction():
        store.connection.execute("SET LOCAL enable_seqscan = off")  # the planner scans a tiny table otherwise
        store.connection.execute(sql.SQL("SET LOCAL search_path = {}").format(sql.Identifier(store.url.schema)))
        explained = store.connection.execute(f"EXPLAIN {statement}", arrays).fetchall()
    assert index in " ".join(row[0] for row in explained)
