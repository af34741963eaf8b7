"""The consent ledger in the SQLite store: stale imports, shared numbers, atomic writes, migration, persistence.

Where the memory store (the reference) is given the same calls, both must give the same results.
"""

from __future__ import annotations

import datetime
import logging
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
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
    plan,
)
from contact_prefs.consent import Channel, ConsentAction, ConsentEvent, ConsentPolicy, RevocationScope
from contact_prefs.errors import UnknownReviewError
from contact_prefs.ledger import BEFORE_THE_LEDGER, LOADED_AS_REVOKED, new_review
from contact_prefs_memory import MemoryStore
from contact_prefs_sqlite import ledgers, schema
from contact_prefs_sqlite.connection import connect
from contact_prefs_sqlite.store import SQLiteStore
from contact_prefs_sqlite.tables import TABLES

UTC = datetime.UTC
AT = datetime.datetime(2026, 12, 4, 16, 0, tzinfo=UTC)  # a Friday
DAY = datetime.date(2026, 11, 30)
NUMBER = "+12805550143"
MAIL = "pat@example.org"
ALL, NONE = ReasonSet.all(), ReasonSet()

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


@pytest.fixture
def path(tmp_path: Path) -> str:
    return str(tmp_path / "district.db")


@pytest.fixture
def store(path: str) -> Iterator[SQLiteStore]:
    with SQLiteStore.open(path) as store:
        store.load(DISTRICT)
        yield store


@pytest.fixture
def both(path: str) -> Iterator[tuple[SQLiteStore, MemoryStore]]:
    """The SQLite store and the reference, each with the district loaded."""
    with SQLiteStore.open(path) as sqlite, MemoryStore() as memory:
        assert sqlite.load(DISTRICT) == memory.load(DISTRICT)
        yield sqlite, memory


def same(stores: tuple[SQLiteStore, MemoryStore], call: Callable[[Store], Any]) -> Any:
    """``call`` on both stores: the same result, and the same records, ledgers and queue after it."""
    sqlite, memory = stores
    result = call(sqlite)
    assert result == call(memory)
    agree(stores)
    return result


def agree(stores: tuple[SQLiteStore, MemoryStore]) -> None:
    """Both stores hold the same records, ledgers, queue and policy."""
    sqlite, memory = stores
    assert sqlite.dump().sorted().collections() == memory.dump().sorted().collections()
    for address in (NUMBER, MAIL, "+12805550199"):
        assert sqlite.ledger(address) == memory.ledger(address)
        assert sqlite.holders(address) == memory.holders(address)
    assert sqlite.reviews() == memory.reviews()
    assert sqlite.consent_policy() == memory.consent_policy()


# --- loads ----------------------------------------------------------------------


def test_a_stale_file_never_clears_a_revocation_and_the_load_counts_the_points_kept_revoked(
    both: tuple[SQLiteStore, MemoryStore],
) -> None:
    same(both, lambda s: s.record_consent([revoke()], actor="vendor-feed"))
    sqlite, _ = both
    assert {key: revoked(sqlite)[key] for key in SHARED} == dict.fromkeys(SHARED, ALL)

    # An old backup: every point as it was before the revocation, not revoked.
    report = same(both, lambda s: s.load(Snapshot(contact_points=[GA_CELL, GB_WORK, GB_CELL]), actor="backup"))
    assert (report.kept_revoked, report.revocations) == (2, 0)
    assert {key: revoked(sqlite)[key] for key in SHARED} == dict.fromkeys(SHARED, ALL)
    assert revoked(sqlite)[GB_CELL.key] == NONE


def test_a_point_loaded_as_revoked_adds_one_revocation_to_its_address(store: SQLiteStore) -> None:
    report = store.load(Snapshot(contact_points=[attrs.evolve(GA_MAIL, revoked={Reason.GENERAL})]), actor="sis")
    # The revocation covers every reason unless the district says otherwise: more than the file said.
    assert (report.revocations, report.kept_revoked) == (1, 1)
    ((event),) = store.ledger(MAIL)
    assert (event.action, event.channel, event.recorded_by, event.evidence) == (
        ConsentAction.REVOKE, Channel.IMPORT, "sis", LOADED_AS_REVOKED,
    )  # fmt: skip
    assert event.reasons == ReasonSet({Reason.GENERAL}) and event.received_at.utcoffset() == datetime.timedelta(0)
    assert revoked(store)[GA_MAIL.key] == ALL
    store.load(Snapshot(contact_points=[attrs.evolve(GA_MAIL, revoked=True)]), actor="sis")
    assert len(store.ledger(MAIL)) == 1  # revoked already: nothing to add


