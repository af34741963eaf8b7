"""``contact-prefs backup``, ``restore`` and ``copy``: everything a store holds, into a file, back, or
into another store, with nothing lost.

They move a :class:`~contact_prefs.contents.StoreContents` through the store
contract (``contents()`` and ``receive()``), so they work with every backend,
a third party's included.  ``restore`` and ``copy`` read what they wrote
back and compare it with what they meant to write (``copy``: with the
source, read again), verify the target's chained history
(:func:`~contact_prefs.governance.verify_history`) and check that its head is
the one archived or copied, and say so; exit 1 when anything differs.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from .cli import EXIT_DONE, STORE_VARIABLE, UsageError, _finished, _progress, _shown_url, _steps, _store_url
from .cli_info import sqlite_schema_version
from .cli_rights import authorize, plugins
from .contents import SECTIONS, StoreContents, counted, differences
from .errors import StoreNotEmptyError, UnknownStoreError
from .formats.archive import Archive, Source, read_archive, write_archive
from .formats.results import to_json
from .governance import verify_history
from .interrupts import HeldStore, commit_point
from .privacy import redact_url
from .rights import Action
from .store import Store

__all__ = ["EXIT_DIFFERENT", "add_backup_commands"]

EXIT_DIFFERENT = 1
"""``restore`` or ``copy`` wrote everything, but the target does not read back the same."""


def add_backup_commands(commands: argparse._SubParsersAction[Any], store: argparse.ArgumentParser) -> None:
    """Add ``backup``, ``restore`` and ``copy`` to the command line's ``commands``."""
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--format", choices=("table", "json"), default="table", help="output format (default: table)")
    output.add_argument(
        "--quiet", action="store_true", help="show no progress on the terminal (warnings and errors still show)"
    )
    replace = argparse.ArgumentParser(add_help=False)
    replace.add_argument(
        "--replace",
        action="store_true",
        help="erase what the target store holds first (default: refuse a non-empty one)",
    )

    help = (
        "write everything the store holds (records, history, consent ledger, reviews, policy, proposals, "
        "schedules, the history's chain) to one archive file"
    )
    backup = commands.add_parser("backup", help=help, description=help, parents=[store, output])
    backup.set_defaults(run=_backup, parser=backup)
    backup.add_argument("file", type=Path, metavar="FILE", help="the archive to write (a zip file, mode 0600)")
    backup.add_argument("--overwrite", action="store_true", help="replace FILE if it exists (default: refuse)")

    help = "check a backup's checksums, then write everything it holds into an empty store, and verify it"
    restore = commands.add_parser("restore", help=help, description=help, parents=[store, output, replace])
    restore.set_defaults(run=_restore, parser=restore)
    restore.add_argument("file", type=Path, metavar="FILE", help="the archive that backup wrote")

    help = "copy everything one store holds into another (any two backends), then verify both hold the same"
    copy = commands.add_parser("copy", help=help, description=help, parents=[output, replace])
    copy.set_defaults(run=_copy, parser=copy)
    copy.add_argument("--from", dest="source", required=True, metavar="URL", help="the store to copy")
    copy.add_argument("--to", dest="target", required=True, metavar="URL", help="the store to copy into")


# -- commands ---------------------------------------------------------------------


def _backup(args: argparse.Namespace) -> int:
    path: Path = args.file
    if path.is_dir():
        args.parser.error(f"argument FILE: {str(path)!r} is a folder; name the archive file to write")
    if (path.exists() or path.is_symlink()) and not args.overwrite:
        args.parser.error(f"argument FILE: {str(path)!r} exists already; choose a new name, or pass --overwrite")
    url, origin = _store_url(args)
    with _open_existing(args, url, origin) as store:
        _progress("Reading the store")
        contents = _not_empty(store.contents(), _shown_url(args))
    _progress(f"Writing {path}")
    source = Source(store=_shown_url(args), backend=_backend(url), schema_version=sqlite_schema_version(url))
    archive = write_archive(contents, path, source=source, overwrite=args.overwrite, progress=_steps())
    _print(args, _backed_up(archive), _backed_up_text(archive))
    return EXIT_DONE


def _restore(args: argparse.Namespace) -> int:
    if not args.store and not os.environ.get(STORE_VARIABLE):
        args.parser.error("the following arguments are required: --store URL (the store to restore into)")
    _progress(f"Checking {args.file}")
    archive = read_archive(args.file, progress=_steps())  # every checksum, before anything is opened or written
    contents = archive.contents
    url, origin = _store_url(args)
    with _open(args, url, origin, Action.ADMIN) as opened, commit_point() as point:
        _progress(f"Writing {len(contents.records):,} records")
        _receive(HeldStore(opened, point), contents, replace=args.replace)
        _progress("Verifying")
        found = [*differences(opened.contents(), contents), *_history_problems(opened, contents.head)]
        data = {"file": str(args.file), "sha256": archive.sha256, "store": _shown_url(args), **_check(found)}
        data.update(head=contents.head, counts=contents.counts())
        lines = [f"Restored {args.file} into {_shown_url(args)}:", _listing(contents), _verdict(contents, found)]
        _print(args, data, "\n".join(lines))
        _finished(point)
    return EXIT_DIFFERENT if found else EXIT_DONE


