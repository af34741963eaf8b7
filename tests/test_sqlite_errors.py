"""Files the SQLite store cannot use are refused with a clear StoreError, and nothing is written to them.

Root ignores file permissions, and CI runs as root: the permission tests run
their check in a forked child that first becomes the unprivileged user
``nobody`` when the test runs as root, so the file system really refuses.
That child may find the checkout, its virtualenv, even Python's own library
closed to it (a clone in a folder made by ``mktemp -d``, or in root's home),
so it uses only what the parent has already loaded.
"""

from __future__ import annotations

import importlib.machinery
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from contact_prefs import ContactPrefsError, Person, Plugins, Snapshot, StoreError, open_store
from contact_prefs_sqlite import schema
from contact_prefs_sqlite.connection import connect
from contact_prefs_sqlite.store import SQLiteStore

NOBODY = 65534


def unprivileged(action: Callable[[], object]) -> str:
    """Run ``action`` in a forked child without root's powers; what it raised, as ``"Class: message"``.

    Returns ``"no error"`` when nothing was raised.  ``action`` may use only
    what is loaded before the fork: the child can import nothing more and
    finds no entry points (see :func:`forget_the_installation`), so load the
    store plugins in the parent (``Plugins.load()``) rather than call
    ``open_store`` in the child.
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report through the pipe, never return into pytest
        try:
            os.close(read)
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            forget_the_installation()
            try:
                action()
                result = "no error"
            except ContactPrefsError as error:
                result = f"{type(error).__name__}: {error}"
            except BaseException as error:
                result = f"unexpected {type(error).__name__}: {error}"
            os.write(write, result.encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        result = pipe.read()
    os.waitpid(pid, 0)
    return result


def forget_the_installation() -> None:
    """Leave this process only the modules it has loaded: no import from disk, no entry point.

    An unprivileged child cannot read a checkout or Python installed in a
    folder only root may enter; by reading nothing from disk everywhere, a
    test that would need to fails wherever the checkout is, not only there.
    """
    sys.path.clear()
    sys.path_importer_cache.clear()
    sys.meta_path[:] = [
        finder
        for finder in sys.meta_path
        if finder in (importlib.machinery.BuiltinImporter, importlib.machinery.FrozenImporter)
    ]


@pytest.fixture
def folder() -> Iterator[Path]:
    """A folder anyone may enter and write (pytest's own temporary folders are root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="contact-prefs-"))
    path.chmod(0o777)
    yield path
    for inner in path.rglob("*"):
        if inner.is_dir():
            inner.chmod(0o777)
    shutil.rmtree(path)


def stored_district(path: Path) -> bytes:
    """A store file at ``path`` with one person; its bytes (the store is closed, so the file is whole)."""
    with SQLiteStore.open(str(path)) as store:
        store.load(Snapshot(persons=[Person(id="p1", name="Kept")]))
    return path.read_bytes()


def siblings(path: Path) -> set[str]:
    return {p.name for p in path.parent.iterdir()}


def test_a_read_only_file_is_refused_untouched(folder: Path) -> None:
    path = folder / "district.db"
    content = stored_district(path)
    path.chmod(0o444)

    result = unprivileged(lambda: SQLiteStore.open(str(path)))

    assert result.startswith("StoreError: "), result
    assert "read-only" in result and str(path) in result
    assert path.read_bytes() == content
    assert siblings(path) == {"district.db"}, "journal files were created next to a read-only store"


def test_a_new_file_in_an_unwritable_folder_is_refused_and_not_created(folder: Path) -> None:
    locked = folder / "locked"
    locked.mkdir()
    locked.chmod(0o555)

    plugins = Plugins.load()  # here: the child cannot look the store plugins up
    result = unprivileged(lambda: plugins.open_store(f"sqlite:///{locked}/district.db"))

    assert result.startswith("StoreError: "), result
    assert "not writable" in result and str(locked) in result
    assert list(locked.iterdir()) == []


def test_a_writable_file_in_an_unwritable_folder_is_refused_untouched(folder: Path) -> None:
    # SQLite keeps its write-ahead log next to the file: it could not commit there.
    locked = folder / "locked"
    locked.mkdir()
    path = locked / "district.db"
    content = stored_district(path)
    path.chmod(0o666)
    locked.chmod(0o555)

    result = unprivileged(lambda: SQLiteStore.open(str(path)))

    assert result.startswith("StoreError: "), result
    assert "not writable" in result
    assert path.read_bytes() == content
    assert siblings(path) == {"district.db"}


def test_the_permission_checks_let_a_writable_file_through(folder: Path) -> None:
    # The control for the tests above: the same child, a folder and file it may write.
    path = folder / "district.db"
    stored_district(path)
    path.chmod(0o666)
    assert unprivileged(lambda: SQLiteStore.open(str(path)).close()) == "no error"


def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    content = b"Guardians to call back: see the paper list.\n" * 200
    path.write_bytes(content)

    with pytest.raises(StoreError, match="not a SQLite database") as raised:
        SQLiteStore.open(str(path))

    assert str(path) in str(raised.value)
    assert path.read_bytes() == content
    assert siblings(path) == {"notes.db"}


def test_a_database_of_another_application_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
        connection.execute("INSERT INTO notes VALUES ('keep me')")
    connection.close()
    content = path.read_bytes()

    with pytest.raises(StoreError, match="another application"):
        SQLiteStore.open(str(path))

    assert path.read_bytes() == content


def test_a_newer_schema_version_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "district.db"
    stored_district(path)
    newer = len(schema.MIGRATIONS) + 1
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA user_version = {newer}")
    connection.close()
    content = path.read_bytes()

    with pytest.raises(StoreError) as raised:
        SQLiteStore.open(str(path))

    message = str(raised.value)
    assert f"schema version {newer}" in message and "upgrade contact-prefs" in message
    assert path.read_bytes() == content


def test_a_missing_folder_or_a_folder_instead_of_a_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        SQLiteStore.open(str(tmp_path / "missing" / "district.db"))
    with pytest.raises(StoreError, match="is a folder"):
        SQLiteStore.open(str(tmp_path))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("url", ["sqlite://host/district.db", "sqlite:///", "sqlite://relative.db"])
def test_a_malformed_url_is_refused_with_the_forms_that_work(url: str) -> None:
    with pytest.raises(StoreError, match="three slashes") as raised:
        open_store(url)
    assert repr(url) in str(raised.value)


def test_a_closed_store_refuses_work_and_closes_twice_harmlessly(tmp_path: Path) -> None:
    store = SQLiteStore.open(str(tmp_path / "district.db"))
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.dump()


# --- migrations -------------------------------------------------------------------------------------


def test_a_new_file_is_created_at_the_newest_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "district.db"
    SQLiteStore.open(str(path)).close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone() == (len(schema.MIGRATIONS),)
        assert connection.execute("PRAGMA application_id").fetchone() == (schema.APPLICATION_ID,)
    connection.close()


def test_an_empty_file_becomes_a_store(tmp_path: Path) -> None:
    path = tmp_path / "district.db"
    path.touch()  # a version-0 database with nothing in it
    with SQLiteStore.open(str(path)) as store:
        store.load(Snapshot(persons=[Person(id="p1")]))
    with SQLiteStore.open(str(path)) as store:
        assert store.dump().persons == (Person(id="p1"),)


# A later schema version, for the tests: what a real next step would look like.
NEXT_STEP = ("ALTER TABLE persons ADD COLUMN preferred_language TEXT NOT NULL DEFAULT ''",)


def test_an_older_database_is_migrated_forward_on_open_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "district.db"
    stored_district(path)

    connect(str(path), migrations=[*schema.MIGRATIONS, NEXT_STEP]).close()

    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone() == (len(schema.MIGRATIONS) + 1,)
        assert connection.execute("SELECT id, name, preferred_language FROM persons").fetchall() == [("p1", "Kept", "")]
    connection.close()
    # And this version of the code now refuses the migrated file.
    with pytest.raises(StoreError, match="newer than"):
        SQLiteStore.open(str(path))


def test_a_failing_migration_step_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "district.db"
    stored_district(path)
    broken = ("CREATE TABLE half_done (id TEXT)", "ALTER TABLE no_such_table ADD COLUMN x TEXT")

    with pytest.raises(StoreError, match="no_such_table"):
        connect(str(path), migrations=[*schema.MIGRATIONS, broken])

    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone() == (len(schema.MIGRATIONS),)
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
    connection.close()
    assert "half_done" not in tables
    with SQLiteStore.open(str(path)) as store:
        assert store.dump().persons == (Person(id="p1", name="Kept"),)


@pytest.mark.parametrize("attempt", range(10))
def test_connections_creating_one_file_at_once_all_open_it_and_migrate_it_once(tmp_path: Path, attempt: int) -> None:
    path = str(tmp_path / "district.db")
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_and_close() -> None:
        start.wait()
        try:
            SQLiteStore.open(path).close()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=open_and_close) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM state").fetchone() == (1,)
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    connection.close()
