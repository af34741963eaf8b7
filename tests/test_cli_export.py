"""``export`` never writes over what it should not: a folder that holds files, or from a store that is not there."""

from __future__ import annotations

from pathlib import Path

import pytest

from contact_prefs.formats import read_csv

from .test_cli import fails, ok

FILES = (
    "persons.csv",
    "household_members.csv",
    "enrollments.csv",
    "relationships.csv",
    "assignments.csv",
    "contact_points.csv",
)


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose default store holds a 200-student demo district."""
    folder = tmp_path_factory.mktemp("district")
    ok(folder, "demo", "--students", "200")
    return folder


def contents(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_export_refuses_a_folder_that_holds_files_unless_told(district: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    backup.mkdir()
    (backup / "persons.csv").write_text("id,name\nkept,Kept\n", encoding="utf-8")
    (backup / "notes.txt").write_text("last night's backup\n", encoding="utf-8")
    before = contents(backup)
    error = fails(district, "export", "csv", str(backup))
    assert f"the folder {str(backup)!r} is not empty" in error and "--overwrite" in error
    assert "nothing was written" in error
    assert contents(backup) == before  # untouched, and no staging file left behind
    out = ok(district, "export", "csv", str(backup), "--overwrite")
    assert "contact_points.csv" in out
    assert sorted(contents(backup)) == sorted([*FILES, "notes.txt"])
    assert (backup / "notes.txt").read_bytes() == before["notes.txt"]  # only the six files are replaced
    assert len(read_csv(backup).persons) > 200


def test_export_writes_into_a_new_or_empty_folder(district: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    ok(district, "export", "csv", str(empty))
    assert sorted(contents(empty)) == sorted(FILES)
    ok(district, "export", "csv", str(tmp_path / "new" / "folder"))
    assert contents(tmp_path / "new" / "folder") == contents(empty)


def test_export_refuses_a_sqlite_store_that_is_not_there(district: Path, tmp_path: Path) -> None:
    # A mistyped store URL must not become an empty store exported over a good backup.
    backup = tmp_path / "backup"
    ok(district, "export", "csv", str(backup))
    before = contents(backup)
    for url in ("sqlite:///typo.db", f"sqlite:///{tmp_path / 'typo.db'}"):
        for target in (backup, tmp_path / "fresh"):
            error = fails(tmp_path, "export", "csv", str(target), "--overwrite", store=url)
            assert "there is no SQLite store" in error and "typo.db" in error and "nothing was written" in error
    assert not (tmp_path / "typo.db").exists() and not (tmp_path / "fresh").exists()
    assert contents(backup) == before


def test_export_into_a_file_is_refused(district: Path, tmp_path: Path) -> None:
    (tmp_path / "file.csv").write_text("x\n", encoding="utf-8")
    assert "file.csv" in fails(district, "export", "csv", str(tmp_path / "file.csv"))
    assert (tmp_path / "file.csv").read_text(encoding="utf-8") == "x\n"
