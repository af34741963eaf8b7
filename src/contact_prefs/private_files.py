"""Creating files that hold personal data: readable by their owner only, and never through a planted link.

Phone numbers and e-mail addresses go into the store file and every export.
A file this library creates gets mode 0600 whatever the process umask (the
usual 022 would leave it readable by every local user), and it is created
with ``O_EXCL``, which never follows a symbolic link: a link planted where
the file is about to be written cannot redirect the write to its target.

A file that already exists keeps the mode it has: a district may have chosen
group access to its store on purpose, and only its owner should change that.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, TextIO

OWNER_ONLY = 0o600
"""Read and write for the file's owner, nothing for anyone else."""


def create_owner_only(path: str) -> bool:
    """Create an empty file at ``path`` with mode :data:`OWNER_ONLY`, unless something is already there.

    Returns whether the file was created.  An existing file, or a symbolic
    link (even a dangling one), is left exactly as it is.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags, OWNER_ONLY)
    except FileExistsError:
        return False
    try:
        os.fchmod(descriptor, OWNER_ONLY)  # the umask may have taken bits away; set exactly these
    finally:
        os.close(descriptor)
    return True


def open_staging(target: Path) -> tuple[Path, TextIO]:
    """A new owner-only text file next to ``target``, to be renamed over it once complete, and its path.

    The name is new and hidden (``.persons.csv.<random>.partial``) and the
    file is created exclusively, so whatever sits in the folder (an old
    staging file, a link to some other file) is neither followed nor
    overwritten.  The caller closes the stream and renames or removes the file.
    """
    name, descriptor = _staging(target)
    return name, os.fdopen(descriptor, "w", encoding="utf-8", newline="")


def open_binary_staging(target: Path) -> tuple[Path, BinaryIO]:
    """Like :func:`open_staging`, for a binary file (an archive)."""
    name, descriptor = _staging(target)
    return name, os.fdopen(descriptor, "wb")


def _staging(target: Path) -> tuple[Path, int]:
    descriptor, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    try:
        os.fchmod(descriptor, OWNER_ONLY)
    except BaseException:
        os.close(descriptor)
        os.unlink(name)
        raise
    return Path(name), descriptor
