"""A backup: everything a store holds in one zip file, with a manifest and a checksum of every member.

The archive holds ``manifest.json`` and one member per section of
:class:`~contact_prefs.contents.StoreContents` (``records.jsonl``,
``history.jsonl``...; :mod:`.sections` gives their lines).  The manifest
names the format and its version, when the backup was made, the store it was
made from (backend, URL with its password masked, schema version when
known), and for each section its member, entries, size and SHA-256.

Writing goes to a hidden owner-only file next to the target (mode 0600: a
backup holds every phone number and e-mail address of the district), renamed
over it only once complete: a failure leaves no half-written backup.
Reading checks the format, its version, and every member's size and
checksum *before* decoding anything, and refuses a damaged or altered
archive with an :class:`ArchiveError` naming the member; its messages never
repeat a value from the archive.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

import attrs

from ..contents import SECTIONS, StoreContents
from ..privacy import looks_personal
from ..private_files import open_binary_staging
from ..progress import CHUNK, NO_PROGRESS, Progress, reporting
from .errors import FormatError
from .sections import CODECS, decode_line, encode_line

__all__ = [
    "FORMAT",
    "MANIFEST",
    "VERSION",
    "Archive",
    "ArchiveError",
    "Manifest",
    "Member",
    "Source",
    "read_archive",
    "write_archive",
]

FORMAT = "contact-prefs-backup"
VERSION = 1
"""The archive format's version: the one written, and the only one read (a newer one may hold sections
this reader does not know).  A new section of the contents, or a change to one, is a new version."""

MANIFEST = "manifest.json"
READ_SIZE = 1 << 20


class ArchiveError(FormatError):
    """A backup that cannot be read: not an archive, another format or version, a member missing,
    truncated or not matching its checksum, or an entry that does not decode.  Nothing was restored."""


@attrs.frozen(kw_only=True)
class Source:
    """The store a backup was made from."""

    store: str
    """Its URL, with its password masked."""
    backend: str
    schema_version: int | None = None


@attrs.frozen(kw_only=True)
class Member:
    """One section's member in the manifest."""

    name: str
    entries: int
    size: int
    sha256: str


@attrs.frozen(kw_only=True)
class Manifest:
    format: str
    version: int
    created_at: datetime.datetime
    source: Source
    sections: Mapping[str, Member]
    record_counts: Mapping[str, int]
    demo: bool
    """Whether the store held the demo district (``Store.holds_demo()``)."""

    def data(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "version": self.version,
            "created_at": self.created_at.isoformat(),
            "source": attrs.asdict(self.source),
            "sections": {name: attrs.asdict(member) for name, member in self.sections.items()},
            "record_counts": dict(self.record_counts),
            "demo": self.demo,
        }

    @property
    def counts(self) -> dict[str, int]:
        """The entries of each section."""
        return {name: member.entries for name, member in self.sections.items()}


@attrs.frozen(kw_only=True)
class Archive:
    """A backup as written or read: its manifest, the contents, and the file's own SHA-256 and size."""

    path: Path
    manifest: Manifest
    contents: StoreContents
    sha256: str
    size: int


def member_name(section: str) -> str:
    return f"{section}.jsonl"


# --- writing -------------------------------------------------------------------------------


def write_archive(
    contents: StoreContents,
    path: str | Path,
    *,
    source: Source,
    overwrite: bool = False,
    now: datetime.datetime | None = None,
    progress: Progress = NO_PROGRESS,
) -> Archive:
    """Write ``contents`` to the archive ``path`` (mode 0600), refusing an existing file unless ``overwrite``;
    ``progress`` hears of every :data:`~contact_prefs.progress.CHUNK` entries written."""
    target = Path(path)
    _refuse_existing(target, overwrite)
    if not target.parent.is_dir():
        raise ArchiveError(f"cannot be written: the folder {target.parent} does not exist", file=target)
    created = now or datetime.datetime.now(datetime.UTC)
    staging, stream = open_binary_staging(target)
    try:
        with (
            stream,
            zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive,
            reporting(progress, sum(contents.counts().values()), f"Writing {target.name}") as steps,
        ):
            members = {
                section.name: _write_member(
                    archive, member_name(section.name), CODECS[section.name].encode(contents), steps
                )
                for section in SECTIONS
            }
            manifest = Manifest(
                format=FORMAT,
                version=VERSION,
                created_at=created,
                source=source,
                sections=members,
                record_counts=contents.record_counts(),
                demo=contents.demo,
            )
            archive.writestr(MANIFEST, json.dumps(manifest.data(), indent=2, ensure_ascii=False) + "\n")
            stream.flush()
            os.fsync(stream.fileno())
        _refuse_existing(target, overwrite)  # again: a file may have appeared while the backup was written
        os.replace(staging, target)
    finally:
        staging.unlink(missing_ok=True)
    digest, size = file_sha256(target)
    return Archive(path=target, manifest=manifest, contents=contents, sha256=digest, size=size)


def _refuse_existing(target: Path, overwrite: bool) -> None:
    if target.is_dir():
        raise ArchiveError("is a folder, not a backup file", file=target)
    if not overwrite and (target.exists() or target.is_symlink()):
        raise ArchiveError("exists already; nothing was written (choose a new name, or overwrite it)", file=target)


def _write_member(archive: zipfile.ZipFile, name: str, entries: Iterable[Any], progress: Progress) -> Member:
    digest, size, count = hashlib.sha256(), 0, 0
    with archive.open(name, "w", force_zip64=True) as member:
        for entry in entries:
            line = encode_line(entry)
            member.write(line)
            digest.update(line)
            size += len(line)
            count += 1
            if count % CHUNK == 0:
                progress.advance(CHUNK)
    progress.advance(count % CHUNK)
    return Member(name=name, entries=count, size=size, sha256=digest.hexdigest())


