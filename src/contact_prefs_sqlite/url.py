"""Where a ``sqlite:`` URL points: a file path, or a private in-memory database."""

from __future__ import annotations

import os

from contact_prefs import StoreError
from contact_prefs.privacy import redact_url

SCHEME = "sqlite"
MEMORY = ":memory:"


def database_path(url: str) -> str:
    """The absolute file path of ``url``, or :data:`MEMORY` for ``sqlite://``.

    ``sqlite:///data/district.db`` is relative to the current directory (made
    absolute now, so a later ``chdir`` does not move the store) and
    ``sqlite:////srv/district.db`` is absolute, as in SQLAlchemy.
    """
    prefix = f"{SCHEME}://"
    if not url.startswith(prefix):
        raise StoreError(f"not a SQLite store URL: {redact_url(url)!r} (expected {prefix}/path/to/file.db or {prefix})")
    rest = url[len(prefix) :]
    if rest == "":
        return MEMORY
    if not rest.startswith("/") or rest == "/":
        raise StoreError(
            f"a SQLite store URL names a file after three slashes: {prefix}/relative/file.db or "
            f"{prefix}//absolute/file.db (or {prefix} alone for a private in-memory store), not {redact_url(url)!r}"
        )
    return os.path.abspath(rest[1:])
