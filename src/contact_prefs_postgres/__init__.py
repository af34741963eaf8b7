"""The PostgreSQL store backend: ``postgresql://user:password@host:port/dbname?schema=NAME``.

Registered through the ``contact_prefs`` entry point like any third-party
backend.  Its driver, psycopg, comes with the ``postgres`` extra
(``pip install 'contact-prefs[postgres]'``) and is imported only when a
PostgreSQL store is opened, so a missing driver breaks only this scheme.
The store itself is :class:`contact_prefs_postgres.store.PostgresStore`.
"""

from __future__ import annotations

from contact_prefs import Store, StoreError, hookimpl
from contact_prefs.hookspecs import RegisterStore

from .url import SCHEMES, PostgresUrl

__all__ = ["SCHEMES", "contact_prefs_register_stores", "open_postgres"]


@hookimpl
def contact_prefs_register_stores(register: RegisterStore) -> None:
    for scheme in SCHEMES:
        register(scheme, open_postgres)


def open_postgres(url: str) -> Store:
    """Open the store at ``url``; a clear ``StoreError`` when psycopg is not installed."""
    try:
        from .store import PostgresStore
    except ImportError as error:
        if not (error.name or "").startswith("psycopg"):
            raise
        raise StoreError(
            f"cannot open {PostgresUrl.parse(url)}: PostgreSQL stores need the psycopg driver; "
            "install it with: pip install 'contact-prefs[postgres]' (from a clone: pip install -e '.[postgres]')"
        ) from None
    return PostgresStore.open(url)
