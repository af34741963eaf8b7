"""The SQLite backend: a district in one file, the default store for scripts and the command line.

``open_store("sqlite:///district.db")`` opens (or creates) ``district.db``
relative to the current directory, ``sqlite:////srv/district.db`` an absolute
path, and ``sqlite://`` a private in-memory database.  Only the standard
library's ``sqlite3`` is used; the store module is imported when a store is
first opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import contact_prefs
from contact_prefs.hookspecs import RegisterStore

from .url import SCHEME

if TYPE_CHECKING:
    from .store import SQLiteStore

__all__ = ["open_sqlite_store"]


def open_sqlite_store(url: str) -> SQLiteStore:
    """The store factory for ``sqlite:`` URLs."""
    from .store import SQLiteStore

    return SQLiteStore.from_url(url)


@contact_prefs.hookimpl
def contact_prefs_register_stores(register: RegisterStore) -> None:
    """Serve ``sqlite://`` URLs."""
    register(SCHEME, open_sqlite_store)