def test_a_point_loaded_as_revoked_revokes_its_number_at_every_other_point_holding_it(store: SQLiteStore) -> None:
    # Only the household phone is in the file; the guardians' points hold the same number.
    store.load(Snapshot(contact_points=[attrs.evolve(HOME, revoked=True)]))
    assert [(e.action, e.evidence) for e in store.ledger(NUMBER)] == [(ConsentAction.REVOKE, LOADED_AS_REVOKED)]
    assert {key: revoked(store)[key] for key in SHARED} == dict.fromkeys(SHARED, ALL)
    assert revoked(store)[GB_CELL.key] == NONE


def test_a_load_reports_the_addresses_it_cannot_normalize_by_point_never_by_value(
    both: tuple[SQLiteStore, MemoryStore],
) -> None:
    odd = ContactPoint(owner_id="gb", method=Method.OTHER_PHONE, address="ext. 12", revoked=True)
    report = same(both, lambda s: s.load(Snapshot(contact_points=[odd, GB_CELL])))
    assert report.unnormalized == (odd.key,)
    assert [e.address for e in both[0].ledger("ext. 12")] == ["ext. 12"]  # kept under the address as saved
    assert both[0].holders("ext. 12") == (odd.key,)


def test_a_roster_import_moves_an_existing_points_address_without_its_consent_and_adds_new_points_whole(
    both: tuple[SQLiteStore, MemoryStore],
) -> None:
    moved = attrs.evolve(GB_CELL, address="(280) 555-0177", revoked=True)  # the roster's consent is not its to say
    new = ContactPoint(owner_id="gc", method=Method.CELL_PHONE, address="(280) 555-0188", revoked=True)
    report = same(both, lambda s: s.load(Snapshot(contact_points=[moved, new]), keep_preferences=True))
    assert (report.revocations, report.kept_revoked) == (1, 0)
    assert revoked(both[0])[moved.key] == NONE and revoked(both[0])[new.key] == ALL
    assert both[0].ledger("+12805550177") == () and len(both[0].ledger("+12805550188")) == 1


def test_a_point_with_nothing_saved_keeps_what_it_was_loaded_with(store: SQLiteStore) -> None:
    report = store.load(Snapshot(contact_points=[attrs.evolve(GB_MAIL, revoked=True)]))
    assert report.revocations == 0 and revoked(store)[GB_MAIL.key] == ALL
    assert store._connection.execute("SELECT count(*) FROM consent_events").fetchone() == (0,)


# --- shared numbers, reviews and the policy --------------------------------------------


def test_a_revocation_on_one_guardians_number_reaches_the_other_guardian_and_the_household(
    both: tuple[SQLiteStore, MemoryStore],
) -> None:
    sqlite, _ = both
    version = sqlite.dump().version
    same(both, lambda s: s.record_consent([revoke(reasons={Reason.GENERAL})], actor="front-office"))
    assert sqlite.dump().version != version  # a consent write is a write
    assert sqlite.holders(NUMBER) == SHARED
    assert {key: revoked(sqlite)[key] for key in SHARED} == dict.fromkeys(SHARED, ALL)
    same(both, lambda s: s.record_consent([grant()], actor="front-office"))  # only a GRANT lifts it
    assert {key: revoked(sqlite)[key] for key in SHARED} == dict.fromkeys(SHARED, NONE)
    assert [e.action for e in sqlite.ledger(NUMBER)] == [ConsentAction.REVOKE, ConsentAction.GRANT]