def _copy(args: argparse.Namespace) -> int:
    if args.source == args.target:
        args.parser.error("arguments --from and --to: they name the same store")
    shown_from, shown_to = redact_url(args.source), redact_url(args.target)
    with _open_existing(args, args.source, "argument --from") as source:
        _progress(f"Reading {shown_from}")
        contents = _not_empty(source.contents(), shown_from)
        with _open(args, args.target, "argument --to", Action.ADMIN) as opened, commit_point() as point:
            _progress(f"Writing {len(contents.records):,} records into {shown_to}")
            _receive(HeldStore(opened, point), contents, replace=args.replace)
            _progress("Verifying")
            again = source.contents()
            found = [*differences(opened.contents(), again), *_history_problems(opened, again.head)]
            data = {"from": shown_from, "to": shown_to, **_check(found), "head": again.head}
            data["counts"] = contents.counts()
            text = f"Copied {shown_from} to {shown_to}:\n{_listing(contents)}\n{_verdict(contents, found)}"
            _print(args, data, text)
            _finished(point)
    return EXIT_DIFFERENT if found else EXIT_DONE


# -- the stores -------------------------------------------------------------------


def _open(args: argparse.Namespace, url: str, origin: str, action: Action) -> Store:
    """The store at ``url``, once the actor may take ``action`` on it: ``export`` to read a whole store
    out, ``admin`` to write one in (it replaces histories, ledgers and policies wholesale)."""
    authorize(args, action, {"store": redact_url(url)})
    try:
        return plugins(args).open_store(url)
    except UnknownStoreError as error:
        raise UsageError(f"{origin}: {error}") from None


def _open_existing(args: argparse.Namespace, url: str, origin: str) -> Store:
    """A store to read from: a SQLite URL must name a file that exists, so that a mistyped name is
    reported instead of opened as a new, empty store."""
    path = _sqlite_file(url)
    if path is not None and not path.exists():
        raise UsageError(f"{origin}: there is no SQLite store {str(path)!r}; nothing was read or written")
    return _open(args, url, origin, Action.EXPORT)


def _sqlite_file(url: str) -> Path | None:
    if not url.startswith("sqlite:///"):
        return None
    try:
        from contact_prefs_sqlite.url import MEMORY, database_path

        path = database_path(url)
    except Exception:  # a URL the backend refuses: opening it says why
        return None
    return None if path == MEMORY else Path(path)


def _history_problems(store: Store, head: str) -> list[str]:
    """What is wrong with the chained history ``store`` holds now, if it is not intact with ``head``."""
    report = verify_history(store)
    if not report.intact:
        return [f"the history does not verify ({report.problem})"]
    if report.head != head:
        return [f"the history's head is {report.head}, not {head}"]
    return []


def _receive(store: Store, contents: StoreContents, *, replace: bool) -> None:
    try:
        store.receive(contents, replace=replace)
    except StoreNotEmptyError as error:
        raise UsageError(f"{error}; pass --replace to erase what it holds and write the rest in its place") from None


def _not_empty(contents: StoreContents, shown_url: str) -> StoreContents:
    """A store that holds nothing is most often a mistyped URL: there is nothing to keep."""
    if contents.is_empty():
        raise UsageError(f"the store {shown_url} holds nothing: nothing to back up or copy (is the URL right?)")
    return contents


def _backend(url: str) -> str:
    return url.partition("://")[0]


# -- output -----------------------------------------------------------------------


def _backed_up(archive: Archive) -> dict[str, Any]:
    manifest = archive.manifest
    return {
        "file": str(archive.path),
        "sha256": archive.sha256,
        "size": archive.size,
        "store": manifest.source.store,
        "created_at": manifest.created_at.isoformat(),
        "head": archive.contents.head,
        "counts": manifest.counts,
        "record_counts": dict(manifest.record_counts),
    }


def _backed_up_text(archive: Archive) -> str:
    return "\n".join(
        [
            f"Backed up {archive.manifest.source.store} to {archive.path}:",
            _listing(archive.contents),
            f"Head of the history: {archive.contents.head}",
            f"SHA-256: {archive.sha256} ({archive.size:,} bytes)",
        ]
    )


def _listing(contents: StoreContents) -> str:
    counts = contents.counts()
    rows = [(s.nouns.capitalize(), f"{counts[s.name]:,}") for s in SECTIONS if s.name != "consent_policy"]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"  {name.ljust(width)}  {count:>9}" for name, count in rows)


def _check(found: list[str]) -> dict[str, Any]:
    return {"verified": not found, "differences": found}


def _verdict(contents: StoreContents, found: list[str]) -> str:
    if found:
        return "Verification FAILED: the stores differ in " + "; ".join(found)
    counts = contents.counts()
    held = ", ".join(counted(s, counts[s.name]) for s in SECTIONS if s.name != "consent_policy")
    verifies = f"the history verifies, head {contents.head}"
    return f"Verified: {held} and the consent policy, identical in both stores; {verifies}."


def _print(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    print(to_json(data) if args.format == "json" else text)
