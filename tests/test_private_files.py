"""Files holding personal data are created readable by their owner only, and never written through a planted link.

Each test sets the usual umask, 022, around what it does: under it a file
created the ordinary way comes out 0644, readable by every local user.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from contact_prefs import ContactPoint, Method, Person, Snapshot
from contact_prefs.formats import write_csv
from contact_prefs.private_files import create_owner_only
from contact_prefs_sqlite import connection, schema
from contact_prefs_sqlite.store import SQLiteStore

DISTRICT = Snapshot(
    persons=[Person(id="g1", name="Dana")],
    contact_points=[ContactPoint(owner_id="g1", method=Method.CELL_PHONE, address="(201) 555-0100")],
)


@contextlib.contextmanager
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_a_new_store_and_its_journal_files_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "district.db"
    with usual_umask(), SQLiteStore.open(str(path)) as store:
        store.load(DISTRICT)  # the write-ahead log and its index exist while the store is open
        modes = {name: mode(tmp_path / name) for name in ("district.db", "district.db-wal", "district.db-shm")}
    assert modes == dict.fromkeys(modes, 0o600)


def test_the_rollback_journal_of_a_new_store_is_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The store is created in SQLite's rollback-journal mode and only then switched to WAL:
    # look at the -journal file while the first migration writes.
    path = tmp_path / "district.db"
    seen: list[int] = []
    migrate = schema.migrate

    def observed(*args: object, **kwargs: object) -> None:
        migrate(*args, **kwargs)  # type: ignore[arg-type]
        seen.append(mode(Path(f"{path}-journal")))

    monkeypatch.setattr(schema, "migrate", observed)
    with usual_umask():
        connection.connect(str(path)).close()
    assert seen == [0o600]


def test_an_existing_store_keeps_the_mode_its_owner_chose(tmp_path: Path) -> None:
    path = tmp_path / "district.db"
    SQLiteStore.open(str(path)).close()
    path.chmod(0o640)  # group access, chosen on purpose
    with usual_umask(), SQLiteStore.open(str(path)) as store:
        store.load(DISTRICT)
        assert mode(path) == 0o640
        assert mode(Path(f"{path}-wal")) == 0o640  # SQLite gives its journals the file's own mode


def test_every_exported_file_is_owner_only_even_one_that_replaces_a_readable_file(tmp_path: Path) -> None:
    old = tmp_path / "persons.csv"
    old.write_text("id,name\r\n", encoding="utf-8")
    old.chmod(0o644)
    with usual_umask():
        written = write_csv(DISTRICT, tmp_path)
    assert {path.name: mode(path) for path in tmp_path.iterdir()} == dict.fromkeys(written, 0o600)


@pytest.mark.parametrize("planted", [".persons.csv.partial", "persons.csv"])
def test_export_never_writes_through_a_link_it_did_not_make(tmp_path: Path, planted: str) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("not the exporter's to change\n", encoding="utf-8")
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / planted).symlink_to(victim)

    with usual_umask():
        written = write_csv(DISTRICT, folder)

    assert victim.read_text(encoding="utf-8") == "not the exporter's to change\n"
    assert "(201) 555-0100" in (folder / "contact_points.csv").read_text(encoding="utf-8")
    for name in written:
        assert not (folder / name).is_symlink() and mode(folder / name) == 0o600


def test_creating_an_owner_only_file_leaves_whatever_is_there(tmp_path: Path) -> None:
    existing, link, new = tmp_path / "existing", tmp_path / "link", tmp_path / "new"
    existing.write_text("kept", encoding="utf-8")
    existing.chmod(0o644)
    link.symlink_to(tmp_path / "nowhere")
    with usual_umask():
        assert [create_owner_only(str(path)) for path in (existing, link, new)] == [False, False, True]
    assert existing.read_text(encoding="utf-8") == "kept" and mode(existing) == 0o644
    assert not (tmp_path / "nowhere").exists()
    assert mode(new) == 0o600 and new.read_bytes() == b""