def test_a_waiting_message_holds_every_reason_until_a_reviewer_reads_it(both: tuple[SQLiteStore, MemoryStore]) -> None:
    sqlite, _ = both
    same(both, lambda s: s.record_consent(reviews=[review("r1"), review("r2", MAIL)], actor="vendor-feed"))
    assert {key: revoked(sqlite)[key] for key in SHARED} == dict.fromkeys(SHARED, ALL)
    assert [(r.review_id, r.waiting, r.due_on) for r in sqlite.reviews()] == [
        ("r1", True, datetime.date(2026, 12, 18)),
        ("r2", True, datetime.date(2026, 12, 18)),
    ]

    kept = same(both, lambda s: s.resolve_review("r1", revoked=False, actor="reviewer", note="a question", at=AT))
    assert (kept.revoked, kept.resolved_by, kept.note) == (False, "reviewer", "a question")
    assert {key: revoked(sqlite)[key] for key in SHARED} == dict.fromkeys(SHARED, NONE)
    assert sqlite.ledger(NUMBER) == ()

    later = AT + datetime.timedelta(days=3)
    read = same(both, lambda s: s.resolve_review("r2", revoked=True, actor="reviewer", note="", at=later))
    assert read.resolved_at == later and read.revoked is True
    ((event),) = sqlite.ledger(MAIL)
    assert (event.action, event.received_at, event.evidence) == (ConsentAction.REVOKE, AT, "please don't text me")
    assert revoked(sqlite)[GA_MAIL.key] == ALL


def test_resolving_an_unknown_or_resolved_review_is_refused_and_writes_nothing(store: SQLiteStore) -> None:
    store.record_consent(reviews=[review("r1")], actor="vendor-feed")
    store.resolve_review("r1", revoked=False, actor="reviewer", note="", at=AT)
    before, queue = store.dump(), store.reviews()
    with pytest.raises(UnknownReviewError, match="no review 'r9'"):
        store.resolve_review("r9", revoked=True, actor="reviewer", note="", at=AT)
    with pytest.raises(ContactPrefsError, match="resolved already"):
        store.resolve_review("r1", revoked=True, actor="someone else", note="", at=AT)
    assert (store.dump(), store.reviews(), store.ledger(NUMBER)) == (before, queue, ())


def test_a_review_id_that_looks_like_a_number_is_withheld_from_the_error(store: SQLiteStore) -> None:
    with pytest.raises(UnknownReviewError) as raised:
        store.resolve_review("280 555 0143", revoked=True, actor="reviewer", note="", at=AT)
    assert "0143" not in str(raised.value)


def test_the_exemption_and_the_scope_are_the_districts_policy_recorded_with_who_and_why(
    both: tuple[SQLiteStore, MemoryStore],
) -> None:
    sqlite, _ = both
    same(both, lambda s: s.record_consent([revoke(reasons={Reason.GENERAL})], actor="vendor-feed"))
    exempt = ConsentPolicy(exempt={Reason.EMERGENCY}, holidays={datetime.date(2026, 12, 25)})
    change = sqlite.set_consent_policy(exempt, actor="superintendent", why="board decision 2026-14")
    both[1].set_consent_policy(exempt, actor="superintendent", why="board decision 2026-14")
    assert (change.policy, change.actor, change.why) == (exempt, "superintendent", "board decision 2026-14")
    assert change.at.utcoffset() == datetime.timedelta(0)
    agree(both)
    assert revoked(sqlite)[GA_CELL.key] == ALL - {Reason.EMERGENCY}

    named = attrs.evolve(exempt, scope=RevocationScope.NAMED)
    sqlite.set_consent_policy(named, actor="superintendent", why="revoke-all postponed")
    both[1].set_consent_policy(named, actor="superintendent", why="revoke-all postponed")
    agree(both)
    assert revoked(sqlite)[GA_CELL.key] == ReasonSet({Reason.GENERAL})
    assert [c.policy for c in sqlite.policy_changes()] == [exempt, named]
    assert sqlite.policy_changes()[0] == change


def test_a_new_region_reads_every_number_anew(both: tuple[SQLiteStore, MemoryStore]) -> None:
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