def file_sha256(path: Path) -> tuple[str, int]:
    """The SHA-256 of the file at ``path`` and its size, as ``sha256sum`` would report it."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as stream:
        while chunk := stream.read(READ_SIZE):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


# --- reading -------------------------------------------------------------------------------


def read_archive(path: str | Path, *, progress: Progress = NO_PROGRESS) -> Archive:
    """The backup at ``path``: its format, version and every member's size and checksum checked first,
    then every section decoded (``progress`` hears of each section's entries).  Raises
    :class:`ArchiveError` (naming the member) on anything amiss."""
    source = Path(path)
    if not source.is_file():
        raise ArchiveError("is not a file" if source.exists() else "does not exist", file=source)
    try:
        with zipfile.ZipFile(source) as archive:
            manifest = _manifest(archive, source)
            raw = {name: _checked_member(archive, source, member) for name, member in manifest.sections.items()}
    except zipfile.BadZipFile:
        raise ArchiveError(f"is not a {FORMAT} archive (not a zip file, or a damaged one)", file=source) from None
    decoded = {}
    with reporting(progress, sum(manifest.counts.values()), f"Reading {source.name}") as steps:
        for name in raw:
            decoded[name] = _decoded(source, name, manifest.sections[name], raw[name])
            steps.advance(manifest.sections[name].entries)
    contents = StoreContents(**decoded, demo=manifest.demo)
    digest, size = file_sha256(source)
    return Archive(path=source, manifest=manifest, contents=contents, sha256=digest, size=size)


def _manifest(archive: zipfile.ZipFile, path: Path) -> Manifest:
    where = f"{path}, member {MANIFEST}"
    try:
        data = json.loads(_read(archive, path, MANIFEST))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ArchiveError("is not JSON", file=where) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ArchiveError(f"does not name the {FORMAT} format: this is not a contact-prefs backup", file=where)
    version = data.get("version")
    if version != VERSION or type(version) is not int:
        raise ArchiveError(
            f"names version {version!r} of the format; this version of contact-prefs reads version "
            f"{VERSION} only (nothing was restored)",
            file=where,
        )
    try:
        sections = {name: Member(**member) for name, member in data["sections"].items()}
        manifest = Manifest(
            format=FORMAT,
            version=version,
            created_at=datetime.datetime.fromisoformat(data["created_at"]),
            source=Source(**data["source"]),
            sections=sections,
            record_counts=dict(data["record_counts"]),
            demo=data["demo"],
        )
        if type(manifest.demo) is not bool:
            raise TypeError("demo")
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ArchiveError(f"is not a manifest of version {version} ({type(error).__name__})", file=where) from None
    expected = [section.name for section in SECTIONS]
    if list(sections) != expected:
        raise ArchiveError(f"lists the sections {', '.join(sections)}, not {', '.join(expected)}", file=where)
    return manifest


def _read(archive: zipfile.ZipFile, path: Path, name: str) -> bytes:
    """A member's bytes; a missing or damaged one is refused by name."""
    try:
        with archive.open(name) as member:
            return _read_all(member)
    except KeyError:
        raise ArchiveError("is missing", file=f"{path}, member {name}") from None
    except (zipfile.BadZipFile, EOFError, zlib.error, OSError):
        raise ArchiveError(
            "is damaged (truncated, or its compressed data is corrupt)", file=f"{path}, member {name}"
        ) from None


def _read_all(stream: IO[bytes]) -> bytes:
    chunks = []
    while chunk := stream.read(READ_SIZE):
        chunks.append(chunk)
    return b"".join(chunks)


def _checked_member(archive: zipfile.ZipFile, path: Path, member: Member) -> bytes:
    data = _read(archive, path, member.name)
    where = f"{path}, member {member.name}"
    if len(data) != member.size:
        raise ArchiveError(
            f"holds {len(data):,} bytes where the manifest says {member.size:,}: the backup is damaged or was "
            "changed; nothing was restored",
            file=where,
        )
    if hashlib.sha256(data).hexdigest() != member.sha256:
        raise ArchiveError(
            "does not match its SHA-256 in the manifest: the backup is damaged or was changed; nothing was restored",
            file=where,
        )
    return data


def _decoded(path: Path, section: str, member: Member, data: bytes) -> Any:
    lines = data.splitlines()
    where = f"{path}, member {member.name}"
    if len(lines) != member.entries:
        raise ArchiveError(f"holds {len(lines):,} entries where the manifest says {member.entries:,}", file=where)
    codec = CODECS[section]
    entries = []
    for number, line in enumerate(lines, start=1):
        try:
            entries.append(codec.decode(decode_line(line)))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ArchiveError("is not JSON", file=where, line=number) from None
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ArchiveError(f"cannot be read: {_problem(error)}", file=where, line=number) from None
    try:
        return codec.collect(entries)
    except (TypeError, ValueError) as error:
        raise ArchiveError(f"cannot be read: {_problem(error)}", file=where) from None


def _problem(error: Exception) -> str:
    """What went wrong, without the offending value when it may be personal data."""
    if isinstance(error, KeyError):
        return f"no field {error.args[0]!r}" if error.args and isinstance(error.args[0], str) else "a field is missing"
    message = str(error)
    return message if len(message) <= 200 and not looks_personal(message) else f"a {type(error).__name__}"
