"""Opening a database file safely, and saying clearly why one cannot be used.

Opening checks, in order and before anything is written: that the file (or
its folder, for a new file) is writable, that the file is a SQLite database,
that it is a contact-prefs store (or empty), and that its schema version is
one this code knows.  Only then is it migrated and switched to WAL.  A new
file is created readable by its owner only, and its journal files with it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence

from contact_prefs import StoreError
from contact_prefs.private_files import create_owner_only

from . import schema
from .url import MEMORY

BUSY_TIMEOUT_SECONDS = 30.0
"""How long a writer waits for another one to finish before giving up."""

CACHE_KIB = 64 * 1024
"""Page cache per connection: a district-wide batch rewrites a large share of the points table."""


def describe(path: str) -> str:
    return "the in-memory SQLite store" if path == MEMORY else f"the SQLite store {path}"


def connect(path: str, migrations: Sequence[Sequence[schema.Step]] | None = None) -> sqlite3.Connection:
    """An open, migrated connection to ``path``, in autocommit mode (transactions are explicit)."""
    migrations = schema.MIGRATIONS if migrations is None else migrations
    _check_access(path)
    _create_owner_only(path)
    with translated(path, "open"):
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False)
    try:
        with translated(path, "open"):
            connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            _migrate(connection, path, migrations)
            _use_write_ahead_log(connection)
            connection.execute("PRAGMA synchronous = FULL")  # a commit is durable when it returns
            connection.execute("PRAGMA temp_store = MEMORY")
            connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    except BaseException:
        connection.close()
        raise
    return connection


def _migrate(connection: sqlite3.Connection, path: str, migrations: Sequence[Sequence[schema.Step]]) -> None:
    """Check the database is ours and not too new, then apply the missing migrations, all under the write lock.

    Under the lock, two processes creating one file at once see it whole:
    one migrates it, the other finds it migrated.  A refused database is
    left as it was: the transaction wrote nothing.
    """
    connection.execute("BEGIN IMMEDIATE")  # the first access: fails on a file that is not a database
    try:
        version = _check_identity(connection, path, known=len(migrations))
        schema.migrate(connection, version, migrations)
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def _use_write_ahead_log(connection: sqlite3.Connection) -> None:
    """Switch to WAL (readers never block the writer), which persists in the file.

    The switch needs every other connection out of the way and SQLite does not
    wait for that (no busy handler), so it is retried up to the busy timeout:
    two processes creating one file at once both get there.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if getattr(error, "sqlite_errorname", "") != "SQLITE_BUSY" or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def _check_access(path: str) -> None:
    """Refuse, before SQLite touches anything, a file or folder this process may not write."""
    if path == MEMORY:
        return
    folder = os.path.dirname(path)
    if os.path.isdir(path):
        raise StoreError(f"{describe(path)} is a folder, not a database file")
    if not os.path.isdir(folder):
        raise StoreError(f"cannot open {describe(path)}: the folder {folder} does not exist")
    if os.path.exists(path) and not os.access(path, os.R_OK | os.W_OK):
        raise StoreError(f"{describe(path)} is read-only for this user; contact-prefs needs to write it")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StoreError(
            f"cannot open {describe(path)}: its folder {folder} is not writable, and SQLite keeps "
            "its journal files (-wal, -shm) next to the database"
        )


def _create_owner_only(path: str) -> None:
    """Create a new store file readable by its owner only, before SQLite creates it readable by all.

    SQLite gives its journal files (-journal, -wal, -shm) the database file's
    own mode, so they follow.  An existing file keeps the mode it has.
    """
    if path == MEMORY:
        return
    try:
        create_owner_only(path)
    except OSError as error:
        raise StoreError(f"cannot create {describe(path)}: {error.strerror or error}") from error


def _check_identity(connection: sqlite3.Connection, path: str, known: int) -> int:
    """The schema version of a database that is ours and not newer than this code; refuse any other."""
    version = schema.user_version(connection)
    if version > known:
        raise StoreError(
            f"{describe(path)} has schema version {version}, newer than the newest this version of "
            f"contact-prefs knows ({known}); upgrade contact-prefs to open it (nothing was changed)"
        )
    identifier = schema.application_id(connection)
    if identifier != schema.APPLICATION_ID and (version or identifier or schema.has_tables(connection)):
        raise StoreError(
            f"{describe(path)} is a SQLite database of another application, not a contact-prefs store "
            "(nothing was changed)"
        )
    return version


@contextlib.contextmanager
def translated(path: str, action: str) -> Iterator[None]:
    """Turn a ``sqlite3`` error into a :class:`StoreError` that says what went wrong.

    SQLite's own messages name tables and columns, never a stored value, so
    they may be repeated; addresses stay out of every message.
    """
    try:
        yield
    except sqlite3.Error as error:
        raise StoreError(f"cannot {action} {describe(path)}: {_explain(error, path)}") from error


def _explain(error: sqlite3.Error, path: str) -> str:
    name = getattr(error, "sqlite_errorname", "")
    if name == "SQLITE_NOTADB":
        return "the file is not a SQLite database (or it is encrypted); nothing was changed"
    if name.startswith("SQLITE_READONLY"):
        return "the database is read-only; nothing was changed"
    if name.startswith("SQLITE_CANTOPEN"):
        return f"SQLite cannot open the file or its journal in {os.path.dirname(path) or 'its folder'}"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return f"another process kept it locked for more than {BUSY_TIMEOUT_SECONDS:g} seconds; nothing was changed"
    if name.startswith("SQLITE_CORRUPT"):
        return "the database file is damaged"
    if name == "SQLITE_FULL":
        return "the disk is full; nothing was changed"
    return f"{error} ({name or type(error).__name__})"
