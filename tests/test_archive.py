"""The backup archive: what it holds reads back the same, and a damaged, altered or foreign one is refused
before anything is decoded, naming the member, never repeating an address."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import stat
import zipfile
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contact_prefs import Method, Reason, Snapshot, Store, open_store
from contact_prefs.consent import ConsentEvent
from contact_prefs.contents import StoreContents, differences
from contact_prefs.formats.archive import MANIFEST, ArchiveError, Source, read_archive, write_archive
from contact_prefs.proposals import Approval
from contact_prefs.testing.checks import CheckedStore, RawPoint
from contact_prefs.testing.consent_data import consent_events
from contact_prefs.testing.district import CROWDED_DISTRICTS
from contact_prefs.testing.profiles import examples
from contact_prefs.testing.transfer import assert_same, fill
from contact_prefs_memory import MemoryStore

SOURCE = Source(store="memory://", backend="memory")
ADDRESS = "pat@example.org"


def memory_point(store: Store, owner_id: str, method: Method) -> RawPoint | None:
    backend = getattr(store, "inner", store)
    assert isinstance(backend, MemoryStore)
    held = backend._records["contact_points"].get((owner_id, method))
    return None if held is None else RawPoint.of(held)


@pytest.fixture
def contents() -> StoreContents:
    """One of everything a store holds: records, history with an undo, events, reviews, a policy change."""
    with CheckedStore(open_store("memory://"), memory_point) as store:
        fill(store)
        return store.contents()


def test_an_archive_reads_back_what_was_written(contents: StoreContents, tmp_path: Path) -> None:
    written = write_archive(contents, tmp_path / "backup.zip", source=SOURCE)
    read = read_archive(tmp_path / "backup.zip")
    assert_same(read.contents, contents)
    assert read.manifest == written.manifest
    assert read.sha256 == written.sha256 == hashlib.sha256((tmp_path / "backup.zip").read_bytes()).hexdigest()
    assert read.manifest.counts == contents.counts()
    assert read.manifest.record_counts["contact_points"] == len(contents.records.contact_points)
    assert read.manifest.source == SOURCE


@settings(max_examples=examples(40), deadline=None)
@given(district=CROWDED_DISTRICTS, events=st.lists(consent_events(), max_size=5))
def test_any_district_and_ledger_round_trip(
    district: Snapshot, events: list[ConsentEvent], tmp_path_factory: Any
) -> None:
    contents = StoreContents(records=district, consent_events=events)
    path = tmp_path_factory.mktemp("archive") / "backup.zip"
    write_archive(contents, path, source=SOURCE)
    read = read_archive(path).contents
    assert differences(read, contents) == []
    assert read.consent_events == contents.consent_events
    assert [e.received_at.utcoffset() for e in read.consent_events] == [e.received_at.utcoffset() for e in events]


def test_proposals_schedules_the_chain_and_what_batches_name_read_back(contents: StoreContents, tmp_path: Path) -> None:
    assert contents.proposals and contents.schedules and contents.chain  # what fill() makes
    # A revert that left points alone, and a batch of an approved proposal, as a store records them.
    reverted = attrs.evolve(
        contents.history[-1], batch_id="revert", schedule_id="summer", left_alone={Reason.FOOD_SERVICE: 2}
    )
    applied = attrs.evolve(
        contents.history[0], batch_id="applied", approval=Approval(proposal_id="p1", proposer="alice", approver="bob")
    )
    sent = attrs.evolve(contents, history=(*contents.history, reverted, applied))
    write_archive(sent, tmp_path / "backup.zip", source=SOURCE)
    read = read_archive(tmp_path / "backup.zip").contents
    assert_same(read, sent)
    assert (read.history[-2].left_alone, read.history[-1].approval) == (reverted.left_alone, applied.approval)
    assert read.head == contents.head
    with zipfile.ZipFile(tmp_path / "backup.zip") as archive:
        last = json.loads(archive.read("history.jsonl").splitlines()[-2])
        assert (last["schedule_id"], last["left_alone"], last["approval"]) == ("summer", [["food_service", 2]], None)
        first_link = json.loads(archive.read("chain.jsonl").splitlines()[0])
        assert first_link["seq"] == 1 and first_link["prev"] == "0" * 64


def test_a_link_that_is_no_link_is_refused_by_line(archive: Path) -> None:
    def broken(data: bytes) -> bytes:
        first, *rest = data.splitlines(keepends=True)
        link = json.loads(first)
        link["seq"] = "one"
        return b"".join([json.dumps(link).encode() + b"\n", *rest])

    _rewrite_member(archive, "chain", broken)
    with pytest.raises(
        ArchiveError, match=r"member chain\.jsonl, line 1: cannot be read: a link's seq is a whole number"
    ):
        read_archive(archive)


def test_an_archive_is_readable_by_its_owner_only(contents: StoreContents, tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_archive(contents, tmp_path / "backup.zip", source=SOURCE)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "backup.zip").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["backup.zip"]  # no staging file left behind


def test_an_existing_file_is_kept_unless_overwritten(contents: StoreContents, tmp_path: Path) -> None:
    path = tmp_path / "backup.zip"
    path.write_bytes(b"last night's backup")
    with pytest.raises(ArchiveError, match="exists already"):
        write_archive(contents, path, source=SOURCE)
    assert path.read_bytes() == b"last night's backup"
    write_archive(contents, path, source=SOURCE, overwrite=True)
    assert_same(read_archive(path).contents, contents)


def _rewrite(path: Path, change: Any) -> None:
    """Rewrite the archive with ``change(name, data) -> data`` applied to each member (the manifest too)."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, change(name, data))


