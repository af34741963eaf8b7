"""SQLite: receive() is one transaction, and the consent tables and the chain stay append-only around a
replacement."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from contact_prefs import ConsentPolicy, Method, Store, StoreError, open_store
from contact_prefs.contents import StoreContents
from contact_prefs.testing.checks import CheckedStore, RawPoint
from contact_prefs.testing.district import DISTRICT
from contact_prefs.testing.transfer import assert_same, fill


def point_as_read(store: Store, owner_id: str, method: Method) -> RawPoint | None:
    found = [p for p in store.dump().contact_points if p.key == (owner_id, method)]
    return RawPoint.of(found[0]) if found else None


@pytest.fixture
def sent(tmp_path: Path) -> StoreContents:
    with CheckedStore(open_store(f"sqlite:///{tmp_path}/source.db"), point_as_read) as source:
        fill(source)
        return source.contents()


def refuses_changes(path: Path) -> bool:
    """Whether the file's consent ledger, policy changes and chain (none empty) refuse an UPDATE and a DELETE."""
    with sqlite3.connect(path) as db:
        for table in ("consent_events", "policy_changes", "chain"):
            assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0, f"{table} is empty"
        for statement in (
            "UPDATE consent_events SET evidence = ''",
            "DELETE FROM consent_events",
            "UPDATE policy_changes SET why = ''",
            "DELETE FROM policy_changes",
            "UPDATE chain SET key = ''",
            "DELETE FROM chain",
        ):
            try:
                db.execute(statement)
            except sqlite3.IntegrityError:
                continue
            return False
    return True


def test_a_replacement_that_fails_half_way_leaves_the_store_as_it_was(
    sent: StoreContents, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "target.db"
    with open_store(f"sqlite:///{path}") as target:
        target.load(DISTRICT)
        target.record_consent([sent.consent_events[0]], actor="vendor-feed")
        target.set_consent_policy(ConsentPolicy(region="GB"), actor="board", why="moved")
        before = target.contents()
        from contact_prefs_sqlite import transfer

        written = transfer.write

        def fails_after_writing(connection: sqlite3.Connection, contents: StoreContents) -> None:
            written(connection, contents)
            raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(transfer, "write", fails_after_writing)
        with pytest.raises(StoreError, match="disk I/O error"):
            target.receive(sent, replace=True)
        assert_same(target.contents(), before)
    assert refuses_changes(path)


def test_the_ledger_is_append_only_after_a_replacement(sent: StoreContents, tmp_path: Path) -> None:
    path = tmp_path / "target.db"
    with open_store(f"sqlite:///{path}") as target:
        target.load(DISTRICT)
        target.receive(sent, replace=True)
        assert_same(target.contents(), sent)
    assert refuses_changes(path)
