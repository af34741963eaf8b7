"""From SQLite to PostgreSQL with nothing lost: through the store contract and through ``contact-prefs copy``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contact_prefs import ConsentPolicy, Method, Store, StoreError, open_store
from contact_prefs.cli import main
from contact_prefs.contents import StoreContents
from contact_prefs.governance import verify_history
from contact_prefs.testing.checks import CheckedStore, RawPoint
from contact_prefs.testing.district import DISTRICT
from contact_prefs.testing.transfer import assert_same, fill


def point_as_read(store: Store, owner_id: str, method: Method) -> RawPoint | None:
    found = [p for p in store.dump().contact_points if p.key == (owner_id, method)]
    return RawPoint.of(found[0]) if found else None


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/district.db"
    with CheckedStore(open_store(url), point_as_read) as store:
        fill(store)
    return url


def test_sqlite_to_postgres_and_back(sqlite_url: str, schema_url: str, tmp_path: Path) -> None:
    with open_store(sqlite_url) as source, open_store(schema_url) as target:
        sent = source.contents()
        target.receive(sent)
        assert_same(target.contents(), sent)
        assert target.batches() == source.batches()
        with open_store(f"sqlite:///{tmp_path}/back.db") as back:
            back.receive(target.contents())
            assert_same(back.contents(), sent)
        standing = sent.history[-1].batch_id  # the newest batch: its points are as it left them
        assert target.undo(standing, actor="principal").undoes == standing


def test_copy_from_sqlite_to_postgres_is_verified(
    sqlite_url: str, schema_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["copy", "--from", sqlite_url, "--to", schema_url, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verified"] is True and data["differences"] == []
    assert data["counts"]["history"] == 5
    with open_store(sqlite_url) as source, open_store(schema_url) as target:
        assert_same(target.contents(), source.contents())
        # The PostgreSQL store verifies its history with the head the SQLite one had.
        assert data["head"] == verify_history(source).head == verify_history(target).head
    assert main(["copy", "--from", sqlite_url, "--to", schema_url]) == 2  # it holds everything now
    assert "is not empty" in capsys.readouterr().err
    assert main(["copy", "--from", sqlite_url, "--to", schema_url, "--replace"]) == 0
    assert "Verified: 15 records, 5 batches" in capsys.readouterr().out


def test_restore_into_postgres(
    sqlite_url: str, new_schema: Callable[[], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = str(tmp_path / "night.zip")
    assert main(["--store", sqlite_url, "backup", backup]) == 0
    target = new_schema()
    assert main(["restore", backup, "--store", target]) == 0
    head = capsys.readouterr().out.splitlines()[-1].rsplit(" head ", 1)[1].rstrip(".")
    with open_store(sqlite_url) as source, open_store(target) as restored:
        assert_same(restored.contents(), source.contents())
        assert verify_history(restored, expect_head=head).intact
        assert head == verify_history(source).head


def refuses_changes(connect: Callable[[], Any], schema: str) -> bool:
    """Whether the schema's consent ledger, policy changes and chain (none empty) refuse UPDATE, DELETE and
    TRUNCATE."""
    import psycopg
    from psycopg import sql

    connection = connect()
    column = {"consent_events": "recorded_by", "policy_changes": "actor", "chain": "key"}
    for table in column:
        name = sql.Identifier(schema, table)
        assert connection.execute(sql.SQL("SELECT count(*) FROM {}").format(name)).fetchone()[0] > 0
        update = sql.SQL("UPDATE {} SET {} = {}").format(
            name, sql.Identifier(column[table]), sql.Identifier(column[table])
        )
        for statement in (update, sql.SQL("DELETE FROM {}").format(name), sql.SQL("TRUNCATE {}").format(name)):
            try:
                connection.execute(statement)
            except psycopg.errors.RaiseException:
                continue
            return False
    return True


def test_a_replacement_that_fails_half_way_leaves_the_store_as_it_was(
    sqlite_url: str, schema_url: str, connect: Callable[[], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from contact_prefs_postgres import transfer
    from contact_prefs_postgres.store import PostgresStore

    with open_store(sqlite_url) as source, open_store(schema_url) as target:
        sent = source.contents()
        target.load(DISTRICT)
        target.record_consent([sent.consent_events[0]], actor="vendor-feed")
        target.set_consent_policy(ConsentPolicy(region="GB"), actor="board", why="moved")
        before = target.contents()
        written = transfer.write

        def fails_after_writing(cursor: Any, contents: StoreContents) -> None:
            written(cursor, contents)
            cursor.execute("SELECT 1 / 0")

        monkeypatch.setattr(transfer, "write", fails_after_writing)
        with pytest.raises(StoreError, match="division by zero"):
            target.receive(sent, replace=True)
        assert_same(target.contents(), before)
        backend = getattr(target, "inner", target)
        assert isinstance(backend, PostgresStore)
        assert refuses_changes(connect, backend.url.schema)
        monkeypatch.setattr(transfer, "write", written)
        target.receive(sent, replace=True)
        assert_same(target.contents(), sent)
        assert refuses_changes(connect, backend.url.schema)
