"""The store's schema on the server: created on first use, migrated forward, a newer one refused."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from contact_prefs import ContactPoint, Method, Person, Snapshot, StoreError, open_store


def schema_of(url: str) -> str:
    return url.rpartition("schema=")[2]


def schema_version(connection: Any, schema: str) -> int:
    from psycopg import sql

    row = connection.execute(sql.SQL("SELECT schema_version FROM {}.meta").format(sql.Identifier(schema))).fetchone()
    return int(row[0])


def test_first_use_creates_the_schema_at_the_latest_version(schema_url: str, connect: Callable[[], Any]) -> None:
    from contact_prefs_postgres import schema

    with open_store(schema_url) as store:
        assert store.dump() == Snapshot(version=store.dump().version)
    assert schema_version(connect(), schema_of(schema_url)) == schema.latest()


def test_stores_in_two_schemas_of_one_database_are_apart(new_schema: Callable[[], str]) -> None:
    with open_store(new_schema()) as one, open_store(new_schema()) as other:
        one.load(Snapshot(persons=[Person(id="p1")]))
        assert other.dump().persons == ()


def test_any_schema_name_works(new_schema: Callable[[], str]) -> None:
    url = new_schema().replace("cp_test_", 'cp test "quoted" \';--_')
    try:
        with open_store(url) as store:
            store.load(Snapshot(persons=[Person(id="p1")]))
        with open_store(url) as reopened:
            assert reopened.dump().persons == (Person(id="p1"),)
    finally:
        from psycopg import sql

        with open_store(url) as store:
            store.connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema_of(url))))


def test_reopening_keeps_the_data(schema_url: str) -> None:
    point = ContactPoint(owner_id="g1", method=Method.EMAIL, address="a@example.org")
    with open_store(schema_url) as store:
        store.load(Snapshot(contact_points=[point]))
        version = store.dump().version
    with open_store(schema_url) as reopened:
        assert reopened.dump() == Snapshot(contact_points=[point], version=version)


def test_stores_opened_at_once_on_a_new_schema_all_work(schema_url: str) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        stores = list(pool.map(lambda _: open_store(schema_url), range(4)))
    for n, store in enumerate(stores):
        store.load(Snapshot(persons=[Person(id=f"p{n}")]))
    assert len(stores[0].dump().persons) == 4
    for store in stores:
        store.close()


def test_an_older_schema_is_migrated_forward_keeping_its_data(
    schema_url: str, connect: Callable[[], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from contact_prefs_postgres import schema

    with open_store(schema_url) as store:
        store.load(Snapshot(persons=[Person(id="p1", name="Pat")]))
    later = "ALTER TABLE persons ADD COLUMN nickname text NOT NULL DEFAULT ''"
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, later))

    with open_store(schema_url) as migrated:
        assert migrated.dump().persons == (Person(id="p1", name="Pat"),)
    admin = connect()
    assert schema_version(admin, schema_of(schema_url)) == schema.latest() == len(schema.MIGRATIONS)
    from psycopg import sql

    nickname = sql.SQL("SELECT nickname FROM {}.persons").format(sql.Identifier(schema_of(schema_url)))
    assert admin.execute(nickname).fetchall() == [("",)]


def test_a_newer_schema_is_refused_and_left_alone(schema_url: str, connect: Callable[[], Any]) -> None:
    from psycopg import sql

    from contact_prefs_postgres import schema

    with open_store(schema_url) as store:
        store.load(Snapshot(persons=[Person(id="p1")]))
    admin, name = connect(), schema_of(schema_url)
    admin.execute(sql.SQL("UPDATE {}.meta SET schema_version = %s").format(sql.Identifier(name)), [schema.latest() + 1])

    with pytest.raises(StoreError, match=f"schema version {schema.latest() + 1}, newer") as raised:
        open_store(schema_url)
    assert "upgrade contact-prefs" in str(raised.value)
    assert schema_version(admin, name) == schema.latest() + 1


def test_a_schema_holding_other_tables_is_a_clear_error(schema_url: str, connect: Callable[[], Any]) -> None:
    from psycopg import sql

    name = sql.Identifier(schema_of(schema_url))
    admin = connect()
    admin.execute(sql.SQL("CREATE SCHEMA {}").format(name))
    admin.execute(sql.SQL("CREATE TABLE {}.persons (x int)").format(name))

    with pytest.raises(StoreError, match=r"cannot prepare the store at .*persons.* already exists"):
        open_store(schema_url)
    assert admin.execute(sql.SQL("SELECT count(*) FROM {}.persons").format(name)).fetchone() == (0,)


def test_the_demo_mark_outlives_the_connection_and_a_version_2_store_migrates_unmarked(
    schema_url: str, new_schema: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from contact_prefs_postgres import schema

    with open_store(schema_url) as store:
        store.load(Snapshot(persons=[Person(id="p1")]), demo=True)
    with open_store(schema_url) as reopened:
        assert reopened.holds_demo() is True
    older = new_schema()
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:2])
    with open_store(older) as store:  # version 2 has no mark: demo data loaded then is not known as such
        store.load(Snapshot(persons=[Person(id="p1")]))
    monkeypatch.undo()
    with open_store(older) as migrated:
        assert migrated.holds_demo() is False
        migrated.load(Snapshot(), demo=True)
        assert migrated.holds_demo() is True