def _rewrite_member(path: Path, section: str, change: Any) -> None:
    """Rewrite the member of ``section`` with ``change(data) -> data``, its size and checksum in the
    manifest with it: a consistent archive holding what ``change`` made."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(members[MANIFEST])
    member = manifest["sections"][section]
    data = members[member["name"]] = change(members[member["name"]])
    member.update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
    members[MANIFEST] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _manifest(change: Any) -> Any:
    def rewrite(name: str, data: bytes) -> bytes:
        if name != MANIFEST:
            return data
        manifest = json.loads(data)
        change(manifest)
        return json.dumps(manifest).encode()

    return rewrite


@pytest.fixture
def archive(contents: StoreContents, tmp_path: Path) -> Path:
    path = tmp_path / "backup.zip"
    write_archive(contents, path, source=SOURCE)
    return path


def test_a_member_changed_after_the_backup_is_refused_by_name(archive: Path) -> None:
    # Same size, other bytes: an actor renamed in the history.
    _rewrite(
        archive, lambda name, data: data.replace(b'"principal"', b'"principa1"') if name == "history.jsonl" else data
    )
    with pytest.raises(ArchiveError, match=r"member history\.jsonl: does not match its SHA-256"):
        read_archive(archive)


def test_a_truncated_member_is_refused_by_name(archive: Path) -> None:
    _rewrite(archive, lambda name, data: data[: len(data) // 2] if name == "consent_events.jsonl" else data)
    with pytest.raises(ArchiveError, match=r"member consent_events\.jsonl: holds .* bytes where the manifest says"):
        read_archive(archive)


def test_a_missing_member_is_refused_by_name(archive: Path) -> None:
    with zipfile.ZipFile(archive) as source:
        members = {name: source.read(name) for name in source.namelist() if name != "reviews.jsonl"}
    with zipfile.ZipFile(archive, "w") as target:
        for name, data in members.items():
            target.writestr(name, data)
    with pytest.raises(ArchiveError, match=r"member reviews\.jsonl: is missing"):
        read_archive(archive)


def test_a_truncated_file_is_refused(archive: Path) -> None:
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(ArchiveError, match="not a zip file, or a damaged one"):
        read_archive(archive)


def test_another_version_of_the_format_is_refused(archive: Path) -> None:
    _rewrite(archive, _manifest(lambda manifest: manifest.update(version=3)))
    with pytest.raises(
        ArchiveError, match=r"member manifest\.json: names version 3 of the format; .* reads version 1 only"
    ):
        read_archive(archive)


def test_another_format_is_refused(archive: Path) -> None:
    _rewrite(archive, _manifest(lambda manifest: manifest.update(format="something-else")))
    with pytest.raises(ArchiveError, match="not a contact-prefs backup"):
        read_archive(archive)


def test_an_unknown_section_is_refused(archive: Path) -> None:
    _rewrite(archive, _manifest(lambda manifest: manifest["sections"].update(journal=manifest["sections"]["reviews"])))
    with pytest.raises(ArchiveError, match="lists the sections"):
        read_archive(archive)


def test_a_foreign_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.zip").write_text("not a zip")
    with pytest.raises(ArchiveError, match="not a contact-prefs-backup archive"):
        read_archive(tmp_path / "notes.zip")
    with pytest.raises(ArchiveError, match="does not exist"):
        read_archive(tmp_path / "missing.zip")


def test_an_entry_that_does_not_decode_is_refused_by_line_without_its_address(archive: Path) -> None:
    """A consistent archive (checksums recomputed) whose record holds an address where a method goes."""

    def broken(name: str, data: bytes) -> bytes:
        if name != "records.jsonl":
            return data
        lines = data.splitlines(keepends=True)
        for index, line in enumerate(lines):
            entry = json.loads(line)
            if entry[0] == "contact_points":
                entry[2] = ADDRESS  # the method field
                lines[index] = json.dumps(entry).encode() + b"\n"
                break
        return b"".join(lines)

    with zipfile.ZipFile(archive) as source:
        members = {name: broken(name, source.read(name)) for name in source.namelist()}
    manifest = json.loads(members[MANIFEST])
    records = members["records.jsonl"]
    manifest["sections"]["records"].update(size=len(records), sha256=hashlib.sha256(records).hexdigest())
    members[MANIFEST] = json.dumps(manifest).encode()
    with zipfile.ZipFile(archive, "w") as target:
        for name, data in members.items():
            target.writestr(name, data)
    refused = r"member records\.jsonl, line \d+: cannot be read: method is not a method \(household_phone, cell_phone"
    with pytest.raises(ArchiveError, match=refused) as error:
        read_archive(archive)
    assert ADDRESS not in str(error.value)


def test_the_manifest_says_when_and_from_where(contents: StoreContents, tmp_path: Path) -> None:
    now = datetime.datetime(2026, 12, 3, 2, 0, tzinfo=datetime.UTC)
    source = Source(store="sqlite:///district.db", backend="sqlite", schema_version=3)
    write_archive(contents, tmp_path / "backup.zip", source=source, now=now)
    with zipfile.ZipFile(tmp_path / "backup.zip") as archive:
        manifest = json.loads(archive.read(MANIFEST))
        assert manifest["format"] == "contact-prefs-backup" and manifest["version"] == 1
        assert manifest["created_at"] == "2026-12-03T02:00:00+00:00"
        assert manifest["source"] == {"store": "sqlite:///district.db", "backend": "sqlite", "schema_version": 3}
        for section, member in manifest["sections"].items():
            data = archive.read(member["name"])
            assert member["name"] == f"{section}.jsonl"
            assert (member["size"], member["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
            assert member["entries"] == len(data.splitlines())