def test_a_plan_made_before_a_revocation_conflicts_at_commit(store: SQLiteStore) -> None:
    spec = BatchSpec(
        mode=Mode.STUDENT_MESSENGER_CONTACTS, settings={Reason.ATTENDANCE: Setting.ON}, as_of=DAY, school_id="north"
    )
    changeset = plan(spec, store.snapshot(spec))
    assert GA_CELL.key in {u.key for u in changeset.point_updates()}
    store.record_consent([revoke()], actor="vendor-feed")
    before = store.dump()
    with pytest.raises(ConflictError):
        store.commit(changeset, actor="office")
    assert store.dump() == before and store.history() == ()


# --- atomicity -------------------------------------------------------------------


def test_recording_consent_is_all_or_nothing(store: SQLiteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.record_consent(reviews=[review("r1", MAIL)], actor="vendor-feed")
    before, queue = store.dump(), store.reviews()

    # A taken review id after valid events: nothing of the call is written.
    with pytest.raises(ContactPrefsError, match="review ids must be new and distinct; taken: 'r1'"):
        store.record_consent([revoke()], reviews=[review("r2"), review("r1")], actor="vendor-feed")
    with pytest.raises(ContactPrefsError, match="new and distinct"):
        store.record_consent(reviews=[review("r3"), review("r3")], actor="vendor-feed")

    # A failure after the events and reviews were inserted, while the points are written.
    def fail(*args: object) -> None:
        raise OSError("disk unplugged")

    monkeypatch.setattr(ledgers, "_write_floors", fail)
    with pytest.raises(OSError, match="unplugged"):
        store.record_consent([revoke()], reviews=[review("r4")], actor="vendor-feed")
    monkeypatch.undo()
    assert (store.dump(), store.reviews(), store.ledger(NUMBER)) == (before, queue, ())


def test_resolving_a_review_is_all_or_nothing(store: SQLiteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.record_consent(reviews=[review("r1")], actor="vendor-feed")
    before, queue = store.dump(), store.reviews()

    def fail(*args: object) -> None:
        raise OSError("disk unplugged")

    monkeypatch.setattr(ledgers, "_write_floors", fail)
    with pytest.raises(OSError, match="unplugged"):
        store.resolve_review("r1", revoked=True, actor="reviewer", note="", at=AT)
    monkeypatch.undo()
    assert (store.dump(), store.reviews(), store.ledger(NUMBER)) == (before, queue, ())
    assert store.resolve_review("r1", revoked=True, actor="reviewer", note="", at=AT).revoked is True


def test_events_and_policy_changes_are_never_changed_or_deleted(store: SQLiteStore) -> None:
    store.record_consent([revoke()], actor="vendor-feed")
    store.set_consent_policy(ConsentPolicy(), actor="it", why="confirm the defaults")
    connection = store._connection
    for statement in (
        "UPDATE consent_events SET action = 'grant'",
        "DELETE FROM consent_events",
        "UPDATE policy_changes SET actor = 'someone else'",
        "DELETE FROM policy_changes",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="appended, never changed or deleted"):
            connection.execute(statement)
    assert len(store.ledger(NUMBER)) == 1 and len(store.policy_changes()) == 1


# --- persistence and migration ---------------------------------------------------


def test_everything_reads_back_equal_after_reopening(path: str) -> None:
    with SQLiteStore.open(path) as store:
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
        saved = (
            store.dump(),
            store.reviews(),
            store.consent_policy(),
            store.policy_changes(),
            {a: (store.ledger(a), store.holders(a)) for a in (NUMBER, MAIL, "+12805550199")},
        )
    with SQLiteStore.open(path) as store:
        again = (
            store.dump(),
            store.reviews(),
            store.consent_policy(),
            store.policy_changes(),
            {a: (store.ledger(a), store.holders(a)) for a in (NUMBER, MAIL, "+12805550199")},
        )
    assert again == saved
    assert len(saved[4][MAIL][0]) == 2 and saved[1][1].revoked is True


def test_a_version_2_store_migrates_each_revoked_flag_into_a_revocation_before_the_ledger(tmp_path: Path) -> None:
    path = str(tmp_path / "district.db")
    connection = connect(path, migrations=schema.MIGRATIONS[:2])
    flagged = [attrs.evolve(point, revoked=True) for point in (GA_CELL, GA_MAIL, GB_MAIL)]
    table = TABLES["contact_points"]
    with connection:  # version 2: revoked is a flag
        rows = [(*table.to_row(p)[:-1], int(bool(p.revoked))) for p in [*flagged, GB_WORK, HOME, GB_CELL]]
        connection.executemany(table.upsert(), rows)
    connection.close()
    started = datetime.datetime.now(UTC)

    with SQLiteStore.open(path) as store:
        assert schema.user_version(store._connection) == len(schema.MIGRATIONS)
        ((phone),) = store.ledger(NUMBER)
        ((mail),) = store.ledger(MAIL)
        for event in (phone, mail):
            assert (event.action, event.channel, event.evidence, event.recorded_by, event.reasons) == (
                ConsentAction.REVOKE, Channel.IMPORT, BEFORE_THE_LEDGER, "migration", ALL,
            )  # fmt: skip
            assert started <= event.received_at <= datetime.datetime.now(UTC)
        # The flag on one guardian's cell now revokes the number wherever it is saved.
        assert {key: revoked(store)[key] for key in SHARED} == dict.fromkeys(SHARED, ALL)
        assert revoked(store)[GB_MAIL.key] == ALL  # nothing saved: no ledger, the flag kept as a mask
        assert revoked(store)[GB_CELL.key] == NONE
        assert store.holders(NUMBER) == SHARED and store.holders(MAIL) == (GA_MAIL.key,)
        keys = dict(store._connection.execute("SELECT owner_id || ' ' || method, ledger_key FROM contact_points"))
        assert keys == {
            "ga cell_phone": NUMBER, "gb work_phone": NUMBER, "h1 household_phone": NUMBER,
            "gb cell_phone": "+12805550199", "ga email": MAIL, "gb email": None,
        }  # fmt: skip
    with SQLiteStore.open(path) as store:  # migrated once
        assert len(store.ledger(NUMBER)) == 1


# --- the hot paths and privacy ----------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "parameters"),
    [
        (ledgers._SET_FLOOR, (0, NUMBER)),
        ("SELECT owner_id, method FROM contact_points WHERE ledger_key = ? ORDER BY owner_id, method", (NUMBER,)),
    ],
)
def test_every_point_holding_an_address_is_found_by_the_ledger_key_index(
    store: SQLiteStore, statement: str, parameters: tuple[object, ...]
) -> None:
    plan_rows = store._connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
    assert "INDEX contact_points_by_ledger_key (ledger_key=?)" in " ".join(row[-1] for row in plan_rows)


def test_the_ledgers_of_a_few_keys_are_read_by_the_address_index(store: SQLiteStore) -> None:
    plan_rows = store._connection.execute(f"EXPLAIN QUERY PLAN {ledgers._LEDGERS_OF}", ('["x"]',))
    assert "INDEX consent_events_by_address (address=?)" in " ".join(row[-1] for row in plan_rows)


def test_ledgers_read_the_same_by_key_or_by_reading_every_event(store: SQLiteStore) -> None:
    store.record_consent([revoke(), grant(MAIL), revoke(MAIL, hours=2), revoke("+12805550199")], actor="vendor-feed")
    connection = store._connection
    few = ledgers.ledgers(connection, {MAIL, "+19995550100"})  # fewer keys than events: by key
    many = ledgers.ledgers(connection, {MAIL, *(f"+1999555010{i}" for i in range(5))})  # more: every event
    assert few == many == {MAIL: [grant(MAIL), revoke(MAIL, hours=2)]}
    assert ledgers.ledgers(connection) == {
        NUMBER: [revoke()], MAIL: [grant(MAIL), revoke(MAIL, hours=2)], "+12805550199": [revoke("+12805550199")]
    }


def test_consent_writes_are_logged_without_an_address(store: SQLiteStore, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="contact_prefs_sqlite"):
        store.record_consent([revoke()], reviews=[review("r1", MAIL)], actor="vendor-feed")
        store.resolve_review("r1", revoked=True, actor="reviewer", note="", at=AT)
        store.load(Snapshot(contact_points=[attrs.evolve(GB_CELL, revoked=True)]))
    assert "vendor-feed" in caplog.text and "r1" in caplog.text
    for text in ("555", "0143", "0199", "example.org", NUMBER, MAIL):
        assert text not in caplog.text
