"""contact-prefs backup, restore and copy: everything a store holds, into a file and back, or into another
store, verified; refusals that leave the target as it was."""

from __future__ import annotations

import json
import stat
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from contact_prefs import Method, Store, open_store
from contact_prefs.chain import ChainReport
from contact_prefs.cli import main
from contact_prefs.contents import StoreContents, differences
from contact_prefs.governance import verify_history
from contact_prefs.testing.checks import CheckedStore, RawPoint
from contact_prefs.testing.transfer import assert_same, fill


def sqlite_point(store: Store, owner_id: str, method: Method) -> RawPoint | None:
    """The kit's side channel is not what these tests are about: the point as the store reads it."""
    found = [p for p in store.dump().contact_points if p.key == (owner_id, method)]
    return RawPoint.of(found[0]) if found else None


def contents_of(url: str) -> StoreContents:
    with open_store(url) as store:
        return store.contents()


@pytest.fixture
def district(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A SQLite store in the test's folder holding one of everything; the folder is the current one."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONTACT_PREFS_STORE", raising=False)
    url = "sqlite:///district.db"
    with CheckedStore(open_store(url), sqlite_point) as store:
        fill(store)
    yield url


def head_of(url: str) -> str:
    """The head ``verify`` finds in the store at ``url`` (which must verify)."""
    with open_store(url) as store:
        report = verify_history(store)
    assert report.intact, report.problem
    return report.head


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_backup_then_restore_gives_back_everything(district: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--store", district, "backup", "night.zip")
    assert (code, err) == (0, "")
    assert out.startswith(f"Backed up {district} to night.zip:\n")
    links = len(contents_of(district).chain)
    listed = [line.strip().rsplit(maxsplit=1) for line in out.splitlines()[1:9]]
    assert listed == [
        ["Records", "15"],
        ["Batches", "5"],
        ["Consent events", "2"],
        ["Reviews", "2"],
        ["Policy changes", "1"],
        ["Proposals", "2"],
        ["Schedules", "2"],
        ["Chain links", str(links)],
    ]
    head = head_of(district)
    assert out.splitlines()[9] == f"Head of the history: {head}"
    digest = out.splitlines()[-1]
    assert digest.startswith("SHA-256: ") and digest.endswith(" bytes)")
    code, out, err = run(capsys, "restore", "night.zip", "--store", "sqlite:///restored.db")
    assert (code, err) == (0, "")
    assert out.startswith("Restored night.zip into sqlite:///restored.db:\n")
    assert out.endswith(
        "Verified: 15 records, 5 batches, 2 consent events, 2 reviews, 1 policy change, 2 proposals, 2 schedules, "
        f"{links} chain links and the consent policy, identical in both stores; the history verifies, head {head}.\n"
    )
    assert_same(contents_of("sqlite:///restored.db"), contents_of(district))
    # What verify says of the restored store: the head the backup printed.
    code, out, _ = run(capsys, "verify", "--store", "sqlite:///restored.db", "--expect-head", head)
    assert code == 0 and out.startswith(f"The history is intact: {links} entries, head {head}")


def test_the_backup_file_is_for_its_owner_only(district: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--store", district, "backup", "night.zip")[0] == 0
    assert stat.S_IMODE(Path("night.zip").stat().st_mode) == 0o600
    with zipfile.ZipFile("night.zip") as archive:
        assert archive.namelist()[-1] == "manifest.json"


def test_backup_json(district: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "backup", "night.zip", "--store", district, "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert set(data) == {"file", "sha256", "size", "store", "created_at", "head", "counts", "record_counts"}
    assert data["head"] == head_of(district)
    assert data["counts"] == {
        "records": 15,
        "history": 5,
        "consent_events": 2,
        "reviews": 2,
        "consent_policy": 1,
        "policy_changes": 1,
        "proposals": 2,
        "schedules": 2,
        "chain": len(contents_of(district).chain),
    }
    assert data["record_counts"]["contact_points"] == 7
    assert (data["file"], data["store"], data["size"]) == ("night.zip", district, Path("night.zip").stat().st_size)


def test_backup_keeps_an_existing_file(district: str, capsys: pytest.CaptureFixture[str]) -> None:
    Path("night.zip").write_text("yesterday")
    code, _, err = run(capsys, "--store", district, "backup", "night.zip")
    assert code == 2 and "'night.zip' exists already" in err and "--overwrite" in err
    assert Path("night.zip").read_text() == "yesterday"
    assert run(capsys, "--store", district, "backup", "night.zip", "--overwrite")[0] == 0
    assert zipfile.is_zipfile("night.zip")


def test_backup_of_a_mistyped_store_creates_nothing(district: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--store", "sqlite:///distrcit.db", "backup", "night.zip")
    assert code == 2 and "there is no SQLite store" in err
    assert not Path("distrcit.db").exists() and not Path("night.zip").exists()


def test_backup_of_an_empty_store_is_refused(district: str, capsys: pytest.CaptureFixture[str]) -> None:
    open_store("sqlite:///empty.db").close()
    code, _, err = run(capsys, "--store", "sqlite:///empty.db", "backup", "night.zip")
    assert code == 2 and "holds nothing" in err
    assert not Path("night.zip").exists()


def test_restore_into_a_store_that_holds_anything_is_refused(district: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--store", district, "backup", "night.zip")[0] == 0
    target = "sqlite:///target.db"
    with open_store(target) as store:
        store.load(contents_of(district).records)
        before = store.contents()
    code, out, err = run(capsys, "restore", "night.zip", "--store", target)
    assert (code, out) == (2, "")
    assert "is not empty: it holds 15 records" in err and "--replace" in err
    assert differences(contents_of(target), before) == []
    code, out, _ = run(capsys, "restore", "night.zip", "--store", target, "--replace", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["verified"] is True and data["differences"] == []
    assert (data["counts"]["history"], data["head"]) == (5, head_of(district))
    assert_same(contents_of(target), contents_of(district))


def _altered(members: dict[str, bytes]) -> None:
    members["records.jsonl"] = members["records.jsonl"].replace(b"north", b"south")


def _truncated(members: dict[str, bytes]) -> None:
    members["history.jsonl"] = members["history.jsonl"][:-40]


def _newer(members: dict[str, bytes]) -> None:
    manifest = json.loads(members["manifest.json"])
    manifest["version"] = 3
    members["manifest.json"] = json.dumps(manifest).encode()


@pytest.mark.parametrize(
    ("damage", "refusal"),
    [
        (_altered, "night.zip, member records.jsonl: does not match its SHA-256"),
        (_truncated, "night.zip, member history.jsonl: holds "),
        (_newer, "night.zip, member manifest.json: names version 3 of the format"),
    ],
)
def test_restore_checks_the_backup_before_it_opens_the_store(
    damage: Callable[[dict[str, bytes]], None], refusal: str, district: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "--store", district, "backup", "night.zip")[0] == 0
    with zipfile.ZipFile("night.zip") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    damage(members)
    with zipfile.ZipFile("night.zip", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    code, out, err = run(capsys, "restore", "night.zip", "--store", "sqlite:///target.db")
    assert (code, out) == (2, "")
    assert refusal in err
    assert not Path("target.db").exists()


def test_restore_needs_a_named_store(district: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--store", district, "backup", "night.zip")[0] == 0
    code, _, err = run(capsys, "restore", "night.zip")
    assert code == 2 and "--store URL" in err


def test_copy_between_two_sqlite_files_is_verified(district: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "copy", "--from", district, "--to", "sqlite:///copy.db")
    assert (code, err) == (0, "")
    assert out.startswith(f"Copied {district} to sqlite:///copy.db:\n")
    head = head_of(district)
    assert "Verified: 15 records, 5 batches" in out
    assert out.endswith(f"identical in both stores; the history verifies, head {head}.\n")
    assert_same(contents_of("sqlite:///copy.db"), contents_of(district))
    assert head_of("sqlite:///copy.db") == head
    code, _, err = run(capsys, "copy", "--from", district, "--to", "sqlite:///copy.db")
    assert code == 2 and "is not empty" in err
    code, out, _ = run(capsys, "copy", "--from", district, "--to", "sqlite:///copy.db", "--replace", "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert data == {
        "from": district,
        "to": "sqlite:///copy.db",
        "verified": True,
        "differences": [],
        "head": head,
        "counts": contents_of(district).counts(),
    }


def test_copy_says_when_the_stores_differ(
    district: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A target that reads back otherwise than it was written (here: made to): exit 1, saying where.
    monkeypatch.setattr("contact_prefs.cli_backup.differences", lambda a, b: ["history (entry 2 of 3 differs)"])
    code, out, _ = run(capsys, "copy", "--from", district, "--to", "sqlite:///copy.db")
    assert code == 1
    assert out.splitlines()[-1] == "Verification FAILED: the stores differ in history (entry 2 of 3 differs)"


@pytest.mark.parametrize(
    ("report", "said"),
    [
        (
            ChainReport(head="a" * 64, links=3, problem="batch b1, chained at position 1, was changed", position=1),
            "the history does not verify (batch b1, chained at position 1, was changed)",
        ),
        (ChainReport(head="a" * 64, links=3), f"the history's head is {'a' * 64}, not "),
    ],
)
def test_copy_says_when_the_copied_history_does_not_verify(
    report: ChainReport, said: str, district: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A target whose chain does not verify, or ends at another head (here: made to): exit 1, saying so.
    monkeypatch.setattr("contact_prefs.cli_backup.verify_history", lambda store: report)
    code, out, _ = run(capsys, "copy", "--from", district, "--to", "sqlite:///copy.db")
    assert code == 1
    assert out.splitlines()[-1].startswith(f"Verification FAILED: the stores differ in {said}")
    assert run(capsys, "--store", district, "backup", "night.zip")[0] == 0
    code, out, _ = run(capsys, "restore", "night.zip", "--store", "sqlite:///other.db", "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["verified"] is False and data["differences"][0].startswith(said)


def test_copy_refuses_a_mistyped_source_and_one_store_twice(district: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "copy", "--from", "sqlite:///distrcit.db", "--to", "sqlite:///copy.db")
    assert code == 2 and "argument --from: there is no SQLite store" in err
    assert not Path("copy.db").exists() and not Path("distrcit.db").exists()
    code, _, err = run(capsys, "copy", "--from", district, "--to", district)
    assert code == 2 and "the same store" in err
